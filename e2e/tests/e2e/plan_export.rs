//! The plan exported by the page (`plan-export-json`, captured as a download)
//! is a file the real CLI applies with `--apply-plan`; the CSV lists the
//! deletes. The page deletes nothing itself.

use std::path::PathBuf;

use cleanreg_e2e::{assert_plan, cleanreg, dashboard, deletes, run_script};
use cleanreg_testkit::{Fixture, RegistryOptions, arg};

const KEEP: usize = 2;
const PASSWORD: &str = "export-password";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_exported_plan_is_applied_by_the_cli() {
    let cli = cleanreg();
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(dashboard())
    .start();
    let repos = &fixture.repos;
    let out = tempfile::tempdir().unwrap();

    let printed = run_script(
        "plan_export.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(repos, KEEP).to_string()),
            ("CLEANREG_OUT_DIR", out.path().display().to_string()),
        ],
    );
    assert_plan(&printed, repos, KEEP);
    fixture.assert_newest_remain(usize::MAX);

    let plan_path = PathBuf::from(printed.json("PLAN_JSON")["path"].as_str().unwrap());
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let planned_registry = plan["registry"]
        .as_str()
        .unwrap_or_else(|| panic!("the exported plan names no registry: {plan}"));
    assert!(
        planned_registry.starts_with(&fixture.origin()),
        "the plan was made for {planned_registry}, the page's registry is {}",
        fixture.origin()
    );
    let recovery = out.path().join("recovery.json");
    let ran = cli.run(&[
        "-r",
        planned_registry,
        "--apply-plan",
        arg(&plan_path),
        "-u",
        "admin",
        "-pw",
        PASSWORD,
        "-y",
        "--recovery-file",
        arg(&recovery),
    ]);
    assert!(
        ran.code == Some(0),
        "cleanreg --apply-plan failed:\n{}",
        ran.shown()
    );
    assert!(
        recovery.exists(),
        "no recovery file written:\n{}",
        ran.shown()
    );
    fixture.assert_newest_remain(KEEP);
}
