//! Undo until garbage collection.
//!
//! Deleting a manifest removes only the registry's links to it: its bytes,
//! config and layers stay in storage until the next garbage collection. So a
//! delete can be undone by putting the exact manifest bytes back and
//! re-pointing its tags. Before deleting, [`Client::recovery_for`] reads every
//! manifest a plan deletes into a [`RecoveryFile`]; [`Client::restore`] puts
//! them back and says, per entry, what was restored and what could not be
//! (typically: its blobs were garbage-collected in between).
//!
//! The recovery file is a public JSON format, written by the CLI and the
//! dashboard alike; [`RecoveryFile`] and [`RecoveryEntry`] document it field
//! by field.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine as _;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cache::{self, Cache, NoCache};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::inventory::attachment;
use crate::manifest::{Manifest, parse_manifest};
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::plan::{Plan, PlanEntry};
use crate::protocol::{self, Reference, RegistryUrl};
use crate::transport::Transport;

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
    /// When the plan whose deletes this file holds was made ([`Plan::now`]),
    /// RFC 3339. Garbage collection that ran after it may have removed blobs
    /// the entries need.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// One entry per manifest the plan deletes, in plan order: an index
    /// before its children, a subject before what is attached to it; then
    /// one per image the plan removes tags from (`tags_only`), with those
    /// tags. A restore reorders them itself (see [`Client::restore`]).
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
fn short(digest: &Digest) -> String {
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

/// What happened to one entry of a recovery file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreOutcome {
    /// Its position in the file's `entries`.
    pub index: usize,
    pub repository: RepositoryName,
    pub digest: Digest,
    /// The tags the file lists for it.
    pub tags: Vec<Tag>,
    #[serde(flatten)]
    pub result: RestoreResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RestoreResult {
    /// The manifest was put back and every tag of it points at it again.
    Restored {
        /// The tags this restore put back (all of them unless some already
        /// pointed at it).
        tags_repointed: Vec<Tag>,
    },
    /// The registry still (or again) had the manifest; every tag points at
    /// it, these because this restore re-pointed them.
    AlreadyPresent { tags_repointed: Vec<Tag> },
    /// The manifest is there, but some tags were not re-pointed.
    Partial {
        /// True when the registry already had the manifest.
        was_present: bool,
        tags_repointed: Vec<Tag>,
        tags_skipped: Vec<SkippedTag>,
    },
    /// The manifest could not be put back; its tags were not touched.
    Failed { reason: String },
}

/// A tag a restore did not re-point, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedTag {
    pub tag: Tag,
    pub reason: String,
    /// Where the tag points now, when it points at another manifest
    /// (someone pushed it again after the delete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_to: Option<Digest>,
}

impl RestoreResult {
    /// `restored`, `already present`, `partly restored` or `failed`.
    pub fn label(&self) -> &'static str {
        match self {
            RestoreResult::Restored { .. } => "restored",
            RestoreResult::AlreadyPresent { .. } => "already present",
            RestoreResult::Partial { .. } => "partly restored",
            RestoreResult::Failed { .. } => "failed",
        }
    }

    /// Whether the manifest is in the registry after the restore.
    pub fn manifest_present(&self) -> bool {
        !matches!(self, RestoreResult::Failed { .. })
    }
}

impl fmt::Display for SkippedTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tag {} {}", self.tag, self.reason)
    }
}

fn tag_list(tags: &[Tag]) -> String {
    tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")
}

/// One line, such as `restored team/app@sha256:0123456789ab… tags 1.0, latest`,
/// `already present team/app@sha256:0123456789ab…, tags unchanged` or
/// `failed team/app@sha256:0123456789ab…: its blobs were garbage-collected…`.
impl fmt::Display for RestoreOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = format!("{}@{}", self.repository, short(&self.digest));
        match &self.result {
            RestoreResult::Restored { .. } if self.tags.is_empty() => {
                write!(f, "restored {name} (untagged)")
            }
            RestoreResult::Restored { .. } => {
                write!(f, "restored {name} tags {}", tag_list(&self.tags))
            }
            RestoreResult::AlreadyPresent { tags_repointed } if tags_repointed.is_empty() => {
                write!(f, "already present {name}, tags unchanged")
            }
            RestoreResult::AlreadyPresent { tags_repointed } => write!(
                f,
                "already present {name}, re-pointed tags {}",
                tag_list(tags_repointed)
            ),
            RestoreResult::Partial {
                was_present,
                tags_repointed,
                tags_skipped,
            } => {
                let manifest = if *was_present {
                    "was still there"
                } else {
                    "put back"
                };
                write!(f, "partly restored {name}: manifest {manifest}")?;
                if !tags_repointed.is_empty() {
                    write!(f, ", re-pointed tags {}", tag_list(tags_repointed))?;
                }
                for skipped in tags_skipped {
                    write!(f, "; {skipped}")?;
                }
                Ok(())
            }
            RestoreResult::Failed { reason } => write!(f, "failed {name}: {reason}"),
        }
    }
}

/// What a restore did, entry by entry, in the order it restored them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub outcomes: Vec<RestoreOutcome>,
}

/// Counts of restore outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreCounts {
    pub total: usize,
    pub restored: usize,
    pub already_present: usize,
    pub partial: usize,
    pub failed: usize,
}

impl RestoreReport {
    pub fn counts(&self) -> RestoreCounts {
        let mut counts = RestoreCounts {
            total: self.outcomes.len(),
            ..RestoreCounts::default()
        };
        for outcome in &self.outcomes {
            match outcome.result {
                RestoreResult::Restored { .. } => counts.restored += 1,
                RestoreResult::AlreadyPresent { .. } => counts.already_present += 1,
                RestoreResult::Partial { .. } => counts.partial += 1,
                RestoreResult::Failed { .. } => counts.failed += 1,
            }
        }
        counts
    }
}

/// What an entry's manifest refers to within its repository.
#[derive(Default)]
struct Links {
    /// The manifests an index lists.
    children: Vec<Digest>,
    /// What it is attached to: its `subject`, or the digest its cosign or
    /// referrers tags name.
    subject: Option<Digest>,
}

fn links(entry: &RecoveryEntry) -> Links {
    let Ok(bytes) = entry.manifest_bytes() else {
        return Links::default();
    };
    let manifest = parse_manifest(Some(entry.media_type.as_str()), &bytes)
        .map(|(_, manifest)| manifest)
        .ok();
    let subject = manifest.as_ref().and_then(Manifest::subject);
    Links {
        children: manifest
            .as_ref()
            .map(|m| m.children().iter().map(|c| c.digest.clone()).collect())
            .unwrap_or_default(),
        subject: attachment(subject.map(|s| &s.digest), &entry.tags).map(|(digest, _)| digest),
    }
}

/// The order to restore in: every entry after the entries of the same
/// repository it needs, an index after the children it lists (the registry
/// refuses an index whose children are missing) and an attachment after its
/// subject; otherwise file order. Loops are broken where they close.
fn restore_order(entries: &[RecoveryEntry], links: &[Links]) -> Vec<usize> {
    let mut position: BTreeMap<(&RepositoryName, &Digest), usize> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        position
            .entry((&entry.repository, &entry.digest))
            .or_insert(index);
    }
    let needs: Vec<Vec<usize>> = entries
        .iter()
        .zip(links)
        .map(|(entry, links)| {
            links
                .children
                .iter()
                .chain(&links.subject)
                .filter_map(|digest| position.get(&(&entry.repository, digest)).copied())
                .collect()
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    let mut mark = vec![Mark::New; entries.len()];
    let mut order = Vec::with_capacity(entries.len());
    for root in 0..entries.len() {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::Visiting;
        // (entry, how many of its needs were looked at)
        let mut stack = vec![(root, 0usize)];
        while let Some(&(node, next)) = stack.last() {
            if let Some(&need) = needs[node].get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                if mark[need] == Mark::New {
                    mark[need] = Mark::Visiting;
                    stack.push((need, 0));
                }
            } else {
                mark[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}

impl<T: Transport> Client<T> {
    /// Reads every manifest `plan` deletes, by digest and accepting every
    /// manifest type, and keeps its exact bytes, checked against the digest,
    /// with its media type and tags: the recovery file to write before
    /// deleting. Up to [`Client::concurrency`] reads run at once; the
    /// entries stay in plan order. Any manifest that cannot be read or
    /// copied exactly fails the whole file (the error names its repository
    /// and digest): a delete without a complete copy could not be undone.
    pub async fn recovery_for(&self, plan: &Plan) -> Result<RecoveryFile, Error> {
        self.recovery_for_cached(plan, &NoCache).await
    }

    /// [`Client::recovery_for`] taking the exact bytes of manifests a scan
    /// cache holds (checked against their digests) instead of reading them
    /// again.
    pub async fn recovery_for_cached(
        &self,
        plan: &Plan,
        cache: &impl Cache,
    ) -> Result<RecoveryFile, Error> {
        let mut wanted: Vec<(&PlanEntry, Vec<Tag>, bool)> = plan
            .deletes()
            .map(|entry| (entry, entry.tags.clone(), false))
            .collect();
        // One entry per image that loses tags, with all of them.
        let mut untagged_images: BTreeMap<(&RepositoryName, &Digest), usize> = BTreeMap::new();
        for entry in plan.untags() {
            match untagged_images.get(&(&entry.repository, &entry.digest)) {
                Some(&at) => wanted[at].1.extend(entry.tags.iter().cloned()),
                None => {
                    untagged_images.insert((&entry.repository, &entry.digest), wanted.len());
                    wanted.push((entry, entry.tags.clone(), true));
                }
            }
        }
        let mut copies: Vec<Option<RecoveryEntry>> = vec![None; wanted.len()];
        let mut answers = stream::iter(wanted.into_iter().enumerate().map(
            |(index, (entry, tags, tags_only))| async move {
                let copy = self.manifest_copy(entry, cache).await.map(|mut copy| {
                    copy.tags = tags;
                    copy.tags_only = tags_only;
                    copy
                });
                (index, copy)
            },
        ))
        .buffer_unordered(self.concurrency());
        while let Some((index, copy)) = answers.next().await {
            copies[index] = Some(copy?);
        }
        drop(answers);
        Ok(RecoveryFile {
            format: RECOVERY_FORMAT,
            registry: self.registry().as_str().to_owned(),
            created: plan.now,
            entries: copies.into_iter().flatten().collect(),
        })
    }

    async fn manifest_copy(
        &self,
        entry: &PlanEntry,
        cache: &impl Cache,
    ) -> Result<RecoveryEntry, Error> {
        if let Some(value) = cache.get(&cache::manifest_key(&entry.digest)).await
            && let Some((media_type, bytes)) = cache::decode_manifest_bytes(&entry.digest, &value)
        {
            let mut copy = RecoveryEntry::new(
                entry.repository.clone(),
                MediaType::parse(media_type),
                entry.tags.clone(),
                bytes,
            );
            copy.digest = entry.digest.clone();
            return Ok(copy);
        }
        let reference = Reference::Digest(entry.digest.clone());
        // A damaged answer (a proxy cutting or rewriting it) is read again,
        // as the scan does: the copy must not fail on one bad answer.
        let (described, fetched, bytes) = self
            .read_parsed(
                || protocol::manifest(self.registry(), &entry.repository, &reference),
                |described, response| {
                    protocol::parse_manifest_response(described, &reference, response)
                        .map(|fetched| (described.to_owned(), fetched, response.body().clone()))
                },
            )
            .await?;
        if !entry.digest.matches(&bytes) {
            // A signed schema1 manifest: its digest leaves out the signature.
            return Err(Error::Protocol {
                request: described,
                detail: format!(
                    "the {} bytes the registry serves do not hash to {}, so no exact copy can \
                     be kept and the delete could not be undone",
                    fetched.media_type, entry.digest
                ),
            });
        }
        let mut copy = RecoveryEntry::new(
            entry.repository.clone(),
            fetched.media_type,
            entry.tags.clone(),
            &bytes,
        );
        copy.digest = entry.digest.clone();
        Ok(copy)
    }

    /// Puts a recovery file's manifests back and re-points their tags.
    ///
    /// Children go before the index that lists them, a subject before what
    /// is attached to it, otherwise file order. Per entry: a `HEAD` by
    /// digest says whether the registry still has the manifest; if not, its
    /// exact bytes are PUT by digest. Then every tag is read: one that is
    /// gone is PUT back with the same bytes, one that points at this digest
    /// is left as it is, and one that points at another manifest is left
    /// alone (someone pushed it again since the delete) and reported with
    /// where it points. An entry attached to a subject that could not be
    /// restored is not put back (it would be an orphan). One failure never
    /// stops the others; `progress` sees every outcome as it ends.
    pub async fn restore(
        &self,
        file: &RecoveryFile,
        progress: &mut dyn FnMut(&RestoreOutcome),
    ) -> RestoreReport {
        let links: Vec<Links> = file.entries.iter().map(links).collect();
        let mut failed: BTreeSet<(RepositoryName, Digest)> = BTreeSet::new();
        let mut report = RestoreReport::default();
        for index in restore_order(&file.entries, &links) {
            let entry = &file.entries[index];
            let result = self.restore_entry(entry, &links[index], &failed).await;
            if !result.manifest_present() {
                failed.insert((entry.repository.clone(), entry.digest.clone()));
            }
            let outcome = RestoreOutcome {
                index,
                repository: entry.repository.clone(),
                digest: entry.digest.clone(),
                tags: entry.tags.clone(),
                result,
            };
            progress(&outcome);
            report.outcomes.push(outcome);
        }
        report
    }

    async fn restore_entry(
        &self,
        entry: &RecoveryEntry,
        links: &Links,
        failed: &BTreeSet<(RepositoryName, Digest)>,
    ) -> RestoreResult {
        let bytes = match entry.manifest_bytes() {
            Ok(bytes) => bytes,
            Err(problem) => {
                return RestoreResult::Failed {
                    reason: format!("the recovery file's copy is unusable: {problem}"),
                };
            }
        };
        if let Some(subject) = &links.subject
            && failed.contains(&(entry.repository.clone(), subject.clone()))
        {
            return RestoreResult::Failed {
                reason: format!(
                    "not put back: its subject {} could not be restored, and without it this \
                     would be an orphan",
                    short(subject)
                ),
            };
        }
        let was_present = match self.manifest_exists(&entry.repository, &entry.digest).await {
            Ok(present) => present,
            Err(error) => {
                return RestoreResult::Failed {
                    reason: format!("could not check whether the registry has it: {error}"),
                };
            }
        };
        if !was_present {
            let by_digest = Reference::Digest(entry.digest.clone());
            if let Err(error) = self.put_manifest(entry, &by_digest, &bytes).await {
                return RestoreResult::Failed {
                    reason: self.why_not_restored(entry, &bytes, &error, failed).await,
                };
            }
        }
        let mut repointed = Vec::new();
        let mut skipped = Vec::new();
        for tag in &entry.tags {
            match self.resolve_tag(&entry.repository, tag).await {
                Ok(Some(now)) if now == entry.digest => {}
                Ok(Some(now)) => skipped.push(SkippedTag {
                    tag: tag.clone(),
                    reason: format!(
                        "left alone: it points at {} now (pushed again since the delete)",
                        short(&now)
                    ),
                    points_to: Some(now),
                }),
                Ok(None) => {
                    let by_tag = Reference::Tag(tag.clone());
                    match self.put_manifest(entry, &by_tag, &bytes).await {
                        Ok(()) => repointed.push(tag.clone()),
                        Err(error) => skipped.push(SkippedTag {
                            tag: tag.clone(),
                            reason: format!("could not be put back: {error}"),
                            points_to: None,
                        }),
                    }
                }
                Err(error) => skipped.push(SkippedTag {
                    tag: tag.clone(),
                    reason: format!("not re-pointed: reading where it points failed: {error}"),
                    points_to: None,
                }),
            }
        }
        match (skipped.is_empty(), was_present) {
            (true, false) => RestoreResult::Restored {
                tags_repointed: repointed,
            },
            (true, true) => RestoreResult::AlreadyPresent {
                tags_repointed: repointed,
            },
            (false, _) => RestoreResult::Partial {
                was_present,
                tags_repointed: repointed,
                tags_skipped: skipped,
            },
        }
    }

    /// PUTs an entry's exact bytes under a digest or tag; the registry must
    /// answer 201 with the entry's digest.
    async fn put_manifest(
        &self,
        entry: &RecoveryEntry,
        reference: &Reference,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let request = protocol::put_manifest(
            self.registry(),
            &entry.repository,
            reference,
            &entry.media_type,
            bytes.to_vec(),
        )?;
        let (described, response) = self.send(request).await?;
        protocol::parse_put_manifest(&described, &entry.digest, &response)
    }

    /// Whether the repository still links a blob (`HEAD` by digest).
    async fn blob_exists(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let request = protocol::blob_head(self.registry(), repository, digest);
        let (described, response) = self.send(request).await?;
        protocol::parse_blob_head(&described, &response)
    }

    /// The reason for a failed PUT. When the registry says a referenced blob
    /// or manifest is unknown, the blobs were garbage-collected since the
    /// delete (or a child could not be restored): it names what is missing.
    async fn why_not_restored(
        &self,
        entry: &RecoveryEntry,
        bytes: &[u8],
        error: &Error,
        failed: &BTreeSet<(RepositoryName, Digest)>,
    ) -> String {
        let code = error.registry_code();
        if !matches!(
            code,
            Some(ErrorCode::ManifestBlobUnknown | ErrorCode::BlobUnknown)
        ) {
            return format!("the registry did not take it back: {error}");
        }
        let answered = format!(
            "HTTP {} {}",
            error.status().unwrap_or_default(),
            code.map_or("", ErrorCode::as_str)
        );
        let manifest = parse_manifest(Some(entry.media_type.as_str()), bytes)
            .map(|(_, manifest)| manifest)
            .ok();
        let Some(manifest) = manifest else {
            return format!(
                "its blobs were garbage-collected, so it cannot be restored (the registry answered {answered})"
            );
        };
        let mut lost_children = Vec::new();
        for child in manifest.children() {
            let key = (entry.repository.clone(), child.digest.clone());
            if failed.contains(&key) {
                lost_children.push(format!("{} (not restored above)", short(&child.digest)));
            } else if let Ok(false) = self.manifest_exists(&entry.repository, &child.digest).await {
                lost_children.push(short(&child.digest));
            }
        }
        if !lost_children.is_empty() {
            return format!(
                "it cannot be restored: the registry no longer has the manifests it lists: {} \
                 ({answered})",
                lost_children.join(", ")
            );
        }
        let mut lost_blobs = Vec::new();
        for (position, blob) in manifest.blobs().into_iter().enumerate() {
            if let Ok(false) = self.blob_exists(&entry.repository, &blob.digest).await {
                let what = if position == 0 { "config" } else { "layer" };
                lost_blobs.push(format!("{what} {}", short(&blob.digest)));
            }
        }
        if lost_blobs.is_empty() {
            format!(
                "its blobs were garbage-collected, so it cannot be restored (the registry answered {answered})"
            )
        } else {
            format!(
                "its blobs were garbage-collected, so it cannot be restored: the registry no \
                 longer has {} ({answered})",
                lost_blobs.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str) -> RepositoryName {
        name.parse().unwrap()
    }

    fn tag(name: &str) -> Tag {
        name.parse().unwrap()
    }

    fn image_manifest(seed: &str) -> Vec<u8> {
        let config = Digest::sha256_of(format!("config {seed}").as_bytes());
        let layer = Digest::sha256_of(format!("layer {seed}").as_bytes());
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":10}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer}","size":20}}]}}"#
        )
        .into_bytes()
    }

    fn index_manifest(children: &[&Digest]) -> Vec<u8> {
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

    #[test]
    fn children_come_before_their_index_and_subjects_before_attachments() {
        let arm = image_manifest("arm");
        let amd = image_manifest("amd");
        let (arm_digest, amd_digest) = (Digest::sha256_of(&arm), Digest::sha256_of(&amd));
        let index = index_manifest(&[&amd_digest, &arm_digest]);
        let index_digest = Digest::sha256_of(&index);
        let signature = image_manifest("signature");
        let sig_tag = tag(&format!("sha256-{}.sig", index_digest.hex()));
        let other = image_manifest("other");
        let entry = |bytes: &[u8], tags: Vec<Tag>, media_type: MediaType| {
            RecoveryEntry::new(repo("team/app"), media_type, tags, bytes)
        };
        // Plan order: the index, its children, its signature, then another image.
        let entries = vec![
            entry(&index, vec![tag("2.0")], MediaType::OciIndex),
            entry(&amd, vec![], MediaType::OciManifest),
            entry(&arm, vec![], MediaType::OciManifest),
            entry(&signature, vec![sig_tag], MediaType::OciManifest),
            entry(&other, vec![tag("1.0")], MediaType::OciManifest),
        ];
        let found: Vec<Links> = entries.iter().map(links).collect();
        assert_eq!(found[3].subject.as_ref(), Some(&index_digest));
        assert_eq!(restore_order(&entries, &found), [1, 2, 0, 3, 4]);

        // The same manifests in another repository are not related to these.
        let mut elsewhere = entries.clone();
        elsewhere[1].repository = repo("team/other");
        let found: Vec<Links> = elsewhere.iter().map(links).collect();
        assert_eq!(restore_order(&elsewhere, &found), [2, 0, 1, 3, 4]);
    }

    #[test]
    fn a_loop_of_references_still_restores_every_entry_once() {
        let a = image_manifest("a");
        let entries = vec![
            RecoveryEntry::new(repo("x"), MediaType::OciManifest, vec![], &a),
            RecoveryEntry::new(repo("x"), MediaType::OciManifest, vec![], &a),
        ];
        let links = vec![
            Links {
                children: vec![entries[1].digest.clone()],
                subject: None,
            },
            Links {
                children: vec![entries[0].digest.clone()],
                subject: None,
            },
        ];
        let mut order = restore_order(&entries, &links);
        order.sort();
        assert_eq!(order, [0, 1]);
    }

    #[test]
    fn a_put_sends_the_exact_bytes_and_needs_201_with_the_same_digest() {
        let registry = RegistryUrl::parse("http://r:1").unwrap();
        let bytes = image_manifest("put");
        let digest = Digest::sha256_of(&bytes);
        let request = protocol::put_manifest(
            &registry,
            &repo("team/app"),
            &Reference::Tag(tag("1.0")),
            &MediaType::DockerManifest,
            bytes.clone(),
        )
        .unwrap();
        assert_eq!(request.method(), http::Method::PUT);
        assert_eq!(request.uri(), "http://r:1/v2/team/app/manifests/1.0");
        assert_eq!(
            request.headers()["content-type"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert_eq!(request.body(), &bytes);
        assert!(
            crate::auth::scope_for(request.method(), request.uri().path())
                .is_some_and(|scope| scope == "repository:team/app:pull,push")
        );
        for unusable in [
            MediaType::Other(String::new()),
            MediaType::Other("a\nb".into()),
        ] {
            let refused = protocol::put_manifest(
                &registry,
                &repo("team/app"),
                &Reference::Digest(digest.clone()),
                &unusable,
                bytes.clone(),
            );
            assert!(refused.is_err(), "{unusable:?}");
        }

        let answer = |status: u16, header: Option<&str>, body: &str| {
            let mut builder = http::Response::builder().status(status);
            if let Some(value) = header {
                builder = builder.header("docker-content-digest", value);
            }
            builder.body(body.as_bytes().to_vec()).unwrap()
        };
        let text = digest.to_string();
        let put = |response| protocol::parse_put_manifest("PUT x", &digest, &response);
        assert!(put(answer(201, Some(&text), "")).is_ok());
        assert!(
            put(answer(201, None, "")).is_ok(),
            "a browser may not see it"
        );
        let other = Digest::sha256_of(b"other").to_string();
        let moved = put(answer(201, Some(&other), "")).unwrap_err().to_string();
        assert!(moved.contains(&format!("stored it as {other}")), "{moved}");
        assert!(put(answer(200, Some(&text), "")).is_err());
        assert!(put(answer(201, Some("sha256:nope"), "")).is_err());
        let gone = put(answer(
            400,
            None,
            r#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
        ))
        .unwrap_err();
        assert_eq!(gone.registry_code(), Some(&ErrorCode::ManifestBlobUnknown));
    }

    #[test]
    fn every_outcome_prints_as_one_line() {
        let digest = Digest::sha256_of(b"a");
        let named = format!("team/app@sha256:{}…", digest.short());
        let line = |tags: &[&str], result| {
            RestoreOutcome {
                index: 0,
                repository: repo("team/app"),
                digest: digest.clone(),
                tags: tags.iter().map(|t| tag(t)).collect(),
                result,
            }
            .to_string()
        };
        let restored = RestoreResult::Restored {
            tags_repointed: vec![tag("1.0"), tag("latest")],
        };
        assert_eq!(
            line(&["1.0", "latest"], restored),
            format!("restored {named} tags 1.0, latest")
        );
        let untagged = RestoreResult::Restored {
            tags_repointed: vec![],
        };
        assert_eq!(line(&[], untagged), format!("restored {named} (untagged)"));
        let present = RestoreResult::AlreadyPresent {
            tags_repointed: vec![tag("1.0")],
        };
        assert_eq!(
            line(&["1.0"], present),
            format!("already present {named}, re-pointed tags 1.0")
        );
        let partial = RestoreResult::Partial {
            was_present: true,
            tags_repointed: vec![],
            tags_skipped: vec![SkippedTag {
                tag: tag("latest"),
                reason: "left alone: it points at sha256:0123… now".into(),
                points_to: None,
            }],
        };
        assert_eq!(
            line(&["latest"], partial),
            format!(
                "partly restored {named}: manifest was still there; tag latest left alone: it points at sha256:0123… now"
            )
        );
        let failed = RestoreResult::Failed {
            reason: "why".into(),
        };
        assert_eq!(line(&[], failed), format!("failed {named}: why"));
    }

    #[test]
    fn reports_count_every_kind_of_outcome() {
        let outcome = |result| RestoreOutcome {
            index: 0,
            repository: repo("a"),
            digest: Digest::sha256_of(b"a"),
            tags: vec![],
            result,
        };
        let report = RestoreReport {
            outcomes: vec![
                outcome(RestoreResult::Restored {
                    tags_repointed: vec![],
                }),
                outcome(RestoreResult::AlreadyPresent {
                    tags_repointed: vec![],
                }),
                outcome(RestoreResult::Partial {
                    was_present: false,
                    tags_repointed: vec![],
                    tags_skipped: vec![],
                }),
                outcome(RestoreResult::Failed { reason: "x".into() }),
                outcome(RestoreResult::Failed { reason: "y".into() }),
            ],
        };
        assert_eq!(
            report.counts(),
            RestoreCounts {
                total: 5,
                restored: 1,
                already_present: 1,
                partial: 1,
                failed: 2
            }
        );
        let json = serde_json::to_value(&report.outcomes[3]).unwrap();
        assert_eq!(json["outcome"], "failed");
        assert_eq!(json["reason"], "x");
    }
}
