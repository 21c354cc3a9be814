//! The probes a failed connection check runs, and what they saw: a plain
//! `GET /v2/` that needs no CORS preflight, then a `no-cors` one. The
//! connect view's diagnosis reads these observations.

use gloo_net::http::RequestBuilder;
use web_sys::{RequestCache, RequestCredentials, RequestMode};

/// What the plain `GET /v2/` (no custom headers, so no preflight) saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SimpleGet {
    /// Not tried (e.g. the URL did not parse).
    #[default]
    NotTried,
    /// The browser gave no answer (network error or CORS refusal).
    Threw,
    /// An HTTP answer, readable because CORS allowed it (or same origin).
    Answered(Answer),
}

/// The readable parts of an answer to `GET /v2/`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    pub status: u16,
    /// `Docker-Distribution-Api-Version`, when visible (cross-origin only
    /// if exposed).
    pub api_version: Option<String>,
    /// `WWW-Authenticate`, when visible.
    pub challenge: Option<String>,
    pub content_type: Option<String>,
    /// The body is a JSON object, as a registry's `/v2/` answers.
    pub json_object: bool,
}

impl Answer {
    /// Whether this can be a Distribution registry's `/v2/` answer.
    pub fn looks_like_registry(&self) -> bool {
        match &self.api_version {
            Some(version) => version.starts_with("registry/2."),
            // Not visible across origins: a registry answers JSON, 200 or 401.
            None => matches!(self.status, 200 | 401) && self.json_object,
        }
    }
}

/// `GET <registry>/v2/` with no custom header: a "simple" request, sent
/// without a CORS preflight. An answer means the registry is up and, across
/// origins, sends CORS headers for this page.
pub async fn probe_simple(registry: &str) -> SimpleGet {
    let url = format!("{}/v2/", registry.trim_end_matches('/'));
    let sent = RequestBuilder::new(&url)
        .mode(RequestMode::Cors)
        .cache(RequestCache::NoStore)
        .credentials(RequestCredentials::Omit)
        .build();
    let Ok(request) = sent else {
        return SimpleGet::NotTried;
    };
    let Ok(response) = request.send().await else {
        return SimpleGet::Threw;
    };
    let headers = response.headers();
    let body = response.binary().await.unwrap_or_default();
    SimpleGet::Answered(Answer {
        status: response.status(),
        api_version: headers.get("docker-distribution-api-version"),
        challenge: headers.get("www-authenticate"),
        content_type: headers.get("content-type"),
        json_object: is_json_object(&body),
    })
}

/// `GET <registry>/v2/` in `no-cors` mode: the answer is opaque, but that
/// there is one shows the server is up although CORS hides it.
pub async fn probe_opaque(registry: &str) -> bool {
    let url = format!("{}/v2/", registry.trim_end_matches('/'));
    let sent = RequestBuilder::new(&url)
        .mode(RequestMode::NoCors)
        .cache(RequestCache::NoStore)
        .credentials(RequestCredentials::Omit)
        .build();
    match sent {
        Ok(request) => request.send().await.is_ok(),
        Err(_) => false,
    }
}

fn is_json_object(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    text.starts_with('{') && text.ends_with('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_answers_a_json_object() {
        assert!(is_json_object(b"{}"));
        assert!(is_json_object(b" {\"errors\":[]}\n"));
        assert!(!is_json_object(b"<html></html>"));
        assert!(!is_json_object(b""));
    }
}
