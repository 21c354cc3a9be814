//! An anonymous registry on another loopback origin than the page, with CORS
//! headers for the page's origin: the dashboard scans, plans keep 2 and
//! applies; the registry then holds exactly the newest two of each repository.

use cleanreg_e2e::{assert_plan, deletes, dist, run_script};
use cleanreg_testkit::{Fixture, Page};

const KEEP: usize = 2;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn an_anonymous_cross_origin_registry_with_cors_headers_is_cleaned() {
    // The page alone on its own origin; the registry sends CORS headers
    // for that origin.
    let fixture = Fixture::open()
        .two_repos()
        .page(Page::Alone { root: dist() })
        .start();
    assert_eq!(
        fixture.registry_cors_origin().as_deref(),
        Some(fixture.origin().as_str())
    );

    let printed = run_script(
        "cross_origin.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_REGISTRY", fixture.url()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            (
                "CLEANREG_EXPECT_DELETE",
                deletes(&fixture.repos, KEEP).to_string(),
            ),
        ],
    );
    assert_plan(&printed, &fixture.repos, KEEP);
    fixture.assert_newest_remain(KEEP);
}
