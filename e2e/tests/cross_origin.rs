//! An anonymous registry on another loopback origin than the page, with CORS
//! headers for the page's origin: the dashboard scans, plans keep 2 and
//! applies; the registry then holds exactly the newest two of each repository.

use cleanreg_e2e::{assert_plan, deletes, dist, run_script};
use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, assert_newest_remain,
    free_loopback_port, two_repos_five_images,
};
use time::OffsetDateTime;

const KEEP: usize = 2;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn an_anonymous_cross_origin_registry_with_cors_headers_is_cleaned() {
    let dist = dist();
    let page_port = free_loopback_port().unwrap();
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let registry = Registry::start(RegistryOptions {
        cors_origin: Some(page_origin.clone()),
        ..RegistryOptions::default()
    })
    .expect("start the registry");
    let seeder = Seeder::new(&registry.url(), None);
    let repos = two_repos_five_images(&seeder, OffsetDateTime::now_utc() - time::Duration::days(1))
        .expect("seed");
    let nginx = Nginx::start(NginxOptions {
        port: Some(page_port),
        root: dist,
        upstream: None,
        ..NginxOptions::default()
    })
    .expect("start nginx serving the page alone");
    assert_eq!(nginx.url(), page_origin);

    let printed = run_script(
        "cross_origin.mjs",
        &[
            ("CLEANREG_URL", format!("{}/", nginx.url())),
            ("CLEANREG_REGISTRY", registry.url()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(&repos, KEEP).to_string()),
        ],
    );
    assert_plan(&printed, &repos, KEEP);
    assert_newest_remain(&seeder, &repos, KEEP);
}
