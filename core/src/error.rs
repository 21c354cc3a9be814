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
}

impl Error {
    pub fn registry_code(&self) -> Option<&ErrorCode> {
        match self {
            Error::Registry(error) => error.code.as_ref(),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Registry(error) => Some(error.status),
            _ => None,
        }
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
            ErrorCode::Other(code) => code,
        }
    }
}

impl RegistryError {
    /// Reads the `{"errors":[{"code","message"}]}` body; any body is accepted.
    pub fn from_response(request: String, status: u16, body: &[u8]) -> RegistryError {
        #[derive(Deserialize)]
        struct Body {
            errors: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            code: String,
            #[serde(default)]
            message: String,
        }
        let first = serde_json::from_slice::<Body>(body)
            .ok()
            .and_then(|b| b.errors.into_iter().next());
        let (code, message) = match first {
            Some(entry) => (Some(ErrorCode::parse(&entry.code)), entry.message),
            None => (None, String::new()),
        };
        RegistryError {
            request,
            status,
            code,
            message,
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
            (Some(ErrorCode::TooManyRequests), _) | (None, 429) => {
                "the registry limits the request rate; wait a minute and try again"
            }
            (Some(ErrorCode::PaginationNumberInvalid), _) => {
                "the registry rejected the page size; report this as a cleanreg bug"
            }
            (None, 404) => "check the registry URL: it does not serve the /v2/ API there",
            (_, 500..=599) => "the registry failed; look at its log",
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
        write!(f, ". Fix: {}", self.fix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_code_and_the_fix() {
        let body = br#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported.","detail":null}]}"#;
        let error = RegistryError::from_response("DELETE a@sha256:x".into(), 405, body);
        assert_eq!(error.code, Some(ErrorCode::Unsupported));
        let text = error.to_string();
        assert!(text.contains("HTTP 405 UNSUPPORTED"), "{text}");
        assert!(text.contains("delete: {enabled: true}"), "{text}");
    }

    #[test]
    fn accepts_bodies_that_are_not_registry_errors() {
        let error = RegistryError::from_response("GET /v2/".into(), 404, b"<html>nope</html>");
        assert_eq!(error.code, None);
        assert!(error.to_string().contains("does not serve the /v2/ API"));
    }
}
