//! The plan exported by the page (`plan-export-json`, captured as a download)
//! is a file the real CLI applies with `--apply-plan`; the CSV lists the
//! deletes. The page deletes nothing itself.

use std::path::PathBuf;
use std::process::Command;

use cleanreg_e2e::{artifacts, assert_plan, cli_binary, deletes, dist, run_script};
use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, assert_newest_remain,
    two_repos_five_images,
};
use time::OffsetDateTime;

const KEEP: usize = 2;
const PASSWORD: &str = "export-password";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_exported_plan_is_applied_by_the_cli() {
    let cli = cli_binary();
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(("admin".into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .expect("start the registry");
    let seeder = Seeder::new(&registry.url(), registry.credentials());
    let repos = two_repos_five_images(&seeder, OffsetDateTime::now_utc() - time::Duration::days(1))
        .expect("seed");
    let nginx = Nginx::start(NginxOptions {
        root: dist(),
        upstream: Some(registry.url()),
        hide_www_authenticate: true,
        ..NginxOptions::default()
    })
    .expect("start nginx");
    let out = tempfile::tempdir().unwrap();

    let printed = run_script(
        "plan_export.mjs",
        &[
            ("CLEANREG_URL", format!("{}/", nginx.url())),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(&repos, KEEP).to_string()),
            ("CLEANREG_OUT_DIR", out.path().display().to_string()),
        ],
    );
    assert_plan(&printed, &repos, KEEP);
    assert_newest_remain(&seeder, &repos, usize::MAX);

    let plan_path = PathBuf::from(printed.json("PLAN_JSON")["path"].as_str().unwrap());
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let planned_registry = plan["registry"]
        .as_str()
        .unwrap_or_else(|| panic!("the exported plan names no registry: {plan}"));
    assert!(
        planned_registry.starts_with(&nginx.url()),
        "the plan was made for {planned_registry}, the page's registry is {}",
        nginx.url()
    );
    let recovery = out.path().join("recovery.json");
    let output = Command::new(cli)
        .args(["-r", planned_registry, "--apply-plan"])
        .arg(&plan_path)
        .args(["-u", "admin", "-pw", PASSWORD, "-y", "--recovery-file"])
        .arg(&recovery)
        .current_dir(artifacts())
        .output()
        .expect("run cleanreg");
    let shown = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "cleanreg --apply-plan failed:\n{shown}"
    );
    assert!(recovery.exists(), "no recovery file written:\n{shown}");
    assert_newest_remain(&seeder, &repos, KEEP);
}
