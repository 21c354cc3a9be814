//! Apply keep 2 from the dashboard with the recovery file taken first, then
//! restore that file from the Restore view: the registry must hold every
//! seeded image again, under its tags.

use cleanreg_e2e::{deletes, dist, run_script};
use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, assert_newest_remain,
    two_repos_five_images,
};
use time::OffsetDateTime;

const KEEP: usize = 2;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_recovery_file_puts_the_deleted_images_back() {
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(("admin".into(), "restore-password".into())),
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

    let printed = run_script(
        "restore.mjs",
        &[
            ("CLEANREG_URL", format!("{}/", nginx.url())),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", "restore-password".to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(&repos, KEEP).to_string()),
        ],
    );
    let outcomes = printed.json("OUTCOMES");
    let deleted = outcomes
        .as_array()
        .expect("a list")
        .iter()
        .filter(|o| o["outcome"] == "deleted")
        .count();
    assert_eq!(deleted, deletes(&repos, KEEP), "{outcomes}");
    // Everything is back, every tag where it was.
    assert_newest_remain(&seeder, &repos, usize::MAX);
}
