//! Tokens cached per scope until shortly before they expire.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::token::Token;

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
