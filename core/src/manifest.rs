//! Manifest and image config documents, parsed from the registry's bytes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::digest::Digest;
use crate::media_type::{ManifestKind, MediaType};

/// The annotation an index or manifest may carry its build time in.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// A reference from a manifest to a blob or to another manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default = "unknown_media_type")]
    pub media_type: MediaType,
    pub digest: Digest,
    pub size: u64,
    /// For an index entry: which platform the child is for.
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub artifact_type: Option<String>,
}

fn unknown_media_type() -> MediaType {
    MediaType::Other(String::new())
}

/// `os/architecture[/variant]`, as an index lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// A Docker schema2 or OCI image manifest; also an OCI artifact, which
    /// has the same shape with a non-image config or an `artifactType`.
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
        /// `artifactType`, or the config's media type when it is not an
        /// image config: set for artifacts only.
        artifact_type: Option<String>,
        /// The manifest this one is attached to (OCI 1.1 referrers).
        subject: Option<Descriptor>,
        annotations: BTreeMap<String, String>,
    },
    /// A Docker manifest list or an OCI index: one child per platform.
    Index {
        manifests: Vec<Descriptor>,
        artifact_type: Option<String>,
        subject: Option<Descriptor>,
        annotations: BTreeMap<String, String>,
    },
    /// Legacy schema1: reported as it is, never guessed about.
    Schema1,
    /// A media type this version does not understand.
    Unknown,
}

impl Manifest {
    /// Bytes of the config and layers, as stored in the registry (an index's
    /// children are summed by the scan, which reads them).
    pub fn content_size(&self) -> u64 {
        match self {
            Manifest::Image { config, layers, .. } => {
                config.size + layers.iter().map(|layer| layer.size).sum::<u64>()
            }
            _ => 0,
        }
    }

    /// The blobs this manifest references directly: config and layers.
    pub fn blobs(&self) -> Vec<&Descriptor> {
        match self {
            Manifest::Image { config, layers, .. } => {
                std::iter::once(config).chain(layers.iter()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The manifests an index lists.
    pub fn children(&self) -> &[Descriptor] {
        match self {
            Manifest::Index { manifests, .. } => manifests,
            _ => &[],
        }
    }

    pub fn subject(&self) -> Option<&Descriptor> {
        match self {
            Manifest::Image { subject, .. } | Manifest::Index { subject, .. } => subject.as_ref(),
            _ => None,
        }
    }

    pub fn artifact_type(&self) -> Option<&str> {
        match self {
            Manifest::Image { artifact_type, .. } | Manifest::Index { artifact_type, .. } => {
                artifact_type.as_deref()
            }
            _ => None,
        }
    }

    /// The build time in the `org.opencontainers.image.created` annotation.
    pub fn annotated_created(&self) -> Option<OffsetDateTime> {
        match self {
            Manifest::Image { annotations, .. } | Manifest::Index { annotations, .. } => {
                parse_created(annotations.get(CREATED_ANNOTATION)?)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable manifest: {0}")]
pub struct ManifestError(String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    media_type: Option<MediaType>,
    schema_version: Option<u32>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    manifests: Option<Vec<Descriptor>>,
    artifact_type: Option<String>,
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// Whether a config media type is an image config (anything else makes the
/// manifest an artifact).
fn is_image_config(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::DockerConfig | MediaType::OciConfig)
}

/// Reads a manifest. Its media type comes from the document's own
/// `mediaType`, else from the response's `Content-Type`, else from its shape.
pub fn parse_manifest(
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<(MediaType, Manifest), ManifestError> {
    let raw: RawManifest =
        serde_json::from_slice(bytes).map_err(|e| ManifestError(e.to_string()))?;
    let header_type = content_type
        .map(MediaType::parse)
        .filter(|t| t.manifest_kind() != ManifestKind::Unknown);
    let media_type = match (raw.media_type, header_type) {
        (Some(own), _) => own,
        (None, Some(header)) => header,
        (None, None) if raw.schema_version == Some(1) => MediaType::DockerSchema1,
        (None, None) if raw.manifests.is_some() => MediaType::OciIndex,
        (None, None) if raw.config.is_some() => MediaType::OciManifest,
        (None, None) => return Err(ManifestError("no media type and no known shape".into())),
    };
    let annotations = raw.annotations.unwrap_or_default();
    let manifest = match media_type.manifest_kind() {
        ManifestKind::Image => {
            let config = raw
                .config
                .ok_or_else(|| ManifestError(format!("{media_type} without a config")))?;
            let artifact_type = raw.artifact_type.or_else(|| {
                (!is_image_config(&config.media_type)).then(|| config.media_type.to_string())
            });
            Manifest::Image {
                config,
                layers: raw.layers.unwrap_or_default(),
                artifact_type,
                subject: raw.subject,
                annotations,
            }
        }
        ManifestKind::Index => Manifest::Index {
            manifests: raw
                .manifests
                .ok_or_else(|| ManifestError(format!("{media_type} without a manifests list")))?,
            artifact_type: raw.artifact_type,
            subject: raw.subject,
            annotations,
        },
        ManifestKind::Schema1 => Manifest::Schema1,
        ManifestKind::Unknown => Manifest::Unknown,
    };
    Ok((media_type, manifest))
}

#[derive(Deserialize)]
struct RawConfig {
    created: Option<String>,
}

/// The build time in an image config, or `None` when it is missing,
/// unparsable or a placeholder epoch date (reproducible builds set 1970).
pub fn parse_config_created(bytes: &[u8]) -> Option<OffsetDateTime> {
    let raw: RawConfig = serde_json::from_slice(bytes).ok()?;
    parse_created(raw.created.as_deref()?)
}

/// Parses an RFC 3339 date; dates at or before 1970-01-02 count as unknown.
pub fn parse_created(text: &str) -> Option<OffsetDateTime> {
    let created = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    (created.unix_timestamp() > 86_400).then_some(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: &str = r#"{
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 100,
                   "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1000,
                    "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222"}]
    }"#;

    #[test]
    fn reads_a_docker_image_manifest() {
        let (media_type, manifest) = parse_manifest(None, DOCKER.as_bytes()).unwrap();
        assert_eq!(media_type, MediaType::DockerManifest);
        assert_eq!(manifest.content_size(), 1100);
    }

    #[test]
    fn takes_the_media_type_from_the_header_when_the_document_has_none() {
        let oci = DOCKER.replace(
            r#""mediaType": "application/vnd.docker.distribution.manifest.v2+json","#,
            "",
        );
        let (media_type, _) =
            parse_manifest(Some(MediaType::OciManifest.as_str()), oci.as_bytes()).unwrap();
        assert_eq!(media_type, MediaType::OciManifest);
        let (media_type, _) = parse_manifest(None, oci.as_bytes()).unwrap();
        assert_eq!(media_type, MediaType::OciManifest);
    }

    #[test]
    fn reads_an_index_and_schema1_without_guessing() {
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let (_, manifest) = parse_manifest(None, index.as_bytes()).unwrap();
        assert_eq!(manifest.children(), &[]);
        assert!(matches!(manifest, Manifest::Index { .. }));
        let schema1 = r#"{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[]}"#;
        let (media_type, manifest) = parse_manifest(None, schema1.as_bytes()).unwrap();
        assert_eq!(
            (media_type, manifest),
            (MediaType::DockerSchema1, Manifest::Schema1)
        );
    }

    #[test]
    fn rejects_broken_manifests() {
        assert!(parse_manifest(None, b"not json").is_err());
        assert!(parse_manifest(None, b"{}").is_err());
        let no_config = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
        assert!(parse_manifest(None, no_config.as_bytes()).is_err());
    }

    #[test]
    fn config_dates_that_are_missing_broken_or_epoch_are_unknown() {
        let created = parse_config_created(br#"{"created":"2026-03-04T05:06:07.123456789Z"}"#);
        assert_eq!(created.unwrap().unix_timestamp(), 1_772_600_767);
        assert_eq!(parse_config_created(br#"{"architecture":"amd64"}"#), None);
        assert_eq!(parse_config_created(br#"{"created":"yesterday"}"#), None);
        assert_eq!(
            parse_config_created(br#"{"created":"1970-01-01T00:00:00Z"}"#),
            None
        );
        assert_eq!(parse_config_created(b"[]"), None);
    }

    #[test]
    fn reads_platforms_artifacts_subjects_and_annotations() {
        let child = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "annotations":{{"org.opencontainers.image.created":"2026-05-06T07:08:09Z"}},
            "manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10,
            "digest":"{child}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#
        );
        let (_, manifest) = parse_manifest(None, index.as_bytes()).unwrap();
        let platform = manifest.children()[0].platform.as_ref().unwrap();
        assert_eq!(platform.to_string(), "linux/arm64/v8");
        assert_eq!(
            manifest.annotated_created().unwrap().unix_timestamp(),
            1_778_051_289
        );

        let helm = DOCKER
            .replace(
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.oci.image.manifest.v1+json",
            )
            .replace(
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.cncf.helm.config.v1+json",
            );
        let (_, manifest) = parse_manifest(None, helm.as_bytes()).unwrap();
        assert_eq!(
            manifest.artifact_type(),
            Some("application/vnd.cncf.helm.config.v1+json")
        );
        let (_, image) = parse_manifest(None, DOCKER.as_bytes()).unwrap();
        assert_eq!(image.artifact_type(), None);
        assert_eq!(image.blobs().len(), 2);

        let referrer = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "artifactType":"application/vnd.example.sbom",
            "config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,
              "digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}},
            "layers":[],
            "subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":5,"digest":"{child}"}}}}"#
        );
        let (_, manifest) = parse_manifest(None, referrer.as_bytes()).unwrap();
        assert_eq!(manifest.subject().unwrap().digest.to_string(), child);
        assert_eq!(
            manifest.artifact_type(),
            Some("application/vnd.example.sbom")
        );
    }

    #[test]
    fn rejects_malformed_indexes_and_descriptors() {
        let no_list = r#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#;
        assert!(parse_manifest(None, no_list.as_bytes()).is_err());
        let bad_digest = r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:12","size":1}]}"#;
        assert!(parse_manifest(None, bad_digest.as_bytes()).is_err());
        let no_size = r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"}]}"#;
        assert!(parse_manifest(None, no_size.as_bytes()).is_err());
        let truncated = &DOCKER.as_bytes()[..DOCKER.len() / 2];
        assert!(parse_manifest(None, truncated).is_err());
    }
}
