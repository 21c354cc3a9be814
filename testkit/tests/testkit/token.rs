//! The token server against Debian's Distribution 2.8.2 with `auth: token`:
//! what the registry challenges with, what it accepts and what it refuses.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cleanreg_testkit::{
    Access, Registry, RegistryOptions, TokenServer, TokenServerOptions, TokenUser,
};
use sha2::{Digest as _, Sha256};

const REPO: &str = "team/app";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

type Response = ureq::http::Response<ureq::Body>;

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

fn json(mut response: Response) -> serde_json::Value {
    serde_json::from_slice(&response.body_mut().read_to_vec().unwrap()).unwrap()
}

/// An admin, a reader and a deleter; anonymous gets nothing.
fn token_server(options: TokenServerOptions) -> TokenServer {
    TokenServer::start(TokenServerOptions {
        users: vec![
            TokenUser::admin("admin", "admin-pw"),
            TokenUser::reader("reader", "reader-pw"),
            TokenUser::new("janitor", "janitor-pw", &["pull", "delete"]),
        ],
        ..options
    })
    .unwrap()
}

fn registry_for(tokens: &TokenServer) -> Registry {
    Registry::start(RegistryOptions {
        token_auth: Some(tokens.registry_auth()),
        ..RegistryOptions::default()
    })
    .unwrap()
}

/// GET realm?service=..&scope=.. as a client does; (status, body).
fn fetch(
    tokens: &TokenServer,
    scopes: &[&str],
    credentials: Option<(&str, &str)>,
) -> (u16, serde_json::Value) {
    let mut request = agent()
        .get(tokens.realm())
        .query("service", tokens.service());
    for scope in scopes {
        request = request.query("scope", *scope);
    }
    if let Some((user, password)) = credentials {
        request = request.header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
        );
    }
    let response = request.call().unwrap();
    let status = response.status().as_u16();
    (status, json(response))
}

/// A token for these scopes, asserting the token server said 200.
fn token(tokens: &TokenServer, scopes: &[&str], credentials: Option<(&str, &str)>) -> String {
    let (status, body) = fetch(tokens, scopes, credentials);
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

fn send(method: &str, url: &str, token: Option<&str>) -> Response {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    agent().run(builder.body(Vec::new()).unwrap()).unwrap()
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Monolithic blob upload (POST, then PUT with the digest); the final status.
fn push_blob(registry: &Registry, repo: &str, token: &str, bytes: &[u8]) -> u16 {
    let start = send(
        "POST",
        &format!("{}/v2/{repo}/blobs/uploads/", registry.url()),
        Some(token),
    );
    if start.status() != 202 {
        return start.status().as_u16();
    }
    let location = header(&start, "Location").unwrap();
    let location = if location.starts_with('/') {
        format!("{}{location}", registry.url())
    } else {
        location
    };
    let separator = if location.contains('?') { '&' } else { '?' };
    let url = format!("{location}{separator}digest={}", digest(bytes));
    let request = ureq::http::Request::builder()
        .method("PUT")
        .uri(url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/octet-stream")
        .body(bytes.to_vec())
        .unwrap();
    agent().run(request).unwrap().status().as_u16()
}

/// Pushes a one-layer OCI image under `tag`; (status of the manifest PUT,
/// manifest digest).
fn push_image(registry: &Registry, repo: &str, token: &str, tag: &str) -> (u16, String) {
    let config = br#"{"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:00Z","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = format!("layer of {repo}:{tag}").into_bytes();
    for blob in [&config[..], &layer[..]] {
        let status = push_blob(registry, repo, token, blob);
        if status != 201 {
            return (status, String::new());
        }
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest(config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": digest(&layer),
            "size": layer.len(),
        }],
    })
    .to_string()
    .into_bytes();
    let request = ureq::http::Request::builder()
        .method("PUT")
        .uri(format!("{}/v2/{repo}/manifests/{tag}", registry.url()))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", OCI_MANIFEST)
        .body(manifest.clone())
        .unwrap();
    let status = agent().run(request).unwrap().status().as_u16();
    (status, digest(&manifest))
}

fn challenge(response: &Response) -> String {
    header(response, "WWW-Authenticate").unwrap_or_default()
}

/// The claims and header of a JWT, unverified.
fn decode(token: &str) -> (serde_json::Value, serde_json::Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let part = |i: usize| -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[i]).unwrap()).unwrap()
    };
    (part(0), part(1))
}

fn catalog_status(registry: &Registry, token: &str) -> (u16, String) {
    let response = send(
        "GET",
        &format!("{}/v2/_catalog", registry.url()),
        Some(token),
    );
    (response.status().as_u16(), challenge(&response))
}

#[test]
fn challenges_name_the_scope_each_request_needs() {
    let tokens = token_server(TokenServerOptions::default());
    let registry = registry_for(&tokens);
    assert_eq!(registry.token_auth(), Some(&tokens.registry_auth()));
    let base = registry.url();
    let prefix = format!(
        "Bearer realm=\"{}\",service=\"{}\"",
        tokens.realm(),
        tokens.service()
    );
    let missing = format!("sha256:{}", "0".repeat(64));
    let cases = [
        ("GET", "/v2/".to_owned(), String::new()),
        (
            "GET",
            "/v2/_catalog".to_owned(),
            ",scope=\"registry:catalog:*\"".to_owned(),
        ),
        (
            "GET",
            format!("/v2/{REPO}/tags/list"),
            format!(",scope=\"repository:{REPO}:pull\""),
        ),
        (
            "HEAD",
            format!("/v2/{REPO}/manifests/latest"),
            format!(",scope=\"repository:{REPO}:pull\""),
        ),
        (
            "POST",
            format!("/v2/{REPO}/blobs/uploads/"),
            format!(",scope=\"repository:{REPO}:pull,push\""),
        ),
        (
            "DELETE",
            format!("/v2/{REPO}/manifests/{missing}"),
            format!(",scope=\"repository:{REPO}:delete\""),
        ),
    ];
    for (method, path, scope) in cases {
        let response = send(method, &format!("{base}{path}"), None);
        assert_eq!(response.status(), 401, "{method} {path}");
        assert_eq!(
            actions_in_order(&challenge(&response)),
            format!("{prefix}{scope}"),
            "{method} {path}"
        );
    }

    // A valid token without the needed action: the same challenge plus
    // error="insufficient_scope".
    let admin = token(
        &tokens,
        &[&format!("repository:{REPO}:pull,push")],
        Some(("admin", "admin-pw")),
    );
    let response = send(
        "DELETE",
        &format!("{base}/v2/{REPO}/manifests/{missing}"),
        Some(&admin),
    );
    assert_eq!(response.status(), 401);
    assert_eq!(
        challenge(&response),
        format!("{prefix},scope=\"repository:{REPO}:delete\",error=\"insufficient_scope\"")
    );
    let error = json(response);
    assert_eq!(error["errors"][0]["code"], "UNAUTHORIZED");
    assert_eq!(
        catalog_status(&registry, &admin),
        (
            401,
            format!("{prefix},scope=\"registry:catalog:*\",error=\"insufficient_scope\"")
        )
    );
    // The registry never calls the token server itself.
    assert_eq!(tokens.requests().len(), 1);
}

#[test]
fn a_catalog_token_lists_repositories() {
    let tokens = token_server(TokenServerOptions::default());
    let registry = registry_for(&tokens);
    let push = token(
        &tokens,
        &[&format!("repository:{REPO}:pull,push")],
        Some(("admin", "admin-pw")),
    );
    assert_eq!(push_image(&registry, REPO, &push, "v1").0, 201);

    for (user, password) in [("admin", "admin-pw"), ("reader", "reader-pw")] {
        let catalog = token(&tokens, &["registry:catalog:*"], Some((user, password)));
        let (_, claims) = decode(&catalog);
        assert_eq!(claims["access"], serde_json::json!([Access::catalog()]));
        assert_eq!(claims["sub"], user);
        let response = send(
            "GET",
            &format!("{}/v2/_catalog", registry.url()),
            Some(&catalog),
        );
        assert_eq!(response.status(), 200);
        assert_eq!(json(response)["repositories"], serde_json::json!([REPO]));
    }

    // Anonymous callers get a token, but it grants nothing.
    let anonymous = token(&tokens, &["registry:catalog:*"], None);
    assert_eq!(decode(&anonymous).1["access"], serde_json::json!([]));
    assert_eq!(catalog_status(&registry, &anonymous).0, 401);

    let requests = tokens.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.path == "/token" && r.status == 200)
    );
    assert_eq!(requests[1].scopes, ["registry:catalog:*"]);
    assert_eq!(requests[1].username.as_deref(), Some("admin"));
    assert!(requests[1].authorization);
    assert_eq!(requests[3].username, None);
    assert!(!requests[3].authorization);
    assert!(requests[3].granted.is_empty());
    let issued = tokens.tokens_issued();
    assert_eq!(issued["registry:catalog:*"], 3);
    assert_eq!(issued[&format!("repository:{REPO}:pull,push")], 1);
    assert_eq!(tokens.tokens_total(), 4);
}

#[test]
fn push_needs_push_and_a_pull_only_token_is_denied() {
    let tokens = token_server(TokenServerOptions::default());
    let registry = registry_for(&tokens);
    let scope = format!("repository:{REPO}:pull,push");

    let admin = token(&tokens, &[&scope], Some(("admin", "admin-pw")));
    let (header, claims) = decode(&admin);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["x5c"].as_array().unwrap().len(), 1);
    assert_eq!(
        claims["access"],
        serde_json::json!([Access::repository(REPO, &["pull", "push"])])
    );
    let (status, _) = push_image(&registry, REPO, &admin, "v1");
    assert_eq!(status, 201);

    // The reader asks for pull,push and gets pull only.
    let reader = token(&tokens, &[&scope], Some(("reader", "reader-pw")));
    assert_eq!(
        tokens.requests().last().unwrap().granted,
        [Access::repository(REPO, &["pull"])]
    );
    let response = send(
        "POST",
        &format!("{}/v2/{REPO}/blobs/uploads/", registry.url()),
        Some(&reader),
    );
    assert_eq!(response.status(), 401);
    assert!(actions_in_order(&challenge(&response)).ends_with(&format!(
        ",scope=\"repository:{REPO}:pull,push\",error=\"insufficient_scope\""
    )));
    assert_eq!(push_image(&registry, REPO, &reader, "v2").0, 401);
    // ...but can pull.
    let response = send(
        "GET",
        &format!("{}/v2/{REPO}/tags/list", registry.url()),
        Some(&reader),
    );
    assert_eq!(response.status(), 200);
    assert_eq!(json(response)["tags"], serde_json::json!(["v1"]));
    // A token for one repository does not open another.
    let other = send(
        "GET",
        &format!("{}/v2/other/app/tags/list", registry.url()),
        Some(&reader),
    );
    assert_eq!(other.status(), 401);
}

#[test]
fn delete_needs_the_delete_action() {
    let tokens = token_server(TokenServerOptions::default());
    let registry = registry_for(&tokens);
    let push = token(
        &tokens,
        &[&format!("repository:{REPO}:pull,push")],
        Some(("admin", "admin-pw")),
    );
    let (_, first) = push_image(&registry, REPO, &push, "v1");
    let (_, second) = push_image(&registry, REPO, &push, "v2");
    let manifest = |digest: &str| format!("{}/v2/{REPO}/manifests/{digest}", registry.url());

    // pull,push is not enough; neither is the reader's answer to a delete scope.
    assert_eq!(send("DELETE", &manifest(&first), Some(&push)).status(), 401);
    let delete_scope = format!("repository:{REPO}:delete");
    let reader = token(&tokens, &[&delete_scope], Some(("reader", "reader-pw")));
    assert_eq!(decode(&reader).1["access"], serde_json::json!([]));
    assert_eq!(
        send("DELETE", &manifest(&first), Some(&reader)).status(),
        401
    );

    // `delete` alone does it.
    let janitor = token(&tokens, &[&delete_scope], Some(("janitor", "janitor-pw")));
    assert_eq!(
        send("DELETE", &manifest(&first), Some(&janitor)).status(),
        202
    );
    assert_eq!(send("HEAD", &manifest(&first), Some(&push)).status(), 404);

    // So does `*` (the admin is granted what it asks for).
    let star = token(
        &tokens,
        &[&format!("repository:{REPO}:*")],
        Some(("admin", "admin-pw")),
    );
    assert_eq!(
        decode(&star).1["access"],
        serde_json::json!([Access::repository(REPO, &["*"])])
    );
    assert_eq!(
        send("DELETE", &manifest(&second), Some(&star)).status(),
        202
    );
    // The janitor asking for `*` gets nothing: `*` is granted only to `*`.
    let janitor_star = token(
        &tokens,
        &[&format!("repository:{REPO}:*")],
        Some(("janitor", "janitor-pw")),
    );
    assert_eq!(decode(&janitor_star).1["access"], serde_json::json!([]));
}

#[test]
fn expired_tokens_are_refused() {
    let tokens = token_server(TokenServerOptions::default());
    let registry = registry_for(&tokens);
    let admin = Some(("admin", "admin-pw"));

    tokens.set_issue_expired(true);
    let (status, body) = fetch(&tokens, &["registry:catalog:*"], admin);
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], 300);
    let expired = body["token"].as_str().unwrap();
    let claims = decode(expired).1;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(claims["exp"].as_i64().unwrap() < now - 60);
    let (status, challenge) = catalog_status(&registry, expired);
    assert_eq!(status, 401);
    assert!(
        challenge.ends_with(",error=\"invalid_token\""),
        "{challenge}"
    );

    tokens.set_issue_expired(false);
    let fresh = token(&tokens, &["registry:catalog:*"], admin);
    assert_eq!(catalog_status(&registry, &fresh).0, 200);

    // Distribution allows 60 s of clock skew on `exp`.
    let catalog = [Access::catalog()];
    assert_eq!(
        catalog_status(&registry, &tokens.mint("admin", &catalog, -30)).0,
        200
    );
    assert_eq!(
        catalog_status(&registry, &tokens.mint("admin", &catalog, -90)).0,
        401
    );
}

#[test]
fn the_token_server_checks_credentials() {
    let tokens = token_server(TokenServerOptions {
        expires_in: 42,
        ..TokenServerOptions::default()
    });
    let scope = ["registry:catalog:*"];

    let (status, body) = fetch(&tokens, &scope, Some(("admin", "wrong")));
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    let (status, _) = fetch(&tokens, &scope, Some(("nobody", "admin-pw")));
    assert_eq!(status, 401);

    let (status, body) = fetch(&tokens, &scope, Some(("admin", "admin-pw")));
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], 42);
    assert_eq!(body["token"], body["access_token"]);
    let issued_at = body["issued_at"].as_str().unwrap();
    time::OffsetDateTime::parse(issued_at, &time::format_description::well_known::Rfc3339).unwrap();
    let claims = decode(body["token"].as_str().unwrap()).1;
    assert_eq!(claims["iss"], tokens.issuer());
    assert_eq!(claims["aud"], tokens.service());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        42
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    assert!(claims["jti"].as_str().is_some_and(|jti| !jti.is_empty()));

    // Another service name, or none, is a client bug.
    let wrong_service = agent()
        .get(tokens.realm())
        .query("service", "elsewhere")
        .call()
        .unwrap();
    assert_eq!(wrong_service.status(), 400);

    let requests = tokens.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 200, 400]);
    assert_eq!(requests[0].username.as_deref(), Some("admin"));
    assert_eq!(requests[1].username.as_deref(), Some("nobody"));
    assert_eq!(requests[3].service.as_deref(), Some("elsewhere"));
    // Only the 200 issued a token.
    assert_eq!(tokens.tokens_total(), 1);
    assert_eq!(tokens.tokens_issued()["registry:catalog:*"], 1);
}

#[test]
fn anonymous_pull_can_be_allowed() {
    let tokens = token_server(TokenServerOptions {
        anonymous_pull: true,
        ..TokenServerOptions::default()
    });
    let registry = registry_for(&tokens);
    let push = token(
        &tokens,
        &[&format!("repository:{REPO}:pull,push")],
        Some(("admin", "admin-pw")),
    );
    push_image(&registry, REPO, &push, "v1");

    let anonymous = token(
        &tokens,
        &[
            &format!("repository:{REPO}:pull,push,delete"),
            "registry:catalog:*",
        ],
        None,
    );
    assert_eq!(
        decode(&anonymous).1["access"],
        serde_json::json!([Access::repository(REPO, &["pull"])])
    );
    let tags = send(
        "GET",
        &format!("{}/v2/{REPO}/tags/list", registry.url()),
        Some(&anonymous),
    );
    assert_eq!(tags.status(), 200);
    assert_eq!(catalog_status(&registry, &anonymous).0, 401);
}

#[test]
fn scopes_come_as_repeated_or_space_separated_parameters() {
    let tokens = token_server(TokenServerOptions::default());
    let response = agent()
        .get(format!(
            "{}?service={}&scope=repository%3Aa%2Fb%3Apull+repository%3Ac%3Apush&scope=registry:catalog:*",
            tokens.realm(),
            tokens.service()
        ))
        .header(
            "Authorization",
            format!("Basic {}", STANDARD.encode("reader:reader-pw")),
        )
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let request = tokens.requests().pop().unwrap();
    assert_eq!(
        request.scopes,
        [
            "repository:a/b:pull",
            "repository:c:push",
            "registry:catalog:*"
        ]
    );
    // The reader may not push to c, so that scope is left out.
    assert_eq!(
        request.granted,
        [Access::repository("a/b", &["pull"]), Access::catalog()]
    );
    let issued = tokens.tokens_issued();
    assert_eq!(issued.len(), 3);
    assert!(issued.values().all(|&count| count == 1));
}

#[test]
fn the_registry_checks_who_signed_and_for_whom() {
    let tokens = token_server(TokenServerOptions::default());
    let registry = registry_for(&tokens);
    let catalog = [Access::catalog()];
    assert_eq!(
        catalog_status(&registry, &tokens.mint("admin", &catalog, 60)).0,
        200
    );

    // A key named by its libtrust key ID works too (the registry derives IDs
    // from the certificates in rootcertbundle).
    let claims = tokens.claims("admin", &catalog, 60);
    assert_eq!(tokens.key_id().len(), 12 * 4 + 11);
    assert_eq!(
        catalog_status(&registry, &tokens.sign_with_kid(&claims)).0,
        200
    );

    // A certificate the registry does not trust.
    let stranger = token_server(TokenServerOptions::default());
    let (status, challenge) = catalog_status(&registry, &stranger.mint("admin", &catalog, 60));
    assert_eq!(status, 401);
    assert!(
        challenge.ends_with(",error=\"invalid_token\""),
        "{challenge}"
    );

    // Wrong audience or issuer; 2.8.2 also refuses `aud` as an array.
    for (claim, value) in [
        ("aud", serde_json::json!("another-registry")),
        ("aud", serde_json::json!([tokens.service()])),
        ("iss", serde_json::json!("someone-else")),
    ] {
        let mut claims = tokens.claims("admin", &catalog, 60);
        claims[claim] = value.clone();
        assert_eq!(
            catalog_status(&registry, &tokens.sign(&claims)).0,
            401,
            "{claim} = {value}"
        );
    }
}

#[test]
fn basic_and_token_auth_are_exclusive() {
    let tokens = token_server(TokenServerOptions::default());
    let error = Registry::start(RegistryOptions {
        basic_auth: Some(("admin".to_owned(), "pw".to_owned())),
        token_auth: Some(tokens.registry_auth()),
        ..RegistryOptions::default()
    })
    .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

/// Distribution lists a scope's actions from a Go map, so `pull,push` comes
/// in either order; this puts them in one.
fn actions_in_order(challenge: &str) -> String {
    challenge.replace(":push,pull\"", ":pull,push\"")
}
