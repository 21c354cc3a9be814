//! Bearer token authentication against the real registry configured with
//! `auth: token`, and the test token server from testkit.

use crate::common::{block_on, client};
use std::time::Duration;

use cleanreg_core::{Credentials, Outcome, Policy, ScanScope, plan};
use cleanreg_testkit::{Fixture, TokenServer, TokenServerOptions, TokenUser, assert_newest_remain};
use time::OffsetDateTime;

/// A registry with token auth, its token server (an admin and a reader
/// account, tokens valid `expires_in` seconds) and two repositories of five
/// images.
fn token_registry(expires_in: u64) -> Fixture {
    Fixture::open()
        .token_auth(
            TokenServerOptions {
                users: vec![
                    TokenUser::admin("admin", "admin-pw"),
                    TokenUser::reader("reader", "reader-pw"),
                ],
                expires_in,
                ..TokenServerOptions::default()
            },
            ("admin", "admin-pw"),
        )
        .two_repos()
        .start()
}

#[test]
fn scans_and_deletes_with_tokens_per_scope_fetched_once() {
    let setup = token_registry(300);
    let before = setup.tokens().tokens_total();
    let client = client(
        &setup.registry.url(),
        Some(Credentials::new("admin", "admin-pw")),
    );
    block_on(client.ping()).unwrap();
    let inventory = block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).unwrap();
    assert_eq!(inventory.repositories.len(), 2);
    assert_eq!(inventory.image_count(), 10);

    let plan = plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    let report = block_on(client.apply(&plan, &mut |_, _| {}));
    let counts = report.counts();
    assert_eq!(
        (counts.deleted, counts.skipped, counts.failed),
        (6, 0, 0),
        "{report:#?}"
    );
    assert_newest_remain(&setup.seeder, &setup.repos, 2);

    let ours: Vec<_> = setup.tokens().requests()[before..].to_vec();
    assert!(
        ours.iter()
            .all(|r| r.username.as_deref() == Some("admin") && r.status == 200),
        "every token request carried the user's basic credentials: {ours:#?}"
    );
    let asked = |scope: &str| {
        ours.iter()
            .filter(|r| r.scopes.iter().any(|s| s == scope))
            .count()
    };
    assert_eq!(asked("registry:catalog:*"), 1, "{ours:#?}");
    for repo in ["team/app", "team/tool"] {
        assert_eq!(asked(&format!("repository:{repo}:pull")), 1, "{ours:#?}");
        assert_eq!(asked(&format!("repository:{repo}:delete")), 1, "{ours:#?}");
    }
}

#[test]
fn an_account_without_delete_rights_gets_failures_that_name_realm_and_scope() {
    let setup = token_registry(300);
    let client = client(
        &setup.registry.url(),
        Some(Credentials::new("reader", "reader-pw")),
    );
    let inventory = block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).unwrap();
    let plan = plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    let report = block_on(client.apply(&plan, &mut |_, _| {}));
    // The first refused DELETE of each repository fails with the realm and
    // scope; the rest of that repository is not attempted.
    assert_eq!(report.counts().failed, 2, "{report:#?}");
    assert_eq!(report.counts().skipped, 4, "{report:#?}");
    for repository in ["team/app", "team/tool"] {
        let outcomes: Vec<&Outcome> = report
            .outcomes
            .iter()
            .filter(|entry| entry.repository.as_str() == repository)
            .map(|entry| &entry.outcome)
            .collect();
        let Outcome::Failed { reason } = outcomes[0] else {
            panic!("{outcomes:?}")
        };
        assert!(reason.contains("HTTP 401"), "{reason}");
        assert!(
            reason.contains(&format!("token realm {}", setup.tokens().realm())),
            "{reason}"
        );
        assert!(
            reason.contains(&format!("scope repository:{repository}:delete")),
            "{reason}"
        );
        for later in &outcomes[1..] {
            let Outcome::Skipped { reason } = later else {
                panic!("{later:?}")
            };
            assert!(
                reason.starts_with(&format!(
                    "cannot delete: no delete permission in {repository}"
                )),
                "{reason}"
            );
        }
    }
    assert_newest_remain(&setup.seeder, &setup.repos, 5);
}

#[test]
fn a_wrong_password_is_refused_by_the_token_server_by_name() {
    let setup = token_registry(300);
    let client = client(
        &setup.registry.url(),
        Some(Credentials::new("admin", "wrong")),
    );
    let error = block_on(client.ping()).unwrap_err().to_string();
    assert!(error.contains(&setup.tokens().realm()), "{error}");
    assert!(error.contains("401"), "{error}");
}

#[test]
fn an_expired_token_is_replaced() {
    // Tokens live 11 s; the client stops using them 10 s before expiry.
    let setup = token_registry(11);
    let client = client(
        &setup.registry.url(),
        Some(Credentials::new("admin", "admin-pw")),
    );
    let scope = ScanScope::Repositories(vec!["team/app".parse().unwrap()]);
    let pulls = |tokens: &TokenServer| {
        tokens
            .tokens_issued()
            .get("repository:team/app:pull")
            .copied()
            .unwrap_or(0)
    };
    let before = pulls(setup.tokens());
    block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let first = pulls(setup.tokens());
    assert!(first > before);
    std::thread::sleep(Duration::from_secs(2));
    block_on(client.scan(&scope, &mut |_| {})).unwrap();
    assert!(
        pulls(setup.tokens()) > first,
        "a token past its lifetime is fetched again"
    );
}
