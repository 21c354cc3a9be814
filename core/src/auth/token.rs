//! A bearer token with its expiry, and how long tokens are believed.
//!
//! A token is used until 10 s before its `expires_in` ([`TOKEN_MARGIN`]), to
//! cover the request's own time and small clock differences; 60 s when the
//! answer gives no lifetime, one day at most. Its `Debug` prints `***`, so a
//! token never reaches a log or an error message.

use std::fmt;

use time::{Duration, OffsetDateTime};

/// A bearer token and when it stops being valid. Its `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub(super) value: String,
    pub(super) expires_at: OffsetDateTime,
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
