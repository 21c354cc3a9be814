//! What Distribution 2.8.2 answers a browser with `RegistryOptions::cors_origin`
//! (the `http.headers` it writes): the facts the dashboard's cross-origin
//! scenarios and its diagnosis rely on, checked against the real server.

use cleanreg_testkit::{Registry, RegistryOptions};

const ORIGIN: &str = "http://127.0.0.1:18999";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

fn ask(method: &str, url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = agent().run(request.body(()).unwrap()).unwrap();
    let _ = response.body_mut().read_to_vec();
    Answer {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
    }
}

fn preflight(url: &str) -> Answer {
    ask(
        "OPTIONS",
        url,
        &[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "DELETE"),
            ("Access-Control-Request-Headers", "accept,authorization"),
        ],
    )
}

fn assert_cors_headers(answer: &Answer, what: &str) {
    assert_eq!(
        answer.header("Access-Control-Allow-Origin"),
        Some(ORIGIN),
        "{what}"
    );
    assert_eq!(
        answer.header("Access-Control-Allow-Credentials"),
        Some("true"),
        "{what}"
    );
    let methods = answer.header("Access-Control-Allow-Methods").unwrap_or("");
    assert!(methods.contains("DELETE"), "{what}: methods {methods:?}");
    let exposed = answer.header("Access-Control-Expose-Headers").unwrap_or("");
    assert!(
        exposed.contains("Docker-Content-Digest"),
        "{what}: exposed {exposed:?}"
    );
}

#[test]
fn an_open_registry_with_cors_headers_answers_requests_and_preflights() {
    let registry = Registry::start(RegistryOptions {
        cors_origin: Some(ORIGIN.into()),
        ..RegistryOptions::default()
    })
    .unwrap();
    let get = ask(
        "GET",
        &format!("{}/v2/", registry.url()),
        &[("Origin", ORIGIN)],
    );
    assert_eq!(get.status, 200);
    assert_cors_headers(&get, "GET /v2/");

    // The configured headers go on every answer, the preflight's too, and
    // the preflight is a 200: Chromium then lets the DELETE through.
    let options = preflight(&format!(
        "{}/v2/team/app/manifests/sha256:{}",
        registry.url(),
        "0".repeat(64)
    ));
    assert_eq!(options.status, 200, "preflight status");
    assert_cors_headers(&options, "OPTIONS preflight");
}

#[test]
fn a_registry_without_cors_headers_sends_none() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let get = ask(
        "GET",
        &format!("{}/v2/", registry.url()),
        &[("Origin", ORIGIN)],
    );
    assert_eq!(get.status, 200);
    assert_eq!(get.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn with_basic_auth_the_preflight_gets_401() {
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(("admin".into(), "secret".into())),
        cors_origin: Some(ORIGIN.into()),
        ..RegistryOptions::default()
    })
    .unwrap();
    // A preflight carries no credentials, and Distribution 2.8 asks for
    // them on OPTIONS too: a browser treats any non-2xx preflight as a
    // network error, whatever headers came with it.
    let options = preflight(&format!("{}/v2/", registry.url()));
    assert_eq!(options.status, 401, "preflight status");
    assert_eq!(options.header("Access-Control-Allow-Origin"), Some(ORIGIN));
}
