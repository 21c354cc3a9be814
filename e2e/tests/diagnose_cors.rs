//! A registry on another origin without CORS headers: the page must show the
//! `cors` diagnosis with the `http.headers` snippet naming its own origin, and
//! the registry keeps everything.

use cleanreg_e2e::{dist, run_script};
use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, assert_newest_remain,
    two_repos_five_images,
};
use time::OffsetDateTime;

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_registry_without_cors_headers_is_diagnosed() {
    let registry = Registry::start(RegistryOptions::default()).expect("start the registry");
    let seeder = Seeder::new(&registry.url(), None);
    let repos = two_repos_five_images(&seeder, OffsetDateTime::now_utc()).expect("seed");
    let nginx = Nginx::start(NginxOptions {
        root: dist(),
        ..NginxOptions::default()
    })
    .expect("start nginx serving the page alone");

    let printed = run_script(
        "diagnose_cors.mjs",
        &[
            ("CLEANREG_URL", format!("{}/", nginx.url())),
            ("CLEANREG_REGISTRY", registry.url()),
        ],
    );
    let diagnosis = printed.json("DIAGNOSIS");
    assert_eq!(diagnosis["kind"], "cors");
    assert!(
        diagnosis["snippet"]
            .as_str()
            .is_some_and(|s| s.contains(&nginx.url())),
        "{diagnosis}"
    );
    assert_newest_remain(&seeder, &repos, usize::MAX);
}
