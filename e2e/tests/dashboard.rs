//! The dashboard's release build in Chromium, same-origin with a basic-auth
//! registry behind nginx: connect, scan, keep 2, apply; then the registry's
//! API must show exactly the newest two images of each repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, assert_newest_remain,
    two_repos_five_images,
};
use serde_json::Value;
use time::OffsetDateTime;

const KEEP: usize = 2;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `PREFIX {json}` line the browser script printed.
fn printed(stdout: &str, prefix: &str) -> Value {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("the script printed no {prefix} line:\n{stdout}"));
    serde_json::from_str(line.trim()).expect("valid JSON")
}

fn digests(value: &Value) -> Vec<String> {
    let mut digests: Vec<String> = value
        .as_array()
        .expect("a list")
        .iter()
        .map(|row| row["digest"].as_str().expect("a digest").to_owned())
        .collect();
    digests.sort();
    digests
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_dashboard_cleans_a_registry_behind_nginx() {
    let dist = workspace().join("dist");
    assert!(
        dist.join("index.html").exists(),
        "no release build in {}: run `trunk build --release --offline` (cargo xtask test does)",
        dist.display()
    );
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(("admin".into(), "e2e-password".into())),
        ..RegistryOptions::default()
    })
    .expect("start the registry");
    let seeder = Seeder::new(&registry.url(), registry.credentials());
    let newest = OffsetDateTime::now_utc() - time::Duration::days(1);
    let repos = two_repos_five_images(&seeder, newest).expect("seed");
    let nginx = Nginx::start(NginxOptions {
        port: None,
        root: dist,
        upstream: Some(registry.url()),
        hide_www_authenticate: true,
        ..NginxOptions::default()
    })
    .expect("start nginx");
    let screenshots = workspace().join("target/e2e-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();

    let expected_deletes: usize = repos.iter().map(|r| r.images.len() - KEEP).sum();
    let output = Command::new("node")
        .arg(workspace().join("e2e/dashboard.mjs"))
        .current_dir(workspace())
        .env("CLEANREG_URL", format!("{}/", nginx.url()))
        .env("CLEANREG_USER", "admin")
        .env("CLEANREG_PASSWORD", "e2e-password")
        .env("CLEANREG_KEEP", KEEP.to_string())
        .env("CLEANREG_EXPECT_DELETE", expected_deletes.to_string())
        .env("CLEANREG_SCREENSHOT_DIR", &screenshots)
        .output()
        .expect("run node e2e/dashboard.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}",
        output.status
    );

    // The page planned exactly what the seeded dates say.
    let plan = printed(&stdout, "PLAN ");
    let mut expected_keep = Vec::new();
    let mut expected_delete = Vec::new();
    for repo in &repos {
        for (rank, image) in repo.images.iter().enumerate() {
            let list = if rank < KEEP {
                &mut expected_keep
            } else {
                &mut expected_delete
            };
            list.push(image.image.digest.clone());
        }
    }
    expected_keep.sort();
    expected_delete.sort();
    assert_eq!(digests(&plan["keep"]), expected_keep);
    assert_eq!(digests(&plan["delete"]), expected_delete);

    // And the registry holds exactly what was kept.
    assert_newest_remain(&seeder, &repos, KEEP);
}
