//! The connect form's diagnosis in Chromium against real registries: one
//! without CORS headers, one with auth whose preflight fails, wrong
//! credentials, a URL that is no registry, nothing listening; and an open
//! registry across origins with CORS headers, which connects.

use cleanreg_e2e::{dashboard, run_script};
use cleanreg_testkit::{Fixture, RegistryOptions, Seed};
use serde_json::json;
use time::OffsetDateTime;

fn basic() -> RegistryOptions {
    RegistryOptions {
        basic_auth: Some(("admin".into(), "e2e-password".into())),
        ..RegistryOptions::default()
    }
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_connect_form_tells_the_causes_apart() {
    // The page, next to a basic-auth registry (same origin).
    let same = Fixture::with(basic()).page(dashboard()).start();
    let origin = same.origin();
    let no_cors = Fixture::with(basic()).start();
    let preflight = Fixture::with(RegistryOptions {
        cors_origin: Some(origin.clone()),
        ..basic()
    })
    .start();
    let open = Fixture::with(RegistryOptions {
        cors_origin: Some(origin.clone()),
        ..RegistryOptions::default()
    })
    .seed(Seed::TwoRepos {
        newest: OffsetDateTime::now_utc(),
    })
    .start();

    let cases = json!([
        {"name": "open-cross-origin", "registry": open.url(), "kind": null,
         "auth": "open"},
        {"name": "no-cors", "registry": no_cors.url(), "user": "admin",
         "password": "e2e-password", "kind": "cors",
         "snippet": [format!("Access-Control-Allow-Origin: ['{origin}']"),
                     "Access-Control-Expose-Headers: ['Docker-Content-Digest, Link, WWW-Authenticate, Location']"]},
        {"name": "preflight", "registry": preflight.url(), "user": "admin",
         "password": "e2e-password", "kind": "preflight",
         "snippet": ["if ($request_method = OPTIONS)", format!("proxy_pass {};", preflight.url())]},
        {"name": "wrong-password", "registry": origin, "user": "admin",
         "password": "wrong", "kind": "credentials"},
        {"name": "same-origin-ok", "registry": origin, "user": "admin",
         "password": "e2e-password", "kind": null, "auth": "basic auth"},
        {"name": "not-a-registry", "registry": format!("{origin}/nothing"), "kind": "not-registry"},
        {"name": "nothing-listening", "registry": "http://127.0.0.1:9", "kind": "unreachable"},
    ]);
    let printed = run_script(
        "connect.mjs",
        &[
            ("CLEANREG_URL", same.page_url()),
            ("CLEANREG_CASES", cases.to_string()),
        ],
    );
    for line in [
        "CASE open-cross-origin connected",
        "CASE no-cors cors",
        "CASE preflight preflight",
        "CASE wrong-password credentials",
        "CASE same-origin-ok connected",
        "CASE not-a-registry not-registry",
        "CASE nothing-listening unreachable",
    ] {
        assert!(
            printed.stdout.contains(line),
            "{line} missing in:\n{}",
            printed.stdout
        );
    }
}
