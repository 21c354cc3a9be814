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
//!
//! One file per job: `challenge` reads the header (over the character-level
//! `lexer`), `scope` chooses a request's scope, `exchange` builds the token
//! request and reads its answer, `token` and `cache` hold tokens.

mod cache;
mod challenge;
mod exchange;
mod lexer;
mod scope;
mod token;

#[cfg(test)]
mod tests;

pub use cache::TokenCache;
pub use challenge::{BearerChallenge, Challenge, ChallengeError, parse_www_authenticate};
pub use exchange::{AuthError, parse_token_response, token_request};
pub use scope::scope_for;
pub use token::{DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME, TOKEN_MARGIN, Token};
