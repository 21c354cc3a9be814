//! The native transport over https (the real registry serving a certificate
//! from a test CA) and through a proxy only when one is given.

use crate::common::block_on;
use std::path::PathBuf;

use cleanreg::NativeTransport;
use cleanreg::transport::TransportOptions;
use cleanreg_core::{Client, Policy, ScanScope, plan as make_plan};
use cleanreg_testkit::{
    FaultyServer, Fixture, FixtureBuilder, Registry, RegistryOptions, Reply, TestTls,
    assert_newest_remain,
};
use time::OffsetDateTime;

/// A registry serving https with a certificate of a test CA.
fn tls_registry() -> FixtureBuilder {
    Fixture::with(RegistryOptions {
        tls: Some(TestTls::generate().expect("generate the test CA")),
        ..RegistryOptions::default()
    })
}

fn client(url: &str, options: &TransportOptions) -> Client<NativeTransport> {
    let transport = NativeTransport::with_options(options).expect("transport options");
    crate::common::client_over(transport, url, None)
}

fn with_ca(registry: &Registry) -> TransportOptions {
    TransportOptions {
        ca_file: Some(registry.ca_path().expect("a TLS registry").to_owned()),
        ..TransportOptions::default()
    }
}

#[test]
fn with_the_ca_file_ping_scan_and_delete_work_over_https() {
    let Fixture {
        registry,
        seeder,
        repos,
        ..
    } = tls_registry().two_repos().start();
    assert!(registry.url().starts_with("https://127.0.0.1:"));
    let app: Vec<_> = repos.into_iter().filter(|r| r.name == "team/app").collect();

    let client = client(&registry.url(), &with_ca(&registry));
    block_on(client.ping()).unwrap();
    let scope = ScanScope::Repositories(vec!["team/app".parse().unwrap()]);
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    assert_eq!(inventory.image_count(), 5);
    let plan = make_plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    let report = block_on(client.apply(&plan, &mut |_, _| {}));
    let counts = report.counts();
    assert_eq!(
        (counts.deleted, counts.skipped, counts.failed),
        (3, 0, 0),
        "{report:#?}"
    );
    let again = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    assert_eq!(again.image_count(), 2);
    assert_newest_remain(&seeder, &app, 2);
}

#[test]
fn without_the_ca_the_certificate_is_rejected_with_the_fix() {
    let Fixture { registry, .. } = tls_registry().start();
    let error = block_on(client(&registry.url(), &TransportOptions::default()).ping())
        .unwrap_err()
        .to_string();
    assert!(error.contains("certificate"), "{error}");
    assert!(error.contains("UnknownIssuer"), "{error}");
    assert!(
        error.contains("-c CA.pem") && error.contains("-sv"),
        "{error}"
    );

    // A CA file with another CA is no better.
    let dir = tempfile::tempdir().unwrap();
    let other = TestTls::generate().unwrap().write_to(dir.path()).unwrap();
    let options = TransportOptions {
        ca_file: Some(other.ca),
        ..TransportOptions::default()
    };
    let error = block_on(client(&registry.url(), &options).ping())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("certificate") && error.contains("-c CA.pem"),
        "{error}"
    );
}

#[test]
fn skip_verify_accepts_the_certificate_without_the_ca() {
    let Fixture { registry, .. } = tls_registry().start();
    let options = TransportOptions {
        skip_tls_verify: true,
        ..TransportOptions::default()
    };
    let client = client(&registry.url(), &options);
    block_on(client.ping()).unwrap();
    let inventory = block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).unwrap();
    assert_eq!(inventory.repositories.len(), 0);
}

#[test]
fn https_to_a_plain_http_registry_says_so() {
    let Fixture { registry, .. } = Fixture::open().start();
    let url = registry.url().replacen("http://", "https://", 1);
    let error = block_on(client(&url, &TransportOptions::default()).ping())
        .unwrap_err()
        .to_string();
    assert!(error.contains("TLS handshake failed"), "{error}");
    assert!(error.contains("plain http"), "{error}");
}

#[test]
fn a_bad_ca_file_is_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let attempt = |path: PathBuf| {
        NativeTransport::with_options(&TransportOptions {
            ca_file: Some(path),
            ..TransportOptions::default()
        })
        .err()
        .expect("a bad CA file is an error")
    };

    let missing = dir.path().join("missing-ca.pem");
    let error = attempt(missing.clone());
    assert!(error.contains(&missing.display().to_string()), "{error}");
    assert!(error.contains("No such file"), "{error}");

    let text = dir.path().join("not-pem.txt");
    std::fs::write(&text, "just some text\n").unwrap();
    let error = attempt(text.clone());
    assert!(error.contains(&text.display().to_string()), "{error}");
    assert!(error.contains("no PEM certificate"), "{error}");

    let key_only = dir.path().join("key-only.pem");
    let tls = TestTls::generate().unwrap();
    std::fs::write(&key_only, tls.server_key_pem()).unwrap();
    let error = attempt(key_only.clone());
    assert!(error.contains(&key_only.display().to_string()), "{error}");
    assert!(error.contains("no PEM certificate"), "{error}");

    let error = attempt(dir.path().to_owned());
    assert!(error.contains(&dir.path().display().to_string()), "{error}");
}

/// A "proxy" that records what it is asked and refuses every tunnel.
fn refusing_proxy() -> FaultyServer {
    FaultyServer::start(|_| Reply::new(502).body("no tunnels here")).unwrap()
}

#[test]
fn a_given_proxy_is_used_and_none_means_direct() {
    let Fixture { registry, .. } = Fixture::open().start();
    let proxy = refusing_proxy();

    let through = TransportOptions {
        proxy: Some(proxy.url()),
        ..TransportOptions::default()
    };
    let error = block_on(client(&registry.url(), &through).ping())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("proxy did not open a tunnel") && error.contains("502"),
        "{error}"
    );
    let target = format!("127.0.0.1:{}", registry.port());
    let seen = proxy.requests();
    assert!(!seen.is_empty());
    for request in &seen {
        // ureq tunnels every request, plain http included, with CONNECT.
        assert_eq!(
            (request.method.as_str(), request.path_and_query.as_str()),
            ("CONNECT", target.as_str())
        );
    }

    // No proxy given: direct, whatever HTTP(S)_PROXY says (the options
    // never read the environment).
    let before = proxy.requests().len();
    block_on(client(&registry.url(), &TransportOptions::default()).ping()).unwrap();
    assert_eq!(proxy.requests().len(), before);

    // A NO_PROXY entry for the registry's host bypasses the proxy.
    let bypass = TransportOptions {
        proxy: Some(proxy.url()),
        no_proxy: vec!["localhost".into(), "127.0.0.1".into()],
        ..TransportOptions::default()
    };
    block_on(client(&registry.url(), &bypass).ping()).unwrap();
    assert_eq!(proxy.requests().len(), before);
}

#[test]
fn an_https_registry_is_tunnelled_through_the_proxy_too() {
    let Fixture { registry, .. } = tls_registry().start();
    let proxy = refusing_proxy();
    let options = TransportOptions {
        proxy: Some(proxy.url()),
        ..with_ca(&registry)
    };
    let error = block_on(client(&registry.url(), &options).ping())
        .unwrap_err()
        .to_string();
    assert!(error.contains("502"), "{error}");
    let target = format!("127.0.0.1:{}", registry.port());
    assert!(
        proxy
            .requests()
            .iter()
            .all(|r| r.method == "CONNECT" && r.path_and_query == target),
        "{:?}",
        proxy.requests()
    );
}
