//! The token exchange: the request to the token server a `Bearer`
//! challenge names, and the reading of its answer into a [`Token`].

use std::fmt;

use http::header::{AUTHORIZATION, HeaderValue};
use http::{Method, Request, Response};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::challenge::BearerChallenge;
use super::token::{DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME, Token};
use crate::credentials::Credentials;

/// Why a token could not be had from the token server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The token server answered with an error status.
    Denied {
        /// The token server's URL.
        realm: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body, on one line.
        body_excerpt: String,
    },
    /// The token server answered 2xx, but without a usable token.
    NotAToken {
        /// The token server's URL.
        realm: String,
        /// What was wrong with the answer.
        detail: String,
    },
    /// The realm is not an absolute `http(s)://` URL.
    BadRealm {
        /// The realm as the registry named it.
        realm: String,
    },
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Denied {
                realm,
                status,
                body_excerpt,
            } => {
                let said = if body_excerpt.is_empty() {
                    String::new()
                } else {
                    format!(", \"{body_excerpt}\"")
                };
                match status {
                    401 => write!(
                        f,
                        "the token server at {realm} refused the credentials (HTTP 401{said}): \
                         check the username and password"
                    ),
                    403 => write!(
                        f,
                        "the token server at {realm} denied access (HTTP 403{said}): the account \
                         lacks the rights asked for; grant it pull and delete access"
                    ),
                    429 => write!(
                        f,
                        "the token server at {realm} limits the request rate (HTTP 429{said}): \
                         wait a minute and try again"
                    ),
                    500..=599 => write!(
                        f,
                        "the token server at {realm} failed (HTTP {status}{said}): look at its \
                         log, or try again later"
                    ),
                    _ => write!(
                        f,
                        "the token server at {realm} answered HTTP {status}{said} instead of a \
                         token: check the token realm in the registry's auth config"
                    ),
                }
            }
            AuthError::NotAToken { realm, detail } => write!(
                f,
                "the token server at {realm} answered without a usable token ({detail}): check \
                 that the registry's token realm points at its token service"
            ),
            AuthError::BadRealm { realm } => write!(
                f,
                "the registry named the token server {realm:?}, which is not an absolute http(s) \
                 URL: fix the token realm in the registry's auth config (`auth.token.realm`)"
            ),
        }
    }
}

impl std::error::Error for AuthError {}

/// Appends `text` percent-encoded for a URL query: everything but the RFC
/// 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` of its
/// UTF-8 bytes, so `:` `/` `*` `,` `&` `=` `+` and spaces are all escaped.
pub(super) fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// Checks that `realm` is an absolute `http(s)://host...` URL of visible
/// ASCII without userinfo, fragment, quotes or backslashes, and parses it.
fn realm_uri(realm: &str) -> Result<http::Uri, AuthError> {
    let bad = || AuthError::BadRealm {
        realm: realm.to_owned(),
    };
    let (scheme, rest) = realm.split_once("://").ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(bad());
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let forbidden = |c: char| !c.is_ascii_graphic() || matches!(c, '#' | '\\' | '"');
    if authority.is_empty() || authority.contains('@') || realm.contains(forbidden) {
        return Err(bad());
    }
    let uri: http::Uri = realm.parse().map_err(|_| bad())?;
    if uri.scheme().is_none() || uri.authority().is_none() {
        return Err(bad());
    }
    Ok(uri)
}

/// The token request for a `Bearer` challenge: `GET <realm>?service=..&scope=..`
/// (joined with `&` when the realm already has a query), with
/// `Authorization: Basic` when credentials are given.
///
/// `scope` is normally the challenge's own `scope`, else
/// [`scope_for`](super::scope_for) of the request; `None` asks for a token
/// without scope. Several scopes separated by spaces become several `scope`
/// parameters. Values are percent-encoded.
///
/// The credentials go to whatever realm the challenge holds: the caller
/// passes only a challenge that the registry itself sent, and decides
/// whether that realm may receive them.
pub fn token_request(
    challenge: &BearerChallenge,
    scope: Option<&str>,
    credentials: Option<&Credentials>,
) -> Result<Request<Vec<u8>>, AuthError> {
    let realm = challenge.realm.as_str();
    realm_uri(realm)?;
    let mut url = realm.to_owned();
    let service = challenge
        .service
        .as_deref()
        .filter(|service| !service.is_empty())
        .map(|service| ("service", service));
    let scopes = scope
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(|scope| ("scope", scope));
    for (name, value) in service.into_iter().chain(scopes) {
        if !url.contains('?') {
            url.push('?');
        } else if !url.ends_with(['?', '&']) {
            url.push('&');
        }
        url.push_str(name);
        url.push('=');
        percent_encode(value, &mut url);
    }
    let uri = realm_uri(&url).map_err(|_| AuthError::BadRealm {
        realm: realm.to_owned(),
    })?;
    let mut request = Request::new(Vec::new());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = uri;
    if let Some(credentials) = credentials {
        let mut value = HeaderValue::from_str(&credentials.basic_header())
            .expect("`Basic ` and base64 are always valid header text");
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    Ok(request)
}

/// The first 200 characters of a body, on one line.
fn excerpt(body: &[u8]) -> String {
    const LIMIT: usize = 200;
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = line
        .chars()
        .take(LIMIT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().nth(LIMIT).is_some() {
        short.push('…');
    }
    short
}

/// The lifetime `expires_in` gives: a positive number of seconds (a numeric
/// string is accepted too), rounded down, at least 1 s and at most
/// [`MAX_TOKEN_LIFETIME`]; missing, `null`, zero or negative means the
/// spec's default of 60 s.
fn lifetime(expires_in: Option<&serde_json::Value>) -> Result<Duration, String> {
    let value = match expires_in {
        None | Some(serde_json::Value::Null) => return Ok(DEFAULT_TOKEN_LIFETIME),
        Some(value) => value,
    };
    let seconds = match value {
        serde_json::Value::Number(number) => number.as_f64(),
        serde_json::Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|seconds| seconds.is_finite())
    .ok_or_else(|| format!("`expires_in` is {value}, not a number of seconds"))?;
    if seconds <= 0.0 {
        return Ok(DEFAULT_TOKEN_LIFETIME);
    }
    let max = MAX_TOKEN_LIFETIME.whole_seconds();
    // In range after the clamp, so the cast is exact.
    let whole = seconds.floor().clamp(1.0, max as f64) as i64;
    Ok(Duration::seconds(whole))
}

/// Reads the token server's answer to [`token_request`]. `realm` names the
/// token server in errors (the challenge's realm).
///
/// A 2xx JSON body must hold a non-empty `token` or `access_token` (`token`
/// wins when both are there) made of visible ASCII. Lifetime: `expires_in`
/// seconds, 60 when it is missing, zero or negative (the Docker token spec's
/// default). Values under 60 are used as given, not raised to 60: the spec
/// tells *servers* never to issue them, and believing a shorter life only
/// costs an earlier refresh, while stretching it would send an expired
/// token. The lifetime counts from `issued_at` when that is RFC 3339, not
/// after `now`, and not so old that the token would already have expired
/// (that is clock skew); otherwise from `now`.
pub fn parse_token_response(
    realm: &str,
    response: &Response<Vec<u8>>,
    now: OffsetDateTime,
) -> Result<Token, AuthError> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        access_token: Option<String>,
        #[serde(default)]
        expires_in: Option<serde_json::Value>,
        #[serde(default)]
        issued_at: Option<serde_json::Value>,
    }
    let status = response.status();
    if !status.is_success() {
        return Err(AuthError::Denied {
            realm: realm.to_owned(),
            status: status.as_u16(),
            body_excerpt: excerpt(response.body()),
        });
    }
    let not_a_token = |detail: String| AuthError::NotAToken {
        realm: realm.to_owned(),
        detail,
    };
    let answer: Answer = serde_json::from_slice(response.body())
        .map_err(|e| not_a_token(format!("the body is not a token JSON object: {e}")))?;
    let value = [answer.token, answer.access_token]
        .into_iter()
        .flatten()
        .find(|value| !value.is_empty())
        .ok_or_else(|| not_a_token("no `token` or `access_token` in the body".to_owned()))?;
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(not_a_token(
            "the token holds characters an HTTP header cannot carry".to_owned(),
        ));
    }
    let lifetime = lifetime(answer.expires_in.as_ref()).map_err(not_a_token)?;
    let issued = answer
        .issued_at
        .as_ref()
        .and_then(serde_json::Value::as_str)
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
        .filter(|issued| *issued <= now && *issued + lifetime > now)
        .unwrap_or(now);
    Ok(Token {
        value,
        expires_at: issued + lifetime,
    })
}
