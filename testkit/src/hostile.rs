//! A registry stand-in that attacks the client with what it serves: HTML and
//! script in platform names, annotations, media types, artifact types and
//! error messages, and optionally a catalog of many repositories (paged by
//! `Link`). The manifests are otherwise valid (right digests), so a client
//! that renders what it reads shows the payloads; a safe one shows them as
//! inert text.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::faulty::{FaultyServer, Reply, SeenRequest};
use crate::seeder::sha256_digest;

/// Markup that runs script if a page puts it into HTML; each sets
/// `window.__pwned` to say where it came from.
pub fn payload(place: &str) -> String {
    format!(
        "<img src=x onerror=\"window.__pwned='{place}'\"><script>window.__pwned='{place}'</script>"
    )
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The one repository with images.
pub const HOSTILE_REPOSITORY: &str = "hostile/app";
/// Its repository whose tag list answers 403 with a hostile message, when
/// asked for.
pub const FAILING_REPOSITORY: &str = "hostile/denied";
const PAGE: usize = 1000;

/// What the stand-in serves.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostileOptions {
    /// Extra empty repositories in the catalog (`filler/r000000`...).
    pub filler_repositories: usize,
    /// List [`FAILING_REPOSITORY`], whose tag list answers 403 with markup.
    pub failing_repository: bool,
}

struct Content {
    options: HostileOptions,
    /// path -> (content type, body)
    files: BTreeMap<String, (String, Vec<u8>)>,
}

fn put(files: &mut BTreeMap<String, (String, Vec<u8>)>, path: String, kind: &str, body: Vec<u8>) {
    files.insert(path, (kind.to_owned(), body));
}

impl Content {
    fn new(options: HostileOptions) -> Content {
        let mut files = BTreeMap::new();
        let repo = HOSTILE_REPOSITORY;
        let mut children = Vec::new();
        for (n, arch) in ["amd64", "arm64"].into_iter().enumerate() {
            let config = json!({
                "architecture": arch,
                "os": "linux",
                "created": format!("2026-0{}-01T00:00:00Z", n + 1),
                "config": {"Labels": {"evil": payload("label")}},
            })
            .to_string()
            .into_bytes();
            let config_digest = sha256_digest(&config);
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "size": config.len(), "digest": config_digest},
                "layers": [],
                "annotations": {"org.opencontainers.image.title": payload("annotation")},
            })
            .to_string()
            .into_bytes();
            let digest = sha256_digest(&manifest);
            put(
                &mut files,
                format!("/v2/{repo}/blobs/{config_digest}"),
                "application/octet-stream",
                config,
            );
            children.push(json!({
                "mediaType": OCI_MANIFEST,
                "size": manifest.len(),
                "digest": digest,
                "platform": {"os": payload("os"), "architecture": payload("architecture"), "variant": payload("variant")},
            }));
            put(
                &mut files,
                format!("/v2/{repo}/manifests/{digest}"),
                OCI_MANIFEST,
                manifest,
            );
        }
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": children,
            "annotations": {"org.opencontainers.image.created": "2026-03-01T00:00:00Z", "evil": payload("index-annotation")},
        })
        .to_string()
        .into_bytes();
        let index_digest = sha256_digest(&index);
        put(
            &mut files,
            format!("/v2/{repo}/manifests/{index_digest}"),
            OCI_INDEX,
            index.clone(),
        );
        put(
            &mut files,
            format!("/v2/{repo}/manifests/v1"),
            OCI_INDEX,
            index,
        );
        // An artifact whose artifactType carries markup.
        let artifact = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": payload("artifact-type"),
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": sha256_digest(b"{}")},
            "layers": [],
            "annotations": {"org.opencontainers.image.created": "2026-02-01T00:00:00Z"},
        })
        .to_string()
        .into_bytes();
        put(
            &mut files,
            format!("/v2/{repo}/manifests/v2"),
            OCI_MANIFEST,
            artifact.clone(),
        );
        put(
            &mut files,
            format!("/v2/{repo}/manifests/{}", sha256_digest(&artifact)),
            OCI_MANIFEST,
            artifact,
        );
        // A manifest whose media type carries markup (a type no client knows).
        let odd_type = format!("application/x-{}", payload("media-type").replace('"', "'"));
        let odd = json!({"schemaVersion": 2, "mediaType": odd_type, "layers": []})
            .to_string()
            .into_bytes();
        put(
            &mut files,
            format!("/v2/{repo}/manifests/v3"),
            &odd_type,
            odd.clone(),
        );
        put(
            &mut files,
            format!("/v2/{repo}/manifests/{}", sha256_digest(&odd)),
            &odd_type,
            odd,
        );
        Content { options, files }
    }

    fn catalog(&self) -> Vec<String> {
        let mut names = vec![HOSTILE_REPOSITORY.to_owned()];
        if self.options.failing_repository {
            names.push(FAILING_REPOSITORY.to_owned());
        }
        names.extend((0..self.options.filler_repositories).map(|n| format!("filler/r{n:06}")));
        names.sort();
        names
    }

    fn answer(&self, request: &SeenRequest) -> Reply {
        let path = request.path();
        if path == "/v2/" {
            return Reply::json(200, &json!({}));
        }
        if path == "/v2/_catalog" {
            let names = self.catalog();
            let last = request
                .query_pairs()
                .into_iter()
                .find(|(k, _)| k == "last")
                .map(|(_, v)| v);
            let start = last.map_or(0, |last| {
                names.partition_point(|n| n.as_str() <= last.as_str())
            });
            let page: Vec<&String> = names.iter().skip(start).take(PAGE).collect();
            let mut reply = Reply::json(200, &json!({"repositories": page}));
            if start + PAGE < names.len() {
                let last = page.last().map(|s| s.as_str()).unwrap_or_default();
                reply = reply.header(
                    "Link",
                    format!("</v2/_catalog?last={last}&n={PAGE}>; rel=\"next\""),
                );
            }
            return reply;
        }
        if let Some(repo) = path
            .strip_prefix("/v2/")
            .and_then(|p| p.strip_suffix("/tags/list"))
        {
            return match repo {
                HOSTILE_REPOSITORY => {
                    Reply::json(200, &json!({"name": repo, "tags": ["v1", "v2", "v3"]}))
                }
                FAILING_REPOSITORY => Reply::json(
                    403,
                    &json!({"errors": [{"code": "DENIED", "message": payload("error-message"), "detail": payload("error-detail")}]}),
                ),
                _ => Reply::json(200, &json!({"name": repo, "tags": Value::Null})),
            };
        }
        match self.files.get(path) {
            Some((kind, body)) => {
                let mut reply = Reply::new(200).header("Content-Type", kind.clone());
                if path.contains("/manifests/") {
                    reply = reply.header("Docker-Content-Digest", sha256_digest(body));
                }
                if request.method == "HEAD" {
                    reply.header("Content-Length", body.len().to_string())
                } else {
                    reply.body(body.clone())
                }
            }
            None => Reply::json(
                404,
                &json!({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}),
            ),
        }
    }
}

/// Starts the stand-in on a free loopback port.
pub fn hostile_registry(options: HostileOptions) -> io::Result<FaultyServer> {
    let content = Arc::new(Content::new(options));
    FaultyServer::start(move |request| content.answer(request))
}
