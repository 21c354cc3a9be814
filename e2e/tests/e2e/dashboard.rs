//! The dashboard's release build in Chromium, same-origin with a basic-auth
//! registry behind nginx: connect, scan, keep 2, apply; then the registry's
//! API must show exactly the newest two images of each repository.

use cleanreg_e2e::{assert_plan, dashboard, deletes, run_script};
use cleanreg_testkit::{Fixture, RegistryOptions};

const KEEP: usize = 2;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_dashboard_cleans_a_registry_behind_nginx() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), "e2e-password".into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(dashboard())
    .start();

    let printed = run_script(
        "dashboard.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", "e2e-password".to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            (
                "CLEANREG_EXPECT_DELETE",
                deletes(&fixture.repos, KEEP).to_string(),
            ),
        ],
    );

    // The page planned exactly what the seeded dates say.
    assert_plan(&printed, &fixture.repos, KEEP);
    // And the registry holds exactly what was kept.
    fixture.assert_newest_remain(KEEP);
}
