//! Where the password goes under token auth, shown with two servers on
//! different origins: a registry that answers with a Bearer challenge whose
//! realm is the other one, over plain HTTP. The password goes to the realm
//! the registry names (that is what token auth is: the registry delegates
//! the login) and to the registry's own origin, nowhere else; the registry
//! gets only the token after that. (Over TLS, a plain-HTTP realm is refused:
//! core's `a_plain_http_realm_of_an_https_registry_gets_no_password`.)

use std::sync::{Arc, Mutex};

use cleanreg_core::Credentials;
use cleanreg_testkit::{FaultyServer, Reply, SeenRequest};
use serde_json::json;

const PASSWORD: &str = "realm-secret-password";

#[test]
fn the_password_goes_only_to_the_registry_and_the_realm_it_names() {
    let realm_saw: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let realm = {
        let saw = Arc::clone(&realm_saw);
        FaultyServer::start(move |request: &SeenRequest| {
            saw.lock()
                .unwrap()
                .push(request.header("authorization").map(str::to_owned));
            Reply::json(200, &json!({"token": "issued-token", "expires_in": 300}))
        })
        .expect("start the token server")
    };
    let realm_url = format!("{}/token", realm.url());
    let registry = {
        let challenge = format!(r#"Bearer realm="{realm_url}",service="registry.test""#);
        FaultyServer::start(move |request: &SeenRequest| {
            if request.header("authorization") == Some("Bearer issued-token") {
                Reply::json(200, &json!({}))
            } else {
                Reply::json(
                    401,
                    &json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
                )
                .header("WWW-Authenticate", challenge.clone())
            }
        })
        .expect("start the registry stand-in")
    };
    let client = crate::common::client(&registry.url(), Some(Credentials::new("admin", PASSWORD)));
    futures_executor::block_on(client.ping()).expect("token auth through the named realm");

    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("admin:{PASSWORD}")
        )
    );
    // The realm got the password (it is the login server the registry named).
    assert_eq!(realm_saw.lock().unwrap().as_slice(), [Some(basic.clone())]);
    // The registry got it only before it said where to log in; then the token.
    let to_registry: Vec<Option<String>> = registry
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        to_registry,
        [Some(basic), Some("Bearer issued-token".to_owned())],
        "{to_registry:?}"
    );
    // And no URL carried it.
    for request in realm.requests().iter().chain(registry.requests().iter()) {
        assert!(!request.path_and_query.contains(PASSWORD));
    }
}
