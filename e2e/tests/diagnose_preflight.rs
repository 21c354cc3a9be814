//! A basic-auth registry on another origin with CORS headers: Distribution
//! 2.8 answers the preflight with 401, so the browser refuses every
//! authenticated request; the page must show the `preflight` diagnosis.

use cleanreg_e2e::{dist, run_script};
use cleanreg_testkit::{Nginx, NginxOptions, Registry, RegistryOptions, free_loopback_port};

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_failing_preflight_is_diagnosed() {
    let port = free_loopback_port().unwrap();
    let origin = format!("http://127.0.0.1:{port}");
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(("admin".into(), "preflight-password".into())),
        cors_origin: Some(origin),
        ..RegistryOptions::default()
    })
    .expect("start the registry");
    let nginx = Nginx::start(NginxOptions {
        port: Some(port),
        root: dist(),
        ..NginxOptions::default()
    })
    .expect("start nginx serving the page alone");

    let printed = run_script(
        "diagnose_preflight.mjs",
        &[
            ("CLEANREG_URL", format!("{}/", nginx.url())),
            ("CLEANREG_REGISTRY", registry.url()),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", "preflight-password".to_owned()),
        ],
    );
    assert_eq!(printed.json("DIAGNOSIS")["kind"], "preflight");
}
