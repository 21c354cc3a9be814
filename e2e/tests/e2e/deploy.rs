//! The hosting configs of `deploy/`, exactly as shipped (only their example
//! directories, origins and addresses replaced, see testkit's `deploy`), in
//! front of the real registry, with the dashboard's release build in
//! Chromium: each serves the page with its security headers, the whole
//! workflow (connect, scan, plan, apply) runs under the CSP without a
//! violation, and the registry keeps exactly the newest images.

use cleanreg_e2e::{assert_plan, deletes, dist, run_script, same_origin};
use cleanreg_testkit::{
    Fixture, FixtureBuilder, Nginx, NginxOptions, Page, RegistryOptions, SeededRepo, deploy,
    free_loopback_port,
};

const KEEP: usize = 2;
const USER: &str = "admin";
const PASSWORD: &str = "deploy-password";

/// A basic-auth registry seeded with two repositories of five images.
fn with_auth() -> FixtureBuilder {
    Fixture::with(RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .two_repos()
}

fn nginx(site: String) -> Nginx {
    Nginx::start(NginxOptions {
        site: Some(site),
        ..NginxOptions::default()
    })
    .expect("start nginx with the deploy config")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Status, a header and the body of a request.
fn fetch(request: ureq::http::Request<()>, header: &str) -> (u16, Option<String>, String) {
    let mut response = agent().run(request).expect("nginx answers");
    let value = response
        .headers()
        .get(header)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), value, body)
}

fn get(url: &str, header: &str) -> (u16, Option<String>, String) {
    fetch(ureq::http::Request::get(url).body(()).unwrap(), header)
}

/// The CORS preflight a page of `origin` sends before a DELETE.
fn preflight(url: &str, origin: &str) -> (u16, Option<String>, String) {
    let request = ureq::http::Request::builder()
        .method("OPTIONS")
        .uri(url)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "DELETE")
        .header("Access-Control-Request-Headers", "authorization")
        .body(())
        .unwrap();
    fetch(request, "access-control-allow-origin")
}

fn run_deploy(
    repos: &[SeededRepo],
    page: &str,
    registry: Option<&str>,
    connect_src: &str,
    blocked: &str,
    foreign: &str,
    credentials: bool,
) {
    let mut vars = vec![
        ("CLEANREG_URL", page.to_owned()),
        ("CLEANREG_KEEP", KEEP.to_string()),
        ("CLEANREG_EXPECT_DELETE", deletes(repos, KEEP).to_string()),
        ("CLEANREG_CONNECT_SRC", connect_src.to_owned()),
        ("CLEANREG_BLOCKED_URL", blocked.to_owned()),
        ("CLEANREG_FOREIGN_ORIGIN", foreign.to_owned()),
    ];
    if let Some(registry) = registry {
        vars.push(("CLEANREG_REGISTRY", registry.to_owned()));
    }
    if credentials {
        vars.push(("CLEANREG_USER", USER.to_owned()));
        vars.push(("CLEANREG_PASSWORD", PASSWORD.to_owned()));
    }
    let printed = run_script("deploy.mjs", &vars);
    assert_plan(&printed, repos, KEEP);
    let outcomes = printed.json("OUTCOMES");
    assert_eq!(
        outcomes["deleted"].as_array().map(Vec::len),
        Some(deletes(repos, KEEP)),
        "{outcomes}"
    );
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn same_origin_next_to_a_registry_ui() {
    let fixture = with_auth().page(same_origin()).start();
    let (registry, repos) = (&fixture.registry, &fixture.repos);
    let base = fixture.origin();

    // The registry UI keeps `/`, without cleanreg's CSP.
    let (status, csp, body) = get(&format!("{base}/"), "content-security-policy");
    assert_eq!(status, 200);
    assert!(body.contains("data-testid=\"registry-ui\""), "{body}");
    assert_eq!(csp, None, "the site at / must not get cleanreg's CSP");
    // `/cleanreg` leads to the dashboard, relative to the browser's origin.
    let (status, location, _) = get(&format!("{base}/cleanreg"), "location");
    assert_eq!((status, location.as_deref()), (301, Some("/cleanreg/")));
    // The challenge passes through: docker can log in at the same address.
    let (status, challenge, _) = get(&format!("{base}/v2/"), "www-authenticate");
    assert_eq!(status, 401);
    assert!(
        challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("Basic ")),
        "{challenge:?}"
    );
    // The plugin is served beside the dashboard, with a wasm type browsers compile.
    let (status, wasm_type, _) = get(
        &format!("{base}/cleanreg/plugin/cleanreg_bg.wasm"),
        "content-type",
    );
    assert_eq!(
        (status, wasm_type.as_deref()),
        (200, Some("application/wasm"))
    );

    run_deploy(
        repos,
        &fixture.page_url(),
        None,
        "'self'",
        &format!("{}/v2/", registry.url()),
        &format!("{}/", registry.url()),
        true,
    );
    fixture.assert_newest_remain(KEEP);
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn cross_origin_through_a_front_that_answers_the_preflight() {
    let fixture = with_auth().start();
    let (registry, repos) = (&fixture.registry, &fixture.repos);
    // The front and the page are the deploy files themselves, each naming
    // the other's origin: started here, not by the fixture.
    let page_port = free_loopback_port().expect("a free port");
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let front = nginx(deploy::registry_front(&registry.url(), &page_origin));
    let page = Nginx::start(NginxOptions {
        port: Some(page_port),
        site: Some(deploy::cleanreg_page(
            &dist().to_string_lossy(),
            &front.url(),
        )),
        ..NginxOptions::default()
    })
    .expect("start the page's nginx");

    // The registry alone refuses the preflight (auth is on); the front
    // answers it for the page's origin only.
    let url = format!("{}/v2/team/app/manifests/latest", front.url());
    let (status, _, _) = preflight(
        &format!("{}/v2/team/app/manifests/latest", registry.url()),
        &page_origin,
    );
    assert_eq!(status, 401, "Distribution with auth refuses the preflight");
    let (status, allowed, _) = preflight(&url, &page_origin);
    assert_eq!(
        (status, allowed.as_deref()),
        (204, Some(page_origin.as_str()))
    );
    let (status, allowed, _) = preflight(&url, "http://127.0.0.1:1");
    assert_eq!(
        (status, allowed),
        (204, None),
        "another origin gets no CORS"
    );

    run_deploy(
        repos,
        &format!("{}/", page.url()),
        Some(&front.url()),
        &format!("'self' {}", front.url()),
        &format!("{}/v2/", registry.url()),
        &format!("{}/", front.url()),
        true,
    );
    fixture.assert_newest_remain(KEEP);
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn cross_origin_to_a_registry_with_its_own_cors_headers() {
    // deploy/cleanreg-page.conf on its own origin; the registry sends
    // deploy/registry-cors.yml's headers for it.
    let fixture = Fixture::open()
        .two_repos()
        .page(Page::DeployPage { dist: dist() })
        .start();
    let registry = fixture.url();
    let unused = free_loopback_port().expect("a free port");

    run_deploy(
        &fixture.repos,
        &fixture.page_url(),
        Some(&registry),
        &format!("'self' {registry}"),
        &format!("http://127.0.0.1:{unused}/v2/"),
        &format!("{registry}/"),
        false,
    );
    fixture.assert_newest_remain(KEEP);
}
