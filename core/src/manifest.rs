//! Manifest and image config documents, parsed from the registry's bytes.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::digest::Digest;
use crate::media_type::{ManifestKind, MediaType};

/// A reference from a manifest to a blob or to another manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default = "unknown_media_type")]
    pub media_type: MediaType,
    pub digest: Digest,
    pub size: u64,
}

fn unknown_media_type() -> MediaType {
    MediaType::Other(String::new())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    Index {
        manifests: Vec<Descriptor>,
    },
    /// Legacy schema1: reported as it is, never guessed about.
    Schema1,
    /// A media type this version does not understand.
    Unknown,
}

impl Manifest {
    /// Bytes of the config and layers, as stored in the registry.
    pub fn content_size(&self) -> u64 {
        match self {
            Manifest::Image { config, layers } => {
                config.size + layers.iter().map(|layer| layer.size).sum::<u64>()
            }
            _ => 0,
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
    layers: Vec<Descriptor>,
    manifests: Option<Vec<Descriptor>>,
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
    let manifest = match media_type.manifest_kind() {
        ManifestKind::Image => Manifest::Image {
            config: raw
                .config
                .ok_or_else(|| ManifestError(format!("{media_type} without a config")))?,
            layers: raw.layers,
        },
        ManifestKind::Index => Manifest::Index {
            manifests: raw.manifests.unwrap_or_default(),
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
        assert_eq!(manifest, Manifest::Index { manifests: vec![] });
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
}
