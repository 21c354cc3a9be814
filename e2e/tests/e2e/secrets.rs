//! The password in the dashboard, through a whole workflow against a
//! basic-auth registry served same-origin by `deploy/same-origin.conf`: see
//! `e2e/secrets.mjs` for every place it must not appear.

use cleanreg_e2e::{deletes, run_script, same_origin};
use cleanreg_testkit::{Fixture, RegistryOptions};

const KEEP: usize = 2;
const USER: &str = "admin";
/// Distinctive, so any copy of it is found.
const PASSWORD: &str = "Pw-7f3c9e-never-leak";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_password_stays_out_of_storage_urls_logs_and_exports() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(same_origin())
    .start();
    let printed = run_script(
        "secrets.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", USER.to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_REGISTRY_ORIGIN", fixture.origin()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            (
                "CLEANREG_EXPECT_DELETE",
                deletes(&fixture.repos, KEEP).to_string(),
            ),
        ],
    );
    let secrets = printed.json("SECRETS");
    assert_eq!(secrets["problems"], serde_json::json!([]), "{secrets}");
    assert!(secrets["authorized"].as_u64().unwrap() > 10, "{secrets}");
    fixture.assert_newest_remain(KEEP);
}
