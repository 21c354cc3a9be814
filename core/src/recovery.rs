//! Undo until garbage collection: the recovery file.
//!
//! Deleting a manifest removes only the registry's links to it: its bytes,
//! config and layers stay in storage until the next garbage collection. So a
//! delete can be undone by putting the exact manifest bytes back and
//! re-pointing its tags. Before deleting,
//! [`Client::recovery_for`](crate::Client::recovery_for) reads every manifest
//! a plan deletes into a [`RecoveryFile`];
//! [`Client::restore`](crate::Client::restore) puts them back and says, per
//! entry, what was restored and what could not be (typically: its blobs
//! were garbage-collected in between). Both live with the client
//! (`client/restore`); this module holds the file format only.
//!
//! The recovery file is a public JSON format, written by the CLI and the
//! dashboard alike; [`RecoveryFile`] and [`RecoveryEntry`] document it field
//! by field.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::protocol::RegistryUrl;

/// The version of the recovery file format this code writes and reads.
pub const RECOVERY_FORMAT: u32 = 1;

/// What a registry had before a plan's deletes: enough to put every deleted
/// manifest back, byte for byte, with its tags, until garbage collection
/// removes the blobs it references.
///
/// As JSON (format 1):
///
/// ```json
/// {
///   "format": 1,
///   "registry": "https://registry.example.com",
///   "created": "2026-05-04T10:20:30Z",
///   "entries": [
///     {
///       "repository": "team/app",
///       "digest": "sha256:<64 hex digits>",
///       "media_type": "application/vnd.oci.image.manifest.v1+json",
///       "tags": ["1.0", "latest"],
///       "manifest": "<the exact manifest bytes, standard base64>"
///     }
///   ]
/// }
/// ```
///
/// Readers ignore fields they do not know; a change that old readers would
/// misread gets a new `format` number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryFile {
    /// The format version, [`RECOVERY_FORMAT`] (1). A reader refuses a
    /// version it does not know.
    pub format: u32,
    /// The registry the manifests were read from, as the base URL
    /// `http(s)://host[:port][/prefix]` without a trailing `/` (the form
    /// [`RegistryUrl::as_str`] gives). A restore goes to that registry only.
    pub registry: String,
    /// When the plan whose deletes this file holds was made
    /// ([`Plan::now`](crate::Plan::now)), RFC 3339. Garbage collection that
    /// ran after it may have removed blobs the entries need.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// One entry per manifest the plan deletes, in plan order: an index
    /// before its children, a subject before what is attached to it; then
    /// one per image the plan removes tags from (`tags_only`), with those
    /// tags. A restore reorders them itself (see
    /// [`Client::restore`](crate::Client::restore)).
    pub entries: Vec<RecoveryEntry>,
}

/// One deleted manifest, as the registry served it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryEntry {
    /// The repository it was in, such as `team/app`.
    pub repository: RepositoryName,
    /// Its digest, `sha256:<hex>`: the hash of the exact bytes in
    /// `manifest`. A reader checks that they agree.
    pub digest: Digest,
    /// Its media type, such as
    /// `application/vnd.docker.distribution.manifest.v2+json`: the document's
    /// own `mediaType`, else the `Content-Type` the registry served it with.
    /// A restore sends it as `Content-Type`.
    pub media_type: MediaType,
    /// Every tag of the repository that pointed at it (deleting the digest
    /// removed them all); empty for an untagged index child or referrer.
    pub tags: Vec<Tag>,
    /// The exact manifest bytes, standard base64 with padding (RFC 4648
    /// section 4). Never re-serialised JSON: any other bytes would have
    /// another digest.
    pub manifest: String,
    /// True when only `tags` were removed (the plan's tag removals) and the
    /// manifest itself stayed; absent (false) for a deleted manifest. A
    /// restore does the same for both: it puts the manifest back if it is
    /// missing and re-points the tags that are gone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tags_only: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl RecoveryEntry {
    /// An entry for these exact manifest bytes; the digest is their sha256.
    pub fn new(
        repository: RepositoryName,
        media_type: MediaType,
        tags: Vec<Tag>,
        bytes: &[u8],
    ) -> RecoveryEntry {
        RecoveryEntry {
            repository,
            digest: Digest::sha256_of(bytes),
            media_type,
            tags,
            manifest: base64::engine::general_purpose::STANDARD.encode(bytes),
            tags_only: false,
        }
    }

    /// The manifest bytes, decoded and checked against the digest.
    pub fn manifest_bytes(&self) -> Result<Vec<u8>, EntryProblem> {
        if self.media_type.as_str().is_empty() {
            return Err(EntryProblem::NoMediaType);
        }
        if http::HeaderValue::from_str(self.media_type.as_str()).is_err() {
            return Err(EntryProblem::UnusableMediaType(
                self.media_type.as_str().to_owned(),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.manifest.as_bytes())
            .map_err(|error| EntryProblem::Base64(error.to_string()))?;
        if !self.digest.matches(&bytes) {
            return Err(EntryProblem::DigestMismatch {
                actual: Digest::sha256_of(&bytes),
            });
        }
        Ok(bytes)
    }

    /// `team/app@sha256:0123456789ab…`, for messages.
    pub fn short_name(&self) -> String {
        format!("{}@{}", self.repository, short(&self.digest))
    }
}

/// `sha256:0123456789ab…`.
pub(crate) fn short(digest: &Digest) -> String {
    let algorithm = digest.to_string();
    let algorithm = algorithm.split(':').next().unwrap_or_default();
    format!("{algorithm}:{}…", digest.short())
}

/// Why a recovery file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    /// Not JSON, or not shaped like a recovery file.
    #[error("not a cleanreg recovery file: {0}")]
    Unreadable(String),
    /// A `format` version this code does not know.
    #[error(
        "recovery file format {found} is not known to this cleanreg, which reads format {RECOVERY_FORMAT}; use the cleanreg version that wrote it, or a newer one"
    )]
    UnknownFormat { found: u32 },
    /// The `registry` field is not a registry base URL.
    #[error("the recovery file names an invalid registry URL {0:?}")]
    Registry(String),
    /// One entry is damaged; `index` counts from 0, as in `entries[index]`.
    #[error("entries[{index}] ({repository}@{digest}): {problem}")]
    Entry {
        index: usize,
        repository: RepositoryName,
        digest: Digest,
        problem: EntryProblem,
    },
}

/// What is wrong with one entry of a recovery file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryProblem {
    #[error("the manifest is not valid standard base64 ({0})")]
    Base64(String),
    /// The decoded bytes have another digest: the file was edited or damaged.
    #[error("the manifest bytes hash to {actual}, not to the entry's digest")]
    DigestMismatch { actual: Digest },
    #[error("the entry has no media type")]
    NoMediaType,
    #[error("the media type {0:?} cannot be sent as a Content-Type")]
    UnusableMediaType(String),
}

impl RecoveryFile {
    /// Pretty JSON, as written to disk.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a recovery file holds only strings, numbers and lists")
    }

    /// Reads and checks a recovery file: the format version is known, the
    /// registry is a URL, and every manifest decodes to bytes whose digest
    /// is the entry's.
    pub fn from_json(text: &str) -> Result<RecoveryFile, RecoveryError> {
        // The version first: another format may not parse as this one.
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let version: Version = serde_json::from_str(text)
            .map_err(|error| RecoveryError::Unreadable(error.to_string()))?;
        if version.format != RECOVERY_FORMAT {
            return Err(RecoveryError::UnknownFormat {
                found: version.format,
            });
        }
        let file: RecoveryFile = serde_json::from_str(text)
            .map_err(|error| RecoveryError::Unreadable(error.to_string()))?;
        file.validate()?;
        Ok(file)
    }

    /// The checks of [`RecoveryFile::from_json`], for a file built in memory.
    pub fn validate(&self) -> Result<(), RecoveryError> {
        if self.format != RECOVERY_FORMAT {
            return Err(RecoveryError::UnknownFormat { found: self.format });
        }
        RegistryUrl::parse(&self.registry)
            .map_err(|_| RecoveryError::Registry(self.registry.clone()))?;
        for (index, entry) in self.entries.iter().enumerate() {
            entry
                .manifest_bytes()
                .map_err(|problem| RecoveryError::Entry {
                    index,
                    repository: entry.repository.clone(),
                    digest: entry.digest.clone(),
                    problem,
                })?;
        }
        Ok(())
    }

    /// Whether the file was made for this registry: the same base URL, with
    /// the scheme and host compared without regard to case and a default
    /// port (`:80` for http, `:443` for https) the same as none.
    pub fn is_for(&self, registry: &RegistryUrl) -> bool {
        RegistryUrl::parse(&self.registry).is_ok_and(|own| normalised(&own) == normalised(registry))
    }
}

/// `scheme://host[:port]` lowercased without a default port, then the path.
fn normalised(url: &RegistryUrl) -> String {
    let origin = url.origin().to_ascii_lowercase();
    let path = &url.as_str()[url.origin().len()..];
    let origin = origin
        .strip_suffix(":80")
        .filter(|_| origin.starts_with("http://"))
        .or_else(|| {
            origin
                .strip_suffix(":443")
                .filter(|_| origin.starts_with("https://"))
        })
        .unwrap_or(&origin);
    format!("{origin}{path}")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn repo(name: &str) -> RepositoryName {
        name.parse().unwrap()
    }

    pub(crate) fn tag(name: &str) -> Tag {
        name.parse().unwrap()
    }

    pub(crate) fn image_manifest(seed: &str) -> Vec<u8> {
        let config = Digest::sha256_of(format!("config {seed}").as_bytes());
        let layer = Digest::sha256_of(format!("layer {seed}").as_bytes());
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":10}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer}","size":20}}]}}"#
        )
        .into_bytes()
    }

    pub(crate) fn index_manifest(children: &[&Digest]) -> Vec<u8> {
        let listed: Vec<String> = children
            .iter()
            .map(|d| {
                format!(
                    r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","size":300,"platform":{{"os":"linux","architecture":"amd64"}}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
            listed.join(",")
        )
        .into_bytes()
    }

    fn file(entries: Vec<RecoveryEntry>) -> RecoveryFile {
        RecoveryFile {
            format: RECOVERY_FORMAT,
            registry: "http://127.0.0.1:5000".into(),
            created: time::macros::datetime!(2026-05-04 10:20:30 UTC),
            entries,
        }
    }

    fn sample() -> RecoveryFile {
        let app = image_manifest("app");
        file(vec![RecoveryEntry::new(
            repo("team/app"),
            MediaType::OciManifest,
            vec![tag("1.0"), tag("latest")],
            &app,
        )])
    }

    #[test]
    fn a_file_round_trips_through_its_json() {
        let original = sample();
        let text = original.to_json_pretty();
        for field in [
            r#""format": 1"#,
            r#""registry": "http://127.0.0.1:5000""#,
            r#""created": "2026-05-04T10:20:30Z""#,
            r#""repository": "team/app""#,
            r#""media_type": "application/vnd.oci.image.manifest.v1+json""#,
            r#""tags": ["#,
        ] {
            assert!(text.contains(field), "{field} missing from {text}");
        }
        let read = RecoveryFile::from_json(&text).unwrap();
        assert_eq!(read, original);
        assert_eq!(
            read.entries[0].manifest_bytes().unwrap(),
            image_manifest("app")
        );
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_formats_refused() {
        let mut value: serde_json::Value =
            serde_json::from_str(&sample().to_json_pretty()).unwrap();
        value["written_by"] = "dashboard".into();
        assert!(RecoveryFile::from_json(&value.to_string()).is_ok());
        let future = r#"{"format": 2, "something": "else"}"#;
        let error = RecoveryFile::from_json(future).unwrap_err();
        assert_eq!(error, RecoveryError::UnknownFormat { found: 2 });
        assert!(error.to_string().contains("format 2"), "{error}");
        for broken in ["", "[]", "{\"format\": 1}", "{\"entries\": []}"] {
            assert!(
                matches!(
                    RecoveryFile::from_json(broken),
                    Err(RecoveryError::Unreadable(_))
                ),
                "{broken:?}"
            );
        }
        let mut bad_url = sample();
        bad_url.registry = "registry.example.com".into();
        assert!(matches!(
            RecoveryFile::from_json(&bad_url.to_json_pretty()),
            Err(RecoveryError::Registry(_))
        ));
    }

    #[test]
    fn a_manifest_that_does_not_match_its_digest_is_named() {
        let mut edited = sample();
        let other = image_manifest("other");
        edited.entries.push(RecoveryEntry::new(
            repo("team/tool"),
            MediaType::OciManifest,
            vec![],
            &other,
        ));
        edited.entries[1].manifest =
            base64::engine::general_purpose::STANDARD.encode(image_manifest("tampered"));
        let digest = edited.entries[1].digest.clone();
        let error = RecoveryFile::from_json(&edited.to_json_pretty()).unwrap_err();
        let RecoveryError::Entry {
            index,
            repository,
            digest: named,
            problem,
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!((*index, repository.as_str()), (1, "team/tool"));
        assert_eq!(*named, digest);
        assert_eq!(
            *problem,
            EntryProblem::DigestMismatch {
                actual: Digest::sha256_of(&image_manifest("tampered"))
            }
        );
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("entries[1] (team/tool@{digest})")),
            "{text}"
        );
    }

    #[test]
    fn base64_and_media_type_problems_are_named() {
        for (manifest, media_type) in [
            ("not base64!", MediaType::OciManifest),
            ("eyJh", MediaType::OciManifest), // decodes, but to other bytes
            ("eyJ", MediaType::OciManifest),  // missing padding
            (
                "e30=",
                MediaType::Other("application/x\nInjected: yes".into()),
            ),
            ("e30=", MediaType::Other(String::new())),
        ] {
            let mut broken = sample();
            broken.entries[0].manifest = manifest.into();
            broken.entries[0].media_type = media_type;
            let error = broken.validate().unwrap_err();
            assert!(
                matches!(error, RecoveryError::Entry { index: 0, .. }),
                "{manifest}: {error:?}"
            );
            assert!(error.to_string().contains("team/app@sha256:"), "{error}");
        }
        let mut broken = sample();
        broken.entries[0].manifest = "%%%".into();
        let text = broken.validate().unwrap_err().to_string();
        assert!(text.contains("not valid standard base64"), "{text}");
    }

    #[test]
    fn registries_match_after_normalisation() {
        let file = sample();
        for same in [
            "http://127.0.0.1:5000",
            "http://127.0.0.1:5000/",
            " http://127.0.0.1:5000 ",
        ] {
            assert!(file.is_for(&RegistryUrl::parse(same).unwrap()), "{same}");
        }
        for other in [
            "https://127.0.0.1:5000",
            "http://127.0.0.1:5001",
            "http://127.0.0.1:5000/mirror",
        ] {
            assert!(!file.is_for(&RegistryUrl::parse(other).unwrap()), "{other}");
        }
        let mut default_port = sample();
        default_port.registry = "https://Registry.Example.com:443".into();
        assert!(default_port.is_for(&RegistryUrl::parse("https://registry.example.com").unwrap()));
        default_port.registry = "http://registry.example.com:80/".into();
        assert!(default_port.is_for(&RegistryUrl::parse("http://registry.example.com").unwrap()));
    }
}
