//! The connect form's diagnosis in Chromium against real registries: one
//! without CORS headers, one with auth whose preflight fails, wrong
//! credentials, a URL that is no registry, nothing listening; and an open
//! registry across origins with CORS headers, which connects.

use std::path::{Path, PathBuf};
use std::process::Command;

use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, two_repos_five_images,
};
use serde_json::json;
use time::OffsetDateTime;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn basic() -> RegistryOptions {
    RegistryOptions {
        basic_auth: Some(("admin".into(), "e2e-password".into())),
        ..RegistryOptions::default()
    }
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_connect_form_tells_the_causes_apart() {
    let dist = workspace().join("dist");
    assert!(
        dist.join("index.html").exists(),
        "no release build in {}: run `trunk build --release --offline`",
        dist.display()
    );
    // The page, next to a basic-auth registry (same origin).
    let same = Registry::start(basic()).expect("start the registry");
    let nginx = Nginx::start(NginxOptions {
        root: dist,
        upstream: Some(same.url()),
        hide_www_authenticate: true,
        ..NginxOptions::default()
    })
    .expect("start nginx");
    let origin = nginx.url();
    let no_cors = Registry::start(basic()).expect("start the registry without CORS");
    let preflight = Registry::start(RegistryOptions {
        cors_origin: Some(origin.clone()),
        ..basic()
    })
    .expect("start the registry with CORS and auth");
    let open = Registry::start(RegistryOptions {
        cors_origin: Some(origin.clone()),
        ..RegistryOptions::default()
    })
    .expect("start the open registry with CORS");
    let seeder = Seeder::new(&open.url(), None);
    two_repos_five_images(&seeder, OffsetDateTime::now_utc()).expect("seed");

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
    let output = Command::new("node")
        .arg(workspace().join("e2e/connect.mjs"))
        .current_dir(workspace())
        .env("CLEANREG_URL", format!("{origin}/"))
        .env("CLEANREG_CASES", cases.to_string())
        .output()
        .expect("run node e2e/connect.mjs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}",
        output.status
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
        assert!(stdout.contains(line), "{line} missing in:\n{stdout}");
    }
}
