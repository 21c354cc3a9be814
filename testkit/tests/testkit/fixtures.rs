//! End-to-end checks of the fixtures against the real Debian binaries.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use cleanreg_testkit::{
    ImageSpec, LatencyProxy, Nginx, NginxOptions, NginxTls, Registry, RegistryOptions, SeedError,
    Seeder, TestTls, demo, many_repositories, two_repos_five_images,
};
use time::OffsetDateTime;
use time::macros::datetime;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

#[test]
fn seeds_two_repos_and_reads_them_back() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let newest = datetime!(2026-03-10 12:00 UTC);
    let repos = two_repos_five_images(&seeder, newest).unwrap();

    assert_eq!(
        sorted(seeder.catalog().unwrap()),
        vec!["team/app".to_owned(), "team/tool".to_owned()]
    );
    assert_eq!(
        sorted(seeder.tags("team/app").unwrap()),
        ["latest", "v1", "v2", "v3", "v4", "v5"]
    );
    assert_eq!(
        sorted(seeder.tags("team/tool").unwrap()),
        ["stable", "v1", "v2", "v3", "v4", "v5"]
    );

    let app = &repos[0];
    assert_eq!(app.name, "team/app");
    let latest = seeder.tag_digest("team/app", "latest").unwrap().unwrap();
    assert_eq!(
        Some(&latest),
        seeder.tag_digest("team/app", "v5").unwrap().as_ref()
    );
    assert_eq!(latest, app.images[0].image.digest);
    assert_eq!(app.images[0].tags, ["v5", "latest"]);
    assert_eq!(app.images[0].image.created, Some(newest));
    assert_eq!(
        app.images[4].image.created,
        Some(newest - time::Duration::days(4))
    );

    let tool = &repos[1];
    assert_eq!(tool.images[2].tags, ["v3", "stable"]);
    assert_eq!(
        seeder.tag_digest("team/tool", "stable").unwrap(),
        seeder.tag_digest("team/tool", "v3").unwrap()
    );
    assert_eq!(
        tool.images[0].image.media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );

    let digests: HashSet<&str> = repos
        .iter()
        .flat_map(|repo| &repo.images)
        .map(|image| image.image.digest.as_str())
        .collect();
    assert_eq!(digests.len(), 10);
    for repo in &repos {
        for image in &repo.images {
            assert!(
                seeder
                    .manifest_exists(&repo.name, &image.image.digest)
                    .unwrap()
            );
        }
    }

    // The config blob carries `created` in RFC 3339 with Z.
    let config_url = format!(
        "{}/v2/team/app/blobs/{}",
        registry.url(),
        app.images[0].image.config_digest
    );
    let config: serde_json::Value = serde_json::from_slice(
        &agent()
            .get(&config_url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(config["created"], "2026-03-10T12:00:00Z");
    assert_eq!(config["architecture"], "amd64");

    assert_eq!(seeder.tag_digest("team/app", "nope").unwrap(), None);
    assert!(seeder.tags("no/such-repo").unwrap().is_empty());
    let missing = format!("sha256:{}", "0".repeat(64));
    assert!(!seeder.manifest_exists("team/app", &missing).unwrap());

    // Pushing the same spec again is idempotent (same digest, blobs skipped).
    let spec = ImageSpec::new("team/app#0", Some(newest - time::Duration::days(4)));
    let again = seeder.push_image("team/app", &spec, &["v1"]).unwrap();
    assert_eq!(again.digest, app.images[4].image.digest);
}

#[test]
fn basic_auth_registry_needs_credentials() {
    let credentials = ("admin".to_owned(), "s3cret".to_owned());
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(credentials.clone()),
        ..RegistryOptions::default()
    })
    .unwrap();
    assert_eq!(registry.credentials(), Some(credentials.clone()));

    let response = agent()
        .get(format!("{}/v2/", registry.url()))
        .call()
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        header(&response, "WWW-Authenticate")
            .unwrap()
            .starts_with("Basic ")
    );

    let seeder = Seeder::new(&registry.url(), Some(credentials));
    let image = seeder
        .push_image("secure/app", &ImageSpec::new("auth", None), &["v1"])
        .unwrap();
    assert_eq!(seeder.tags("secure/app").unwrap(), ["v1"]);
    assert_eq!(
        seeder.tag_digest("secure/app", "v1").unwrap(),
        Some(image.digest)
    );

    let anonymous = Seeder::new(&registry.url(), None);
    match anonymous.catalog() {
        Err(SeedError::Status { status: 401, .. }) => {}
        other => panic!("expected a 401 error, got {other:?}"),
    }
}

#[test]
fn cors_headers_are_sent() {
    let origin = "http://127.0.0.1:8999";
    let registry = Registry::start(RegistryOptions {
        cors_origin: Some(origin.to_owned()),
        ..RegistryOptions::default()
    })
    .unwrap();
    let response = agent()
        .get(format!("{}/v2/", registry.url()))
        .header("Origin", origin)
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "Access-Control-Allow-Origin").as_deref(),
        Some(origin)
    );
    assert_eq!(
        header(&response, "Access-Control-Allow-Credentials").as_deref(),
        Some("true")
    );
    assert!(
        header(&response, "Access-Control-Expose-Headers")
            .unwrap()
            .contains("Docker-Content-Digest")
    );
}

#[test]
fn nginx_serves_files_and_proxies_the_registry() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join("index.html"),
        "<h1>cleanreg test page</h1>",
    )
    .unwrap();
    std::fs::write(root.path().join("x.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let nginx = Nginx::start(NginxOptions {
        port: None,
        root: root.path().to_owned(),
        upstream: Some(registry.url()),
        hide_www_authenticate: false,
        ..NginxOptions::default()
    })
    .unwrap();
    let agent = agent();

    for path in ["/", "/some/client/route"] {
        let mut page = agent.get(format!("{}{path}", nginx.url())).call().unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(
            header(&page, "Content-Type")
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            page.body_mut()
                .read_to_string()
                .unwrap()
                .contains("cleanreg test page")
        );
    }

    let wasm = agent.get(format!("{}/x.wasm", nginx.url())).call().unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(
        header(&wasm, "Content-Type").as_deref(),
        Some("application/wasm")
    );

    let api = agent.get(format!("{}/v2/", nginx.url())).call().unwrap();
    assert_eq!(api.status(), 200);
    assert_eq!(
        header(&api, "Docker-Distribution-Api-Version").as_deref(),
        Some("registry/2.0")
    );

    // Uploads through the proxy work too (Location must point back at nginx).
    let seeder = Seeder::new(&nginx.url(), None);
    let image = seeder
        .push_image("via/proxy", &ImageSpec::new("proxy", None), &["v1"])
        .unwrap();
    let direct = Seeder::new(&registry.url(), None);
    assert_eq!(
        direct.tag_digest("via/proxy", "v1").unwrap(),
        Some(image.digest)
    );
}

/// `curl --http2 --cacert` against `url`: the HTTP version it used, the
/// status and the body.
fn curl_http2(ca: &std::path::Path, url: &str) -> (String, u16, String) {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--http2", "--max-time", "20", "--cacert"])
        .arg(ca)
        .args(["-w", "\n%{http_version} %{http_code}", url])
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, last) = text.rsplit_once('\n').unwrap();
    let (version, status) = last.split_once(' ').unwrap();
    (version.to_owned(), status.parse().unwrap(), body.to_owned())
}

#[test]
fn nginx_serves_the_page_and_the_registry_over_tls_with_http2_or_http11() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.html"), "<h1>tls page</h1>").unwrap();
    let tls = TestTls::generate().unwrap();
    let files = tls.write_to(root.path()).unwrap();
    Seeder::new(&registry.url(), None)
        .push_image("via/tls", &ImageSpec::new("tls", None), &["v1"])
        .unwrap();
    for http2 in [true, false] {
        let nginx = Nginx::start(NginxOptions {
            root: root.path().to_owned(),
            upstream: Some(registry.url()),
            tls: Some(NginxTls {
                tls: tls.clone(),
                http2,
            }),
            ..NginxOptions::default()
        })
        .unwrap();
        assert!(
            nginx.url().starts_with("https://127.0.0.1:"),
            "{}",
            nginx.url()
        );
        let version = if http2 { "2" } else { "1.1" };
        // Directly, and through a latency proxy (as the benchmark does).
        let proxy = LatencyProxy::in_front_of(&nginx.url(), Duration::from_millis(2)).unwrap();
        for base in [nginx.url(), proxy.url("https")] {
            let (used, status, body) = curl_http2(&files.ca, &format!("{base}/"));
            assert_eq!(
                (used.as_str(), status),
                (version, 200),
                "{base}/ h2 {http2}"
            );
            assert!(body.contains("tls page"), "{body}");
            let (used, status, body) = curl_http2(&files.ca, &format!("{base}/v2/"));
            assert_eq!(
                (used.as_str(), status),
                (version, 200),
                "{base}/v2/ h2 {http2}"
            );
            assert_eq!(body, "{}");
        }
        assert!(proxy.connections() >= 2);
        // An HTTP/1.1-only client that trusts the CA (as the CLI does) reads
        // the registry through it too.
        let mut catalog = tls
            .agent(Duration::from_secs(10))
            .unwrap()
            .get(format!("{}/v2/_catalog", nginx.url()))
            .call()
            .unwrap();
        assert_eq!(catalog.status(), 200);
        assert!(
            catalog
                .body_mut()
                .read_to_string()
                .unwrap()
                .contains("via/tls")
        );
    }
    // Plain http stays as it was when tls is off.
    let plain = Nginx::start(NginxOptions {
        root: root.path().to_owned(),
        upstream: Some(registry.url()),
        ..NginxOptions::default()
    })
    .unwrap();
    assert!(plain.url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        agent()
            .get(format!("{}/v2/", plain.url()))
            .call()
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn nginx_can_hide_www_authenticate() {
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(("u".to_owned(), "p".to_owned())),
        ..RegistryOptions::default()
    })
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(NginxOptions {
        port: None,
        root: root.path().to_owned(),
        upstream: Some(format!("{}/", registry.url())),
        hide_www_authenticate: true,
        ..NginxOptions::default()
    })
    .unwrap();
    let response = agent().get(format!("{}/v2/", nginx.url())).call().unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "WWW-Authenticate"), None);
}

#[test]
fn demo_data_set_is_realistic_and_quick() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let repos = demo(&seeder, now).unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(30), "demo took {elapsed:?}");

    let names: Vec<&str> = repos.iter().map(|repo| repo.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "acme/api",
            "acme/web",
            "acme/worker",
            "tools/ci-runner",
            "library/redis-mirror"
        ]
    );
    assert_eq!(
        sorted(seeder.catalog().unwrap()),
        sorted(names.iter().map(|name| (*name).to_owned()).collect())
    );
    let year_ago = now - time::Duration::days(366);
    for repo in &repos {
        let digests: HashSet<&str> = repo
            .images
            .iter()
            .map(|i| i.image.digest.as_str())
            .collect();
        assert_eq!(digests.len(), repo.images.len(), "{}", repo.name);
        let created: Vec<OffsetDateTime> = repo
            .images
            .iter()
            .map(|i| i.image.created.unwrap())
            .collect();
        assert!(
            created.windows(2).all(|w| w[0] > w[1]),
            "{} newest first",
            repo.name
        );
        assert!(created.iter().all(|c| *c <= now && *c > year_ago));
        let mut expected: Vec<String> = repo.images.iter().flat_map(|i| i.tags.clone()).collect();
        expected.sort();
        assert_eq!(
            sorted(seeder.tags(&repo.name).unwrap()),
            expected,
            "{}",
            repo.name
        );
        for image in &repo.images {
            for tag in &image.tags {
                assert_eq!(
                    seeder.tag_digest(&repo.name, tag).unwrap().as_deref(),
                    Some(image.image.digest.as_str())
                );
            }
        }
    }
    let total: usize = repos.iter().map(|repo| repo.images.len()).sum();
    assert_eq!(total, 42);
    let api = &repos[0];
    assert!(api.images[0].tags.contains(&"latest".to_owned()));
    assert!(
        api.images
            .iter()
            .any(|i| i.tags.iter().any(|t| t.starts_with("main-")))
    );
    // The base layer is shared by every api image.
    let base = &api.images[0].image.layer_digests[0];
    assert!(api.images.iter().all(|i| &i.image.layer_digests[0] == base));
    eprintln!("demo seeding took {elapsed:?}");
}

#[test]
fn deleted_tags_read_as_empty() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let image = seeder
        .push_image("gone/app", &ImageSpec::new("gone", None), &["v1", "latest"])
        .unwrap();
    let response = agent()
        .delete(format!(
            "{}/v2/gone/app/manifests/{}",
            registry.url(),
            image.digest
        ))
        .call()
        .unwrap();
    assert_eq!(response.status(), 202);
    // 2.8.2 answers `{"tags": null}` here and keeps the repository listed.
    assert!(seeder.tags("gone/app").unwrap().is_empty());
    assert_eq!(seeder.tag_digest("gone/app", "latest").unwrap(), None);
    assert!(!seeder.manifest_exists("gone/app", &image.digest).unwrap());
    assert_eq!(seeder.catalog().unwrap(), ["gone/app"]);
}

#[test]
fn nginx_on_a_busy_port_fails_with_its_log() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let root = tempfile::tempdir().unwrap();
    let error = Nginx::start(NginxOptions {
        port: Some(registry.port()),
        root: root.path().to_owned(),
        upstream: Some(registry.url()),
        hide_www_authenticate: false,
        ..NginxOptions::default()
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("Address already in use"), "{error}");
}

#[test]
fn catalog_follows_pagination_past_100() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let names = many_repositories(&seeder, 105).unwrap();
    assert_eq!(sorted(seeder.catalog().unwrap()), names);
}

/// The benchmark's seeder, small: every repository gets exactly its tags,
/// `latest`, `v<n>` and `build-<n>` sharing the newest digest, and version
/// 10 is a two-platform index.
#[test]
fn bench_registry_pushes_the_benchmark_shape() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let now = OffsetDateTime::now_utc();
    let seeded = cleanreg_testkit::bench_registry(&seeder, 2, 21, now, 2).unwrap();
    assert_eq!(seeded.repositories, ["bench/r-000", "bench/r-001"]);
    assert_eq!(seeded.tags(), 42);
    assert_eq!(seeded.indexes(), 2);
    assert_eq!(seeder.catalog().unwrap(), seeded.repositories);
    for repo in &seeded.repositories {
        let mut tags = seeder.tags(repo).unwrap();
        tags.sort();
        let mut expected: Vec<String> = cleanreg_testkit::bench_tags(21).concat();
        expected.sort();
        assert_eq!(tags, expected);
        assert_eq!(
            seeder.tag_digest(repo, "latest").unwrap(),
            seeder.tag_digest(repo, "v10").unwrap()
        );
        assert_ne!(
            seeder.tag_digest(repo, "v10").unwrap(),
            seeder.tag_digest(repo, "v9").unwrap()
        );
    }
    for image in &seeded.images {
        assert_eq!(
            seeder
                .tag_digest(&image.repository, &image.tags[0])
                .unwrap()
                .as_deref(),
            Some(image.digest.as_str())
        );
        for child in &image.children {
            assert!(seeder.manifest_exists(&image.repository, child).unwrap());
        }
    }
}

/// nginx without a registry serves the page alone (`/v2/` is not proxied);
/// with `token_upstream` it proxies `/token` with its query, so a token realm
/// on the page's origin works.
#[test]
fn nginx_serves_files_alone_or_proxies_the_token_server() {
    use cleanreg_testkit::{TokenServer, TokenServerOptions, TokenUser};
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("index.html"), "<h1>page</h1>").unwrap();
    let tokens = TokenServer::start(TokenServerOptions {
        users: vec![TokenUser::admin("admin", "token-pw")],
        ..TokenServerOptions::default()
    })
    .unwrap();
    let nginx = Nginx::start(NginxOptions {
        root: root.path().to_owned(),
        token_upstream: Some(tokens.realm().trim_end_matches("/token").to_owned()),
        ..NginxOptions::default()
    })
    .unwrap();
    let agent = agent();
    let mut catalog = agent
        .get(format!("{}/v2/_catalog", nginx.url()))
        .call()
        .unwrap();
    let body = catalog.body_mut().read_to_string().unwrap();
    assert!(
        body.contains("<h1>page</h1>"),
        "without an upstream /v2/ falls back to the page, got {body:?}"
    );
    let mut token = agent
        .get(format!(
            "{}/token?service={}&scope=repository:team/app:pull",
            nginx.url(),
            tokens.service()
        ))
        .header("Authorization", "Basic YWRtaW46dG9rZW4tcHc=")
        .call()
        .unwrap();
    assert_eq!(token.status(), 200);
    let answer: serde_json::Value =
        serde_json::from_str(&token.body_mut().read_to_string().unwrap()).unwrap();
    assert!(
        answer["token"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3),
        "{answer}"
    );
    assert_eq!(tokens.requests().len(), 1);
    assert_eq!(tokens.requests()[0].username.as_deref(), Some("admin"));
}
