//! The dashboard through faults: testkit's `ChaosProxy` between nginx
//! (`deploy/same-origin.conf`) and the real registry fails 5 %, 20 % and
//! 50 % of requests (server errors, 429s, resets before and after the
//! registry acted, slow answers, cut bodies, wrong digests, HTML pages).
//! Each run: every scan either completes or shows an error that names the
//! failing request; after apply, nothing outside the plan is gone and every
//! outcome row matches the registry, asked directly. The figures are printed
//! (`-- --nocapture`).

use std::collections::BTreeSet;
use std::time::Duration;

use cleanreg_core::UNVERIFIED;
use cleanreg_e2e::{deletes, expected_plan, run_script, same_origin_nginx};
use cleanreg_testkit::{ChaosOptions, ChaosProxy, Fixture};

const KEEP: usize = 1;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_dashboard_reports_truthfully_through_faults() {
    let mut wrong = Vec::new();
    for (run, rate) in [5u32, 20, 50].into_iter().enumerate() {
        let Fixture {
            registry,
            seeder,
            repos,
            ..
        } = Fixture::open().two_repos().start();
        let proxy = ChaosProxy::start(
            &registry.url(),
            ChaosOptions {
                seed: 77 + run as u64,
                rate_percent: rate,
                slow: Duration::from_millis(300),
                delete_delay: Duration::ZERO,
            },
        )
        .expect("start the chaos proxy");
        let nginx = same_origin_nginx(&proxy.url());
        let printed = run_script(
            "chaos.mjs",
            &[
                ("CLEANREG_URL", format!("{}/cleanreg/", nginx.url())),
                ("CLEANREG_KEEP", KEEP.to_string()),
                ("CLEANREG_EXPECT_DELETE", deletes(&repos, KEEP).to_string()),
                ("CLEANREG_ATTEMPTS", "8".to_owned()),
                ("CLEANREG_TIMEOUT_MS", "600000".to_owned()),
            ],
        );
        let scans = printed.json("SCANS");
        for error in scans["errors"].as_array().unwrap() {
            let error = error.as_str().unwrap();
            if !error.contains("/v2/") && !error.contains(&nginx.url()) {
                wrong.push(format!(
                    "rate {rate}: a scan error names no request: {error}"
                ));
            }
        }
        let (_, planned) = expected_plan(&repos, |_| KEEP);
        let planned: BTreeSet<String> = planned.into_iter().collect();
        let mut checked = 0;
        let mut unverified = 0;
        if scans["completed"] == true {
            for outcome in printed.json("OUTCOMES").as_array().unwrap() {
                checked += 1;
                let digest = outcome["digest"].as_str().unwrap();
                let present = seeder
                    .manifest_exists(outcome["repository"].as_str().unwrap(), digest)
                    .unwrap();
                let detail = outcome["detail"].as_str().unwrap_or_default();
                let truthful = match outcome["outcome"].as_str().unwrap() {
                    "deleted" => !present,
                    "failed" if detail.contains(UNVERIFIED) => {
                        unverified += 1;
                        true
                    }
                    "skipped" if detail.contains("already gone") => !present,
                    _ => present,
                };
                if !truthful {
                    wrong.push(format!("rate {rate}: {outcome} but present={present}"));
                }
            }
        }
        for repo in &repos {
            for image in &repo.images {
                let digest = &image.image.digest;
                if !planned.contains(digest) && !seeder.manifest_exists(&repo.name, digest).unwrap()
                {
                    wrong.push(format!("rate {rate}: {digest} is gone but was not planned"));
                }
            }
        }
        let faults: usize = proxy.injected().values().sum();
        eprintln!(
            "dashboard chaos {rate:>2} %: scan completed {} after {} failed scan(s), {checked} \
             outcomes checked ({unverified} unverified), {faults} faults injected {:?}",
            scans["completed"],
            scans["errors"].as_array().unwrap().len(),
            proxy.injected()
        );
    }
    assert!(wrong.is_empty(), "wrong results:\n{}", wrong.join("\n"));
}
