//! Policy import from the original cleanreg's repository files: the text
//! format through the file picker, then the YAML format pasted; the plan must
//! follow each, and a broken file must name its line. Nothing is deleted.

use cleanreg_e2e::{dashboard, digests, expected_plan, run_script};
use cleanreg_testkit::{Fixture, RegistryOptions};

const TEXT: &str = "# REPOSITORY COUNT\nteam/app 1\nteam/tool 3\n";
const YAML: &str = "---\nteam/app:\n  keepimages: 3\nteam/tool: {keepimages: 2}\n";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn repository_files_in_both_formats_drive_the_plan() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), "policy-password".into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(dashboard())
    .start();
    let repos = &fixture.repos;
    let files = tempfile::tempdir().unwrap();
    let text_file = files.path().join("repos.txt");
    let yaml_file = files.path().join("repos.yml");
    std::fs::write(&text_file, TEXT).unwrap();
    std::fs::write(&yaml_file, YAML).unwrap();

    let text_keep = |repo: &str| if repo == "team/app" { 1 } else { 3 };
    let yaml_keep = |repo: &str| if repo == "team/app" { 3 } else { 2 };
    let (text_kept, text_deleted) = expected_plan(repos, text_keep);
    let (yaml_kept, yaml_deleted) = expected_plan(repos, yaml_keep);

    let printed = run_script(
        "policy_import.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", "policy-password".to_owned()),
            ("CLEANREG_TEXT_FILE", text_file.display().to_string()),
            ("CLEANREG_TEXT_DELETES", text_deleted.len().to_string()),
            ("CLEANREG_YAML_FILE", yaml_file.display().to_string()),
            ("CLEANREG_YAML_DELETES", yaml_deleted.len().to_string()),
        ],
    );
    let text_plan = printed.json("PLAN_TEXT");
    assert_eq!(digests(&text_plan["keep"]), text_kept, "text file: kept");
    assert_eq!(
        digests(&text_plan["delete"]),
        text_deleted,
        "text file: deleted"
    );
    let yaml_plan = printed.json("PLAN_YAML");
    assert_eq!(digests(&yaml_plan["keep"]), yaml_kept, "YAML: kept");
    assert_eq!(digests(&yaml_plan["delete"]), yaml_deleted, "YAML: deleted");
    fixture.assert_newest_remain(usize::MAX);
}
