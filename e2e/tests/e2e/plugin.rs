//! The planner plugin (`dist/plugin/`) called from its example page in
//! Chromium, served by `deploy/same-origin.conf` (so under the dashboard's
//! CSP). A real registry holding every manifest kind (the protocol zoo) is
//! scanned natively; the wasm module must plan that inventory exactly as the
//! native build of the same code does, turn both repository-file formats
//! into the same policies, and throw the messages the CLI prints.

use cleanreg::NativeTransport;
use cleanreg_core::{Client, Credentials, RegistryUrl, ScanScope};
use cleanreg_e2e::{cleanreg, run_script, same_origin};
use cleanreg_plugin::{PolicyInput, parse_reposfile_json, plan_json};
use cleanreg_testkit::{Fixture, RegistryOptions};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

const POLICY: &str =
    "[default]\nkeep_newest = 1\n\n[repositories.\"zoo/dates\"]\nkeep_newest = 2\n";
const REPOSFILE_TEXT: &str = "# repository, images to keep\nzoo/multiarch 1\nzoo/signed 2\n";
const REPOSFILE_YAML: &str = "zoo/multiarch:\n  keepimages: 1\n  tag: 'v.*'\nzoo/signed: {}\n";
/// Written exactly as `JSON.stringify` writes it, so the positions in the
/// message are the same for the file and for the object.
const BAD_POLICY: &str = r#"{"default":{"keep_newest":-1}}"#;
const BAD_REPOSFILE: &str = "zoo/multiarch 1\nzoo/signed two\n";

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// The CLI's stderr for a run that must stop on the file before connecting.
fn cli_error(args: &[&str]) -> String {
    let ran = cleanreg().run(&[&["-r", "http://127.0.0.1:9", "--dry-run"], args].concat());
    assert!(ran.code != Some(0), "cleanreg {args:?} should fail");
    ran.stderr
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_plugin_plans_in_the_browser_as_the_native_planner_does() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), "plugin-password".into())),
        ..RegistryOptions::default()
    })
    .zoo()
    .page(same_origin())
    .start();
    let (registry, zoo) = (&fixture.registry, fixture.zoo());
    let client = Client::new(
        NativeTransport::new(false),
        RegistryUrl::parse(&registry.url()).unwrap(),
        Some(Credentials::new("admin", "plugin-password")),
    );
    let inventory = futures_executor::block_on(client.scan(&ScanScope::Catalog, &mut |_| {}))
        .expect("scan the zoo");
    let inventory = serde_json::to_string(&inventory).unwrap();
    let now = zoo.now.format(&Rfc3339).unwrap();
    let files = tempfile::tempdir().unwrap();
    let inventory_file = files.path().join("inventory.json");
    std::fs::write(&inventory_file, &inventory).unwrap();

    let printed = run_script(
        "plugin.mjs",
        &[
            (
                "CLEANREG_URL",
                format!("{}plugin/example/", fixture.page_url()),
            ),
            ("CLEANREG_VERSION", env!("CARGO_PKG_VERSION").to_owned()),
            (
                "CLEANREG_INVENTORY_FILE",
                inventory_file.to_string_lossy().into_owned(),
            ),
            ("CLEANREG_POLICY", POLICY.to_owned()),
            ("CLEANREG_NOW", now.clone()),
            ("CLEANREG_REPOSFILE_TEXT", REPOSFILE_TEXT.to_owned()),
            ("CLEANREG_REPOSFILE_YAML", REPOSFILE_YAML.to_owned()),
            ("CLEANREG_BAD_POLICY", BAD_POLICY.to_owned()),
            ("CLEANREG_BAD_REPOSFILE", BAD_REPOSFILE.to_owned()),
        ],
    );
    let browser = printed.json("PLUGIN");

    // The wasm plan is the native plan, entry for entry, reason for reason.
    let native = json(&plan_json(&inventory, PolicyInput::Text(POLICY), &now).unwrap());
    assert!(
        native["totals"]["deleted_manifests"].as_u64().unwrap() > 0,
        "the policy should delete something in the zoo: {}",
        native["totals"]
    );
    assert_eq!(browser["plan"], native, "plan() in the browser");
    assert_eq!(
        browser["planFromObject"], native,
        "plan() with a policy object"
    );
    assert_eq!(
        browser["stillWorks"],
        native["entries"].as_array().unwrap().len()
    );
    // The example page's form shows every entry with its decision.
    let form: Vec<(String, String)> = browser["formRows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["digest"].as_str().unwrap().into(),
                r["decision"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = native["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["digest"].as_str().unwrap().into(),
                e["decision"]["decision"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(form, expected, "the example page's rows");
    assert_eq!(browser["version"], env!("CARGO_PKG_VERSION"));

    // Another registry's policy, imported with its report, as natively.
    let imported = &browser["imported"];
    assert_eq!(imported["policy"]["default"]["keep_newest"], 2);
    assert_eq!(imported["policy"]["default"]["exclude_tags"][1], "v.*");
    assert_eq!(imported["report"]["format"], "gitlab");
    assert!(
        imported["report"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["mapping"] == "not_mapped"
                && item["source"] == "container_expiration_policy.cadence"),
        "{imported}"
    );
    assert!(
        browser["importedNamed"]["message"]
            .as_str()
            .unwrap()
            .contains("ECR"),
        "a named format that does not fit throws: {}",
        browser["importedNamed"]
    );

    // Both repository-file formats.
    assert_eq!(
        browser["reposfileText"],
        json(&parse_reposfile_json(REPOSFILE_TEXT, None).unwrap())
    );
    assert_eq!(
        browser["reposfileText"]["repositories"]["zoo/signed"]["keep_newest"],
        2
    );
    assert_eq!(
        browser["reposfileYaml"],
        json(&parse_reposfile_json(REPOSFILE_YAML, Some(r#"{"regex":true,"keep":4}"#)).unwrap())
    );
    assert_eq!(
        browser["reposfileYaml"]["repositories"]["zoo/multiarch"]["only_tags"],
        "v.*"
    );
    assert_eq!(
        browser["reposfileYaml"]["repositories"]["zoo/signed"]["keep_newest"],
        4
    );

    // Errors: real JS Errors whose message is what the CLI prints after the file name.
    let bad_policy = files.path().join("bad.json");
    std::fs::write(&bad_policy, BAD_POLICY).unwrap();
    let bad_reposfile = files.path().join("bad.txt");
    std::fs::write(&bad_reposfile, BAD_REPOSFILE).unwrap();
    let policy_cli = cli_error(&["-cf", "--policy", &bad_policy.to_string_lossy()]);
    let reposfile_cli = cli_error(&["-f", &bad_reposfile.to_string_lossy()]);
    for (call, cli, file) in [
        ("badPolicy", &policy_cli, &bad_policy),
        ("badPolicyInPlan", &policy_cli, &bad_policy),
        ("badReposfile", &reposfile_cli, &bad_reposfile),
    ] {
        let thrown = &browser[call];
        assert_eq!(thrown["isError"], true, "{call}: {thrown}");
        let message = thrown["message"].as_str().unwrap();
        assert!(
            cli.contains(&format!("{}: {message}", file.display())),
            "{call}: the plugin threw {message:?}; the CLI printed:\n{cli}"
        );
    }
    assert!(
        browser["badPolicy"]["message"]
            .as_str()
            .unwrap()
            .starts_with("default.keep_newest: "),
        "{}",
        browser["badPolicy"]
    );
    assert!(
        browser["badReposfile"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2: "),
        "{}",
        browser["badReposfile"]
    );
    assert!(
        browser["badNow"]["message"]
            .as_str()
            .unwrap()
            .starts_with("now: "),
        "{}",
        browser["badNow"]
    );
    assert_eq!(browser["formError"], browser["badPolicy"]["message"]);
}
