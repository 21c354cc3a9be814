//! A registry with token auth, same origin behind nginx, whose token realm is
//! nginx's own `/token` (proxied to the token server): the dashboard gets
//! tokens, scans, plans keep 2 and applies.

use cleanreg_e2e::{assert_plan, deletes, dist, run_script};
use cleanreg_testkit::{Fixture, Page, TokenServerOptions, TokenUser};

const KEEP: usize = 2;
const USER: &str = "cleaner";
const PASSWORD: &str = "token-e2e-password";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_token_auth_registry_behind_nginx_is_cleaned() {
    // The realm is nginx's own `/token`; the challenge must reach the page
    // (Bearer opens no browser login dialog). The seeder follows the same
    // realm, through nginx.
    let fixture = Fixture::open()
        .token_auth(
            TokenServerOptions {
                users: vec![TokenUser::admin(USER, PASSWORD)],
                ..TokenServerOptions::default()
            },
            (USER, PASSWORD),
        )
        .page(Page::Dashboard {
            root: dist(),
            hide_www_authenticate: false,
        })
        .two_repos()
        .start();
    let (tokens, repos) = (fixture.tokens(), &fixture.repos);
    let before = tokens.requests().len();

    let printed = run_script(
        "token_auth.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", USER.to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(repos, KEEP).to_string()),
        ],
    );
    assert_plan(&printed, repos, KEEP);
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
    fixture.assert_newest_remain(KEEP);
}
