//! Pushes synthetic images through the registry HTTP API (there is no Docker
//! engine here) and reads state back for assertions.

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use ureq::http::{HeaderMap, Request};

/// Media types used by the seeder and its callers.
pub mod media_types {
    /// Docker schema 2 image manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker multi-arch manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker image config blob.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// Docker gzip layer.
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index (multi-arch).
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// OCI image config blob.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// OCI gzip layer.
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
}

use media_types::*;

/// Every manifest type: with fewer, the registry may answer with another
/// digest (a child of a list) or 404 (an OCI index).
pub const MANIFEST_ACCEPT: [&str; 4] = [
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// `sha256:<64 lowercase hex>` of some bytes, the registry's digest form.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// Deterministic pseudo-random bytes: SplitMix64 seeded from sha256(`seed`),
/// cheap enough in debug builds for layers of a few hundred KB.
pub fn pseudo_random_bytes(seed: &str, len: usize) -> Vec<u8> {
    let hash = Sha256::digest(seed.as_bytes());
    let mut state = u64::from_le_bytes(hash[..8].try_into().expect("8 bytes"));
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A failed seeding or reading request.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// No HTTP answer (connection refused, timeout...).
    #[error("{request}: {source}")]
    Transport {
        /// Method and URL.
        request: String,
        /// The client's error.
        #[source]
        source: ureq::Error,
    },
    /// The registry answered with an unexpected status.
    #[error("{request}: unexpected status {status}: {body}")]
    Status {
        /// Method and URL.
        request: String,
        /// HTTP status.
        status: u16,
        /// Start of the response body (registry errors are JSON).
        body: String,
    },
    /// The answer was well-formed HTTP but wrong (bad digest, bad JSON...).
    #[error("{request}: {message}")]
    Invalid {
        /// Method and URL, or what was being done.
        request: String,
        /// What was wrong.
        message: String,
    },
}

/// Docker schema 2 or OCI media types for manifest, config and layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// `application/vnd.docker.distribution.manifest.v2+json`.
    Docker,
    /// `application/vnd.oci.image.manifest.v1+json`.
    Oci,
}

impl ImageFormat {
    /// Media type of the image manifest.
    pub fn manifest_media_type(self) -> &'static str {
        match self {
            ImageFormat::Docker => DOCKER_MANIFEST,
            ImageFormat::Oci => OCI_MANIFEST,
        }
    }

    /// Media type of the config blob.
    pub fn config_media_type(self) -> &'static str {
        match self {
            ImageFormat::Docker => DOCKER_CONFIG,
            ImageFormat::Oci => OCI_CONFIG,
        }
    }

    /// Media type of the layer blobs.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            ImageFormat::Docker => DOCKER_LAYER,
            ImageFormat::Oci => OCI_LAYER,
        }
    }
}

/// What to build; equal specs give byte-identical images (same digest).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// Manifest flavour.
    pub format: ImageFormat,
    /// Config `created`; None leaves the field out, as some builders do.
    pub created: Option<OffsetDateTime>,
    /// Sizes of the layers unique to this image (content derives from `seed`).
    pub layer_sizes: Vec<usize>,
    /// `(seed, size)` layers placed first whose bytes depend only on their own
    /// seed, so images can share a base layer.
    pub base_layers: Vec<(String, usize)>,
    /// Makes the image unique and deterministic; also a config label.
    pub seed: String,
    /// Config `architecture`, e.g. `amd64`.
    pub architecture: String,
    /// Config `os`, e.g. `linux`.
    pub os: String,
}

impl ImageSpec {
    /// A small Docker-format linux/amd64 image with two layers of a few KB.
    pub fn new(seed: impl Into<String>, created: Option<OffsetDateTime>) -> Self {
        Self {
            format: ImageFormat::Docker,
            created,
            layer_sizes: vec![2048, 3072],
            base_layers: Vec::new(),
            seed: seed.into(),
            architecture: "amd64".to_owned(),
            os: "linux".to_owned(),
        }
    }

    /// Same spec in another format.
    pub fn with_format(mut self, format: ImageFormat) -> Self {
        self.format = format;
        self
    }

    /// Same spec with other unique layer sizes.
    pub fn with_layers(mut self, sizes: impl Into<Vec<usize>>) -> Self {
        self.layer_sizes = sizes.into();
        self
    }

    /// Adds a shared base layer (same seed and size = same blob).
    pub fn with_base_layer(mut self, seed: impl Into<String>, size: usize) -> Self {
        self.base_layers.push((seed.into(), size));
        self
    }

    /// Same spec for another platform.
    pub fn with_platform(mut self, architecture: &str, os: &str) -> Self {
        self.architecture = architecture.to_owned();
        self.os = os.to_owned();
        self
    }

    /// Layer contents in manifest order.
    fn layers(&self) -> Vec<Vec<u8>> {
        let base = self
            .base_layers
            .iter()
            .map(|(seed, size)| pseudo_random_bytes(&format!("base-layer/{seed}"), *size));
        let own = self
            .layer_sizes
            .iter()
            .enumerate()
            .map(|(i, size)| pseudo_random_bytes(&format!("layer/{}/{i}", self.seed), *size));
        base.chain(own).collect()
    }

    fn config_json(&self, layers: &[Vec<u8>]) -> Vec<u8> {
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256_digest(l)).collect();
        let mut config = json!({
            "architecture": self.architecture,
            "os": self.os,
            "config": { "Labels": { "seed": self.seed } },
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        });
        if let Some(created) = self.created {
            let created = created
                .to_offset(time::UtcOffset::UTC)
                .format(&Rfc3339)
                .expect("a UTC date within year 0..9999 formats as RFC 3339");
            config["created"] = json!(created);
        }
        serde_json::to_vec(&config).expect("JSON values serialise")
    }
}

/// What was pushed, for assertions.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedImage {
    /// Manifest digest (`sha256:...`).
    pub digest: String,
    /// Manifest media type.
    pub media_type: String,
    /// Exact manifest bytes.
    pub manifest: Vec<u8>,
    /// Config blob digest.
    pub config_digest: String,
    /// Layer blob digests in manifest order.
    pub layer_digests: Vec<String>,
    /// Config plus layer sizes in bytes.
    pub size: u64,
    /// Config `created`, if any.
    pub created: Option<OffsetDateTime>,
}

/// A status, headers and body, read fully so the connection can be reused.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn body_text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut text = text.trim().to_owned();
        if text.len() > 1000 {
            let mut end = 1000;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str("...");
        }
        text
    }
}

/// Pushes and reads images on one registry, with optional basic auth.
#[derive(Debug, Clone)]
pub struct Seeder {
    base: String,
    authorization: Option<String>,
    agent: ureq::Agent,
}

impl Seeder {
    /// `registry_url` is the base such as `http://127.0.0.1:5000`.
    pub fn new(registry_url: &str, basic_auth: Option<(String, String)>) -> Seeder {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let authorization = basic_auth.map(|(user, password)| {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Basic {token}")
        });
        Seeder {
            base: registry_url.trim_end_matches('/').to_owned(),
            authorization,
            agent,
        }
    }

    /// The registry base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Uploads blobs and puts the manifest under every tag (at least one).
    pub fn push_image(
        &self,
        repo: &str,
        spec: &ImageSpec,
        tags: &[&str],
    ) -> Result<PushedImage, SeedError> {
        let Some((first_tag, other_tags)) = tags.split_first() else {
            return Err(SeedError::Invalid {
                request: format!("push image {repo} ({})", spec.seed),
                message: "at least one tag is required".to_owned(),
            });
        };
        let layers = spec.layers();
        let config = spec.config_json(&layers);
        let config_digest = self.push_blob(repo, &config)?;
        let mut layer_descriptors = Vec::with_capacity(layers.len());
        let mut layer_digests = Vec::with_capacity(layers.len());
        for layer in &layers {
            let digest = self.push_blob(repo, layer)?;
            layer_descriptors.push(json!({
                "mediaType": spec.format.layer_media_type(),
                "size": layer.len(),
                "digest": digest,
            }));
            layer_digests.push(digest);
        }
        let media_type = spec.format.manifest_media_type();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": spec.format.config_media_type(),
                "size": config.len(),
                "digest": config_digest,
            },
            "layers": layer_descriptors,
        }))
        .expect("JSON values serialise");
        let digest = self.push_manifest(repo, first_tag, media_type, &manifest)?;
        let image = PushedImage {
            digest,
            media_type: media_type.to_owned(),
            manifest,
            config_digest,
            layer_digests,
            size: (config.len() + layers.iter().map(Vec::len).sum::<usize>()) as u64,
            created: spec.created,
        };
        for tag in other_tags {
            self.tag(repo, tag, &image)?;
        }
        Ok(image)
    }

    /// Puts the same manifest bytes under another tag.
    pub fn tag(&self, repo: &str, tag: &str, image: &PushedImage) -> Result<(), SeedError> {
        self.push_manifest(repo, tag, &image.media_type, &image.manifest)
            .map(drop)
    }

    /// PUTs raw manifest bytes (indexes, signatures...) and returns their
    /// digest after checking the registry computed the same one.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, SeedError> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let reply = self.send("PUT", &url, &[("Content-Type", media_type)], Some(bytes))?;
        let request = format!("PUT {url}");
        expect_status(&request, &reply, 201)?;
        let digest = sha256_digest(bytes);
        match reply.header("Docker-Content-Digest") {
            Some(answered) if answered == digest => Ok(digest),
            answered => Err(SeedError::Invalid {
                request,
                message: format!("Docker-Content-Digest is {answered:?}, expected {digest}"),
            }),
        }
    }

    /// Uploads a blob in one PUT unless the repository already has it.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> Result<String, SeedError> {
        let digest = sha256_digest(bytes);
        let blob_url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        if self.send("HEAD", &blob_url, &[], None)?.status == 200 {
            return Ok(digest);
        }

        let start_url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let reply = self.send("POST", &start_url, &[], Some(&[]))?;
        let request = format!("POST {start_url}");
        expect_status(&request, &reply, 202)?;
        let location = reply.header("Location").ok_or_else(|| SeedError::Invalid {
            request: request.clone(),
            message: "202 without a Location header".to_owned(),
        })?;
        let mut upload_url = self.resolve(location);
        upload_url.push(if upload_url.contains('?') { '&' } else { '?' });
        upload_url.push_str("digest=");
        upload_url.push_str(&digest.replace(':', "%3A"));

        let reply = self.send(
            "PUT",
            &upload_url,
            &[("Content-Type", "application/octet-stream")],
            Some(bytes),
        )?;
        let request = format!("PUT {upload_url}");
        expect_status(&request, &reply, 201)?;
        Ok(digest)
    }

    /// Digest a tag points at, or None when the tag or repository is unknown.
    pub fn tag_digest(&self, repo: &str, tag: &str) -> Result<Option<String>, SeedError> {
        let url = format!("{}/v2/{repo}/manifests/{tag}", self.base);
        let reply = self.send("HEAD", &url, &[("Accept", &accept_manifests())], None)?;
        if reply.status == 404 {
            return Ok(None);
        }
        expect_status(&format!("HEAD {url}"), &reply, 200)?;
        if let Some(digest) = reply.header("Docker-Content-Digest") {
            return Ok(Some(digest.to_owned()));
        }
        // Without the header, the digest is the hash of the exact bytes.
        let reply = self.send("GET", &url, &[("Accept", &accept_manifests())], None)?;
        expect_status(&format!("GET {url}"), &reply, 200)?;
        Ok(Some(sha256_digest(&reply.body)))
    }

    /// Whether a manifest digest still exists in a repository.
    pub fn manifest_exists(&self, repo: &str, digest: &str) -> Result<bool, SeedError> {
        let url = format!("{}/v2/{repo}/manifests/{digest}", self.base);
        let reply = self.send("HEAD", &url, &[("Accept", &accept_manifests())], None)?;
        match reply.status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(status_error(&format!("HEAD {url}"), &reply)),
        }
    }

    /// Tags of a repository, following `Link`; unknown repository = empty.
    pub fn tags(&self, repo: &str) -> Result<Vec<String>, SeedError> {
        let first = format!("{}/v2/{repo}/tags/list", self.base);
        self.paginated(&first, "tags", true)
    }

    /// All repository names, following `Link` (2.8.2 pages by 100).
    pub fn catalog(&self) -> Result<Vec<String>, SeedError> {
        let first = format!("{}/v2/_catalog?n=100", self.base);
        self.paginated(&first, "repositories", false)
    }

    fn paginated(
        &self,
        first: &str,
        field: &str,
        not_found_is_empty: bool,
    ) -> Result<Vec<String>, SeedError> {
        let mut items = Vec::new();
        let mut next = Some(first.to_owned());
        while let Some(url) = next.take() {
            let reply = self.send("GET", &url, &[("Accept", "application/json")], None)?;
            let request = format!("GET {url}");
            if reply.status == 404 && not_found_is_empty {
                break;
            }
            expect_status(&request, &reply, 200)?;
            let page: serde_json::Value =
                serde_json::from_slice(&reply.body).map_err(|err| SeedError::Invalid {
                    request: request.clone(),
                    message: format!("invalid JSON ({err}): {}", reply.body_text()),
                })?;
            // A repository whose tags were all deleted answers `"tags": null`.
            match &page[field] {
                serde_json::Value::Null => {}
                serde_json::Value::Array(values) => {
                    for value in values {
                        let name = value.as_str().ok_or_else(|| SeedError::Invalid {
                            request: request.clone(),
                            message: format!("{field} holds a non-string: {value}"),
                        })?;
                        items.push(name.to_owned());
                    }
                }
                other => {
                    return Err(SeedError::Invalid {
                        request,
                        message: format!("{field} is not a list: {other}"),
                    });
                }
            }
            next = next_link(&reply.headers).map(|link| self.resolve(&link));
        }
        Ok(items)
    }

    /// Makes a `Location` or `Link` target absolute (the registry may send a
    /// path only).
    fn resolve(&self, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            return target.to_owned();
        }
        let origin_end = self
            .base
            .find("://")
            .and_then(|scheme| {
                self.base[scheme + 3..]
                    .find('/')
                    .map(|slash| scheme + 3 + slash)
            })
            .unwrap_or(self.base.len());
        let origin = &self.base[..origin_end];
        if target.starts_with('/') {
            format!("{origin}{target}")
        } else {
            format!("{origin}/{target}")
        }
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, SeedError> {
        let transport = |source| SeedError::Transport {
            request: format!("{method} {url}"),
            source,
        };
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(authorization) = &self.authorization {
            builder = builder.header("Authorization", authorization);
        }
        let response = match body {
            Some(bytes) => builder
                .body(bytes)
                .map_err(|err| transport(err.into()))
                .and_then(|request| self.agent.run(request).map_err(transport)),
            None => builder
                .body(())
                .map_err(|err| transport(err.into()))
                .and_then(|request| self.agent.run(request).map_err(transport)),
        };
        let mut response = response?;
        let status = response.status().as_u16();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response.body_mut().read_to_vec().map_err(transport)?
        };
        Ok(Reply {
            status,
            headers: response.headers().clone(),
            body,
        })
    }
}

/// One Accept header value listing [`MANIFEST_ACCEPT`].
fn accept_manifests() -> String {
    MANIFEST_ACCEPT.join(", ")
}

fn expect_status(request: &str, reply: &Reply, expected: u16) -> Result<(), SeedError> {
    if reply.status == expected {
        Ok(())
    } else {
        Err(status_error(request, reply))
    }
}

fn status_error(request: &str, reply: &Reply) -> SeedError {
    SeedError::Status {
        request: request.to_owned(),
        status: reply.status,
        body: reply.body_text(),
    }
}

/// The target of `Link: <...>; rel="next"`, if any.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("Link")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|link| {
            let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
            let is_next = params.split(';').any(|param| {
                let param = param.trim().replace(' ', "");
                param == "rel=\"next\"" || param == "rel=next"
            });
            is_next.then(|| target.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_form() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn pseudo_random_is_deterministic() {
        assert_eq!(pseudo_random_bytes("a", 100), pseudo_random_bytes("a", 100));
        assert_ne!(pseudo_random_bytes("a", 100), pseudo_random_bytes("b", 100));
        assert_eq!(pseudo_random_bytes("a", 77).len(), 77);
    }

    #[test]
    fn link_parsing() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "Link",
            "</v2/_catalog?last=b&n=100>; rel=\"next\"".parse().unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("/v2/_catalog?last=b&n=100")
        );
        let seeder = Seeder::new("http://127.0.0.1:1/", None);
        assert_eq!(
            seeder.resolve("/v2/x"),
            "http://127.0.0.1:1/v2/x".to_owned()
        );
    }

    #[test]
    fn created_is_rfc3339_utc() {
        let created = time::macros::datetime!(2026-03-01 12:00 +2);
        let spec = ImageSpec::new("s", Some(created));
        let config: serde_json::Value =
            serde_json::from_slice(&spec.config_json(&spec.layers())).unwrap();
        assert_eq!(config["created"], "2026-03-01T10:00:00Z");
    }
}
