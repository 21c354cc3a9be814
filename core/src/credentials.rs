//! Registry credentials, which never print.
//!
//! `Debug` shows the password as `***`, so neither a log line nor an error
//! message can carry it. Where credentials may be sent is the client's rule
//! (see [`Client`](crate::Client)).

use std::fmt;

use base64::Engine as _;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` header value for HTTP basic auth.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let credentials = Credentials::new("admin", "s3cret");
        let shown = format!("{credentials:?}");
        assert!(shown.contains("admin") && shown.contains("***"));
        assert!(!shown.contains("s3cret"));
        assert_eq!(credentials.basic_header(), "Basic YWRtaW46czNjcmV0");
    }
}
