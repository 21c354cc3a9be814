//! Another registry's policy in the dashboard, and the way back to cron:
//! GitLab's example cleanup policy (docs/import-examples/gitlab.json) is
//! picked on the Policy tab; the report shows beside it and the plan
//! follows it. The policy is then exported as TOML and the page's cron line
//! is run as cron would run it (the password from the environment): the
//! CLI deletes exactly what the page planned, the registry API agrees, and
//! the run leaves its recovery file in the directory the line names.

use std::collections::BTreeMap;

use cleanreg_e2e::{cleanreg, dashboard, run_script};
use cleanreg_testkit::{Fixture, ImageSpec, RegistryOptions};
use serde_json::Value;
use time::OffsetDateTime;

const PASSWORD: &str = "cron-password";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn an_imported_policy_plans_in_the_page_and_its_cron_line_runs_it() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .page(dashboard())
    .start();
    let seeder = &fixture.seeder;
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    let now = OffsetDateTime::now_utc();
    let images: [(&str, &[&str], i64); 12] = [
        ("gl/app", &["main-1"], 70),
        ("gl/app", &["main-2"], 65),
        ("gl/app", &["main-3"], 60),
        ("gl/app", &["release-1.0"], 55),
        ("gl/app", &["main-4"], 50),
        ("gl/app", &["main-5"], 45),
        ("gl/app", &["main-6"], 40),
        ("gl/app", &["main-7"], 35),
        ("gl/app", &["main-8"], 20),
        ("gl/app", &["main-9", "latest"], 2),
        // Outside the scanned prefix: the cron line must leave it alone.
        ("other/app", &["old-1"], 90),
        ("other/app", &["old-2"], 80),
    ];
    for (repo, tags, days) in images {
        let spec = ImageSpec::new(
            format!("{repo}-{}", tags[0]),
            Some(now - time::Duration::days(days)),
        );
        let pushed = seeder.push_image(repo, &spec, tags).unwrap();
        digests.insert(format!("{repo}:{}", tags[0]), pushed.digest);
    }
    let doomed: Vec<&String> = ["main-1", "main-2", "main-3"]
        .iter()
        .map(|tag| &digests[&format!("gl/app:{tag}")])
        .collect();

    let cli = cleanreg();
    let export_path = cli.work().join("cleanreg-policy.toml");
    let recovery_dir = cli.work().join("recovery");
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/import-examples/gitlab.json"
    );
    let printed = run_script(
        "imported_policy.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_SCOPE", "gl/".to_owned()),
            ("CLEANREG_POLICY_FILE", example.to_owned()),
            ("CLEANREG_DELETES", doomed.len().to_string()),
            ("CLEANREG_EXPORT_PATH", export_path.display().to_string()),
            ("CLEANREG_RECOVERY_DIR", recovery_dir.display().to_string()),
        ],
    );

    // The report shows beside the imported policy, part by part.
    let report = printed.json("REPORT");
    let rows = report["rows"].as_array().unwrap();
    let has = |mapping: &str, source: &str| {
        rows.iter().any(|row| {
            row["mapping"] == mapping && row["source"].as_str().unwrap().ends_with(source)
        })
    };
    assert!(has("not-mapped", "cadence"), "{report}");
    assert!(has("exact", "name_regex_keep"), "{report}");
    assert!(has("approximate", "keep_n"), "{report}");
    assert!(
        report["status"]
            .as_str()
            .unwrap()
            .contains("(GitLab cleanup policy): 4 exact, 2 approximate, 2 not mapped"),
        "{report}"
    );
    // The plan is GitLab's: the three oldest main builds go.
    let plan = printed.json("PLAN");
    let mut planned: Vec<&str> = plan["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["digest"].as_str().unwrap())
        .collect();
    planned.sort();
    let mut expected: Vec<&str> = doomed.iter().map(|d| d.as_str()).collect();
    expected.sort();
    assert_eq!(planned, expected, "{plan}");

    // The exported TOML goes where the cron line says, unchanged.
    let export = printed.json("EXPORT");
    std::fs::write(&export_path, export["text"].as_str().unwrap()).unwrap();
    let cron = printed.json("CRON");
    let line = cron["line"].as_str().unwrap();
    let registry = fixture.origin();
    assert!(
        line.starts_with(&format!(
            "30 3 * * * cleanreg -r {registry} -u admin --policy {} -n gl/ --recovery-dir {} -y",
            export_path.display(),
            recovery_dir.display()
        )),
        "{line}"
    );
    assert!(
        !line.contains(PASSWORD),
        "the line holds no password: {line}"
    );

    // Run the command part as cron would, the password in its environment.
    let command = line.splitn(6, ' ').nth(5).unwrap().replace("\\%", "%");
    let command = command.replacen("cleanreg ", "\"$CLEANREG\" ", 1);
    let ran = cli
        .shell(&format!("CLEANREG_PASSWORD='{PASSWORD}' {command}"))
        .exits(0);
    assert!(
        !ran.stderr_has("imported ("),
        "the export is cleanreg's own policy: {}",
        ran.shown()
    );

    // Through the registry API: exactly the planned three are gone.
    for (key, digest) in &digests {
        let (repo, tag) = key.split_once(':').unwrap();
        let exists = seeder.manifest_exists(repo, digest).unwrap();
        assert_eq!(exists, !doomed.contains(&digest), "{repo}:{tag}");
    }
    let recovery: Vec<_> = std::fs::read_dir(&recovery_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(recovery.len(), 1, "one recovery file: {recovery:?}");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(recovery_dir.join(&recovery[0])).unwrap())
            .unwrap();
    assert!(
        file.to_string().contains(doomed[0].as_str()),
        "the recovery file holds the deleted manifests"
    );
}
