//! A token-auth registry whose token server is scoped like GitLab's (no
//! catalog; pull and delete on `team/app`, pull only on `team/tool`), same
//! origin behind nginx: the dashboard explains the refused catalog, the
//! admin names the two repositories, the plan marks `team/tool`'s deletes
//! before apply, apply deletes `team/app`'s and never sends `team/tool`'s.
//! Checked through the registry's API and access log and the token server's
//! request log.

use cleanreg_e2e::{assert_plan, deletes, dist, run_script};
use cleanreg_testkit::{Fixture, Page, TokenServerOptions, TokenUser, assert_newest_remain};

const KEEP: usize = 2;
const ADMIN: &str = "admin";
const ADMIN_PASSWORD: &str = "admin-e2e-password";
const USER: &str = "developer";
const PASSWORD: &str = "scoped-e2e-password";
const PERMITTED: &str = "team/app";
const PULL_ONLY: &str = "team/tool";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn named_repositories_without_the_catalog_and_deletes_marked_before_apply() {
    // The token realm is on the page's origin (nginx proxies `/token`).
    let fixture = Fixture::open()
        .token_auth(
            TokenServerOptions {
                users: vec![
                    TokenUser::admin(ADMIN, ADMIN_PASSWORD),
                    TokenUser::scoped(
                        USER,
                        PASSWORD,
                        &[(PERMITTED, &["pull", "delete"]), (PULL_ONLY, &["pull"])],
                    ),
                ],
                ..TokenServerOptions::default()
            },
            (ADMIN, ADMIN_PASSWORD),
        )
        .access_log()
        .page(Page::Dashboard {
            root: dist(),
            hide_www_authenticate: false,
        })
        .two_repos()
        .start();
    let (tokens, registry, seeder, repos) = (
        fixture.tokens(),
        &fixture.registry,
        &fixture.seeder,
        &fixture.repos,
    );
    let (permitted, pull_only): (Vec<_>, Vec<_>) =
        repos.iter().cloned().partition(|r| r.name == PERMITTED);
    let before = tokens.requests().len();
    let per_repository = deletes(&permitted, KEEP);

    let printed = run_script(
        "scoped_tokens.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", USER.to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            (
                "CLEANREG_REPOSITORIES",
                format!("{PERMITTED}\n{PULL_ONLY}\n"),
            ),
            ("CLEANREG_PERMITTED", PERMITTED.to_owned()),
            ("CLEANREG_PULL_ONLY", PULL_ONLY.to_owned()),
            ("CLEANREG_EXPECT_SENT", per_repository.to_string()),
            (
                "CLEANREG_EXPECT_BLOCKED",
                deletes(&pull_only, KEEP).to_string(),
            ),
        ],
    );
    // The plan is the policy's: both repositories' old images are deletes,
    // the pull-only ones marked.
    assert_plan(&printed, repos, KEEP);
    let diagnosis = printed.json("DIAGNOSIS");
    assert_eq!(diagnosis["kind"], "no-catalog");
    let text = diagnosis["text"].as_str().unwrap();
    assert!(
        text.contains("does not list its repositories to this account") && text.contains("401"),
        "{text}"
    );
    // The link keeps the scope (and no credentials).
    let fragment = printed.json("FRAGMENT");
    let fragment = fragment.as_str().unwrap();
    assert!(
        fragment.contains("scope=team/app%2Cteam/tool"),
        "{fragment}"
    );
    assert!(!fragment.contains(PASSWORD), "{fragment}");

    // The token server: the catalog was asked for once (refused by leaving
    // it out of the token), each repository's delete scope once.
    let page_requests = &tokens.requests()[before..];
    let asked = |scope: &str| {
        page_requests
            .iter()
            .filter(|r| r.username.as_deref() == Some(USER))
            .filter(|r| r.scopes.iter().any(|s| s == scope))
            .count()
    };
    assert!(asked("registry:catalog:*") >= 1, "{page_requests:?}");
    assert!(
        page_requests
            .iter()
            .filter(|r| r.scopes.iter().any(|s| s == "registry:catalog:*"))
            .all(|r| r.granted.is_empty()),
        "the catalog was never granted: {page_requests:?}"
    );
    assert_eq!(asked(&format!("repository:{PULL_ONLY}:delete")), 1);
    assert_eq!(asked(&format!("repository:{PERMITTED}:delete")), 1);

    // The registry: no DELETE ever reached team/tool; team/app's happened.
    let log = std::fs::read_to_string(registry.log_path()).unwrap();
    let deletes_in = |name: &str| {
        log.lines()
            .filter(|line| line.contains(&format!("\"DELETE /v2/{name}/")))
            .count()
    };
    assert_eq!(deletes_in(PULL_ONLY), 0, "{log}");
    assert_eq!(deletes_in(PERMITTED), per_repository, "{log}");
    assert_newest_remain(seeder, &permitted, KEEP);
    assert_newest_remain(seeder, &pull_only, 5);
}
