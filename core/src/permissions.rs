//! Which repositories the account may not delete in, known before apply.
//!
//! On registries with token authentication (GitLab, Harbor, Docker Hub,
//! Distribution's `auth: token`) the token server grants actions per
//! repository and per user, and it never refuses a scope it will not grant:
//! it issues a token with fewer actions, and only the registry's 401 on the
//! DELETE would tell. So before apply, [`Client::delete_permissions`] asks
//! the token server for each repository's `repository:<name>:delete` scope
//! (one token request per repository, kept in the client's token cache under
//! the very scope apply's DELETE looks up, so apply asks no second time) and
//! reads what the token grants from its `access` claim.
//!
//! Tokens are opaque to clients in general; the ones these token servers
//! issue are JWTs whose `access` claim lists what was granted. When a token
//! is not such a JWT, or the token server fails, the permission is unknown:
//! nothing is marked, and apply's own rule holds (the first 401/403 on a
//! DELETE in a repository skips the rest of that repository). Basic auth
//! likewise means unknown. A delete is granted by `delete` (or `*`) on that
//! repository in the claim; the registry alone could tell otherwise, by
//! refusing the DELETE.
//!
//! A new plan takes the result through [`plan_with`](crate::plan_with); a
//! saved plan applied later is marked the same way with
//! [`Plan::block_denied`](crate::Plan::block_denied), its reclaimable
//! figure left as planned.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::name::RepositoryName;
use crate::transport::Transport;

/// Repositories whose deletes the account is known not to be granted.
/// Empty: nothing known to be refused (basic auth, no auth, opaque tokens).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletePermissions {
    denied: BTreeSet<RepositoryName>,
}

impl DeletePermissions {
    /// Nothing known to be refused.
    pub fn none_denied() -> DeletePermissions {
        DeletePermissions::default()
    }

    /// Notes that deletes in `repository` are refused.
    pub fn deny(&mut self, repository: RepositoryName) {
        self.denied.insert(repository);
    }

    /// Whether deletes in `repository` are known to be refused.
    pub fn denies(&self, repository: &RepositoryName) -> bool {
        self.denied.contains(repository)
    }

    /// The repositories known to refuse deletes, in name order.
    pub fn denied(&self) -> impl Iterator<Item = &RepositoryName> {
        self.denied.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.denied.is_empty()
    }
}

/// What a token's `access` claim grants on `repository`: `Some` (possibly
/// empty) when the token is a JWT with an `access` claim, `None` when it
/// cannot be read (an opaque token).
pub fn granted_actions(token: &str, repository: &RepositoryName) -> Option<BTreeSet<String>> {
    #[derive(Deserialize)]
    struct Claims {
        access: Option<Vec<Access>>,
    }
    #[derive(Deserialize)]
    struct Access {
        #[serde(rename = "type")]
        kind: String,
        name: String,
        #[serde(default)]
        actions: Vec<String>,
    }
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    let access = claims.access?;
    Some(
        access
            .into_iter()
            .filter(|entry| entry.kind == "repository" && entry.name == repository.as_str())
            .flat_map(|entry| entry.actions)
            .collect(),
    )
}

/// Whether `actions` allow a DELETE.
fn allows_delete(actions: &BTreeSet<String>) -> bool {
    actions.contains("delete") || actions.contains("*")
}

impl<T: Transport> Client<T> {
    /// Asks the token server, for each repository, for a token with its
    /// `delete` scope and notes the repositories the token does not grant it
    /// on (see the module documentation). Up to [`Client::concurrency`]
    /// requests in flight; tokens are cached, so a repository costs one
    /// token request however often it is asked. With basic or no
    /// authentication (no Bearer challenge seen yet) nothing is asked and
    /// nothing is denied.
    pub async fn delete_permissions(
        &self,
        repositories: impl IntoIterator<Item = &RepositoryName>,
    ) -> DeletePermissions {
        let mut permissions = DeletePermissions::none_denied();
        if self.token_realm().is_none() {
            return permissions;
        }
        let unique: BTreeSet<&RepositoryName> = repositories.into_iter().collect();
        let mut answers = stream::iter(unique.into_iter().map(|name| async move {
            let scope = format!("repository:{name}:delete");
            let granted = match self.token_for(&scope).await {
                Some(Ok(token)) => granted_actions(token.value(), name),
                _ => None,
            };
            (name, granted)
        }))
        .buffer_unordered(self.concurrency());
        while let Some((name, granted)) = answers.next().await {
            if let Some(actions) = granted
                && !allows_delete(&actions)
            {
                permissions.deny(name.clone());
            }
        }
        permissions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    fn name(text: &str) -> RepositoryName {
        text.parse().unwrap()
    }

    #[test]
    fn reads_the_access_claim_for_the_repository_only() {
        let token = jwt(
            r#"{"access":[{"type":"repository","name":"team/app","actions":["pull","delete"]},
                {"type":"repository","name":"team/other","actions":["pull"]}]}"#,
        );
        let app = granted_actions(&token, &name("team/app")).unwrap();
        assert!(allows_delete(&app), "{app:?}");
        let other = granted_actions(&token, &name("team/other")).unwrap();
        assert!(!allows_delete(&other), "{other:?}");
        let absent = granted_actions(&token, &name("team/absent")).unwrap();
        assert!(absent.is_empty());
        let star = jwt(r#"{"access":[{"type":"repository","name":"a","actions":["*"]}]}"#);
        assert!(allows_delete(&granted_actions(&star, &name("a")).unwrap()));
        // A registry-type entry of the same name is not a repository grant.
        let registry = jwt(r#"{"access":[{"type":"registry","name":"a","actions":["delete"]}]}"#);
        assert!(!allows_delete(
            &granted_actions(&registry, &name("a")).unwrap()
        ));
    }

    #[test]
    fn an_empty_access_claim_grants_nothing() {
        let token = jwt(r#"{"sub":"x","access":[]}"#);
        assert_eq!(granted_actions(&token, &name("a")), Some(BTreeSet::new()));
    }

    #[test]
    fn opaque_tokens_and_missing_claims_are_unknown() {
        for token in [
            "opaque-token-value",
            "a.b",
            "a.b.c.d",
            "e30.%%%.c2ln",
            &jwt(r#"{"sub":"x"}"#),
            &jwt("not json"),
            &jwt(r#"{"access":"all"}"#),
        ] {
            assert_eq!(granted_actions(token, &name("a")), None, "{token}");
        }
    }
}
