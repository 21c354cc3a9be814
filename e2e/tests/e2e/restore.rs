//! Apply keep 2 from the dashboard with the recovery file taken first, then
//! restore that file from the Restore view: the registry must hold every
//! seeded image again, under its tags.

use cleanreg_e2e::{dashboard, deletes, run_script};
use cleanreg_testkit::{Fixture, RegistryOptions};

const KEEP: usize = 2;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_recovery_file_puts_the_deleted_images_back() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), "restore-password".into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(dashboard())
    .start();
    let repos = &fixture.repos;

    let printed = run_script(
        "restore.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", "restore-password".to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(repos, KEEP).to_string()),
        ],
    );
    let outcomes = printed.json("OUTCOMES");
    let deleted = outcomes
        .as_array()
        .expect("a list")
        .iter()
        .filter(|o| o["outcome"] == "deleted")
        .count();
    assert_eq!(deleted, deletes(repos, KEEP), "{outcomes}");
    // Everything is back, every tag where it was.
    fixture.assert_newest_remain(usize::MAX);
}
