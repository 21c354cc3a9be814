//! The seeder against Distribution 2.8.2 with `auth: token`: it answers the
//! Bearer challenge with a token from the realm and caches it per scope.

use cleanreg_testkit::{
    ArtifactSpec, CosignKind, ImageFormat, ImageSpec, IndexSpec, Registry, RegistryOptions,
    SeedError, Seeder, TokenServer, TokenServerOptions, TokenUser, protocol_zoo,
};
use time::macros::datetime;

fn setup() -> (TokenServer, Registry) {
    let tokens = TokenServer::start(TokenServerOptions {
        users: vec![
            TokenUser::admin("admin", "admin-pw"),
            TokenUser::reader("reader", "reader-pw"),
        ],
        ..TokenServerOptions::default()
    })
    .unwrap();
    let registry = Registry::start(RegistryOptions {
        token_auth: Some(tokens.registry_auth()),
        ..RegistryOptions::default()
    })
    .unwrap();
    (tokens, registry)
}

fn credentials(user: &str, password: &str) -> Option<(String, String)> {
    Some((user.to_owned(), password.to_owned()))
}

#[test]
fn seeder_pushes_and_reads_with_bearer_tokens() {
    let (tokens, registry) = setup();
    let seeder = Seeder::new(&registry.url(), credentials("admin", "admin-pw"));
    let repo = "bearer/app";

    let image = seeder
        .push_image(repo, &ImageSpec::new("bearer", None), &["v1"])
        .unwrap();
    let index = seeder
        .push_index(
            repo,
            &IndexSpec::new(
                ImageFormat::Oci,
                [
                    ImageSpec::new("bearer-amd64", None),
                    ImageSpec::new("bearer-arm64", None).with_platform("arm64", "linux"),
                ],
            )
            .with_tag("multi"),
        )
        .unwrap();
    let signature = seeder
        .push_cosign(repo, &image.digest, CosignKind::Signature)
        .unwrap();
    seeder
        .push_artifact(
            repo,
            &ArtifactSpec::helm_chart("c", "1.0.0").with_tag("chart"),
        )
        .unwrap();

    let requests = tokens.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|request| request.status == 200));
    assert!(
        requests
            .iter()
            .all(|request| request.username.as_deref() == Some("admin"))
    );
    assert!(
        requests
            .iter()
            .all(|request| request.service.as_deref() == Some(tokens.service()))
    );
    assert!(
        requests
            .iter()
            .flat_map(|request| &request.scopes)
            .all(|scope| scope.starts_with("repository:bearer/app:")),
        "{requests:?}"
    );
    // Pushing dozens of blobs and manifests took a token per scope, not
    // per request.
    let pushing = tokens.tokens_total();
    eprintln!("tokens issued while pushing: {:?}", tokens.tokens_issued());
    assert!(pushing <= 3, "{:?}", tokens.tokens_issued());

    // Reads take one more token (pull) and then reuse it.
    assert_eq!(
        seeder.tag_digest(repo, "v1").unwrap(),
        Some(image.digest.clone())
    );
    let after_first_read = tokens.tokens_total();
    assert!(after_first_read <= pushing + 1);
    for _ in 0..5 {
        assert!(seeder.manifest_exists(repo, &index.digest).unwrap());
        let fetched = seeder.fetch_manifest(repo, "multi").unwrap().unwrap();
        assert_eq!(fetched.body, index.manifest);
    }
    let mut tags = seeder.tags(repo).unwrap();
    tags.sort();
    assert_eq!(
        tags,
        ["chart", "multi", signature.tag.as_deref().unwrap(), "v1"]
    );
    assert_eq!(tokens.tokens_total(), after_first_read);

    // The catalog needs `registry:catalog:*`.
    assert_eq!(seeder.catalog().unwrap(), [repo]);
    assert!(
        tokens.tokens_issued().contains_key("registry:catalog:*"),
        "{:?}",
        tokens.tokens_issued()
    );

    // A clone shares the cache.
    let before = tokens.tokens_total();
    assert!(seeder.clone().manifest_exists(repo, &image.digest).unwrap());
    assert_eq!(tokens.tokens_total(), before);
}

#[test]
fn bearer_refusals_surface_as_status_errors() {
    let (tokens, registry) = setup();
    let admin = Seeder::new(&registry.url(), credentials("admin", "admin-pw"));
    admin
        .push_image("locked/app", &ImageSpec::new("locked", None), &["v1"])
        .unwrap();

    // A reader reads but cannot push: the token lacks `push`, the registry
    // answers 401 again, and that is the error.
    let reader = Seeder::new(&registry.url(), credentials("reader", "reader-pw"));
    assert!(reader.tag_digest("locked/app", "v1").unwrap().is_some());
    match reader.push_image("locked/app", &ImageSpec::new("other", None), &["v2"]) {
        Err(SeedError::Status { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }

    // Wrong credentials: the token server refuses them.
    let wrong = Seeder::new(&registry.url(), credentials("admin", "nope"));
    match wrong.tags("locked/app") {
        Err(SeedError::Status {
            status: 401,
            request,
            ..
        }) => {
            assert!(
                request.starts_with(&format!("GET {}", tokens.realm())),
                "{request}"
            );
        }
        other => panic!("expected the token server's 401, got {other:?}"),
    }

    // Without credentials nothing is granted.
    let anonymous = Seeder::new(&registry.url(), None);
    assert!(matches!(
        anonymous.catalog(),
        Err(SeedError::Status { status: 401, .. })
    ));
}

#[test]
fn expired_tokens_are_renewed() {
    let (tokens, registry) = setup();
    let seeder = Seeder::new(&registry.url(), credentials("admin", "admin-pw"));
    seeder
        .push_image("renew/app", &ImageSpec::new("renew", None), &["v1"])
        .unwrap();
    assert!(seeder.tag_digest("renew/app", "v1").unwrap().is_some());

    // The token server now issues tokens that expired long ago (while still
    // announcing `expires_in`): the registry refuses them with 401 and the
    // seeder reports that after one retry.
    tokens.set_issue_expired(true);
    let fresh = Seeder::new(&registry.url(), credentials("admin", "admin-pw"));
    match fresh.tag_digest("renew/app", "v1") {
        Err(SeedError::Status { status: 401, .. }) => {}
        other => panic!("expired tokens must be refused, got {other:?}"),
    }
    // Back to normal: the cached (refused) token is sent, refused, and
    // replaced by exactly one new token.
    tokens.set_issue_expired(false);
    let before = tokens.tokens_total();
    assert!(fresh.tag_digest("renew/app", "v1").unwrap().is_some());
    assert_eq!(tokens.tokens_total(), before + 1);
}

#[test]
fn the_zoo_seeds_through_bearer_auth() {
    let (_tokens, registry) = setup();
    let seeder = Seeder::new(&registry.url(), credentials("admin", "admin-pw"));
    let zoo = protocol_zoo(&seeder, datetime!(2026-03-10 12:00 UTC)).unwrap();
    let open = Registry::start(RegistryOptions::default()).unwrap();
    let same = protocol_zoo(
        &Seeder::new(&open.url(), None),
        datetime!(2026-03-10 12:00 UTC),
    )
    .unwrap();
    assert_eq!(zoo, same);
}
