//! Errors of the registry protocol, each with the fix a person can apply.

use std::fmt;

use serde::Deserialize;

/// Anything that stops one registry request from giving its answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request never got an HTTP answer (refused, DNS, TLS, or in a
    /// browser: blocked by CORS).
    #[error("{request}: no answer from the registry ({detail})")]
    Network { request: String, detail: String },
    /// The registry answered with an error status.
    #[error("{0}")]
    Registry(RegistryError),
    /// The registry answered, but not in a form the protocol allows.
    #[error("{request}: unexpected answer: {detail}")]
    Protocol { request: String, detail: String },
    /// The registry would not list its repositories (`GET /v2/_catalog`
    /// answered 401, 403, 404 or `UNSUPPORTED`): GitLab, Harbor for anyone
    /// but a system admin, GHCR and Docker Hub. `prefixes` are the name
    /// prefixes the scan was asked to expand through it.
    #[error("{}", catalog_refused(cause, prefixes))]
    CatalogRefused {
        cause: Box<Error>,
        prefixes: Vec<String>,
    },
}

/// The message of [`Error::CatalogRefused`].
fn catalog_refused(cause: &Error, prefixes: &[String]) -> String {
    let answer = match cause.status() {
        Some(status) => {
            let code = cause
                .registry_code()
                .map_or_else(String::new, |code| format!(" {}", code.as_str()));
            format!("GET /v2/_catalog: HTTP {status}{code}")
        }
        None => format!("the token server would not grant registry:catalog:*: {cause}"),
    };
    let mut text = format!(
        "the registry does not list its repositories to this account ({answer}); GitLab, Harbor (except for system admins), GHCR and Docker Hub never \
         do. Name the repositories to clean instead"
    );
    if !prefixes.is_empty() {
        text.push_str(&format!(
            ": the name prefix{} {} cannot be listed without the catalog, so name each \
             repository under {} in full",
            if prefixes.len() == 1 { "" } else { "es" },
            prefixes.join(", "),
            if prefixes.len() == 1 { "it" } else { "them" }
        ));
    }
    text
}

impl Error {
    pub fn registry_code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Registry(error) => error.code.as_ref(),
            Error::CatalogRefused { cause, .. } => cause.registry_code(),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Registry(error) => Some(error.status),
            Error::CatalogRefused { cause, .. } => cause.status(),
            _ => None,
        }
    }

    /// Whether a failed `GET /v2/_catalog` means the registry does not list
    /// repositories to this account (401, 403, 404 or `UNSUPPORTED`; a token
    /// server that will not grant `registry:catalog:*` leads to the
    /// registry's 401), rather than a fault.
    pub fn refuses_catalog(&self) -> bool {
        matches!(self, Error::CatalogRefused { .. })
            || matches!(self.status(), Some(401 | 403 | 404))
            || self.registry_code() == Some(&ErrorCode::Unsupported)
            || self.is_token_denied()
    }

    /// A token server that answered the token request with 401 or 403
    /// (most issue a token without the scope instead; some refuse).
    fn is_token_denied(&self) -> bool {
        matches!(self, Error::Protocol { detail, .. }
            if detail.starts_with("the token server at ")
                && (detail.contains("(HTTP 401") || detail.contains("(HTTP 403")))
    }

    /// Whether the registry refused a request for lack of rights (401 or
    /// 403 after the credentials or token were sent).
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, Error::Registry(error) if matches!(error.status, 401 | 403))
    }
}

/// An error status from the registry, with the first error code of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// What was asked, e.g. `DELETE team/app@sha256:...`.
    pub request: String,
    pub status: u16,
    pub code: Option<ErrorCode>,
    pub message: String,
    /// When the body was not a registry error: its type and first
    /// characters, so an HTML page from a proxy is recognisable.
    pub not_registry: Option<String>,
}

/// The error codes of the distribution API that a cleaner meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthorized,
    Denied,
    NameUnknown,
    ManifestUnknown,
    BlobUnknown,
    Unsupported,
    TooManyRequests,
    DigestInvalid,
    PaginationNumberInvalid,
    NameInvalid,
    TagInvalid,
    ManifestInvalid,
    ManifestBlobUnknown,
    Other(String),
}

impl ErrorCode {
    pub fn parse(code: &str) -> ErrorCode {
        match code {
            "UNAUTHORIZED" => ErrorCode::Unauthorized,
            "DENIED" => ErrorCode::Denied,
            "NAME_UNKNOWN" => ErrorCode::NameUnknown,
            "MANIFEST_UNKNOWN" => ErrorCode::ManifestUnknown,
            "BLOB_UNKNOWN" => ErrorCode::BlobUnknown,
            "UNSUPPORTED" => ErrorCode::Unsupported,
            "TOOMANYREQUESTS" => ErrorCode::TooManyRequests,
            "DIGEST_INVALID" => ErrorCode::DigestInvalid,
            "PAGINATION_NUMBER_INVALID" => ErrorCode::PaginationNumberInvalid,
            "NAME_INVALID" => ErrorCode::NameInvalid,
            "TAG_INVALID" => ErrorCode::TagInvalid,
            "MANIFEST_INVALID" => ErrorCode::ManifestInvalid,
            "MANIFEST_BLOB_UNKNOWN" => ErrorCode::ManifestBlobUnknown,
            other => ErrorCode::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Denied => "DENIED",
            ErrorCode::NameUnknown => "NAME_UNKNOWN",
            ErrorCode::ManifestUnknown => "MANIFEST_UNKNOWN",
            ErrorCode::BlobUnknown => "BLOB_UNKNOWN",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::TooManyRequests => "TOOMANYREQUESTS",
            ErrorCode::DigestInvalid => "DIGEST_INVALID",
            ErrorCode::PaginationNumberInvalid => "PAGINATION_NUMBER_INVALID",
            ErrorCode::NameInvalid => "NAME_INVALID",
            ErrorCode::TagInvalid => "TAG_INVALID",
            ErrorCode::ManifestInvalid => "MANIFEST_INVALID",
            ErrorCode::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            ErrorCode::Other(code) => code,
        }
    }
}

impl RegistryError {
    /// Reads the `{"errors":[{"code","message"}]}` body; any body is accepted.
    pub fn from_response(
        request: String,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> RegistryError {
        #[derive(Deserialize)]
        struct Body {
            errors: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default)]
            detail: Option<serde_json::Value>,
        }
        let first = serde_json::from_slice::<Body>(body)
            .ok()
            .and_then(|b| b.errors.into_iter().next());
        let (code, message, not_registry) = match first {
            Some(entry) => {
                // A text detail is the registry's own reason (Distribution
                // puts a Go error's text there): worth showing.
                let message = match entry.detail {
                    Some(serde_json::Value::String(detail)) if !detail.trim().is_empty() => {
                        let detail = detail.trim();
                        let detail = if detail.chars().count() > 200 {
                            let cut: String = detail.chars().take(200).collect();
                            format!("{cut}...")
                        } else {
                            detail.to_owned()
                        };
                        if entry.message.is_empty() {
                            detail
                        } else {
                            format!("{}: {detail}", entry.message)
                        }
                    }
                    _ => entry.message,
                };
                (Some(ErrorCode::parse(&entry.code)), message, None)
            }
            None if body.iter().all(u8::is_ascii_whitespace) => (None, String::new(), None),
            None => (
                None,
                String::new(),
                Some(format!(
                    "{}: {}",
                    content_type.unwrap_or("no Content-Type"),
                    excerpt(body)
                )),
            ),
        };
        RegistryError {
            request,
            status,
            code,
            message,
            not_registry,
        }
    }

    /// What the person should do about it.
    pub fn fix(&self) -> &'static str {
        match (&self.code, self.status) {
            (Some(ErrorCode::Unauthorized), _) | (None, 401) => {
                "the registry wants a username and password: give them, or check the ones given"
            }
            (Some(ErrorCode::Denied), _) | (None, 403) => {
                "the account lacks the right for this; grant it delete (or pull) access"
            }
            (Some(ErrorCode::Unsupported), _) | (None, 405) => {
                "the registry refuses deletes: set `storage: {delete: {enabled: true}}` in its config.yml and restart it (a pull-through cache never allows deletes)"
            }
            (Some(ErrorCode::NameUnknown), _) => {
                "check the repository name; the registry does not know it"
            }
            (Some(ErrorCode::ManifestUnknown), _) => {
                "the tag or manifest is gone from the registry; scan again"
            }
            (Some(ErrorCode::TooManyRequests), _) | (_, 429) => {
                "the registry limits the request rate and still did after the retries; wait a few minutes, or lower the concurrency"
            }
            (
                Some(ErrorCode::NameInvalid | ErrorCode::TagInvalid | ErrorCode::DigestInvalid),
                _,
            ) => "the registry rejected a name or digest; report this as a cleanreg bug",
            (Some(ErrorCode::PaginationNumberInvalid), _) => {
                "the registry rejected the page size; report this as a cleanreg bug"
            }
            (None, 404) => "check the registry URL: it does not serve the /v2/ API there",
            (Some(ErrorCode::ManifestInvalid), _)
                if self.message.contains("distribution.manifest.v1+") =>
            {
                "the registry no longer accepts manifests of the old schema1 format (Distribution 3 dropped them), so this one cannot be put back there; push the image again in a current format"
            }
            (_, 500)
                if self
                    .message
                    .contains("unrecognized manifest schema version") =>
            {
                "Distribution 3 no longer reads manifests of the old schema1 format (pushed under 2.x), and cleanreg plans nothing while a manifest cannot be read: push a current image to that tag, or remove the tag with Distribution 3's tag delete (`DELETE /v2/<name>/manifests/<tag>`), then run cleanreg again"
            }
            (_, 503) => {
                "the registry (or a proxy in front of it) is unavailable and stayed so after the retries; check that it runs, then try again"
            }
            (_, 502 | 504) => {
                "a proxy in front of the registry got no good answer from it; check that the registry runs and the proxy points at it"
            }
            (_, 500..=599) => {
                "the registry failed and kept failing after the retries; look at its log"
            }
            _ => "see the registry's message",
        }
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", self.request, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {}", code.as_str())?;
        }
        if !self.message.is_empty() {
            write!(f, " ({})", self.message)?;
        }
        if let Some(body) = &self.not_registry {
            write!(f, "; not a registry answer ({body})")?;
        }
        write!(f, ". Fix: {}", self.fix())
    }
}

/// The first characters of a body, on one line, for messages.
pub fn excerpt(body: &[u8]) -> String {
    const LIMIT: usize = 160;
    let text = String::from_utf8_lossy(body);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= LIMIT {
        format!("{flat:?}")
    } else {
        let cut: String = flat.chars().take(LIMIT).collect();
        format!("{cut:?}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_refusals_are_told_from_faults() {
        let status = |status: u16, code: &str| {
            let body = format!(r#"{{"errors":[{{"code":"{code}","message":"m"}}]}}"#);
            Error::Registry(RegistryError::from_response(
                "GET /v2/_catalog".into(),
                status,
                None,
                body.as_bytes(),
            ))
        };
        for refused in [
            status(401, "UNAUTHORIZED"),
            status(403, "DENIED"),
            status(404, "NOT_FOUND"),
            status(400, "UNSUPPORTED"),
        ] {
            assert!(refused.refuses_catalog(), "{refused}");
        }
        assert!(!status(500, "UNKNOWN").refuses_catalog());
        assert!(!status(429, "TOOMANYREQUESTS").refuses_catalog());
        let token = |detail: &str| Error::Protocol {
            request: "GET http://auth/token?scope=registry%3Acatalog%3A%2A".into(),
            detail: detail.into(),
        };
        let denied = token(
            "the token server at http://auth/token denied access (HTTP 403): the account lacks \
             the rights asked for; grant it pull and delete access",
        );
        assert!(denied.refuses_catalog());
        assert!(
            !token("the token server at http://auth/token failed (HTTP 500): look at its log")
                .refuses_catalog()
        );
        let wrapped = Error::CatalogRefused {
            cause: Box::new(denied),
            prefixes: vec!["team/".into(), "ops/".into()],
        };
        let text = wrapped.to_string();
        assert!(
            text.contains("the token server would not grant registry:catalog:*"),
            "{text}"
        );
        assert!(
            text.contains("the name prefixes team/, ops/ cannot be listed without the catalog"),
            "{text}"
        );
        let plain = Error::CatalogRefused {
            cause: Box::new(status(401, "UNAUTHORIZED")),
            prefixes: Vec::new(),
        };
        assert_eq!(plain.status(), Some(401));
        assert!(
            plain
                .to_string()
                .starts_with("the registry does not list its repositories to this account (GET /v2/_catalog: HTTP 401 UNAUTHORIZED)"),
            "{plain}"
        );
    }

    #[test]
    fn names_the_code_and_the_fix() {
        let body = br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported.","detail":null}]}"#;
        let error = RegistryError::from_response("DELETE a@sha256:x".into(), 405, None, body);
        assert_eq!(error.code, Some(ErrorCode::Unsupported));
        let text = error.to_string();
        assert!(text.contains("HTTP 405 UNSUPPORTED"), "{text}");
        assert!(text.contains("delete: {enabled: true}"), "{text}");
    }

    #[test]
    fn a_text_detail_is_shown_and_distribution_3_on_schema1_gets_its_own_fix() {
        let body = br#"{"errors":[{"code":"UNKNOWN","message":"unknown error","detail":"unrecognized manifest schema version 1"}]}"#;
        let error = RegistryError::from_response(
            "GET http://r/v2/old/manifests/v1".into(),
            500,
            None,
            body,
        );
        let text = error.to_string();
        assert!(
            text.contains(
                "HTTP 500 UNKNOWN (unknown error: unrecognized manifest schema version 1)"
            ),
            "{text}"
        );
        assert!(text.contains("schema1"), "{text}");
        let refused = br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":"unsupported manifest media type and no default available: application/vnd.docker.distribution.manifest.v1+prettyjws"}]}"#;
        let text = RegistryError::from_response("PUT x".into(), 400, None, refused).to_string();
        assert!(
            text.contains("v1+prettyjws). Fix: the registry no longer accepts"),
            "{text}"
        );
        let other = br#"{"errors":[{"code":"UNKNOWN","message":"unknown error","detail":{}}]}"#;
        let text = RegistryError::from_response("GET x".into(), 500, None, other).to_string();
        assert!(
            text.contains("(unknown error). Fix: the registry failed"),
            "{text}"
        );
    }

    #[test]
    fn accepts_bodies_that_are_not_registry_errors() {
        let error = RegistryError::from_response(
            "GET /v2/".into(),
            404,
            Some("text/html"),
            b"<html>\n  nope</html>",
        );
        assert_eq!(error.code, None);
        let text = error.to_string();
        assert!(text.contains("does not serve the /v2/ API"), "{text}");
        assert!(
            text.contains(r#"not a registry answer (text/html: "<html> nope</html>")"#),
            "{text}"
        );
    }

    #[test]
    fn every_code_round_trips_and_has_a_fix() {
        for code in [
            "UNAUTHORIZED",
            "DENIED",
            "NAME_UNKNOWN",
            "MANIFEST_UNKNOWN",
            "BLOB_UNKNOWN",
            "UNSUPPORTED",
            "TOOMANYREQUESTS",
            "DIGEST_INVALID",
            "PAGINATION_NUMBER_INVALID",
            "NAME_INVALID",
            "TAG_INVALID",
            "MANIFEST_INVALID",
            "MANIFEST_BLOB_UNKNOWN",
        ] {
            let parsed = ErrorCode::parse(code);
            assert!(!matches!(parsed, ErrorCode::Other(_)), "{code}");
            assert_eq!(parsed.as_str(), code);
        }
        let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#;
        let error = RegistryError::from_response("GET x".into(), 429, None, body);
        assert!(error.to_string().contains("lower the concurrency"));
        let truncated = br#"{"errors":[{"code":"DEN"#;
        let error = RegistryError::from_response("GET x".into(), 403, None, truncated);
        assert_eq!(error.code, None);
        assert!(error.to_string().contains("delete (or pull) access"));
        let long = "x".repeat(1000);
        assert!(excerpt(long.as_bytes()).len() < 200);
    }
}
