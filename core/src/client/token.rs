//! Authorization for the client's requests: the `Authorization` value of a
//! request, tokens fetched from the realm the registry's challenge names
//! and cached per scope, and what a 401/403 should name.

use http::{Request, Response};

use super::Client;
use crate::auth::{self, BearerChallenge, Challenge};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::protocol;
use crate::transport::Transport;

impl<T: Transport> Client<T> {
    /// What a 401/403 should name: the realm and the scope asked for.
    pub(super) fn auth_context(&self, response: &Response<Vec<u8>>, scope: Option<&str>) -> String {
        let challenges = challenges(response);
        let known = self.auth().bearer.clone();
        let bearer = bearer_challenge(&challenges).or(known);
        if let Some(bearer) = bearer {
            let scope = bearer.scope.as_deref().or(scope).unwrap_or("none");
            return format!(" (token realm {}, scope {scope})", bearer.realm);
        }
        match challenges.iter().find_map(|c| match c {
            Challenge::Basic { realm } => Some(realm.clone()),
            _ => None,
        }) {
            Some(realm) => format!(
                " (basic auth realm {:?}{})",
                realm.unwrap_or_default(),
                if self.credentials.is_some() {
                    ", credentials were sent"
                } else {
                    ", no credentials given"
                }
            ),
            None => String::new(),
        }
    }

    /// The token scope a request needs, from its path below the registry base.
    pub(super) fn scope_of(&self, request: &Request<Vec<u8>>) -> Option<String> {
        let prefix = &self.registry.as_str()[self.registry.origin().len()..];
        let path = request.uri().path();
        let path = path.strip_prefix(prefix).unwrap_or(path);
        auth::scope_for(request.method(), path)
    }

    /// Gets a token for `wanted` from the challenge's realm, caches it under
    /// `key` (the scope later requests of the same kind look up) and returns
    /// its `Authorization` value.
    pub(super) async fn fetch_token(
        &self,
        challenge: &BearerChallenge,
        wanted: Option<&str>,
        key: Option<&str>,
    ) -> Result<String, Error> {
        // The password goes to the token server the registry names; never
        // in clear text when the registry itself is reached over TLS.
        if self.credentials.is_some()
            && self.registry.origin().starts_with("https://")
            && !challenge.realm.starts_with("https://")
        {
            return Err(Error::Protocol {
                request: format!("token request to {}", challenge.realm),
                detail: format!(
                    "the registry names a token server over plain HTTP ({}); sending the \
                     password there would expose it, so cleanreg refuses. Give the token \
                     server an https:// realm",
                    challenge.realm
                ),
            });
        }
        let request =
            auth::token_request(challenge, wanted, self.credentials.as_ref()).map_err(|error| {
                Error::Protocol {
                    request: format!("token request to {}", challenge.realm),
                    detail: error.to_string(),
                }
            })?;
        let described = protocol::describe(&request);
        let response = self
            .transport
            .send(request)
            .await
            .map_err(|error| Error::Network {
                request: described.clone(),
                detail: error.0,
            })?;
        let token = auth::parse_token_response(&challenge.realm, &response, self.transport.now())
            .map_err(|error| Error::Protocol {
            request: described,
            detail: error.to_string(),
        })?;
        let header = token.bearer_header();
        self.auth().tokens.insert(key.map(str::to_owned), token);
        Ok(header)
    }

    /// The token for `scope` (from the cache, else from the token server,
    /// then cached under `scope`, where a request needing that scope finds
    /// it); `None` when the registry has sent no Bearer challenge (basic
    /// auth or none).
    pub(crate) async fn token_for(&self, scope: &str) -> Option<Result<auth::Token, Error>> {
        let challenge = self.auth().bearer.clone()?;
        let key = Some(scope.to_owned());
        let cached = self.auth().tokens.get(&key, self.transport.now()).cloned();
        if let Some(token) = cached {
            return Some(Ok(token));
        }
        if let Err(error) = self.fetch_token(&challenge, Some(scope), Some(scope)).await {
            return Some(Err(error));
        }
        let token = self.auth().tokens.get(&key, self.transport.now()).cloned();
        token.map(Ok)
    }

    /// The `Authorization` value for a request to the registry's origin.
    pub(super) async fn authorization(&self, scope: Option<&str>) -> Result<Option<String>, Error> {
        let bearer = self.auth().bearer.clone();
        let Some(challenge) = bearer else {
            return Ok(self.credentials.as_ref().map(Credentials::basic_header));
        };
        let key = scope.map(str::to_owned);
        let cached = {
            let auth = self.auth();
            auth.tokens
                .get(&key, self.transport.now())
                .map(|token| token.bearer_header())
        };
        match cached {
            Some(header) => Ok(Some(header)),
            None => Ok(Some(self.fetch_token(&challenge, scope, scope).await?)),
        }
    }
}

/// The registry's Bearer challenge on a 401, if it sent one.
pub(super) fn bearer_challenge(challenges: &[Challenge]) -> Option<BearerChallenge> {
    challenges.iter().find_map(|challenge| match challenge {
        Challenge::Bearer(bearer) => Some(bearer.clone()),
        _ => None,
    })
}

/// Every challenge of a response's `WWW-Authenticate` headers that parses.
pub(super) fn challenges(response: &Response<Vec<u8>>) -> Vec<Challenge> {
    response
        .headers()
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| auth::parse_www_authenticate(v).ok())
        .flatten()
        .collect()
}
