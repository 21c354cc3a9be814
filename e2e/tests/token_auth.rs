//! A registry with token auth, same origin behind nginx, whose token realm is
//! nginx's own `/token` (proxied to the token server): the dashboard gets
//! tokens, scans, plans keep 2 and applies.

use cleanreg_e2e::{assert_plan, deletes, dist, run_script};
use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, TokenAuth, TokenServer,
    TokenServerOptions, TokenUser, assert_newest_remain, free_loopback_port, two_repos_five_images,
};
use time::OffsetDateTime;

const KEEP: usize = 2;
const USER: &str = "cleaner";
const PASSWORD: &str = "token-e2e-password";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_token_auth_registry_behind_nginx_is_cleaned() {
    let dist = dist();
    let port = free_loopback_port().unwrap();
    let origin = format!("http://127.0.0.1:{port}");
    let tokens = TokenServer::start(TokenServerOptions {
        users: vec![TokenUser::admin(USER, PASSWORD)],
        ..TokenServerOptions::default()
    })
    .expect("start the token server");
    let token_base = tokens
        .realm()
        .strip_suffix("/token")
        .expect("the realm ends in /token")
        .to_owned();
    let registry = Registry::start(RegistryOptions {
        token_auth: Some(TokenAuth {
            realm: format!("{origin}/token"),
            ..tokens.registry_auth()
        }),
        ..RegistryOptions::default()
    })
    .expect("start the registry");
    // The challenge must reach the page: Bearer opens no browser login dialog.
    let nginx = Nginx::start(NginxOptions {
        port: Some(port),
        root: dist,
        upstream: Some(registry.url()),
        token_upstream: Some(token_base),
        hide_www_authenticate: false,
        site: None,
    })
    .expect("start nginx");
    // The seeder follows the same realm, through nginx.
    let seeder = Seeder::new(&registry.url(), Some((USER.into(), PASSWORD.into())));
    let repos = two_repos_five_images(&seeder, OffsetDateTime::now_utc() - time::Duration::days(1))
        .expect("seed");
    let before = tokens.requests().len();

    let printed = run_script(
        "token_auth.mjs",
        &[
            ("CLEANREG_URL", format!("{}/", nginx.url())),
            ("CLEANREG_USER", USER.to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(&repos, KEEP).to_string()),
        ],
    );
    assert_plan(&printed, &repos, KEEP);
    let page_requests = &tokens.requests()[before..];
    assert!(
        page_requests
            .iter()
            .any(|r| r.username.as_deref() == Some(USER) && r.status == 200),
        "the page got no token as {USER}: {page_requests:?}"
    );
    assert!(
        page_requests.iter().any(|r| r
            .scopes
            .iter()
            .any(|s| s.contains("delete") || s.ends_with(":*"))),
        "the page never asked for a delete scope: {page_requests:?}"
    );
    assert_newest_remain(&seeder, &repos, KEEP);
}
