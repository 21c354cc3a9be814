//! Error paths of item 6 and the integrity checks, against a deliberately
//! faulty registry: a small test server that serves real manifest and config
//! bytes and, where a test asks, answers with a fault instead.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cleanreg::NativeTransport;
use cleanreg_core::{
    Client, Digest, ImageKind, KeepReason, Outcome, Policy, RetryPolicy, ScanScope, plan,
};
use cleanreg_testkit::{FaultyServer, Reply, SeenRequest};
use time::OffsetDateTime;

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const REPO: &str = "team/app";

/// What the fake registry serves: path -> (content type, body).
#[derive(Default)]
struct Content {
    files: BTreeMap<String, (String, Vec<u8>)>,
    tags: Vec<String>,
}

impl Content {
    /// `count` Docker images tagged `t1..tN`, image i built on day i, plus
    /// a schema1 manifest tagged `legacy`.
    fn images(count: usize) -> Content {
        let mut content = Content::default();
        for i in 1..=count {
            let config = format!(
                r#"{{"architecture":"amd64","os":"linux","created":"2026-01-{i:02}T00:00:00Z"}}"#
            );
            let config_digest = Digest::sha256_of(config.as_bytes());
            let manifest = format!(
                r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{},"digest":"{config_digest}"}},"layers":[]}}"#,
                config.len()
            );
            let digest = Digest::sha256_of(manifest.as_bytes());
            content.put(
                &format!("/v2/{REPO}/blobs/{config_digest}"),
                "application/octet-stream",
                config.into_bytes(),
            );
            content.put(
                &format!("/v2/{REPO}/manifests/{digest}"),
                DOCKER_MANIFEST,
                manifest.clone().into_bytes(),
            );
            content.put(
                &format!("/v2/{REPO}/manifests/t{i}"),
                DOCKER_MANIFEST,
                manifest.into_bytes(),
            );
            content.tags.push(format!("t{i}"));
        }
        let schema1 = br#"{"schemaVersion":1,"name":"team/app","tag":"legacy","architecture":"amd64","fsLayers":[],"history":[],"signatures":[]}"#;
        content.put(
            &format!("/v2/{REPO}/manifests/legacy"),
            SCHEMA1_SIGNED,
            schema1.to_vec(),
        );
        content.tags.push("legacy".into());
        content.tags.sort();
        content
    }

    fn put(&mut self, path: &str, content_type: &str, body: Vec<u8>) {
        self.files
            .insert(path.to_owned(), (content_type.to_owned(), body));
    }

    /// What a well-behaved registry would answer. Tag lists come two per
    /// page with a `Link` to the next, as Distribution 3 and others do.
    fn answer(&self, request: &SeenRequest) -> Reply {
        let path = request.path();
        if path == "/v2/" {
            return Reply::new(200)
                .header("Docker-Distribution-Api-Version", "registry/2.0")
                .header("Content-Type", "application/json")
                .body("{}");
        }
        if path == format!("/v2/{REPO}/tags/list") {
            let last = request
                .query_pairs()
                .into_iter()
                .find(|(k, _)| k == "last")
                .map(|(_, v)| v);
            let rest: Vec<&String> = self
                .tags
                .iter()
                .filter(|t| last.as_ref().is_none_or(|l| *t > l))
                .collect();
            let page: Vec<&String> = rest.iter().take(2).copied().collect();
            let body = serde_json::json!({ "name": REPO, "tags": page });
            let mut reply = Reply::json(200, &body);
            if rest.len() > 2 {
                reply = reply.header(
                    "Link",
                    format!("</v2/{REPO}/tags/list?n=2&last={}>; rel=\"next\"", page[1]),
                );
            }
            return reply;
        }
        match self.files.get(path) {
            Some((content_type, body)) => {
                let mut reply = Reply::new(200).header("Content-Type", content_type.as_str());
                if path.contains("/manifests/") {
                    reply =
                        reply.header("Docker-Content-Digest", Digest::sha256_of(body).to_string());
                }
                if request.method == "HEAD" {
                    reply
                } else {
                    reply.body(body.clone())
                }
            }
            None => Reply::json(
                404,
                &serde_json::json!({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}),
            ),
        }
    }
}

type Fault = dyn Fn(&SeenRequest, usize) -> Option<Reply> + Send + Sync;

/// Serves `content`; `fault` may replace an answer. Its second argument
/// counts earlier requests with the same method and target.
fn serve(content: Content, fault: Box<Fault>) -> FaultyServer {
    let content = Arc::new(content);
    let counts: Mutex<BTreeMap<String, usize>> = Mutex::default();
    FaultyServer::start(move |request: &SeenRequest| {
        let key = format!("{} {}", request.method, request.path_and_query);
        let seen = {
            let mut counts = counts.lock().unwrap();
            let count = counts.entry(key).or_insert(0);
            *count += 1;
            *count - 1
        };
        fault(request, seen).unwrap_or_else(|| content.answer(request))
    })
    .expect("start the faulty server")
}

fn client(server: &FaultyServer) -> Client<NativeTransport> {
    crate::common::client(&server.url(), None).with_retry(RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(2),
    })
}

fn scan(
    client: &Client<NativeTransport>,
) -> Result<cleanreg_core::Inventory, cleanreg_core::Error> {
    let scope = ScanScope::Repositories(vec![REPO.parse().unwrap()]);
    futures_executor::block_on(client.scan(&scope, &mut |_| {}))
}

fn count(server: &FaultyServer, method: &str, path: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path() == path)
        .count()
}

#[test]
fn tag_pages_are_followed_and_schema1_is_reported_never_guessed() {
    let server = serve(Content::images(5), Box::new(|_, _| None));
    let inventory = scan(&client(&server)).unwrap();
    let repo = &inventory.repositories[&REPO.parse().unwrap()];
    assert_eq!(repo.tags.len(), 6, "five tags and legacy, over three pages");
    assert_eq!(count(&server, "GET", &format!("/v2/{REPO}/tags/list")), 3);
    let legacy = &repo.tags[&"legacy".parse().unwrap()];
    assert_eq!(repo.images[legacy].kind, ImageKind::Schema1);
    let plan = plan(
        &inventory,
        &Policy::keep_newest(0),
        OffsetDateTime::now_utc(),
    );
    let entry = plan.entries.iter().find(|e| e.digest == *legacy).unwrap();
    assert!(matches!(
        &entry.decision,
        cleanreg_core::Decision::Keep {
            reason: KeepReason::NotInterpreted { .. }
        }
    ));
    assert_eq!(plan.deletes().count(), 5);
}

#[test]
fn rate_limits_and_unavailability_are_waited_out() {
    let server = serve(
        Content::images(2),
        Box::new(|request, seen| match (request.path(), seen) {
            ("/v2/team/app/manifests/t1", 0) => Some(Reply::new(429).header("Retry-After", "1")),
            ("/v2/team/app/manifests/t2", 0) => Some(Reply::new(429)),
            ("/v2/team/app/tags/list", 0) => Some(Reply::new(503)),
            _ => None,
        }),
    );
    let inventory = scan(&client(&server)).unwrap();
    assert_eq!(inventory.image_count(), 3);
    assert_eq!(count(&server, "GET", "/v2/team/app/manifests/t1"), 2);
    assert_eq!(count(&server, "GET", "/v2/team/app/manifests/t2"), 2);
}

#[test]
fn a_server_error_that_persists_stops_the_scan_after_bounded_retries() {
    let server = serve(
        Content::images(2),
        Box::new(|request, _| {
            (request.path() == "/v2/team/app/manifests/t2").then(|| {
                Reply::new(500)
                    .header("Content-Type", "text/html")
                    .body("<html><h1>Internal Server Error</h1></html>")
            })
        }),
    );
    let error = scan(&client(&server)).unwrap_err().to_string();
    assert_eq!(count(&server, "GET", "/v2/team/app/manifests/t2"), 3);
    assert!(error.contains("HTTP 500"), "{error}");
    assert!(
        error.contains(&format!("{}/v2/team/app/manifests/t2", server.url())),
        "{error}"
    );
    assert!(error.contains("Internal Server Error"), "{error}");
    assert!(error.contains("look at its log"), "{error}");
}

#[test]
fn non_registry_answers_say_what_came_back_from_where() {
    let html = serve(
        Content::images(1),
        Box::new(|request, _| {
            (request.path() == "/v2/").then(|| {
                Reply::new(200)
                    .header("Content-Type", "text/html")
                    .body("<html><title>Corporate login</title></html>")
            })
        }),
    );
    let error = futures_executor::block_on(client(&html).ping())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("GET {}/v2/", html.url())),
        "{error}"
    );
    assert!(error.contains("text/html"), "{error}");
    assert!(error.contains("Corporate login"), "{error}");

    let cut = serve(
        Content::images(1),
        Box::new(|request, _| {
            (request.path() == "/v2/team/app/tags/list").then(|| {
                Reply::new(200)
                    .header("Content-Type", "application/json")
                    .body(r#"{"name":"team/app","tags":["t1""#)
            })
        }),
    );
    let error = scan(&client(&cut)).unwrap_err().to_string();
    assert!(error.contains("cut off"), "{error}");
    assert!(error.contains("/v2/team/app/tags/list"), "{error}");

    let truncated = serve(
        Content::images(1),
        Box::new(|request, _| {
            (request.path() == "/v2/team/app/manifests/t1")
                .then(|| Reply::new(200).body(vec![b'{'; 400]).truncate_body_at(100))
        }),
    );
    let error = scan(&client(&truncated)).unwrap_err().to_string();
    assert_eq!(count(&truncated, "GET", "/v2/team/app/manifests/t1"), 3);
    assert!(error.contains("no answer"), "{error}");
    assert!(error.contains("/v2/team/app/manifests/t1"), "{error}");
}

#[test]
fn an_unknown_repository_is_named_with_its_fix() {
    let server = serve(
        Content::images(1),
        Box::new(|request, _| {
            (request.path() == "/v2/team/app/tags/list").then(|| {
                Reply::json(
                    404,
                    &serde_json::json!({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}),
                )
            })
        }),
    );
    let error = scan(&client(&server)).unwrap_err().to_string();
    assert!(error.contains("HTTP 404 NAME_UNKNOWN"), "{error}");
    assert!(error.contains("check the repository name"), "{error}");
}

#[test]
fn a_digest_header_that_does_not_match_the_bytes_stops_the_scan() {
    let server = serve(
        Content::images(1),
        Box::new(|request, _| {
            (request.path() == "/v2/team/app/manifests/t1").then(|| {
                let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
                Reply::new(200)
                    .header("Content-Type", "application/vnd.oci.image.index.v1+json")
                    .header("Docker-Content-Digest", Digest::sha256_of(b"other").to_string())
                    .body(body.to_vec())
            })
        }),
    );
    let error = scan(&client(&server)).unwrap_err().to_string();
    assert!(
        error.contains("does not match the manifest bytes"),
        "{error}"
    );
}

#[test]
fn a_202_for_a_manifest_that_stays_is_reported_as_failed() {
    let server = serve(
        Content::images(3),
        Box::new(|request, _| (request.method == "DELETE").then(|| Reply::new(202))),
    );
    let client = client(&server);
    let inventory = scan(&client).unwrap();
    let plan = plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(plan.deletes().count(), 1);
    let report = futures_executor::block_on(client.apply(&plan, &mut |_, _| {}));
    let Outcome::Failed { reason } = &report.outcomes[0].outcome else {
        panic!("{report:#?}")
    };
    assert!(reason.contains("still serves the manifest"), "{reason}");
    let digest = &plan.deletes().next().unwrap().digest;
    assert_eq!(
        count(&server, "HEAD", &format!("/v2/team/app/manifests/{digest}")),
        1,
        "checked with a HEAD after the 202"
    );
}

#[test]
fn a_delete_that_fails_is_not_retried_and_the_rest_still_get_outcomes() {
    let server = serve(
        Content::images(4),
        Box::new(|request, seen| {
            (request.method == "DELETE" && seen == 0).then(|| {
                Reply::new(500)
                    .header("Content-Type", "text/plain")
                    .body("storage driver error")
            })
        }),
    );
    let client = client(&server);
    let inventory = scan(&client).unwrap();
    let plan = plan(
        &inventory,
        &Policy::keep_newest(1),
        OffsetDateTime::now_utc(),
    );
    let report = futures_executor::block_on(client.apply(&plan, &mut |_, _| {}));
    assert_eq!(report.outcomes.len(), 3);
    assert_eq!(report.counts().failed, 3, "{report:#?}");
    for entry in &report.outcomes {
        let digest = &entry.digest;
        assert_eq!(
            count(
                &server,
                "DELETE",
                &format!("/v2/team/app/manifests/{digest}")
            ),
            1,
            "a DELETE is sent once"
        );
    }
}

#[test]
fn a_lost_child_or_config_is_recorded_not_fatal() {
    let mut content = Content::images(2);
    // An OCI index over t1's manifest and a child the registry lost.
    let t1 = &content.files[&format!("/v2/{REPO}/manifests/t1")].1;
    let present = Digest::sha256_of(t1);
    let lost = Digest::sha256_of(b"a child an older cleaner deleted");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"{DOCKER_MANIFEST}","size":{},"digest":"{present}","platform":{{"os":"linux","architecture":"amd64"}}}},{{"mediaType":"{DOCKER_MANIFEST}","size":10,"digest":"{lost}","platform":{{"os":"linux","architecture":"arm64"}}}}]}}"#,
        t1.len()
    );
    content.put(
        &format!("/v2/{REPO}/manifests/multi"),
        "application/vnd.oci.image.index.v1+json",
        index.into_bytes(),
    );
    content.tags.push("multi".into());
    content.tags.sort();
    // t2's config blob is gone too.
    let t2: serde_json::Value =
        serde_json::from_slice(&content.files[&format!("/v2/{REPO}/manifests/t2")].1).unwrap();
    let t2_config = t2["config"]["digest"].as_str().unwrap().to_owned();
    content
        .files
        .remove(&format!("/v2/{REPO}/blobs/{t2_config}"));

    let server = serve(content, Box::new(|_, _| None));
    let inventory = scan(&client(&server)).expect("the scan goes on");
    let repo = &inventory.repositories[&REPO.parse().unwrap()];
    let multi = &repo.images[&repo.tags[&"multi".parse().unwrap()]];
    assert_eq!(multi.children.len(), 2);
    assert!(repo.images.contains_key(&present));
    assert!(!repo.images.contains_key(&lost));
    let t2 = &repo.images[&repo.tags[&"t2".parse().unwrap()]];
    assert_eq!(t2.created, None, "a lost config leaves the date unknown");
    let plan = plan(
        &inventory,
        &Policy::keep_newest(0),
        OffsetDateTime::now_utc(),
    );
    let t2_entry = plan
        .entries
        .iter()
        .find(|e| e.tags.iter().any(|t| t.as_str() == "t2"))
        .unwrap();
    assert!(!t2_entry.decision.is_delete());
}
