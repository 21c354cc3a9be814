//! The shared [`Fixture`]: what each kind of page and auth puts in place,
//! checked against the real registry and nginx.

use cleanreg_testkit::{Fixture, Page, RegistryOptions, TokenServerOptions, TokenUser};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A directory with an `index.html` to serve.
fn site() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.html"), "<h1>page</h1>").unwrap();
    root
}

/// Basic auth, two repositories, the generated page: the seeder pushed as
/// the registry's user, and nginx proxies `/v2/` with the challenge hidden.
#[test]
fn basic_auth_two_repositories_and_the_dashboard_page() {
    let root = site();
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), "fixture-pw".into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(Page::Dashboard {
        root: root.path().to_owned(),
        hide_www_authenticate: true,
    })
    .start();
    assert_eq!(fixture.repos.len(), 2);
    fixture.assert_newest_remain(5);
    assert_eq!(fixture.page_url(), format!("{}/", fixture.origin()));
    let mut answer = agent()
        .get(format!("{}/v2/", fixture.origin()))
        .call()
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert!(answer.headers().get("www-authenticate").is_none());
    let _ = answer.body_mut().read_to_vec();
    let page = agent()
        .get(fixture.page_url())
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(page.contains("<h1>page</h1>"), "{page}");
}

/// Token auth with a page: the realm is on the page's origin, nginx proxies
/// `/token` to the token server, and the admin seeded through it.
#[test]
fn token_auth_behind_a_page_puts_the_realm_on_its_origin() {
    let root = site();
    let fixture = Fixture::open()
        .token_auth(
            TokenServerOptions {
                users: vec![TokenUser::admin("boss", "boss-pw")],
                ..TokenServerOptions::default()
            },
            ("boss", "boss-pw"),
        )
        .page(Page::Dashboard {
            root: root.path().to_owned(),
            hide_www_authenticate: false,
        })
        .two_repos()
        .start();
    let challenge = agent()
        .get(format!("{}/v2/", fixture.origin()))
        .call()
        .unwrap()
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned())
        .expect("a Bearer challenge");
    assert!(
        challenge.contains(&format!("realm=\"{}/token\"", fixture.origin())),
        "{challenge}"
    );
    assert!(
        fixture
            .tokens()
            .requests()
            .iter()
            .any(|r| r.username.as_deref() == Some("boss") && r.status == 200),
        "the seeder got its tokens through the page's /token"
    );
    fixture.assert_newest_remain(5);
}

/// Token auth without a page: the realm is the token server's own.
#[test]
fn token_auth_alone_uses_the_token_servers_realm() {
    let fixture = Fixture::open()
        .token_auth(
            TokenServerOptions {
                users: vec![TokenUser::admin("admin", "admin-pw")],
                ..TokenServerOptions::default()
            },
            ("admin", "admin-pw"),
        )
        .zoo()
        .start();
    assert_eq!(
        fixture.registry.token_auth().unwrap().realm,
        fixture.tokens().realm()
    );
    let zoo = fixture.zoo();
    assert!(
        fixture
            .seeder
            .manifest_exists("zoo/multiarch", &zoo.multiarch.v3.digest)
            .expect("the admin reads the zoo"),
        "the zoo was seeded"
    );
    assert!(fixture.nginx.is_none());
}

/// A page alone on its own origin: the registry sends CORS headers for
/// that origin, and the page's nginx does not proxy `/v2/`.
#[test]
fn a_page_alone_gets_cors_from_the_registry() {
    let root = site();
    let fixture = Fixture::open()
        .page(Page::Alone {
            root: root.path().to_owned(),
        })
        .start();
    assert_eq!(
        fixture.registry_cors_origin().as_deref(),
        Some(fixture.origin().as_str())
    );
    let allowed = |origin: &str| {
        agent()
            .get(format!("{}/v2/", fixture.url()))
            .header("Origin", origin)
            .call()
            .unwrap()
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.to_str().unwrap().to_owned())
    };
    assert_eq!(allowed(&fixture.origin()), Some(fixture.origin()));
    let nginx_answer = agent()
        .get(format!("{}/v2/", fixture.origin()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        nginx_answer.contains("<h1>page</h1>"),
        "the page's nginx does not proxy /v2/: {nginx_answer}"
    );
}
