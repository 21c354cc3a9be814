//! Stop during an apply, in the dashboard: the proxy in front of the
//! registry holds every DELETE about a second, so Stop lands while one is in
//! flight. Afterwards the registry, asked directly, must match every
//! reported outcome, and the proxy must have seen a DELETE for exactly the
//! entries not reported as cancelled.

use std::collections::BTreeSet;
use std::time::Duration;

use cleanreg_core::CANCELLED;
use cleanreg_e2e::{deletes, run_script, same_origin_nginx};
use cleanreg_testkit::{ChaosOptions, ChaosProxy, Fixture};

const KEEP: usize = 1;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn stop_sends_no_further_delete_and_reports_truthfully() {
    let Fixture {
        registry,
        seeder,
        repos,
        ..
    } = Fixture::open().two_repos().start();
    let proxy = ChaosProxy::start(
        &registry.url(),
        ChaosOptions {
            seed: 0,
            rate_percent: 0,
            slow: Duration::ZERO,
            delete_delay: Duration::from_millis(1_200),
        },
    )
    .expect("start the proxy");
    let nginx = same_origin_nginx(&proxy.url());
    let expected = deletes(&repos, KEEP);
    let printed = run_script(
        "cancel.mjs",
        &[
            ("CLEANREG_URL", format!("{}/cleanreg/", nginx.url())),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", expected.to_string()),
        ],
    );
    let outcomes = printed.json("OUTCOMES");
    let outcomes = outcomes.as_array().unwrap();
    assert_eq!(outcomes.len(), expected);

    let sent: BTreeSet<String> = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path().rsplit('/').next().unwrap().to_owned())
        .collect();
    let mut cancelled = 0;
    for outcome in outcomes {
        let repository = outcome["repository"].as_str().unwrap();
        let digest = outcome["digest"].as_str().unwrap();
        let present = seeder.manifest_exists(repository, digest).unwrap();
        match outcome["outcome"].as_str().unwrap() {
            "deleted" => {
                assert!(!present, "{digest} reported deleted but still there");
                assert!(sent.contains(digest), "{digest} deleted without a DELETE?");
            }
            "skipped" => {
                assert!(
                    outcome["detail"].as_str().unwrap().contains(CANCELLED),
                    "{outcome}"
                );
                assert!(present, "{digest} reported cancelled but gone");
                assert!(
                    !sent.contains(digest),
                    "a DELETE went out for cancelled {digest}"
                );
                cancelled += 1;
            }
            other => panic!("unexpected outcome {other}: {outcome}"),
        }
    }
    assert!(
        cancelled >= expected - 2,
        "Stop was pressed during the first delete, yet only {cancelled} of {expected} were cancelled"
    );
}
