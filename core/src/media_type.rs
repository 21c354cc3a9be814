//! Manifest and config media types.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediaType {
    DockerManifest,
    DockerManifestList,
    OciManifest,
    OciIndex,
    DockerSchema1,
    DockerSchema1Signed,
    DockerConfig,
    OciConfig,
    Other(String),
}

/// What a manifest media type describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// One image: a config and layers.
    Image,
    /// A list of images, one per platform.
    Index,
    /// The pre-2017 format; read and reported, never interpreted.
    Schema1,
    Unknown,
}

impl MediaType {
    /// Every manifest type a scan must accept, so the registry never answers
    /// with a down-converted manifest or a child's digest (a registry answers a
    /// request that does not accept an index with one of its children).
    pub const ACCEPTED_MANIFESTS: [MediaType; 4] = [
        MediaType::OciIndex,
        MediaType::DockerManifestList,
        MediaType::OciManifest,
        MediaType::DockerManifest,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            MediaType::DockerManifest => "application/vnd.docker.distribution.manifest.v2+json",
            MediaType::DockerManifestList => {
                "application/vnd.docker.distribution.manifest.list.v2+json"
            }
            MediaType::OciManifest => "application/vnd.oci.image.manifest.v1+json",
            MediaType::OciIndex => "application/vnd.oci.image.index.v1+json",
            MediaType::DockerSchema1 => "application/vnd.docker.distribution.manifest.v1+json",
            MediaType::DockerSchema1Signed => {
                "application/vnd.docker.distribution.manifest.v1+prettyjws"
            }
            MediaType::DockerConfig => "application/vnd.docker.container.image.v1+json",
            MediaType::OciConfig => "application/vnd.oci.image.config.v1+json",
            MediaType::Other(text) => text,
        }
    }

    /// Parses a media type, ignoring parameters such as `; charset=utf-8`.
    pub fn parse(text: &str) -> MediaType {
        let essence = text.split(';').next().unwrap_or("").trim();
        [
            MediaType::DockerManifest,
            MediaType::DockerManifestList,
            MediaType::OciManifest,
            MediaType::OciIndex,
            MediaType::DockerSchema1,
            MediaType::DockerSchema1Signed,
            MediaType::DockerConfig,
            MediaType::OciConfig,
        ]
        .into_iter()
        .find(|known| known.as_str().eq_ignore_ascii_case(essence))
        .unwrap_or_else(|| MediaType::Other(essence.to_owned()))
    }

    pub fn manifest_kind(&self) -> ManifestKind {
        match self {
            MediaType::DockerManifest | MediaType::OciManifest => ManifestKind::Image,
            MediaType::DockerManifestList | MediaType::OciIndex => ManifestKind::Index,
            MediaType::DockerSchema1 | MediaType::DockerSchema1Signed => ManifestKind::Schema1,
            _ => ManifestKind::Unknown,
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaType({})", self.as_str())
    }
}

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(MediaType::parse(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_types_and_keeps_unknown_ones() {
        for known in MediaType::ACCEPTED_MANIFESTS {
            assert_eq!(MediaType::parse(known.as_str()), known);
        }
        assert_eq!(
            MediaType::parse("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
            MediaType::OciManifest
        );
        assert_eq!(
            MediaType::parse("application/x-thing"),
            MediaType::Other("application/x-thing".into())
        );
        assert_eq!(MediaType::OciIndex.manifest_kind(), ManifestKind::Index);
        assert_eq!(
            MediaType::DockerManifest.manifest_kind(),
            ManifestKind::Image
        );
    }
}
