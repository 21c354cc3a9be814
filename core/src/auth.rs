//! Registry authentication, the pure parts: reading `WWW-Authenticate`
//! challenges, choosing the token scope of a request, building the token
//! request, reading the token server's answer, and caching tokens per scope.
//!
//! Nothing here sends a request or reads the clock: the caller sends what
//! [`token_request`] builds and passes `now` in.
//!
//! Where credentials may go is the caller's decision, not this module's:
//! [`token_request`] attaches them to whatever realm it is given, so the
//! caller passes only the realm that the registry's own challenge named
//! (a `WWW-Authenticate` header of a response from the registry's origin).

use std::collections::BTreeMap;
use std::fmt;

use http::header::{AUTHORIZATION, HeaderValue};
use http::{Method, Request, Response};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::credentials::Credentials;

// ---------------------------------------------------------------------------
// Challenges

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// HTTP basic auth: send the credentials to the registry itself.
    Basic {
        /// The protection space the registry named, if any.
        realm: Option<String>,
    },
    /// Token auth: ask the token server at `realm` for a bearer token.
    Bearer(BearerChallenge),
    /// A scheme cleanreg does not answer (Negotiate, Digest, ...).
    Other {
        /// The scheme as the registry spelled it.
        scheme: String,
    },
}

/// The parameters of a `Bearer` challenge (Docker token auth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The token server's URL, as the registry named it (never empty).
    pub realm: String,
    /// The `service` to name in the token request.
    pub service: Option<String>,
    /// The scope the registry asked for, e.g. `repository:team/app:pull`.
    pub scope: Option<String>,
    /// Why the request failed, e.g. `insufficient_scope` or `invalid_token`.
    pub error: Option<String>,
}

/// Why a `WWW-Authenticate` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeError {
    /// The header holds no challenge at all.
    Empty,
    /// Something else was found where the grammar needs `expected`.
    Syntax {
        /// Byte offset in the header.
        at: usize,
        /// What the grammar needs there.
        expected: &'static str,
    },
    /// A quoted string that never ends.
    Unterminated {
        /// Byte offset of the opening quote.
        at: usize,
    },
    /// A parameter named twice in one challenge.
    DuplicateParam {
        /// The challenge's scheme.
        scheme: String,
        /// The parameter's name, lowercase.
        name: String,
    },
    /// A `Bearer` challenge without a (non-empty) `realm`.
    BearerWithoutRealm,
}

const CHALLENGE_FIX: &str =
    "check the auth settings of the registry and of any proxy in front of it";

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChallengeError::Empty => write!(
                f,
                "the registry's WWW-Authenticate header names no way to log in: {CHALLENGE_FIX}"
            ),
            ChallengeError::Syntax { at, expected } => write!(
                f,
                "the registry's WWW-Authenticate header is malformed at byte {at} \
                 (expected {expected}): {CHALLENGE_FIX}"
            ),
            ChallengeError::Unterminated { at } => write!(
                f,
                "the registry's WWW-Authenticate header has a quoted string opened at byte {at} \
                 that never ends: {CHALLENGE_FIX}"
            ),
            ChallengeError::DuplicateParam { scheme, name } => write!(
                f,
                "the registry's WWW-Authenticate header names `{name}` twice in its {scheme} \
                 challenge: {CHALLENGE_FIX}"
            ),
            ChallengeError::BearerWithoutRealm => write!(
                f,
                "the registry asks for a Bearer token but its challenge names no realm, so there \
                 is no token server to ask: set the token realm in the registry's auth config \
                 (`auth.token.realm`)"
            ),
        }
    }
}

impl std::error::Error for ChallengeError {}

/// A position in the header being parsed; never slices off a char boundary.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn at_end(&self) -> bool {
        self.peek().is_none()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, wanted: char) -> bool {
        if self.peek() == Some(wanted) {
            self.pos += wanted.len_utf8();
            true
        } else {
            false
        }
    }

    /// Takes the longest run of chars matching `keep`.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// Skips optional whitespace; returns whether there was any.
    fn skip_ows(&mut self) -> bool {
        !self.take_while(|c| c == ' ' || c == '\t').is_empty()
    }

    /// Skips whitespace and the commas of empty list elements.
    fn skip_separators(&mut self) {
        self.take_while(|c| matches!(c, ' ' | '\t' | ','));
    }

    fn token(&mut self) -> &'a str {
        self.take_while(is_tchar)
    }

    /// Reads a quoted string at the opening quote, undoing `\` escapes.
    fn quoted(&mut self) -> Result<String, ChallengeError> {
        let open = self.pos;
        if !self.eat('"') {
            return Err(ChallengeError::Syntax {
                at: open,
                expected: "a quoted string",
            });
        }
        let mut value = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(ChallengeError::Unterminated { at: open }),
                Some('"') => return Ok(value),
                Some('\\') => match self.bump() {
                    None => return Err(ChallengeError::Unterminated { at: open }),
                    Some(c) if is_forbidden_control(c) => {
                        return Err(ChallengeError::Syntax {
                            at: at + 1,
                            expected: "a visible character after '\\'",
                        });
                    }
                    Some(c) => value.push(c),
                },
                Some(c) if is_forbidden_control(c) => {
                    return Err(ChallengeError::Syntax {
                        at,
                        expected: "visible characters inside quotes",
                    });
                }
                Some(c) => value.push(c),
            }
        }
    }
}

/// RFC 7230 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The characters of RFC 7235 `token68`, before its trailing `=`s.
fn is_token68_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/".contains(c)
}

/// Control characters other than tab, which no quoted string may hold.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// Parses a `WWW-Authenticate` value (RFC 7235): one or more challenges,
/// comma-separated, each a case-insensitive scheme with `key=value` or
/// `key="quoted"` parameters, or with a `token68` (read and ignored).
///
/// A `Bearer` challenge without a realm is an error: there is no token
/// server to ask. Parameter names are case-insensitive; a name given twice in
/// one challenge is an error. Unknown schemes come back as
/// [`Challenge::Other`].
pub fn parse_www_authenticate(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut cursor = Cursor {
        text: header,
        pos: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip_separators();
        if cursor.at_end() {
            break;
        }
        let at = cursor.pos;
        let scheme = cursor.token();
        if scheme.is_empty() {
            return Err(ChallengeError::Syntax {
                at,
                expected: "an auth scheme such as Basic or Bearer",
            });
        }
        let params = parse_params(&mut cursor, scheme)?;
        challenges.push(build_challenge(scheme, params)?);
    }
    if challenges.is_empty() {
        return Err(ChallengeError::Empty);
    }
    Ok(challenges)
}

/// Reads what follows a scheme, up to the next challenge or the end. The
/// names are lowercase; a token68 gives no parameters.
fn parse_params(
    cursor: &mut Cursor<'_>,
    scheme: &str,
) -> Result<Vec<(String, String)>, ChallengeError> {
    let had_space = cursor.skip_ows();
    if cursor.at_end() || cursor.peek() == Some(',') {
        return Ok(Vec::new());
    }
    if !had_space {
        return Err(ChallengeError::Syntax {
            at: cursor.pos,
            expected: "a space after the auth scheme",
        });
    }

    // `Basic dXNlcjpwYXNz==`: a token68 ends the challenge by itself.
    let start = cursor.pos;
    let token68 = cursor.take_while(is_token68_char);
    cursor.take_while(|c| c == '=');
    cursor.skip_ows();
    if !token68.is_empty() && (cursor.at_end() || cursor.peek() == Some(',')) {
        return Ok(Vec::new());
    }
    cursor.pos = start;

    let mut params: Vec<(String, String)> = Vec::new();
    loop {
        let at = cursor.pos;
        let name = cursor.token();
        if name.is_empty() {
            return Err(ChallengeError::Syntax {
                at,
                expected: "a parameter name",
            });
        }
        cursor.skip_ows();
        if !cursor.eat('=') {
            return Err(ChallengeError::Syntax {
                at: cursor.pos,
                expected: "'=' after the parameter name",
            });
        }
        cursor.skip_ows();
        let value = if cursor.peek() == Some('"') {
            cursor.quoted()?
        } else {
            let at = cursor.pos;
            let value = cursor.token();
            if value.is_empty() {
                return Err(ChallengeError::Syntax {
                    at,
                    expected: "a parameter value (a token or a quoted string)",
                });
            }
            value.to_owned()
        };
        let name = name.to_ascii_lowercase();
        if params.iter().any(|(known, _)| *known == name) {
            return Err(ChallengeError::DuplicateParam {
                scheme: scheme.to_owned(),
                name,
            });
        }
        params.push((name, value));

        cursor.skip_ows();
        if cursor.at_end() {
            break;
        }
        if !cursor.eat(',') {
            return Err(ChallengeError::Syntax {
                at: cursor.pos,
                expected: "',' between parameters or challenges",
            });
        }
        cursor.skip_separators();
        if cursor.at_end() {
            break;
        }
        // `name =` continues this challenge; anything else starts the next.
        let next = cursor.pos;
        cursor.token();
        cursor.skip_ows();
        let is_param = cursor.peek() == Some('=');
        cursor.pos = next;
        if !is_param {
            break;
        }
    }
    Ok(params)
}

fn build_challenge(
    scheme: &str,
    mut params: Vec<(String, String)>,
) -> Result<Challenge, ChallengeError> {
    let mut take = |name: &str| {
        params
            .iter()
            .position(|(known, _)| known == name)
            .map(|index| params.swap_remove(index).1)
    };
    if scheme.eq_ignore_ascii_case("basic") {
        Ok(Challenge::Basic {
            realm: take("realm"),
        })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let realm = take("realm")
            .filter(|realm| !realm.is_empty())
            .ok_or(ChallengeError::BearerWithoutRealm)?;
        Ok(Challenge::Bearer(BearerChallenge {
            realm,
            service: take("service"),
            scope: take("scope"),
            error: take("error"),
        }))
    } else {
        Ok(Challenge::Other {
            scheme: scheme.to_owned(),
        })
    }
}

// ---------------------------------------------------------------------------
// Scopes

/// The token scope a registry request needs, from its method and its path
/// after the registry base (`/v2/...`, a query is ignored): the catalog needs
/// `registry:catalog:*`; reading tags, manifests and blobs needs
/// `repository:<name>:pull`; deleting a manifest or blob needs
/// `repository:<name>:delete`; pushing needs `repository:<name>:pull,push`.
/// `None` for `/v2/` and for paths that are not registry API paths.
///
/// The repository name is everything between `/v2/` and the last `/tags/`,
/// `/manifests/` or `/blobs/`. When a registry's challenge names a scope,
/// that one wins: this is the guess for the first request.
pub fn scope_for(method: &Method, path: &str) -> Option<String> {
    let path = path.split_once(['?', '#']).map_or(path, |(path, _)| path);
    let rest = path.strip_prefix("/v2/")?;
    let read = *method == Method::GET || *method == Method::HEAD;
    if rest == "_catalog" {
        return read.then(|| "registry:catalog:*".to_owned());
    }
    let (at, marker) = ["/tags/", "/manifests/", "/blobs/"]
        .into_iter()
        .filter_map(|marker| rest.rfind(marker).map(|at| (at, marker)))
        .max_by_key(|(at, _)| *at)?;
    let name = rest.get(..at)?;
    let tail = rest.get(at + marker.len()..)?;
    if name.split('/').any(str::is_empty) {
        return None;
    }
    let single = !tail.is_empty() && !tail.contains('/');
    let action = match marker {
        "/tags/" if tail == "list" && read => "pull",
        "/manifests/" if single && read => "pull",
        "/manifests/" if single && *method == Method::DELETE => "delete",
        "/manifests/" if single && *method == Method::PUT => "pull,push",
        "/blobs/" if tail.starts_with("uploads/") => "pull,push",
        "/blobs/" if single && read => "pull",
        "/blobs/" if single && *method == Method::DELETE => "delete",
        _ => return None,
    };
    Some(format!("repository:{name}:{action}"))
}

// ---------------------------------------------------------------------------
// Token request and answer

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
fn percent_encode(text: &str, out: &mut String) {
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
/// `scope` is normally the challenge's own `scope`, else [`scope_for`] of the
/// request; `None` asks for a token without scope. Several scopes separated
/// by spaces become several `scope` parameters. Values are percent-encoded.
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

/// A bearer token and when it stops being valid. Its `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    value: String,
    expires_at: OffsetDateTime,
}

/// How long before its expiry a token is no longer handed out: covers the
/// time a request takes and small clock differences.
pub const TOKEN_MARGIN: Duration = Duration::seconds(10);

/// The lifetime of a token whose answer gives no usable `expires_in`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::seconds(60);

/// The longest lifetime believed; longer claims are cut to this.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::days(1);

impl Token {
    /// A token with its value and expiry; the value must be valid header text.
    pub fn new(value: impl Into<String>, expires_at: OffsetDateTime) -> Token {
        Token {
            value: value.into(),
            expires_at,
        }
    }

    /// The token itself, to be sent only to the registry.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// When the token server says the token stops working.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Whether the token is still good at `now`, [`TOKEN_MARGIN`] included.
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        now + TOKEN_MARGIN < self.expires_at
    }

    /// The `Authorization` header value: `Bearer <token>`.
    pub fn bearer_header(&self) -> String {
        format!("Bearer {}", self.value)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"***")
            .field("expires_at", &self.expires_at)
            .finish()
    }
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

// ---------------------------------------------------------------------------
// Cache

/// Tokens by scope key (`None`: the token asked for without a scope).
#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    tokens: BTreeMap<Option<String>, Token>,
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> TokenCache {
        TokenCache::default()
    }

    /// The token for `scope` if it is still fresh at `now` (see
    /// [`Token::is_fresh`]).
    pub fn get(&self, scope: &Option<String>, now: OffsetDateTime) -> Option<&Token> {
        self.tokens.get(scope).filter(|token| token.is_fresh(now))
    }

    /// Keeps `token` for `scope`, replacing any older one.
    pub fn insert(&mut self, scope: Option<String>, token: Token) {
        self.tokens.insert(scope, token);
    }

    /// Drops the token for `scope`, e.g. after the registry rejected it.
    pub fn forget(&mut self, scope: &Option<String>) {
        self.tokens.remove(scope);
    }

    /// Drops every token, e.g. when the credentials change.
    pub fn clear(&mut self) {
        self.tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn bearer(realm: &str) -> BearerChallenge {
        BearerChallenge {
            realm: realm.to_owned(),
            service: None,
            scope: None,
            error: None,
        }
    }

    fn only_bearer(header: &str) -> BearerChallenge {
        match parse_www_authenticate(header).unwrap().as_slice() {
            [Challenge::Bearer(challenge)] => challenge.clone(),
            other => panic!("{header}: {other:?}"),
        }
    }

    // --- challenges ---

    #[test]
    fn reads_the_distribution_example() {
        let challenge = only_bearer(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        assert_eq!(
            challenge,
            BearerChallenge {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:samalba/my-app:pull,push".into()),
                error: None,
            }
        );
    }

    #[test]
    fn reads_harbor_and_gitlab_challenges() {
        let harbor = only_bearer(
            r#"Bearer realm="https://harbor.example.com/service/token",service="harbor-registry",scope="repository:library/nginx:pull""#,
        );
        assert_eq!(harbor.realm, "https://harbor.example.com/service/token");
        assert_eq!(harbor.service.as_deref(), Some("harbor-registry"));
        assert_eq!(
            harbor.scope.as_deref(),
            Some("repository:library/nginx:pull")
        );
        let gitlab = only_bearer(
            r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="repository:group/sub/project:delete""#,
        );
        assert_eq!(gitlab.realm, "https://gitlab.example.com/jwt/auth");
        assert_eq!(gitlab.service.as_deref(), Some("container_registry"));
        assert_eq!(
            gitlab.scope.as_deref(),
            Some("repository:group/sub/project:delete")
        );
        let catalog = only_bearer(
            r#"Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="registry:catalog:*""#,
        );
        assert_eq!(catalog.scope.as_deref(), Some("registry:catalog:*"));
    }

    #[test]
    fn reads_basic_with_and_without_realm() {
        assert_eq!(
            parse_www_authenticate(r#"Basic realm="Registry Realm""#).unwrap(),
            [Challenge::Basic {
                realm: Some("Registry Realm".into())
            }]
        );
        assert_eq!(
            parse_www_authenticate("Basic").unwrap(),
            [Challenge::Basic { realm: None }]
        );
        assert_eq!(
            parse_www_authenticate(r#"Basic realm="Registry", charset="UTF-8""#).unwrap(),
            [Challenge::Basic {
                realm: Some("Registry".into())
            }]
        );
    }

    #[test]
    fn reads_the_error_of_a_bearer_challenge() {
        let challenge = only_bearer(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope""#,
        );
        assert_eq!(challenge.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(
            challenge.scope.as_deref(),
            Some("repository:samalba/my-app:pull,push")
        );
    }

    #[test]
    fn reads_several_challenges_in_one_header() {
        let all = parse_www_authenticate(
            r#"Basic realm="r", Bearer realm="https://a/token",service="s", Negotiate"#,
        )
        .unwrap();
        assert_eq!(
            all,
            [
                Challenge::Basic {
                    realm: Some("r".into())
                },
                Challenge::Bearer(BearerChallenge {
                    service: Some("s".into()),
                    ..bearer("https://a/token")
                }),
                Challenge::Other {
                    scheme: "Negotiate".into()
                },
            ]
        );
        let reversed =
            parse_www_authenticate(r#"Bearer realm="https://a/t",scope="x:y:pull,push",Basic"#)
                .unwrap();
        assert_eq!(reversed.len(), 2);
        assert_eq!(reversed[1], Challenge::Basic { realm: None });
        let token68 = parse_www_authenticate(
            r#"Negotiate YIIB+w/a==, Basic realm="x",, ,Bearer realm="https://a/t""#,
        )
        .unwrap();
        assert_eq!(token68.len(), 3);
        assert_eq!(
            token68[0],
            Challenge::Other {
                scheme: "Negotiate".into()
            }
        );
        // A bare word after a comma is, by the grammar, a challenge of its own.
        let bare = parse_www_authenticate(r#"Bearer realm="https://a/t", service"#).unwrap();
        assert_eq!(
            bare[1],
            Challenge::Other {
                scheme: "service".into()
            }
        );
    }

    #[test]
    fn tolerates_odd_spacing_case_and_escapes() {
        let challenge = only_bearer(
            "  bEaReR   REALM = \"https://a/t\" ,\tService=svc ,  scope=\"repository:a/b:pull\"  ",
        );
        assert_eq!(challenge.realm, "https://a/t");
        assert_eq!(challenge.service.as_deref(), Some("svc"));
        assert_eq!(challenge.scope.as_deref(), Some("repository:a/b:pull"));
        assert_eq!(
            parse_www_authenticate(r#"BASIC realm="a \"quoted\" \\ realm, with comma""#).unwrap(),
            [Challenge::Basic {
                realm: Some(r#"a "quoted" \ realm, with comma"#.into())
            }]
        );
        assert_eq!(
            parse_www_authenticate("Basic abc==").unwrap(),
            [Challenge::Basic { realm: None }]
        );
        assert_eq!(
            parse_www_authenticate(r#"Basic realm="Zürich""#).unwrap(),
            [Challenge::Basic {
                realm: Some("Zürich".into())
            }]
        );
    }

    #[test]
    fn a_bearer_challenge_needs_a_realm() {
        for header in [
            r#"Bearer service="registry.docker.io""#,
            r#"Bearer realm="",service="s""#,
            "Bearer",
            "Bearer abc==",
            r#"Basic realm="x", Bearer"#,
        ] {
            let error = parse_www_authenticate(header).unwrap_err();
            assert_eq!(error, ChallengeError::BearerWithoutRealm, "{header}");
            assert!(error.to_string().contains("realm"), "{error}");
        }
    }

    #[test]
    fn rejects_malformed_headers() {
        type Check = fn(&ChallengeError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| *e == ChallengeError::Empty),
            ("   ", |e| *e == ChallengeError::Empty),
            (" , ,, ", |e| *e == ChallengeError::Empty),
            (r#"Bearer realm="https://a/t"#, |e| {
                *e == ChallengeError::Unterminated { at: 13 }
            }),
            (r#"Basic realm="x\"#, |e| {
                matches!(e, ChallengeError::Unterminated { .. })
            }),
            (r#"Bearer realm"https://a/t""#, |e| {
                matches!(
                    e,
                    ChallengeError::Syntax {
                        expected: "'=' after the parameter name",
                        ..
                    }
                )
            }),
            (r#"Bearer realm "https://a/t""#, |e| {
                matches!(e, ChallengeError::Syntax { .. })
            }),
            // `realm=` reads as a token68, which leaves Bearer without realm.
            (r#"Bearer realm=,service="s""#, |e| {
                *e == ChallengeError::BearerWithoutRealm
            }),
            (r#"Bearer realm= ;"#, |e| {
                matches!(e, ChallengeError::Syntax { .. })
            }),
            (r#"Bearer realm="https://a/t" service="s""#, |e| {
                matches!(e, ChallengeError::Syntax { .. })
            }),
            (
                r#"Bearer realm="a",REALM="b""#,
                |e| matches!(e, ChallengeError::DuplicateParam { name, .. } if name == "realm"),
            ),
            (r#"="x""#, |e| {
                matches!(e, ChallengeError::Syntax { at: 0, .. })
            }),
            (r#""Basic""#, |e| matches!(e, ChallengeError::Syntax { .. })),
            (r#"Basic="x""#, |e| {
                matches!(e, ChallengeError::Syntax { .. })
            }),
            ("Basic realm=\"a\nb\"", |e| {
                matches!(e, ChallengeError::Syntax { .. })
            }),
            (r#"Bearer realm="x", "junk""#, |e| {
                matches!(e, ChallengeError::Syntax { .. })
            }),
            ("Bearer realm=x;y", |e| {
                matches!(e, ChallengeError::Syntax { .. })
            }),
        ];
        for (header, expected) in cases {
            let result = parse_www_authenticate(header);
            match &result {
                Err(error) if expected(error) => {
                    let text = error.to_string();
                    assert!(text.contains(": "), "{text}");
                }
                other => panic!("{header:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn never_panics_on_any_prefix_or_garbage() {
        let headers = [
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope""#,
            r#"Basic realm="a \"b\" \\ ç", Negotiate YII+/==, Bearer realm=x"#,
            "\u{0}\u{7f}é漢字\"\\=,, =\"\\",
            "Bearer realm=\"\\\u{1F600}\"",
        ];
        for header in headers {
            for (end, _) in header.char_indices().chain([(header.len(), ' ')]) {
                let _ = parse_www_authenticate(&header[..end]);
                let _ = parse_www_authenticate(&header[end..]);
            }
        }
    }

    // --- scopes ---

    #[test]
    fn scopes_follow_the_request() {
        let get = &Method::GET;
        let cases = [
            (get, "/v2/_catalog", Some("registry:catalog:*")),
            (get, "/v2/_catalog?n=100&last=a", Some("registry:catalog:*")),
            (get, "/v2/app/tags/list", Some("repository:app:pull")),
            (
                get,
                "/v2/team/app/tags/list?n=50",
                Some("repository:team/app:pull"),
            ),
            (
                &Method::HEAD,
                "/v2/team/app/manifests/latest",
                Some("repository:team/app:pull"),
            ),
            (
                get,
                "/v2/a/b/c/manifests/sha256:0123",
                Some("repository:a/b/c:pull"),
            ),
            (
                get,
                "/v2/team/app/blobs/sha256:abcd",
                Some("repository:team/app:pull"),
            ),
            (
                &Method::DELETE,
                "/v2/team/app/manifests/sha256:abcd",
                Some("repository:team/app:delete"),
            ),
            (
                &Method::DELETE,
                "/v2/team/app/blobs/sha256:abcd",
                Some("repository:team/app:delete"),
            ),
            (
                &Method::PUT,
                "/v2/team/app/manifests/v1",
                Some("repository:team/app:pull,push"),
            ),
            (
                &Method::POST,
                "/v2/team/app/blobs/uploads/",
                Some("repository:team/app:pull,push"),
            ),
            (
                &Method::PATCH,
                "/v2/team/app/blobs/uploads/1234-abcd",
                Some("repository:team/app:pull,push"),
            ),
            // Names may hold the markers as components: the last one counts.
            (
                get,
                "/v2/tags/blobs/manifests/tags/list",
                Some("repository:tags/blobs/manifests:pull"),
            ),
            (
                get,
                "/v2/x/manifests/y/tags/list",
                Some("repository:x/manifests/y:pull"),
            ),
            (get, "/v2/", None),
            (get, "/v2", None),
            (get, "", None),
            (get, "/v1/_catalog", None),
            (get, "v2/team/app/tags/list", None),
            (&Method::DELETE, "/v2/_catalog", None),
            (get, "/v2/team/app/tags/other", None),
            (get, "/v2/team/app/manifests/", None),
            (get, "/v2/team/app/manifests/a/b", None),
            (get, "/v2//manifests/latest", None),
            (get, "/v2/team//app/manifests/latest", None),
            (get, "/v2/tags/list", None),
            (&Method::POST, "/v2/team/app/manifests/latest", None),
            (&Method::DELETE, "/v2/team/app/tags/list", None),
        ];
        for (method, path, expected) in cases {
            assert_eq!(
                scope_for(method, path).as_deref(),
                expected,
                "{method} {path}"
            );
        }
    }

    // --- token request ---

    #[test]
    fn percent_encodes_everything_but_unreserved() {
        let mut out = String::new();
        percent_encode("repository:a/b:pull,push *&=+ é~._-Z9", &mut out);
        assert_eq!(
            out,
            "repository%3Aa%2Fb%3Apull%2Cpush%20%2A%26%3D%2B%20%C3%A9~._-Z9"
        );
    }

    #[test]
    fn builds_the_docker_hub_token_request() {
        let challenge = only_bearer(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        let credentials = Credentials::new("admin", "s3cret");
        let request =
            token_request(&challenge, challenge.scope.as_deref(), Some(&credentials)).unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri(),
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Asamalba%2Fmy-app%3Apull%2Cpush"
        );
        assert_eq!(request.headers()[AUTHORIZATION], "Basic YWRtaW46czNjcmV0");
        assert!(request.headers()[AUTHORIZATION].is_sensitive());
        assert!(request.body().is_empty());
        assert!(!format!("{request:?}").contains("YWRtaW46czNjcmV0"));
    }

    #[test]
    fn joins_a_realm_that_has_a_query() {
        let challenge = BearerChallenge {
            service: Some("container registry".into()),
            ..bearer("https://gitlab.example.com/jwt/auth?client_id=docker")
        };
        let request = token_request(&challenge, Some("registry:catalog:*"), None).unwrap();
        assert_eq!(
            request.uri(),
            "https://gitlab.example.com/jwt/auth?client_id=docker&service=container%20registry&scope=registry%3Acatalog%3A%2A"
        );
        assert!(request.headers().get(AUTHORIZATION).is_none());

        let open = token_request(
            &bearer("http://127.0.0.1:5001/token?"),
            Some("a:b:pull"),
            None,
        )
        .unwrap();
        assert_eq!(open.uri(), "http://127.0.0.1:5001/token?scope=a%3Ab%3Apull");
    }

    #[test]
    fn sends_several_scopes_and_none() {
        let request = token_request(
            &bearer("https://auth/token"),
            Some("repository:a:pull  repository:b:delete"),
            None,
        )
        .unwrap();
        assert_eq!(
            request.uri(),
            "https://auth/token?scope=repository%3Aa%3Apull&scope=repository%3Ab%3Adelete"
        );
        let bare = token_request(&bearer("https://auth/token"), None, None).unwrap();
        assert_eq!(bare.uri(), "https://auth/token");
        let empty_service = BearerChallenge {
            service: Some(String::new()),
            ..bearer("HTTPS://Auth:8443/t")
        };
        let request = token_request(&empty_service, Some(""), None).unwrap();
        assert_eq!(request.uri().path(), "/t");
        assert_eq!(request.uri().query(), None);
    }

    #[test]
    fn refuses_realms_that_are_not_absolute_http_urls() {
        for realm in [
            "",
            "/token",
            "token",
            "auth.docker.io/token",
            "ftp://auth/token",
            "https://",
            "https:///token",
            "https://?x=1",
            "https://user:pass@auth/token",
            "https://auth /token",
            "https://auth/token#fragment",
            "https://auth/to\nken",
            "https://auth/tökën",
            "https://auth\\evil/token",
            "https://auth/\"x\"",
            "javascript://auth/%0aalert(1)",
        ] {
            match token_request(&bearer(realm), Some("a:b:pull"), None) {
                Err(error @ AuthError::BadRealm { .. }) => {
                    let text = error.to_string();
                    assert!(text.contains(&format!("{realm:?}")), "{text}");
                    assert!(text.contains("auth.token.realm"), "{text}");
                }
                other => panic!("{realm:?} gave {other:?}"),
            }
        }
    }

    // --- token answer ---

    const NOW: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
    const REALM: &str = "https://auth.example.com/token";

    fn answer(status: u16, body: &str) -> Response<Vec<u8>> {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    fn token_of(body: &str) -> Result<Token, AuthError> {
        parse_token_response(REALM, &answer(200, body), NOW)
    }

    #[test]
    fn reads_token_or_access_token() {
        let token = token_of(r#"{"token":"abc.def","expires_in":300}"#).unwrap();
        assert_eq!(token.value(), "abc.def");
        assert_eq!(token.expires_at(), NOW + Duration::seconds(300));
        assert_eq!(token.bearer_header(), "Bearer abc.def");
        let oauth = token_of(r#"{"access_token":"xyz","expires_in":900}"#).unwrap();
        assert_eq!(oauth.value(), "xyz");
        let both = token_of(r#"{"token":"t1","access_token":"t2"}"#).unwrap();
        assert_eq!(both.value(), "t1");
        let empty_token = token_of(r#"{"token":"","access_token":"t2"}"#).unwrap();
        assert_eq!(empty_token.value(), "t2");
        let created = parse_token_response(REALM, &answer(201, r#"{"token":"t"}"#), NOW);
        assert!(created.is_ok());
    }

    #[test]
    fn expires_in_defaults_to_sixty_seconds_and_is_believed_below_it() {
        let expiry = |body: &str| token_of(body).unwrap().expires_at() - NOW;
        assert_eq!(expiry(r#"{"token":"t"}"#), Duration::seconds(60));
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":null}"#),
            Duration::seconds(60)
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":0}"#),
            Duration::seconds(60)
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":-5}"#),
            Duration::seconds(60)
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":30}"#),
            Duration::seconds(30)
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":0.5}"#),
            Duration::seconds(1)
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":299.9}"#),
            Duration::seconds(299)
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":"300"}"#),
            Duration::seconds(300)
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":1e300}"#),
            MAX_TOKEN_LIFETIME
        );
        assert_eq!(
            expiry(r#"{"token":"t","expires_in":18446744073709551615}"#),
            MAX_TOKEN_LIFETIME
        );
        for bad in [
            r#"{"token":"t","expires_in":"soon"}"#,
            r#"{"token":"t","expires_in":true}"#,
            r#"{"token":"t","expires_in":[300]}"#,
        ] {
            assert!(
                matches!(token_of(bad), Err(AuthError::NotAToken { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn issued_at_counts_only_when_sane() {
        let expiry = |issued_at: &str| {
            let body = format!(r#"{{"token":"t","expires_in":300,"issued_at":{issued_at}}}"#);
            token_of(&body).unwrap().expires_at()
        };
        assert_eq!(
            expiry(r#""2026-03-01T11:59:30Z""#),
            datetime!(2026-03-01 12:04:30 UTC)
        );
        assert_eq!(
            expiry(r#""2026-03-01T12:59:30+01:00""#),
            datetime!(2026-03-01 12:04:30 UTC)
        );
        assert_eq!(
            expiry(r#""2026-03-01T12:00:00Z""#),
            NOW + Duration::seconds(300)
        );
        // In the future, long expired, unparsable or not a string: from now.
        for issued_at in [
            r#""2026-03-01T12:01:00Z""#,
            r#""2026-03-01T11:00:00Z""#,
            r#""yesterday""#,
            r#""2026-03-01 11:59:30""#,
            "12345",
            "null",
        ] {
            assert_eq!(
                expiry(issued_at),
                NOW + Duration::seconds(300),
                "{issued_at}"
            );
        }
    }

    #[test]
    fn answers_without_a_usable_token_are_errors() {
        for body in [
            "",
            "<html>login</html>",
            "[]",
            "null",
            "{}",
            r#"{"token":""}"#,
            r#"{"token":null,"access_token":null}"#,
            r#"{"token":42}"#,
            r#"{"token":"a b"}"#,
            r#"{"token":"a\r\nX-Evil: 1"}"#,
            r#"{"token":"tökën"}"#,
        ] {
            match token_of(body) {
                Err(error @ AuthError::NotAToken { .. }) => {
                    let text = error.to_string();
                    assert!(text.contains(REALM), "{text}");
                    assert!(text.contains("token realm"), "{text}");
                }
                other => panic!("{body:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn error_statuses_name_the_realm_the_status_and_the_fix() {
        let refused = parse_token_response(
            REALM,
            &answer(401, r#"{"details":"incorrect username or password"}"#),
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            refused,
            AuthError::Denied {
                realm: REALM.into(),
                status: 401,
                body_excerpt: r#"{"details":"incorrect username or password"}"#.into(),
            }
        );
        let text = refused.to_string();
        assert!(
            text.starts_with(&format!(
                "the token server at {REALM} refused the credentials (HTTP 401"
            )),
            "{text}"
        );
        assert!(text.ends_with("check the username and password"), "{text}");
        assert!(text.contains("incorrect username or password"), "{text}");

        for (status, fix) in [
            (403, "grant it pull and delete access"),
            (404, "check the token realm"),
            (429, "wait a minute"),
            (503, "look at its log"),
            (302, "check the token realm"),
        ] {
            let text = parse_token_response(REALM, &answer(status, ""), NOW)
                .unwrap_err()
                .to_string();
            assert!(text.contains(REALM), "{text}");
            assert!(text.contains(&format!("HTTP {status}")), "{text}");
            assert!(text.contains(fix), "{text}");
        }
    }

    #[test]
    fn body_excerpts_are_short_and_on_one_line() {
        let long = format!("<html>\n<body>{}</body>\r\n\u{0}", "x".repeat(500));
        let excerpt = match parse_token_response(REALM, &answer(500, &long), NOW) {
            Err(AuthError::Denied { body_excerpt, .. }) => body_excerpt,
            other => panic!("{other:?}"),
        };
        assert!(excerpt.starts_with("<html> <body>xxx"), "{excerpt}");
        assert!(excerpt.ends_with('…'), "{excerpt}");
        assert_eq!(excerpt.chars().count(), 201);
        assert!(!excerpt.contains(['\n', '\r', '\u{0}']));
        let invalid_utf8 = Response::builder()
            .status(401)
            .body(vec![0xff, 0xfe, b'n', b'o'])
            .unwrap();
        assert!(parse_token_response(REALM, &invalid_utf8, NOW).is_err());
    }

    #[test]
    fn debug_hides_the_token() {
        let token = Token::new("s3cret-token", NOW);
        let shown = format!("{token:?}");
        assert!(shown.contains("***"), "{shown}");
        assert!(!shown.contains("s3cret-token"), "{shown}");
        let mut cache = TokenCache::new();
        cache.insert(Some("repository:a:pull".to_owned()), token);
        assert!(!format!("{cache:?}").contains("s3cret-token"));
    }

    // --- cache ---

    fn key(scope: Option<&str>) -> Option<String> {
        scope.map(str::to_owned)
    }

    fn value<'a>(
        cache: &'a TokenCache,
        scope: Option<&str>,
        now: OffsetDateTime,
    ) -> Option<&'a str> {
        cache.get(&key(scope), now).map(Token::value)
    }

    #[test]
    fn the_cache_keeps_tokens_per_scope_until_shortly_before_expiry() {
        let pull = Some("repository:a:pull");
        let delete = Some("repository:a:delete");
        let expires = NOW + Duration::seconds(60);
        let mut cache = TokenCache::new();
        assert_eq!(value(&cache, None, NOW), None);
        cache.insert(key(pull), Token::new("pull", expires));
        cache.insert(None, Token::new("none", expires));
        cache.insert(
            key(delete),
            Token::new("delete", NOW + Duration::seconds(300)),
        );

        assert_eq!(value(&cache, pull, NOW), Some("pull"));
        assert_eq!(value(&cache, None, NOW), Some("none"));
        assert_eq!(value(&cache, Some("repository:b:pull"), NOW), None);
        assert_eq!(
            value(&cache, pull, expires - Duration::seconds(11)),
            Some("pull")
        );
        assert_eq!(value(&cache, pull, expires - TOKEN_MARGIN), None);
        assert_eq!(value(&cache, None, expires), None);
        assert_eq!(value(&cache, pull, expires + Duration::hours(1)), None);
        assert_eq!(value(&cache, delete, expires), Some("delete"));

        cache.insert(
            key(pull),
            Token::new("fresh", expires + Duration::seconds(300)),
        );
        assert_eq!(value(&cache, pull, expires), Some("fresh"));
        cache.forget(&key(pull));
        assert_eq!(value(&cache, pull, NOW), None);
        assert_eq!(value(&cache, delete, NOW), Some("delete"));
        cache.forget(&None);
        assert_eq!(value(&cache, None, NOW), None);
        cache.forget(&key(Some("never-there")));
        cache.clear();
        assert_eq!(value(&cache, delete, NOW), None);
    }

    #[test]
    fn a_parsed_token_goes_through_the_cache() {
        let token = token_of(r#"{"token":"t","expires_in":300}"#).unwrap();
        let catalog = Some("registry:catalog:*");
        let mut cache = TokenCache::new();
        cache.insert(key(catalog), token);
        let later = NOW + Duration::seconds(289);
        assert_eq!(value(&cache, catalog, later), Some("t"));
        assert_eq!(value(&cache, catalog, later + Duration::seconds(1)), None);
    }
}
