//! A hostile registry (testkit's `hostile_registry`) behind
//! `deploy/same-origin.conf`: markup in what it serves stays text in the
//! dashboard, in the inventory, the plan and an error message; and a catalog
//! of 100,000 repositories pages through (Link, 101 pages) and the tag
//! lists start while the page keeps drawing its progress (reading all
//! 100,000 tag lists takes minutes; the test stops after the first 1,000). The figures (scan time, longest task) are printed with
//! `-- --nocapture`.

use cleanreg_e2e::{run_script, same_origin_nginx};
use cleanreg_testkit::{HostileOptions, hostile_registry};

fn run(options: HostileOptions, expect: &str) -> serde_json::Value {
    let registry = hostile_registry(options).expect("start the hostile registry");
    let nginx = same_origin_nginx(&registry.url());
    let printed = run_script(
        "hostile.mjs",
        &[
            ("CLEANREG_URL", format!("{}/cleanreg/", nginx.url())),
            ("CLEANREG_EXPECT", expect.to_owned()),
            ("CLEANREG_FILLER", options.filler_repositories.to_string()),
            ("CLEANREG_TIMEOUT_MS", "900000".to_owned()),
        ],
    );
    let result = printed.json("HOSTILE");
    eprintln!(
        "hostile ({expect}, {} filler repositories): {result}",
        options.filler_repositories
    );
    result
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn markup_from_the_registry_stays_text() {
    let shown = run(HostileOptions::default(), "inventory");
    assert_eq!(shown["pwned"], serde_json::Value::Null);
    assert_eq!(shown["inventoryShowsPayloadText"], true);
    let error = run(
        HostileOptions {
            failing_repository: true,
            ..HostileOptions::default()
        },
        "error",
    );
    assert_eq!(error["pwned"], serde_json::Value::Null);
    assert!(error["error"].as_str().unwrap().contains("403"), "{error}");
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_catalog_of_100k_repositories_pages_through() {
    let result = run(
        HostileOptions {
            filler_repositories: 100_000,
            ..HostileOptions::default()
        },
        "catalog",
    );
    assert!(result["listedMs"].as_u64().is_some(), "{result}");
    assert!(
        result["progress"].as_str().unwrap().contains("of 100001"),
        "{result}"
    );
}
