//! Pushes synthetic images through the registry HTTP API (there is no Docker
//! engine here) and reads state back for assertions.
//!
//! Every kind of manifest a cleaner meets can be made: Docker schema2 and OCI
//! images, OCI image indexes and Docker manifest lists (multi-arch), OCI
//! artifacts (non-image config or `artifactType`, optionally with a
//! `subject`), cosign-style `sha256-<hex>.sig`/`.att`/`.sbom` tags and the OCI
//! referrers tag-schema fallback index `sha256-<hex>`. Bytes are exact and
//! deterministic: equal specs give equal digests.
//!
//! # What Distribution 2.8.2 (Debian's `docker-registry`) does with them
//!
//! Checked by `testkit/tests/manifest_kinds.rs` against the real server:
//!
//! - It accepts every kind above. It checks that the blobs an image manifest
//!   references (config, layers) and the manifests an index or list
//!   references exist *in the same repository*, so the seeder pushes those
//!   first (index children by digest, untagged).
//! - It accepts OCI manifests carrying `subject` and `artifactType` and a
//!   non-image `config.mediaType` (Helm, `application/vnd.oci.empty.v1+json`),
//!   stores the bytes unchanged and serves them back with the same digest,
//!   but it ignores those fields: it does not check that the subject exists.
//! - It has no referrers API: `GET /v2/<name>/referrers/<digest>` (with or
//!   without `Accept: application/vnd.oci.image.index.v1+json` or an
//!   `artifactType` filter) answers `404` with the router's plain-text
//!   `404 page not found`, not a JSON registry error; clients must fall back
//!   to the `sha256-<hex>` tag. A manifest PUT with a `subject` gets no
//!   `OCI-Subject` header.
//! - An index that lists a manifest not in the repository is refused with
//!   `400 MANIFEST_BLOB_UNKNOWN`.
//! - A GET that accepts all four manifest types returns the exact bytes that
//!   were PUT, with `Content-Type` = the manifest's media type and
//!   `Docker-Content-Digest` = sha256 of those bytes. Accepting fewer: a
//!   Docker manifest list is answered with its linux/amd64 child (another
//!   digest), an OCI index with `404`.
//!
//! # Authentication
//!
//! Basic credentials are sent with every request. When the registry answers
//! `401` with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`, the
//! seeder GETs the realm with `service` and `scope` (and the Basic
//! credentials), takes `token` or `access_token`, retries once with
//! `Authorization: Bearer`, and caches the token per scope string until
//! `expires_in` (60 s if absent). Against 2.8.2 with `auth: token`, pushing
//! an image takes two tokens (`repository:<name>:push,pull` and `:pull`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Serialize;
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
    /// OCI 1.1 empty descriptor: the 2-byte blob `{}` used as the config
    /// (and sole layer) of artifacts that have no config.
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// Helm chart config blob (a chart pushed with `helm push`).
    pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
    /// Helm chart content layer.
    pub const HELM_CHART_CONTENT: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    /// Layer of a cosign signature (`sha256-<hex>.sig`).
    pub const COSIGN_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    /// Layer of a cosign attestation (`sha256-<hex>.att`).
    pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
    /// Layer of a cosign-attached SPDX SBOM (`sha256-<hex>.sbom`).
    pub const SPDX_JSON: &str = "text/spdx+json";
}

/// The OCI 1.1 empty JSON blob: exactly the two bytes `{}`.
pub const EMPTY_JSON: &[u8] = b"{}";

/// Digest of [`EMPTY_JSON`].
pub const EMPTY_JSON_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// Annotation that carries a build date on a manifest or index.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// Layer annotation holding a cosign signature (base64).
pub const COSIGN_SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

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

    /// Media type of an index over images of this format: an OCI image
    /// index for OCI, a Docker manifest list for Docker.
    pub fn index_media_type(self) -> &'static str {
        match self {
            ImageFormat::Docker => DOCKER_MANIFEST_LIST,
            ImageFormat::Oci => OCI_INDEX,
        }
    }
}

/// `architecture`, `os` and optional `variant`, as an index entry lists them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Platform {
    /// E.g. `amd64`, `arm64`, `arm`.
    pub architecture: String,
    /// E.g. `linux`.
    pub os: String,
    /// E.g. `v8` for arm64 or `v7` for arm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// A platform without variant.
    pub fn new(architecture: &str, os: &str) -> Platform {
        Platform {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            variant: None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// A reference to a blob or manifest, serialised exactly as the seeder writes
/// it into manifests (`mediaType`, `digest`, `size`, then optional
/// `artifactType`, `platform`, `annotations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// `sha256:<hex>` of the referenced bytes.
    pub digest: String,
    /// Length of the referenced bytes.
    pub size: u64,
    /// Artifact type (referrer descriptors in an index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Platform (index entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Descriptor annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// Describes exactly these bytes.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: sha256_digest(bytes),
            size: bytes.len() as u64,
            artifact_type: None,
            platform: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The OCI 1.1 empty descriptor (`{}`, [`EMPTY_JSON_DIGEST`], size 2).
    pub fn empty() -> Descriptor {
        Descriptor::of(OCI_EMPTY, EMPTY_JSON)
    }
}

/// An OCI image manifest (also an artifact), in the field order clients write.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OciManifestDocument<'a> {
    schema_version: u32,
    media_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'a str>,
    config: &'a Descriptor,
    layers: &'a [Descriptor],
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a Descriptor>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// An OCI image index or Docker manifest list.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IndexDocument<'a> {
    schema_version: u32,
    media_type: &'a str,
    manifests: &'a [Descriptor],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("manifest documents serialise")
}

fn rfc3339(date: OffsetDateTime) -> String {
    date.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("a UTC date within year 0..9999 formats as RFC 3339")
}

/// What to build; equal specs give byte-identical images (same digest).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// Manifest flavour.
    pub format: ImageFormat,
    /// Config `created`; None leaves the field out, as some builders do.
    pub created: Option<OffsetDateTime>,
    /// Config `created` written verbatim, whatever it holds (e.g.
    /// `1970-01-01T00:00:00Z` or `not a date`); wins over `created`.
    pub created_raw: Option<String>,
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
    /// Config `variant`, e.g. `v7` for arm; None leaves it out.
    pub variant: Option<String>,
    /// Manifest-level `annotations` (left out when empty), e.g.
    /// [`CREATED_ANNOTATION`]. Docker schema2 has no such field, but the
    /// registry stores and serves the bytes as they are.
    pub annotations: BTreeMap<String, String>,
}

impl ImageSpec {
    /// A small Docker-format linux/amd64 image with two layers of a few KB.
    pub fn new(seed: impl Into<String>, created: Option<OffsetDateTime>) -> Self {
        Self {
            format: ImageFormat::Docker,
            created,
            created_raw: None,
            layer_sizes: vec![2048, 3072],
            base_layers: Vec::new(),
            seed: seed.into(),
            architecture: "amd64".to_owned(),
            os: "linux".to_owned(),
            variant: None,
            annotations: BTreeMap::new(),
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

    /// Sets the platform variant (config `variant` and the index entry's).
    pub fn with_variant(mut self, variant: &str) -> Self {
        self.variant = Some(variant.to_owned());
        self
    }

    /// Writes `created` verbatim into the config (and forgets `created`).
    pub fn with_created_raw(mut self, created: impl Into<String>) -> Self {
        self.created = None;
        self.created_raw = Some(created.into());
        self
    }

    /// Adds a manifest annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Adds the manifest annotation `org.opencontainers.image.created`.
    pub fn with_created_annotation(self, created: OffsetDateTime) -> Self {
        self.with_annotation(CREATED_ANNOTATION, rfc3339(created))
    }

    /// The platform an index lists this image under.
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
        }
    }

    /// The config `created` string exactly as written, if any.
    pub fn created_string(&self) -> Option<String> {
        match (&self.created_raw, self.created) {
            (Some(raw), _) => Some(raw.clone()),
            (None, Some(created)) => Some(rfc3339(created)),
            (None, None) => None,
        }
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
        if let Some(variant) = &self.variant {
            config["variant"] = json!(variant);
        }
        if let Some(created) = self.created_string() {
            config["created"] = json!(created);
        }
        serde_json::to_vec(&config).expect("JSON values serialise")
    }

    /// Config, layers and manifest bytes, without touching a registry.
    fn build(&self) -> BuiltImage {
        let layers = self.layers();
        let config = self.config_json(&layers);
        let layer_descriptors: Vec<serde_json::Value> = layers
            .iter()
            .map(|layer| {
                json!({
                    "mediaType": self.format.layer_media_type(),
                    "size": layer.len(),
                    "digest": sha256_digest(layer),
                })
            })
            .collect();
        let media_type = self.format.manifest_media_type();
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": self.format.config_media_type(),
                "size": config.len(),
                "digest": sha256_digest(&config),
            },
            "layers": layer_descriptors,
        });
        if !self.annotations.is_empty() {
            manifest["annotations"] = json!(self.annotations);
        }
        let manifest = serde_json::to_vec(&manifest).expect("JSON values serialise");
        let created_raw = self.created_string();
        let created = match &self.created_raw {
            None => self.created,
            Some(raw) => OffsetDateTime::parse(raw, &Rfc3339).ok(),
        };
        let image = PushedImage {
            digest: sha256_digest(&manifest),
            media_type: media_type.to_owned(),
            config_digest: sha256_digest(&config),
            layer_digests: layers.iter().map(|layer| sha256_digest(layer)).collect(),
            size: (config.len() + layers.iter().map(Vec::len).sum::<usize>()) as u64,
            manifest,
            created,
            created_raw,
            annotations: self.annotations.clone(),
            platform: self.platform(),
        };
        BuiltImage {
            config,
            layers,
            image,
        }
    }
}

/// An image's blobs and what its push will report.
struct BuiltImage {
    config: Vec<u8>,
    layers: Vec<Vec<u8>>,
    image: PushedImage,
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
    /// Config `created`, if any and valid RFC 3339 (a raw
    /// `1970-01-01T00:00:00Z` gives the epoch, `not a date` gives None).
    pub created: Option<OffsetDateTime>,
    /// Config `created` exactly as written, if any.
    pub created_raw: Option<String>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// Config platform (what an index lists it under).
    pub platform: Platform,
}

impl PushedImage {
    /// Descriptor of the manifest (no platform), e.g. for a `subject`.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::of(&self.media_type, &self.manifest)
    }
}

/// A multi-arch image: an OCI image index or a Docker manifest list.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    /// [`ImageFormat::Oci`] = OCI image index, [`ImageFormat::Docker`] =
    /// Docker manifest list.
    pub format: ImageFormat,
    /// One image per entry, in index order; each is pushed by digest
    /// (untagged) first and listed with its platform. Equal specs give the
    /// same child, so two indexes can share one.
    pub children: Vec<ImageSpec>,
    /// Index `annotations` (left out when empty), e.g.
    /// [`CREATED_ANNOTATION`]. Docker manifest lists have no such field in
    /// their schema, but the registry keeps the bytes as they are.
    pub annotations: BTreeMap<String, String>,
    /// Tags for the index; none = pushed by digest only.
    pub tags: Vec<String>,
}

impl IndexSpec {
    /// An index in `format` over `children`, each converted to `format`.
    pub fn new(format: ImageFormat, children: impl IntoIterator<Item = ImageSpec>) -> Self {
        IndexSpec {
            format,
            children: children
                .into_iter()
                .map(|child| child.with_format(format))
                .collect(),
            annotations: BTreeMap::new(),
            tags: Vec::new(),
        }
    }

    /// Adds an index annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Adds the index annotation `org.opencontainers.image.created`.
    pub fn with_created_annotation(self, created: OffsetDateTime) -> Self {
        self.with_annotation(CREATED_ANNOTATION, rfc3339(created))
    }

    /// Adds a tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
}

/// A pushed index and its children.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedIndex {
    /// Index digest.
    pub digest: String,
    /// OCI index or Docker manifest list media type.
    pub media_type: String,
    /// Exact index bytes.
    pub manifest: Vec<u8>,
    /// The children in index order.
    pub children: Vec<PushedImage>,
    /// Sum of the children's config plus layer sizes (a blob two children
    /// share counts for each).
    pub size: u64,
    /// Index annotations.
    pub annotations: BTreeMap<String, String>,
    /// Tags the index was pushed under.
    pub tags: Vec<String>,
}

impl PushedIndex {
    /// Descriptor of the index manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::of(&self.media_type, &self.manifest)
    }

    /// The children's digests in index order.
    pub fn child_digests(&self) -> Vec<String> {
        self.children
            .iter()
            .map(|child| child.digest.clone())
            .collect()
    }

    /// The newest config `created` among the children: the index's age.
    pub fn newest_child_created(&self) -> Option<OffsetDateTime> {
        self.children.iter().filter_map(|child| child.created).max()
    }
}

/// A blob an artifact carries as a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactBlob {
    /// Layer media type.
    pub media_type: String,
    /// Exact content.
    pub bytes: Vec<u8>,
    /// Layer descriptor annotations.
    pub annotations: BTreeMap<String, String>,
}

impl ArtifactBlob {
    /// A layer with these bytes and no annotations.
    pub fn new(media_type: &str, bytes: impl Into<Vec<u8>>) -> ArtifactBlob {
        ArtifactBlob {
            media_type: media_type.to_owned(),
            bytes: bytes.into(),
            annotations: BTreeMap::new(),
        }
    }

    /// Adds a layer annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }
}

/// An OCI artifact: an OCI image manifest whose config is not an image
/// config (Helm...) or that sets `artifactType` over the empty config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactSpec {
    /// Top-level `artifactType`; None leaves it out.
    pub artifact_type: Option<String>,
    /// Config media type, e.g. [`media_types::HELM_CONFIG`] or
    /// [`media_types::OCI_EMPTY`].
    pub config_media_type: String,
    /// Config bytes ([`EMPTY_JSON`] for the empty config).
    pub config: Vec<u8>,
    /// Layers; none = the single empty descriptor, as OCI 1.1 recommends.
    pub blobs: Vec<ArtifactBlob>,
    /// The manifest this artifact refers to (OCI 1.1 `subject`).
    pub subject: Option<Descriptor>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// Tag; None = pushed by digest only.
    pub tag: Option<String>,
}

impl ArtifactSpec {
    /// A Helm chart as `helm push` stores it: Helm config JSON and one chart
    /// content layer (pseudo-random bytes derived from name and version).
    pub fn helm_chart(name: &str, version: &str) -> ArtifactSpec {
        let config = to_json(&json!({
            "apiVersion": "v2",
            "name": name,
            "version": version,
            "description": "A synthetic chart from cleanreg-testkit",
            "type": "application",
        }));
        let chart = pseudo_random_bytes(&format!("helm-chart/{name}/{version}"), 1024);
        ArtifactSpec {
            artifact_type: None,
            config_media_type: HELM_CONFIG.to_owned(),
            config,
            blobs: vec![ArtifactBlob::new(HELM_CHART_CONTENT, chart)],
            subject: None,
            annotations: BTreeMap::new(),
            tag: None,
        }
    }

    /// An OCI 1.1 artifact: `artifactType` set, empty config, no layers yet
    /// (add some with [`ArtifactSpec::with_blob`]).
    pub fn typed(artifact_type: &str) -> ArtifactSpec {
        ArtifactSpec {
            artifact_type: Some(artifact_type.to_owned()),
            config_media_type: OCI_EMPTY.to_owned(),
            config: EMPTY_JSON.to_vec(),
            blobs: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
            tag: None,
        }
    }

    /// Adds a layer.
    pub fn with_blob(mut self, blob: ArtifactBlob) -> Self {
        self.blobs.push(blob);
        self
    }

    /// Sets the `subject` (makes this a referrer of that manifest).
    pub fn with_subject(mut self, subject: Descriptor) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Adds a manifest annotation.
    pub fn with_annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Sets the tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }
}

/// A pushed artifact, cosign signature or attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedArtifact {
    /// Manifest digest.
    pub digest: String,
    /// Always the OCI image manifest media type.
    pub media_type: String,
    /// Exact manifest bytes.
    pub manifest: Vec<u8>,
    /// Top-level `artifactType`, if written.
    pub artifact_type: Option<String>,
    /// Config media type.
    pub config_media_type: String,
    /// Config blob digest.
    pub config_digest: String,
    /// Layer digests in manifest order.
    pub layer_digests: Vec<String>,
    /// Layer media types in manifest order.
    pub layer_media_types: Vec<String>,
    /// Config plus layer sizes in bytes.
    pub size: u64,
    /// The `subject` field's digest, if written.
    pub subject: Option<String>,
    /// The digest this artifact belongs to: its `subject`, or for a cosign
    /// tag the digest named by the tag (which need not exist).
    pub attached_to: Option<String>,
    /// Manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// Tag, if any.
    pub tag: Option<String>,
}

impl PushedArtifact {
    /// Descriptor as a referrers list shows it: `artifactType` is the
    /// manifest's, or its config media type when it has none; annotations
    /// are the manifest's.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            artifact_type: Some(
                self.artifact_type
                    .clone()
                    .unwrap_or_else(|| self.config_media_type.clone()),
            ),
            annotations: self.annotations.clone(),
            ..Descriptor::of(&self.media_type, &self.manifest)
        }
    }
}

/// What cosign attaches under `sha256-<hex>.<suffix>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CosignKind {
    /// `cosign sign`: `.sig`, a simple-signing layer.
    Signature,
    /// `cosign attest`: `.att`, a DSSE envelope layer.
    Attestation,
    /// `cosign attach sbom`: `.sbom`, an SPDX JSON layer.
    Sbom,
}

impl CosignKind {
    /// `sig`, `att` or `sbom`.
    pub fn suffix(self) -> &'static str {
        match self {
            CosignKind::Signature => "sig",
            CosignKind::Attestation => "att",
            CosignKind::Sbom => "sbom",
        }
    }

    /// Media type of the single layer.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            CosignKind::Signature => COSIGN_SIMPLE_SIGNING,
            CosignKind::Attestation => DSSE_ENVELOPE,
            CosignKind::Sbom => SPDX_JSON,
        }
    }
}

/// `sha256-<hex>.<sig|att|sbom>`, the tag cosign stores an attachment under.
pub fn cosign_tag(subject_digest: &str, kind: CosignKind) -> String {
    format!("{}.{}", referrers_tag(subject_digest), kind.suffix())
}

/// `sha256-<hex>`: the OCI referrers tag-schema fallback tag of a digest.
pub fn referrers_tag(subject_digest: &str) -> String {
    subject_digest.replacen(':', "-", 1)
}

fn check_digest(request: &str, digest: &str) -> Result<(), SeedError> {
    let valid = digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if valid {
        Ok(())
    } else {
        Err(SeedError::Invalid {
            request: request.to_owned(),
            message: format!("{digest:?} is not a sha256:<64 lowercase hex> digest"),
        })
    }
}

/// A referrers fallback index: an OCI index tagged `sha256-<hex>` that lists
/// the manifests whose `subject` is that digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedReferrersIndex {
    /// Index digest.
    pub digest: String,
    /// Always the OCI index media type.
    pub media_type: String,
    /// Exact index bytes.
    pub manifest: Vec<u8>,
    /// `sha256-<hex>` of the subject.
    pub tag: String,
    /// The subject digest.
    pub subject: String,
    /// The listed referrers.
    pub referrers: Vec<Descriptor>,
}

/// A reply read back from the registry through the seeder (with its auth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// `Docker-Content-Digest`, if any.
    pub docker_content_digest: Option<String>,
    /// Body bytes (empty for HEAD).
    pub body: Vec<u8>,
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

    fn fetched(self) -> Fetched {
        Fetched {
            status: self.status,
            content_type: self.header("Content-Type").map(str::to_owned),
            docker_content_digest: self.header("Docker-Content-Digest").map(str::to_owned),
            body: self.body,
        }
    }
}

/// Bearer tokens the seeder has been given, shared by its clones.
#[derive(Default)]
struct AuthState {
    /// The registry answered with a Bearer challenge at least once, so
    /// Basic is not sent preemptively any more.
    bearer: bool,
    /// Token per challenge `scope` string.
    tokens: HashMap<String, CachedToken>,
    /// Scope last demanded per request kind (method class and repository),
    /// so the next such request carries its token at once.
    scopes: HashMap<String, String>,
}

struct CachedToken {
    token: String,
    expires: Option<Instant>,
}

/// Pushes and reads images on one registry. Authenticates with Basic
/// credentials when given; a `401` carrying `WWW-Authenticate: Bearer
/// realm=...,service=...,scope=...` makes it fetch a token from the realm
/// (with the Basic credentials, if any), cache it per scope and retry.
#[derive(Clone)]
pub struct Seeder {
    base: String,
    authorization: Option<String>,
    agent: ureq::Agent,
    auth: Arc<Mutex<AuthState>>,
}

impl fmt::Debug for Seeder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seeder")
            .field("base", &self.base)
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
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
            auth: Arc::default(),
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
        let image = self.push_image_blobs(repo, spec)?;
        self.push_manifest(repo, first_tag, &image.media_type, &image.manifest)?;
        for tag in other_tags {
            self.tag(repo, tag, &image)?;
        }
        Ok(image)
    }

    /// For bulk seeding (the benchmark): uploads the config without asking
    /// first whether the repository has it, the layers only when
    /// `upload_layers` (the repository lacks them), then puts the manifest
    /// under every tag.
    pub fn push_image_bulk(
        &self,
        repo: &str,
        spec: &ImageSpec,
        tags: &[&str],
        upload_layers: bool,
    ) -> Result<PushedImage, SeedError> {
        let built = spec.build();
        self.push_blob_unchecked(repo, &built.config)?;
        if upload_layers {
            for layer in &built.layers {
                self.push_blob_unchecked(repo, layer)?;
            }
        }
        for tag in tags {
            self.push_manifest(repo, tag, &built.image.media_type, &built.image.manifest)?;
        }
        Ok(built.image)
    }

    /// Uploads blobs and puts the manifest by its digest, untagged (as an
    /// index child is).
    pub fn push_image_untagged(
        &self,
        repo: &str,
        spec: &ImageSpec,
    ) -> Result<PushedImage, SeedError> {
        let image = self.push_image_blobs(repo, spec)?;
        self.push_manifest(repo, &image.digest, &image.media_type, &image.manifest)?;
        Ok(image)
    }

    fn push_image_blobs(&self, repo: &str, spec: &ImageSpec) -> Result<PushedImage, SeedError> {
        let built = spec.build();
        self.push_blob(repo, &built.config)?;
        for layer in &built.layers {
            self.push_blob(repo, layer)?;
        }
        Ok(built.image)
    }

    /// Puts the same manifest bytes under another tag.
    pub fn tag(&self, repo: &str, tag: &str, image: &PushedImage) -> Result<(), SeedError> {
        self.push_manifest(repo, tag, &image.media_type, &image.manifest)
            .map(drop)
    }

    /// Pushes every child by digest (untagged), then the OCI index or Docker
    /// manifest list listing them with their platforms, under each tag of
    /// the spec (by digest when it has none).
    pub fn push_index(&self, repo: &str, spec: &IndexSpec) -> Result<PushedIndex, SeedError> {
        let mut children = Vec::with_capacity(spec.children.len());
        for child in &spec.children {
            children.push(self.push_image_untagged(repo, child)?);
        }
        let descriptors: Vec<Descriptor> = children
            .iter()
            .map(|child| Descriptor {
                platform: Some(child.platform.clone()),
                ..child.descriptor()
            })
            .collect();
        let media_type = spec.format.index_media_type();
        let manifest = to_json(&IndexDocument {
            schema_version: 2,
            media_type,
            manifests: &descriptors,
            annotations: &spec.annotations,
        });
        let digest = self.push_tagged(repo, &spec.tags, media_type, &manifest)?;
        Ok(PushedIndex {
            digest,
            media_type: media_type.to_owned(),
            manifest,
            size: children.iter().map(|child| child.size).sum(),
            children,
            annotations: spec.annotations.clone(),
            tags: spec.tags.clone(),
        })
    }

    /// Pushes an artifact's config and layers, then its OCI manifest under
    /// its tag (by digest when it has none). The subject need not exist:
    /// 2.8.2 does not check it.
    pub fn push_artifact(
        &self,
        repo: &str,
        spec: &ArtifactSpec,
    ) -> Result<PushedArtifact, SeedError> {
        self.push_blob(repo, &spec.config)?;
        let config = Descriptor::of(&spec.config_media_type, &spec.config);
        let layers: Vec<Descriptor> = if spec.blobs.is_empty() {
            self.push_blob(repo, EMPTY_JSON)?;
            vec![Descriptor::empty()]
        } else {
            let mut layers = Vec::with_capacity(spec.blobs.len());
            for blob in &spec.blobs {
                self.push_blob(repo, &blob.bytes)?;
                layers.push(Descriptor {
                    annotations: blob.annotations.clone(),
                    ..Descriptor::of(&blob.media_type, &blob.bytes)
                });
            }
            layers
        };
        let manifest = to_json(&OciManifestDocument {
            schema_version: 2,
            media_type: OCI_MANIFEST,
            artifact_type: spec.artifact_type.as_deref(),
            config: &config,
            layers: &layers,
            subject: spec.subject.as_ref(),
            annotations: &spec.annotations,
        });
        let tags: Vec<String> = spec.tag.iter().cloned().collect();
        let digest = self.push_tagged(repo, &tags, OCI_MANIFEST, &manifest)?;
        let subject = spec.subject.as_ref().map(|subject| subject.digest.clone());
        Ok(PushedArtifact {
            digest,
            media_type: OCI_MANIFEST.to_owned(),
            manifest,
            artifact_type: spec.artifact_type.clone(),
            config_media_type: spec.config_media_type.clone(),
            config_digest: config.digest,
            size: config.size + layers.iter().map(|layer| layer.size).sum::<u64>(),
            layer_digests: layers.iter().map(|layer| layer.digest.clone()).collect(),
            layer_media_types: layers.into_iter().map(|layer| layer.media_type).collect(),
            attached_to: subject.clone(),
            subject,
            annotations: spec.annotations.clone(),
            tag: spec.tag.clone(),
        })
    }

    /// Pushes what cosign would attach to `subject_digest` and tags it
    /// `sha256-<hex>.sig|.att|.sbom`: an OCI manifest without `subject` or
    /// `artifactType`, with an OCI image config that has no `created` and one
    /// layer of the kind's media type. The subject need not exist in the
    /// repository (an orphan signature). Content depends only on `repo`,
    /// the subject and the kind.
    pub fn push_cosign(
        &self,
        repo: &str,
        subject_digest: &str,
        kind: CosignKind,
    ) -> Result<PushedArtifact, SeedError> {
        let tag = cosign_tag(subject_digest, kind);
        check_digest(&format!("push {repo}:{tag}"), subject_digest)?;
        let blob = cosign_layer(repo, subject_digest, kind);
        let config = to_json(&json!({
            "architecture": "",
            "os": "",
            "config": {},
            "rootfs": { "type": "layers", "diff_ids": [sha256_digest(&blob.bytes)] },
        }));
        let spec = ArtifactSpec {
            artifact_type: None,
            config_media_type: OCI_CONFIG.to_owned(),
            config,
            blobs: vec![blob],
            subject: None,
            annotations: BTreeMap::new(),
            tag: Some(tag),
        };
        let mut pushed = self.push_artifact(repo, &spec)?;
        pushed.attached_to = Some(subject_digest.to_owned());
        Ok(pushed)
    }

    /// Tags `sha256-<hex>` of `subject_digest` with an OCI index listing
    /// `referrers` (descriptors of manifests already in the repository,
    /// e.g. [`PushedArtifact::descriptor`]), as OCI 1.1 clients do on
    /// registries without the referrers API.
    pub fn push_referrers_index(
        &self,
        repo: &str,
        subject_digest: &str,
        referrers: &[Descriptor],
    ) -> Result<PushedReferrersIndex, SeedError> {
        let tag = referrers_tag(subject_digest);
        check_digest(&format!("push {repo}:{tag}"), subject_digest)?;
        let manifest = to_json(&IndexDocument {
            schema_version: 2,
            media_type: OCI_INDEX,
            manifests: referrers,
            annotations: &BTreeMap::new(),
        });
        let digest = self.push_manifest(repo, &tag, OCI_INDEX, &manifest)?;
        Ok(PushedReferrersIndex {
            digest,
            media_type: OCI_INDEX.to_owned(),
            manifest,
            tag,
            subject: subject_digest.to_owned(),
            referrers: referrers.to_vec(),
        })
    }

    /// PUTs a manifest under each tag, or by digest when there is none.
    fn push_tagged(
        &self,
        repo: &str,
        tags: &[String],
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, SeedError> {
        let mut digest = sha256_digest(bytes);
        if tags.is_empty() {
            return self.push_manifest(repo, &digest, media_type, bytes);
        }
        for tag in tags {
            digest = self.push_manifest(repo, tag, media_type, bytes)?;
        }
        Ok(digest)
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
        self.push_blob_unchecked(repo, bytes)
    }

    /// Uploads a blob in one PUT (Distribution 2.x ignores a digest on the
    /// POST), without asking first whether the repository has it.
    pub fn push_blob_unchecked(&self, repo: &str, bytes: &[u8]) -> Result<String, SeedError> {
        let digest = sha256_digest(bytes);
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

    /// GETs a manifest accepting all four manifest types; None on 404.
    pub fn fetch_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<Fetched>, SeedError> {
        self.fetch_manifest_as(repo, reference, &accept_manifests())
    }

    /// GETs a manifest with this `Accept` value; None on 404 (which 2.8.2
    /// also answers when it will not serve the manifest in that type).
    pub fn fetch_manifest_as(
        &self,
        repo: &str,
        reference: &str,
        accept: &str,
    ) -> Result<Option<Fetched>, SeedError> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let reply = self.send("GET", &url, &[("Accept", accept)], None)?;
        match reply.status {
            200 => Ok(Some(reply.fetched())),
            404 => Ok(None),
            _ => Err(status_error(&format!("GET {url}"), &reply)),
        }
    }

    /// A blob's bytes, checked against its digest; None on 404.
    pub fn fetch_blob(&self, repo: &str, digest: &str) -> Result<Option<Vec<u8>>, SeedError> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let reply = self.send("GET", &url, &[], None)?;
        let request = format!("GET {url}");
        match reply.status {
            200 if sha256_digest(&reply.body) == digest => Ok(Some(reply.body)),
            200 => Err(SeedError::Invalid {
                request,
                message: format!("body hashes to {}", sha256_digest(&reply.body)),
            }),
            404 => Ok(None),
            _ => Err(status_error(&request, &reply)),
        }
    }

    /// Any GET on the registry (`path` such as `/v2/x/referrers/sha256:...`),
    /// with the seeder's authentication; every status is returned as is.
    pub fn get(&self, path: &str, accept: Option<&str>) -> Result<Fetched, SeedError> {
        let url = format!("{}{path}", self.base);
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        Ok(self.send("GET", &url, &headers, None)?.fetched())
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

    /// Sends a request, answering one Bearer challenge: on a `401` with
    /// `WWW-Authenticate: Bearer ...` it gets a token for the challenge's
    /// scope (cached) and sends the request once more with it.
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, SeedError> {
        let kind = request_kind(method, url);
        let first_authorization = self.known_authorization(&kind);
        let reply = self.send_once(method, url, headers, body, first_authorization.as_deref())?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let Some(challenge) = bearer_challenge(&reply.headers) else {
            return Ok(reply);
        };
        let scope = challenge.param("scope").unwrap_or_default().to_owned();
        let rejected = first_authorization
            .as_deref()
            .and_then(|value| value.strip_prefix("Bearer "));
        let token = self.bearer_token(&challenge, &scope, rejected)?;
        {
            let mut state = self.auth_state();
            state.bearer = true;
            state.scopes.insert(kind, scope);
        }
        let authorization = format!("Bearer {token}");
        self.send_once(method, url, headers, body, Some(&authorization))
    }

    /// The `Authorization` to send before any challenge: a cached Bearer
    /// token for the scope this kind of request needed last time, else Basic
    /// (unless the registry is known to want Bearer).
    fn known_authorization(&self, kind: &str) -> Option<String> {
        let state = self.auth_state();
        if !state.bearer {
            return self.authorization.clone();
        }
        let cached = state.tokens.get(state.scopes.get(kind)?)?;
        cached
            .expires
            .is_none_or(|expires| Instant::now() < expires)
            .then(|| format!("Bearer {}", cached.token))
    }

    fn auth_state(&self) -> std::sync::MutexGuard<'_, AuthState> {
        self.auth.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A token for `scope`: the cached one unless it just got rejected or
    /// expired, else a new one from the realm.
    fn bearer_token(
        &self,
        challenge: &Challenge,
        scope: &str,
        rejected: Option<&str>,
    ) -> Result<String, SeedError> {
        if let Some(cached) = self.auth_state().tokens.get(scope) {
            let fresh = cached
                .expires
                .is_none_or(|expires| Instant::now() < expires);
            if fresh && Some(cached.token.as_str()) != rejected {
                return Ok(cached.token.clone());
            }
        }
        let realm = challenge.param("realm").ok_or_else(|| SeedError::Invalid {
            request: format!("Bearer challenge for scope {scope:?}"),
            message: "WWW-Authenticate: Bearer without a realm".to_owned(),
        })?;
        let mut url = realm.to_owned();
        let mut separator = if url.contains('?') { '&' } else { '?' };
        let service = challenge.param("service").into_iter();
        let params = service
            .map(|service| ("service", service))
            .chain(scope.split_whitespace().map(|scope| ("scope", scope)));
        for (name, value) in params {
            url.push(separator);
            url.push_str(name);
            url.push('=');
            url.push_str(&percent_encode(value));
            separator = '&';
        }
        let request = format!("GET {url}");
        let reply = self.send_once(
            "GET",
            &url,
            &[("Accept", "application/json")],
            None,
            self.authorization.as_deref(),
        )?;
        expect_status(&request, &reply, 200)?;
        let answer: serde_json::Value =
            serde_json::from_slice(&reply.body).map_err(|err| SeedError::Invalid {
                request: request.clone(),
                message: format!("invalid token JSON ({err}): {}", reply.body_text()),
            })?;
        let token = ["token", "access_token"]
            .iter()
            .find_map(|field| answer[*field].as_str().filter(|token| !token.is_empty()))
            .ok_or_else(|| SeedError::Invalid {
                request,
                message: format!("no token nor access_token in {}", reply.body_text()),
            })?
            .to_owned();
        // The spec's default lifetime is 60 s; renew a little early.
        let lifetime = answer["expires_in"].as_u64().unwrap_or(60);
        let expires = Instant::now().checked_add(Duration::from_secs(lifetime.saturating_sub(5)));
        self.auth_state().tokens.insert(
            scope.to_owned(),
            CachedToken {
                token: token.clone(),
                expires,
            },
        );
        Ok(token)
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        authorization: Option<&str>,
    ) -> Result<Reply, SeedError> {
        let transport = |source| SeedError::Transport {
            request: format!("{method} {url}"),
            source,
        };
        let mut builder = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(authorization) = authorization {
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

/// What a request needs access to, as a cache key for its token scope:
/// `pull`, `push` or `delete`, then the repository (or the path).
fn request_kind(method: &str, url: &str) -> String {
    let action = match method {
        "GET" | "HEAD" => "pull",
        "DELETE" => "delete",
        _ => "push",
    };
    let path = url
        .find("://")
        .and_then(|scheme| {
            url[scheme + 3..]
                .find('/')
                .map(|slash| &url[scheme + 3 + slash..])
        })
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    let target = path
        .strip_prefix("/v2/")
        .and_then(|rest| {
            ["/manifests/", "/blobs/", "/tags/", "/referrers/"]
                .iter()
                .filter_map(|marker| rest.find(marker))
                .min()
                .map(|end| &rest[..end])
        })
        .unwrap_or(path);
    format!("{action} {target}")
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The first Bearer challenge among the `WWW-Authenticate` headers.
fn bearer_challenge(headers: &HeaderMap) -> Option<Challenge> {
    headers
        .get_all("WWW-Authenticate")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(parse_challenge)
        .find(|challenge| challenge.scheme.eq_ignore_ascii_case("Bearer"))
}

/// `Scheme key="quoted, with commas",key2=token`: quoted values may hold
/// commas and `\"`, as `scope="repository:x:pull,push"` does.
fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ',' && !c.is_whitespace()) {
            key.push(c);
        }
        if key.is_empty() {
            break;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'=').is_none() {
            // A token68 or a bare word: not a parameter.
            continue;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',' && !c.is_whitespace()) {
                value.push(c);
            }
        }
        params.push((key, value));
    }
    Some(Challenge {
        scheme: scheme.to_owned(),
        params,
    })
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    use std::fmt::Write as _;
    value.bytes().fold(String::new(), |mut out, byte| {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
        out
    })
}

/// The single layer cosign would push for `kind`, deterministic per
/// repository and subject.
fn cosign_layer(repo: &str, subject_digest: &str, kind: CosignKind) -> ArtifactBlob {
    let base64 = &base64::engine::general_purpose::STANDARD;
    let fake_signature = base64.encode(pseudo_random_bytes(
        &format!("cosign/{kind:?}/{repo}@{subject_digest}"),
        64,
    ));
    let hex = subject_digest.trim_start_matches("sha256:");
    match kind {
        CosignKind::Signature => {
            let payload = to_json(&json!({
                "critical": {
                    "identity": { "docker-reference": repo },
                    "image": { "docker-manifest-digest": subject_digest },
                    "type": "cosign container image signature",
                },
                "optional": null,
            }));
            ArtifactBlob::new(COSIGN_SIMPLE_SIGNING, payload)
                .with_annotation(COSIGN_SIGNATURE_ANNOTATION, fake_signature)
        }
        CosignKind::Attestation => {
            let predicate_type = "https://slsa.dev/provenance/v0.2";
            let statement = to_json(&json!({
                "_type": "https://in-toto.io/Statement/v0.1",
                "predicateType": predicate_type,
                "subject": [{ "name": repo, "digest": { "sha256": hex } }],
                "predicate": { "builder": { "id": "cleanreg-testkit" } },
            }));
            let envelope = to_json(&json!({
                "payloadType": "application/vnd.in-toto+json",
                "payload": base64.encode(statement),
                "signatures": [{ "keyid": "", "sig": fake_signature }],
            }));
            ArtifactBlob::new(DSSE_ENVELOPE, envelope)
                .with_annotation(COSIGN_SIGNATURE_ANNOTATION, "")
                .with_annotation("predicateType", predicate_type)
        }
        CosignKind::Sbom => {
            let document = to_json(&json!({
                "spdxVersion": "SPDX-2.3",
                "dataLicense": "CC0-1.0",
                "SPDXID": "SPDXRef-DOCUMENT",
                "name": format!("{repo}@{subject_digest}"),
                "documentNamespace": format!("https://cleanreg.invalid/spdx/{hex}"),
                "packages": [],
            }));
            ArtifactBlob::new(SPDX_JSON, document)
        }
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

    #[test]
    fn raw_created_variant_and_annotations() {
        let spec = ImageSpec::new("s", None)
            .with_created_raw("not a date")
            .with_variant("v8")
            .with_platform("arm64", "linux")
            .with_format(ImageFormat::Oci)
            .with_created_annotation(time::macros::datetime!(2026-03-01 12:00 UTC));
        let built = spec.build();
        let config: serde_json::Value = serde_json::from_slice(&built.config).unwrap();
        assert_eq!(config["created"], "not a date");
        assert_eq!(config["variant"], "v8");
        assert_eq!(built.image.created, None);
        assert_eq!(built.image.created_raw.as_deref(), Some("not a date"));
        assert_eq!(built.image.platform.to_string(), "linux/arm64/v8");
        let manifest: serde_json::Value = serde_json::from_slice(&built.image.manifest).unwrap();
        assert_eq!(
            manifest["annotations"][CREATED_ANNOTATION],
            "2026-03-01T12:00:00Z"
        );
        let epoch = ImageSpec::new("e", None).with_created_raw("1970-01-01T00:00:00Z");
        assert_eq!(
            epoch.build().image.created,
            Some(OffsetDateTime::UNIX_EPOCH)
        );
        // Without annotations the manifest has no such field.
        let plain = ImageSpec::new("p", None).build();
        let manifest: serde_json::Value = serde_json::from_slice(&plain.image.manifest).unwrap();
        assert!(manifest.get("annotations").is_none());
        assert_eq!(
            plain.image.digest,
            ImageSpec::new("p", None).build().image.digest
        );
    }

    #[test]
    fn empty_descriptor_and_tags() {
        assert_eq!(sha256_digest(EMPTY_JSON), EMPTY_JSON_DIGEST);
        let empty = Descriptor::empty();
        assert_eq!(empty.size, 2);
        assert_eq!(
            String::from_utf8(to_json(&empty)).unwrap(),
            format!(r#"{{"mediaType":"{OCI_EMPTY}","digest":"{EMPTY_JSON_DIGEST}","size":2}}"#)
        );
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            cosign_tag(&digest, CosignKind::Attestation),
            format!("sha256-{}.att", "ab".repeat(32))
        );
        assert_eq!(
            referrers_tag(&digest),
            format!("sha256-{}", "ab".repeat(32))
        );
        assert!(check_digest("x", &digest).is_ok());
        assert!(check_digest("x", "sha256:ABC").is_err());
    }

    #[test]
    fn challenge_parsing() {
        let challenge = parse_challenge(
            r#"Bearer realm="http://127.0.0.1:1/token",service="registry",scope="repository:a/b:pull,push",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(challenge.scheme, "Bearer");
        assert_eq!(challenge.param("realm"), Some("http://127.0.0.1:1/token"));
        assert_eq!(challenge.param("SERVICE"), Some("registry"));
        assert_eq!(challenge.param("scope"), Some("repository:a/b:pull,push"));
        assert_eq!(challenge.param("error"), Some("insufficient_scope"));

        let spaced = parse_challenge(r#"bearer  realm = "r\"q" , scope=x:y:z"#).unwrap();
        assert_eq!(spaced.param("realm"), Some("r\"q"));
        assert_eq!(spaced.param("scope"), Some("x:y:z"));

        let mut headers = HeaderMap::new();
        headers.append("WWW-Authenticate", r#"Basic realm="x""#.parse().unwrap());
        assert_eq!(bearer_challenge(&headers), None);
        headers.append(
            "WWW-Authenticate",
            r#"Bearer realm="t",service="s""#.parse().unwrap(),
        );
        assert_eq!(
            bearer_challenge(&headers).unwrap().param("service"),
            Some("s")
        );
    }

    #[test]
    fn request_kinds_and_encoding() {
        assert_eq!(
            request_kind("HEAD", "http://h:1/v2/a/b/manifests/sha256:1"),
            "pull a/b"
        );
        assert_eq!(
            request_kind("PUT", "http://h:1/v2/a/b/blobs/uploads/x?_state=1&digest=2"),
            "push a/b"
        );
        assert_eq!(
            request_kind("DELETE", "http://h:1/v2/a/manifests/x"),
            "delete a"
        );
        assert_eq!(
            request_kind("GET", "http://h:1/v2/_catalog?n=100"),
            "pull /v2/_catalog"
        );
        assert_eq!(
            percent_encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
