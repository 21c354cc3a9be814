//! What a registry holds: repositories, their tags and the manifests behind
//! them, with the blobs each manifest references.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::{Algorithm, Digest};
use crate::manifest::Platform;
use crate::media_type::{ManifestKind, MediaType};
use crate::name::{RepositoryName, Tag};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub repositories: BTreeMap<RepositoryName, Repository>,
    /// The size of every blob a scanned manifest references (configs and
    /// layers), once per registry: blobs are stored once.
    #[serde(default)]
    pub blobs: BTreeMap<Digest, u64>,
    /// True when the scan read the whole catalog. Only then does "freed by
    /// garbage collection" account for every repository that shares a blob.
    #[serde(default)]
    pub whole_registry: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// Where each tag points right now.
    pub tags: BTreeMap<Tag, Digest>,
    /// Every manifest the scan read, by digest: the ones tags point at, the
    /// children of indexes, and the referrers a fallback index lists.
    pub images: BTreeMap<Digest, Image>,
    /// Subjects of attached artifacts that no tag or index in this
    /// repository leads to, and whether the registry still has them.
    #[serde(default)]
    pub subjects: BTreeMap<Digest, bool>,
    /// Manifests no tag points at that the scan found through its history,
    /// the registry's storage or its referrers API (and read into
    /// `images`), with how it found them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub untagged: BTreeMap<Digest, Untagged>,
    /// Manifests something runs, with where that was read (the file's
    /// name): the planner keeps them and their tags whatever the policy
    /// says (`InUseFile::pin` fills it in).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub in_use: BTreeMap<Digest, String>,
}

/// Where a scan learnt of a manifest that no tag points at: the registry
/// API lists tags, not manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    /// An earlier scan saw it (tagged, or behind a tag); a `HEAD` by digest
    /// says the registry still has it.
    History,
    /// The registry's storage lists it among the repository's manifests.
    Storage,
    /// The registry's OCI 1.1 referrers API lists it as attached to a
    /// manifest of the repository (it has a `subject`).
    Referrers,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Found::History => "history",
            Found::Storage => "storage",
            Found::Referrers => "referrers API",
        })
    }
}

/// What is known of a manifest no tag points at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Untagged {
    /// How it was found, in [`Found`] order; never empty in a scan's
    /// inventory.
    pub found: Vec<Found>,
    /// The tags it had when a scan last saw it tagged (history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_tags: Vec<Tag>,
    /// When a scan last saw a tag lead to it (history): tagged itself, or
    /// listed by or attached to something tagged.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_in_use: Option<OffsetDateTime>,
    /// When its manifest was last pushed: the modification time of its
    /// link in the registry's storage.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pushed: Option<OffsetDateTime>,
}

impl Untagged {
    /// `history`, `storage` or `history and storage`.
    pub fn found_label(&self) -> String {
        self.found
            .iter()
            .map(Found::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// What a manifest is, for counting and reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// A Docker schema2 or OCI image manifest.
    Image,
    /// A multi-platform image: a Docker manifest list or an OCI index.
    Index,
    /// An OCI artifact: a non-image config type or an `artifactType`.
    Artifact,
    /// Legacy schema1: read and reported, never interpreted.
    Schema1,
    /// A manifest type this version does not understand.
    Unknown,
}

impl ImageKind {
    pub fn of(media_type: &MediaType, artifact_type: Option<&str>) -> ImageKind {
        match (media_type.manifest_kind(), artifact_type) {
            (ManifestKind::Image | ManifestKind::Index, Some(_)) => ImageKind::Artifact,
            (ManifestKind::Image, None) => ImageKind::Image,
            (ManifestKind::Index, None) => ImageKind::Index,
            (ManifestKind::Schema1, _) => ImageKind::Schema1,
            (ManifestKind::Unknown, _) => ImageKind::Unknown,
        }
    }

    /// Whether the planner understands it well enough to delete it by a rule.
    pub fn is_interpreted(self) -> bool {
        matches!(
            self,
            ImageKind::Image | ImageKind::Index | ImageKind::Artifact
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            ImageKind::Image => "image",
            ImageKind::Index => "multi-platform index",
            ImageKind::Artifact => "artifact",
            ImageKind::Schema1 => "schema1 manifest",
            ImageKind::Unknown => "unknown manifest",
        }
    }
}

/// Where an image's build date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// The image config's `created`.
    Config,
    /// The newest `created` among an index's children.
    NewestChild,
    /// The `org.opencontainers.image.created` annotation.
    Annotation,
}

impl fmt::Display for DateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateSource::Config => "config",
            DateSource::NewestChild => "newest child",
            DateSource::Annotation => "annotation",
        })
    }
}

/// A manifest an index lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Child {
    pub digest: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// One manifest as the scan found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub media_type: MediaType,
    pub kind: ImageKind,
    /// Build time; `None` when it is unknown (missing, unparsable, 1970).
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    /// Where `created` came from; `None` when it is unknown.
    #[serde(default)]
    pub created_from: Option<DateSource>,
    /// Config and layer bytes; for an index, its children's summed.
    pub size: u64,
    /// The manifest's own bytes (stored as a blob too).
    #[serde(default)]
    pub manifest_size: u64,
    /// The manifests an index lists, in its order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Child>,
    /// The manifest this one is attached to (an OCI 1.1 `subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Config and layer blobs it references directly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<Digest>,
}

impl Image {
    /// A plain image manifest with nothing but a type, a date and a size;
    /// handy for tests and imports.
    pub fn simple(media_type: MediaType, created: Option<OffsetDateTime>, size: u64) -> Image {
        Image {
            kind: ImageKind::of(&media_type, None),
            media_type,
            created_from: created.map(|_| DateSource::Config),
            created,
            size,
            manifest_size: 0,
            children: Vec::new(),
            subject: None,
            artifact_type: None,
            blobs: Vec::new(),
        }
    }

    /// The platforms of an index's children, in index order.
    pub fn platforms(&self) -> Vec<&Platform> {
        self.children
            .iter()
            .filter_map(|child| child.platform.as_ref())
            .collect()
    }
}

/// What an attached artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// A cosign signature tag `sha256-<hex>.sig`.
    Signature,
    /// A cosign attestation tag `sha256-<hex>.att`.
    Attestation,
    /// A cosign SBOM tag `sha256-<hex>.sbom`.
    Sbom,
    /// An OCI referrers fallback tag `sha256-<hex>`, or a manifest with a
    /// `subject`.
    Referrer,
}

impl fmt::Display for AttachmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AttachmentKind::Signature => "signature",
            AttachmentKind::Attestation => "attestation",
            AttachmentKind::Sbom => "SBOM",
            AttachmentKind::Referrer => "referrer",
        })
    }
}

/// The subject a cosign or referrers-fallback tag names, if it is one:
/// `sha256-<64 hex>` with an optional `.sig`, `.att` or `.sbom`.
pub fn attachment_tag(tag: &Tag) -> Option<(Digest, AttachmentKind)> {
    let rest = tag.as_str().strip_prefix("sha256-")?;
    let (hex, kind) = match rest.split_once('.') {
        None => (rest, AttachmentKind::Referrer),
        Some((hex, "sig")) => (hex, AttachmentKind::Signature),
        Some((hex, "att")) => (hex, AttachmentKind::Attestation),
        Some((hex, "sbom")) => (hex, AttachmentKind::Sbom),
        Some(_) => return None,
    };
    let digest = Digest::from_hex(Algorithm::Sha256, hex)?;
    Some((digest, kind))
}

/// What a manifest is attached to, from its own `subject`, or else from its
/// tags when every one of them is a cosign/referrers tag. The one rule for
/// the scan, the planner and [`Repository::attachment_of`].
pub fn attachment<T: Borrow<Tag>>(
    subject: Option<&Digest>,
    tags: &[T],
) -> Option<(Digest, AttachmentKind)> {
    if let Some(subject) = subject {
        return Some((subject.clone(), AttachmentKind::Referrer));
    }
    let mut named = tags.iter().map(|tag| attachment_tag(tag.borrow()));
    let first = named.next()??;
    named.all(|other| other.is_some()).then_some(first)
}

impl Repository {
    /// The tags in this repository that point at `digest`, in name order.
    pub fn tags_of(&self, digest: &Digest) -> Vec<Tag> {
        self.tags
            .iter()
            .filter(|(_, target)| *target == digest)
            .map(|(tag, _)| tag.clone())
            .collect()
    }

    /// Every tagged digest with its tags in name order, from one pass over
    /// the tags: calling [`Repository::tags_of`] for each digest reads every
    /// tag once per digest, which a repository of thousands of tags makes
    /// slow enough to hold a page.
    pub fn tags_by_digest(&self) -> BTreeMap<&Digest, Vec<&Tag>> {
        let mut by_digest: BTreeMap<&Digest, Vec<&Tag>> = BTreeMap::new();
        for (tag, digest) in &self.tags {
            by_digest.entry(digest).or_default().push(tag);
        }
        by_digest
    }

    /// Images that count: tagged manifests that are not attached to another
    /// (by [`attachment`]).
    pub fn image_count(&self) -> usize {
        self.tags_by_digest()
            .into_iter()
            .filter(|(digest, tags)| {
                let subject = self.images.get(digest).and_then(|i| i.subject.as_ref());
                attachment(subject, tags).is_none()
            })
            .count()
    }

    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }

    /// The subject a manifest is attached to: its own `subject`, or the
    /// digest its cosign/referrers tags name when every tag on it is one.
    pub fn attachment_of(&self, digest: &Digest) -> Option<(Digest, AttachmentKind)> {
        let subject = self.images.get(digest).and_then(|i| i.subject.as_ref());
        attachment(subject, &self.tags_of(digest))
    }

    /// The indexes of this repository that list `digest` as a child.
    pub fn parents_of(&self, digest: &Digest) -> Vec<&Digest> {
        self.images
            .iter()
            .filter(|(_, image)| image.children.iter().any(|c| c.digest == *digest))
            .map(|(parent, _)| parent)
            .collect()
    }
}

impl Inventory {
    /// Images that count: tagged manifests that are not attached to another.
    pub fn image_count(&self) -> usize {
        self.repositories
            .values()
            .map(Repository::image_count)
            .sum()
    }

    pub fn manifest_count(&self) -> usize {
        self.repositories.values().map(|r| r.images.len()).sum()
    }

    pub fn tag_count(&self) -> usize {
        self.repositories.values().map(Repository::tag_count).sum()
    }

    /// Manifests found untagged (through history, storage or the referrers
    /// API).
    pub fn untagged_count(&self) -> usize {
        self.repositories.values().map(|r| r.untagged.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_and_referrer_tags_name_their_subject() {
        let hex = "a".repeat(64);
        let subject: Digest = format!("sha256:{hex}").parse().unwrap();
        for (suffix, kind) in [
            (".sig", AttachmentKind::Signature),
            (".att", AttachmentKind::Attestation),
            (".sbom", AttachmentKind::Sbom),
            ("", AttachmentKind::Referrer),
        ] {
            let tag: Tag = format!("sha256-{hex}{suffix}").parse().unwrap();
            assert_eq!(attachment_tag(&tag), Some((subject.clone(), kind)));
        }
        for not_one in [
            format!("sha256-{hex}.other"),
            format!("sha256-{}", "a".repeat(63)),
            format!("sha512-{hex}.sig"),
            "latest".to_owned(),
            format!("sha256-{}.sig", "G".repeat(64)),
        ] {
            assert_eq!(attachment_tag(&not_one.parse().unwrap()), None, "{not_one}");
        }
    }

    #[test]
    fn a_digest_with_an_ordinary_tag_is_not_an_attachment() {
        let hex = "b".repeat(64);
        let image = Digest::sha256_of(b"sig");
        let mut repo = Repository::default();
        repo.tags
            .insert(format!("sha256-{hex}.sig").parse().unwrap(), image.clone());
        repo.images.insert(
            image.clone(),
            Image::simple(MediaType::OciManifest, None, 1),
        );
        assert!(repo.attachment_of(&image).is_some());
        repo.tags.insert("latest".parse().unwrap(), image.clone());
        assert_eq!(repo.attachment_of(&image), None);
    }

    #[test]
    fn image_count_counts_each_tagged_digest_once_and_no_attachment() {
        let hex = "c".repeat(64);
        let mut repo = Repository::default();
        let image = Digest::sha256_of(b"image");
        let signature = Digest::sha256_of(b"signature");
        let referrer = Digest::sha256_of(b"referrer");
        let signed_and_named = Digest::sha256_of(b"signed-and-named");
        for (tag, digest) in [
            ("latest", &image),
            ("v1", &image),
            (&*format!("sha256-{hex}.sig"), &signature),
            ("sbom", &referrer),
            (&*format!("sha256-{hex}.att"), &signed_and_named),
            ("v2", &signed_and_named),
        ] {
            repo.tags.insert(tag.parse().unwrap(), digest.clone());
        }
        for digest in [&image, &signature, &signed_and_named] {
            repo.images.insert(
                digest.clone(),
                Image::simple(MediaType::OciManifest, None, 1),
            );
        }
        let mut with_subject = Image::simple(MediaType::OciManifest, None, 1);
        with_subject.subject = Some(image.clone());
        repo.images.insert(referrer.clone(), with_subject);

        // The same answer as asking attachment_of digest by digest.
        let mut tagged: Vec<&Digest> = repo.tags.values().collect();
        tagged.sort();
        tagged.dedup();
        let slow = tagged
            .into_iter()
            .filter(|d| repo.attachment_of(d).is_none())
            .count();
        assert_eq!(repo.image_count(), 2);
        assert_eq!(repo.image_count(), slow);
        assert_eq!(
            repo.tags_by_digest()[&image],
            vec![
                &"latest".parse::<Tag>().unwrap(),
                &"v1".parse::<Tag>().unwrap()
            ]
        );
    }
}
