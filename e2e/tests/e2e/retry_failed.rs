//! Apply with one delete made to fail: nginx -> a proxy that answers 500 to
//! the first DELETE of one planned digest -> the registry. The page shows it
//! `failed`, `retry-failed` deletes it; the recovery file offered before the
//! first delete lists every planned delete; the registry ends with exactly
//! the newest two of each repository.

use cleanreg_e2e::{assert_plan, dashboard, deletes, digests, expected_plan, run_script};
use cleanreg_testkit::{FailingProxy, Fixture, RegistryOptions};

const KEEP: usize = 2;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_failed_delete_is_shown_and_retried() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), "retry-password".into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .start();
    let repos = &fixture.repos;
    // team/tool's third newest: planned for deletion, and it carries two tags.
    let doomed = repos[1].images[KEEP].image.digest.clone();
    let proxy = FailingProxy::start(&fixture.url(), &[doomed.as_str()]).expect("start the proxy");
    let nginx = dashboard().serve(&proxy.url()).expect("start nginx");

    let printed = run_script(
        "retry_failed.mjs",
        &[
            ("CLEANREG_URL", format!("{}/", nginx.url())),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", "retry-password".to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(repos, KEEP).to_string()),
            ("CLEANREG_FAIL_DIGEST", doomed.clone()),
        ],
    );
    assert_plan(&printed, repos, KEEP);
    let (_, planned_deletes) = expected_plan(repos, |_| KEEP);

    let recovery = printed.json("RECOVERY");
    assert_eq!(recovery["format"], 1, "{recovery}");
    assert_eq!(
        digests(&recovery["entries"]),
        planned_deletes,
        "recovery entries"
    );
    for entry in recovery["entries"].as_array().unwrap() {
        assert!(
            entry["bytes"].as_u64().unwrap_or(0) > 0,
            "no manifest bytes: {entry}"
        );
    }
    let stable = recovery["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["digest"] == doomed.as_str())
        .expect("the doomed digest is in the recovery file");
    let mut tags: Vec<&str> = stable["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    tags.sort();
    assert_eq!(tags, ["stable", "v3"], "tags recorded for {doomed}");

    let failed = proxy.failed_deletes();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].ends_with(&doomed), "{failed:?}");
    let attempts = proxy
        .deletes()
        .iter()
        .filter(|path| path.ends_with(&doomed))
        .count();
    assert_eq!(attempts, 2, "the failed delete and its retry");
    fixture.assert_newest_remain(KEEP);
}
