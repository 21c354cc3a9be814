//! The planner: inventory + policy + now -> a decision for every manifest.
//!
//! What counts as an image: a tagged manifest that is not attached to another
//! one. The policy decides images; everything else follows what it belongs
//! to: an index's children follow the index (kept while any kept index lists
//! them), signatures and referrers follow their subject, and an attachment
//! whose subject is gone from the registry is an orphan and goes.
//!
//! Manifests no tag points at, found through scan history or the registry's
//! storage, are decided by their rule's `delete_untagged`; what belongs to
//! them follows them as it follows an image. The tags of a kept image that
//! match `remove_tags` get entries of their own, each removed or kept with a
//! reason.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::inventory::{
    AttachmentKind, DateSource, Image, ImageKind, Inventory, Repository, Untagged, attachment,
    attachment_tag,
};
use crate::manifest::Platform;
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::permissions::DeletePermissions;
use crate::policy::{AgeLimit, Policy, RepositoryPattern, Rule, TagPattern};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The moment the plan was made; ages in reasons are relative to it.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    pub policy: Policy,
    /// Per repository in name order; within one, images newest first (undated
    /// last), each followed by its tags' entries (when its rule removes tags),
    /// its children and attachments; then untagged manifests, newest first.
    pub entries: Vec<PlanEntry>,
    /// What garbage collection frees once the deletes are done.
    pub reclaimable: Reclaimable,
}

/// Bytes that garbage collection frees after the plan's deletes: blobs
/// (manifests, configs, layers) that no remaining manifest in any scanned
/// repository references.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reclaimable {
    pub bytes: u64,
    pub blobs: usize,
    /// False when only some repositories were scanned: a blob counted here
    /// may still be used by a repository the scan did not read, so the
    /// figure is an upper bound.
    pub whole_registry: bool,
}

/// One manifest of one repository and what happens to it; or, with
/// [`Role::Tag`], one tag of a kept image and what happens to the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub repository: RepositoryName,
    pub digest: Digest,
    /// Every tag of the repository that points at this digest: deleting the
    /// digest removes all of them. For a [`Role::Tag`] entry: just its tag.
    pub tags: Vec<Tag>,
    pub media_type: MediaType,
    pub kind: ImageKind,
    /// Whether it counts as an image or belongs to another manifest.
    pub role: Role,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    #[serde(default)]
    pub created_from: Option<DateSource>,
    pub size: u64,
    /// For an index: its children's platforms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Platform>,
    /// The repository rule that decided it; `None`: the default rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RepositoryPattern>,
    pub decision: Decision,
    /// Set on a delete or tag removal that apply will not send, and why;
    /// apply reports it as skipped with that reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
}

/// Why apply will not act on a change the policy decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Blocked {
    /// The token server does not grant this account `delete` in the
    /// repository (see [`crate::DeletePermissions`]).
    NoDeletePermission { repository: RepositoryName },
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocked::NoDeletePermission { repository } => {
                write!(f, "cannot delete: no delete permission in {repository}")
            }
        }
    }
}

impl PlanEntry {
    /// Whether apply sends it: a delete or tag removal that is not blocked.
    pub fn is_sent(&self) -> bool {
        self.decision.is_change() && self.blocked.is_none()
    }
}

/// How a manifest relates to the images the policy decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// Counts as an image; the policy decides it.
    Image,
    /// Listed by these indexes of the repository (and not tagged itself).
    Child {
        indexes: Vec<Digest>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform: Option<Platform>,
    },
    /// A signature, attestation, SBOM or referrer of `subject`.
    Attachment {
        subject: Digest,
        kind: AttachmentKind,
        /// What it is, as the referrers API would say: its manifest's
        /// `artifactType`, or else its config's media type when that is not
        /// an image config.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        artifact_type: Option<String>,
    },
    /// No tag points at it and nothing the scan read leads to it: found
    /// through scan history or the registry's storage. Its rule decides it
    /// (`delete_untagged`).
    Untagged(Untagged),
    /// Not a manifest but one tag of a kept image that `remove_tags`
    /// matches; `remaining` are the image's tags after the plan's removals.
    Tag { remaining: Vec<Tag> },
}

impl Role {
    /// Whether the entry is about a tag rather than a manifest.
    pub fn is_tag(&self) -> bool {
        matches!(self, Role::Tag { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Keep {
        reason: KeepReason,
    },
    Delete {
        reason: DeleteReason,
    },
    /// Remove the entry's tag; the manifest and its other tags stay.
    Untag {
        reason: UntagReason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum UntagReason {
    /// The tag matches the rule's `remove_tags`.
    RemoveTags { pattern: String },
}

impl fmt::Display for UntagReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UntagReason::RemoveTags { pattern } => write!(f, "matches remove_tags {pattern}"),
        }
    }
}

/// An untagged manifest pushed less than this before the plan is kept: it
/// may be the child of an index whose push is still under way.
pub const UNTAGGED_GRACE: time::Duration = time::Duration::minutes(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum KeepReason {
    /// Among the newest `keep` images; `rank` 1 is the newest.
    Newest { rank: usize, keep: usize },
    /// One of its tags matches a `keep_tags` pattern.
    TagMatches { tag: Tag, pattern: String },
    /// Younger than the rule's age limit.
    Recent { limit: AgeLimit },
    /// It carries a tag outside `only_tags`, so the rule does not consider
    /// it; `shared` when it also carries tags inside.
    OutsideFilter {
        tag: Tag,
        pattern: String,
        shared: bool,
    },
    /// More than one tag points at it and the rule skips shared digests.
    SharedDigest { tags: usize },
    /// Its rule sets no count or age limit.
    NoLimit,
    /// No usable build date, and the rule does not delete such images.
    UnknownAge,
    /// A manifest kind this version does not interpret (schema1, unknown).
    NotInterpreted { media_type: MediaType },
    /// A kept index lists it: deleting it would break that image.
    InKeptIndex { index: Digest },
    /// Attached to a kept manifest.
    AttachedToKept { subject: Digest },
    /// Attached to a manifest that exists but that no tag leads to.
    SubjectUntracked { subject: Digest },
    /// No tag, index or subject leads to it; not this plan's to delete.
    Untracked,
    /// Its relations loop back on themselves; kept to be safe.
    Unresolved,
    /// No tag points at it, and its rule does not set `delete_untagged`.
    UntaggedKept,
    /// Untagged, but pushed less than [`UNTAGGED_GRACE`] before the plan.
    PushedRecently {
        #[serde(with = "time::serde::rfc3339")]
        pushed: OffsetDateTime,
    },
    /// A tag `remove_tags` matches that is the image's last: removing it
    /// would leave the image untagged.
    LastTag { pattern: String },
    /// A tag `remove_tags` matches that also matches `keep_tags`.
    TagKept { pattern: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum DeleteReason {
    /// Beyond every limit of its rule: not among the newest `keep_newest`
    /// (when set), older than every age limit, and no keep clause holds.
    /// `rank` 1 is the newest image the rule considers.
    Expired {
        rank: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keep_newest: Option<usize>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        older_than: Vec<AgeLimit>,
    },
    /// No usable build date, and the rule deletes such images.
    UnknownAge,
    /// A child of a deleted index that no kept index lists.
    WithDeletedIndex { index: Digest },
    /// Attached to a deleted manifest.
    WithDeletedSubject { subject: Digest },
    /// Attached to a manifest the registry no longer has.
    Orphan { subject: Digest },
    /// No tag points at it, and its rule sets `delete_untagged`.
    Untagged,
}

impl Decision {
    pub fn is_delete(&self) -> bool {
        matches!(self, Decision::Delete { .. })
    }

    pub fn is_untag(&self) -> bool {
        matches!(self, Decision::Untag { .. })
    }

    /// Whether apply acts on it: a delete or a tag removal.
    pub fn is_change(&self) -> bool {
        !matches!(self, Decision::Keep { .. })
    }

    /// Why, without the `kept:`/`deleted:`/`tag removed:` prefix.
    pub fn reason(&self) -> String {
        match self {
            Decision::Keep { reason } => reason.to_string(),
            Decision::Delete { reason } => reason.to_string(),
            Decision::Untag { reason } => reason.to_string(),
        }
    }

    /// `keep`, `delete` or `untag`, as the dashboard and exports name it.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Keep { .. } => "keep",
            Decision::Delete { .. } => "delete",
            Decision::Untag { .. } => "untag",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Keep { reason } => write!(f, "kept: {reason}"),
            Decision::Delete { reason } => write!(f, "deleted: {reason}"),
            Decision::Untag { reason } => write!(f, "tag removed: {reason}"),
        }
    }
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Newest { rank, keep } => write!(f, "newest {keep}, this is #{rank}"),
            KeepReason::TagMatches { tag, pattern } => write!(f, "tag {tag} matches {pattern}"),
            KeepReason::Recent {
                limit: limit @ AgeLimit::YoungerThanDays { .. },
            } => write!(f, "younger than {limit}"),
            KeepReason::Recent {
                limit: AgeLimit::NewerThan { since },
            } => write!(f, "created since {since}"),
            KeepReason::OutsideFilter {
                tag,
                pattern: _,
                shared: true,
            } => write!(f, "shares its digest with kept tag {tag}"),
            KeepReason::OutsideFilter {
                tag,
                pattern,
                shared: false,
            } => write!(f, "tag {tag} is outside {pattern}, which the rule cleans"),
            KeepReason::SharedDigest { tags } => {
                write!(
                    f,
                    "{tags} tags share this digest, and shared digests are skipped"
                )
            }
            KeepReason::NoLimit => f.write_str("its rule sets no count or age limit"),
            KeepReason::UnknownAge => {
                f.write_str("build date unknown, so a count or age limit never deletes it")
            }
            KeepReason::NotInterpreted { media_type } => {
                write!(f, "{media_type} is not read by this version")
            }
            KeepReason::InKeptIndex { index } => {
                write!(f, "listed by kept index {}", index.short())
            }
            KeepReason::AttachedToKept { subject } => {
                write!(f, "attached to kept {}", subject.short())
            }
            KeepReason::SubjectUntracked { subject } => write!(
                f,
                "attached to {}, which exists but no tag leads to",
                subject.short()
            ),
            KeepReason::Untracked => f.write_str("no tag, index or subject leads to it"),
            KeepReason::Unresolved => f.write_str("its references loop; kept to be safe"),
            KeepReason::UntaggedKept => {
                f.write_str("no tag points at it, and its rule does not delete untagged manifests")
            }
            KeepReason::PushedRecently { pushed } => write!(
                f,
                "untagged, but pushed at {}, less than {} minutes before the plan: a push may \
                 still be under way",
                crate::format::date(*pushed),
                UNTAGGED_GRACE.whole_minutes()
            ),
            KeepReason::LastTag { pattern } => write!(
                f,
                "matches remove_tags {pattern}, but it is the image's last tag: removing it \
                 would leave the image untagged"
            ),
            KeepReason::TagKept { pattern } => {
                write!(f, "matches remove_tags, but also keep_tags {pattern}")
            }
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::Expired {
                rank,
                keep_newest,
                older_than,
            } => {
                write!(f, "{} newest", ordinal(*rank))?;
                if let Some(keep) = keep_newest {
                    let verb = if *keep == 1 { "is" } else { "are" };
                    write!(f, ", only the newest {keep} {verb} kept")?;
                }
                for limit in older_than {
                    match limit {
                        AgeLimit::YoungerThanDays { .. } => write!(f, ", older than {limit}")?,
                        AgeLimit::NewerThan { since } => write!(f, ", created before {since}")?,
                    }
                }
                Ok(())
            }
            DeleteReason::UnknownAge => {
                f.write_str("build date unknown, and its rule deletes such images")
            }
            DeleteReason::WithDeletedIndex { index } => {
                write!(f, "child of deleted index {}", index.short())
            }
            DeleteReason::WithDeletedSubject { subject } => {
                write!(f, "attached to deleted {}", subject.short())
            }
            DeleteReason::Orphan { subject } => {
                write!(f, "orphan: its subject {} is gone", subject.short())
            }
            DeleteReason::Untagged => {
                f.write_str("no tag points at it, and its rule deletes untagged manifests")
            }
        }
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, … `11th`, `21st`.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Counts over a plan, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTotals {
    /// Entries that count as images (not children or attachments).
    pub kept_images: usize,
    pub deleted_images: usize,
    /// Every DELETE the plan makes: images, untagged manifests, children
    /// and attachments.
    pub deleted_manifests: usize,
    pub deleted_tags: usize,
    /// Config and layer bytes of the deleted images, untagged manifests and
    /// attachments (an index's size already holds its children's).
    pub deleted_bytes: u64,
    /// What garbage collection frees; see [`Reclaimable`].
    pub reclaimable_bytes: u64,
    /// Untagged manifests (found through history or storage) the plan
    /// deletes and keeps; their children and attachments are not counted.
    #[serde(default)]
    pub deleted_untagged: usize,
    #[serde(default)]
    pub kept_untagged: usize,
    /// Tags the plan removes from kept images (`remove_tags`).
    #[serde(default)]
    pub removed_tags: usize,
    /// Deletes and tag removals the policy decided that apply will not
    /// send (see [`Blocked`]); counted in none of the figures above.
    #[serde(default)]
    pub blocked: usize,
}

impl PlanTotals {
    /// What apply does: DELETEs and tag removals.
    pub fn changes(&self) -> usize {
        self.deleted_manifests + self.removed_tags
    }
}

impl Plan {
    /// The DELETEs apply sends (blocked ones left out).
    pub fn deletes(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries
            .iter()
            .filter(|e| e.decision.is_delete() && e.blocked.is_none())
    }

    /// The tags the plan removes from kept images (blocked ones left out).
    pub fn untags(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries
            .iter()
            .filter(|e| e.decision.is_untag() && e.blocked.is_none())
    }

    /// What apply acts on, in plan order: deletes and tag removals that
    /// are not blocked.
    pub fn changes(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| e.is_sent())
    }

    /// Marks the changes in repositories `permissions` denies as
    /// [`Blocked::NoDeletePermission`], for a plan made earlier (a saved
    /// plan); its reclaimable figure stays the one made with the plan.
    /// [`plan_with`] is the way for a new plan.
    pub fn block_denied(&mut self, permissions: &DeletePermissions) {
        for entry in &mut self.entries {
            if entry.decision.is_change()
                && entry.blocked.is_none()
                && permissions.denies(&entry.repository)
            {
                entry.blocked = Some(Blocked::NoDeletePermission {
                    repository: entry.repository.clone(),
                });
            }
        }
    }

    /// Deletes and tag removals apply will not send (see [`Blocked`]).
    pub fn blocked(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries
            .iter()
            .filter(|e| e.decision.is_change() && e.blocked.is_some())
    }

    pub fn totals(&self) -> PlanTotals {
        let mut totals = PlanTotals {
            reclaimable_bytes: self.reclaimable.bytes,
            ..PlanTotals::default()
        };
        for entry in &self.entries {
            if entry.blocked.is_some() && entry.decision.is_change() {
                totals.blocked += 1;
                continue;
            }
            let is_image = entry.role == Role::Image;
            let untagged = matches!(entry.role, Role::Untagged(_));
            match &entry.decision {
                Decision::Untag { .. } => totals.removed_tags += 1,
                Decision::Delete { .. } => {
                    totals.deleted_manifests += 1;
                    totals.deleted_tags += entry.tags.len();
                    if is_image {
                        totals.deleted_images += 1;
                    }
                    if untagged {
                        totals.deleted_untagged += 1;
                    }
                    if !matches!(entry.role, Role::Child { .. }) {
                        totals.deleted_bytes += entry.size;
                    }
                }
                Decision::Keep { .. } if is_image => totals.kept_images += 1,
                Decision::Keep { .. } if untagged => totals.kept_untagged += 1,
                Decision::Keep { .. } => {}
            }
        }
        totals
    }
}

/// Decides every manifest of `inventory`. Pure: same inputs, same plan.
pub fn plan(inventory: &Inventory, policy: &Policy, now: OffsetDateTime) -> Plan {
    plan_with(inventory, policy, now, &DeletePermissions::none_denied())
}

/// [`plan()`] for an account that may not delete everywhere: the deletes
/// and tag removals the policy decides in a repository `permissions` denies
/// are marked [`Blocked::NoDeletePermission`] (apply skips them), and the
/// reclaimable bytes count them as kept. Pure like [`plan()`].
pub fn plan_with(
    inventory: &Inventory,
    policy: &Policy,
    now: OffsetDateTime,
    permissions: &DeletePermissions,
) -> Plan {
    let manifests: usize = inventory
        .repositories
        .values()
        .map(|r| r.images.len())
        .sum();
    plan_on_threads(
        inventory,
        policy,
        now,
        permissions,
        planning_threads(manifests),
    )
}

fn plan_on_threads(
    inventory: &Inventory,
    policy: &Policy,
    now: OffsetDateTime,
    permissions: &DeletePermissions,
    workers: usize,
) -> Plan {
    let repositories: Vec<(&RepositoryName, &Repository)> = inventory.repositories.iter().collect();
    let manifests: usize = repositories.iter().map(|(_, r)| r.images.len()).sum();
    // Repositories are planned independently; contiguous chunks merged in
    // order give the same plan as one pass, whatever the thread count.
    let (entries, reclaim) = if workers <= 1 {
        plan_part(&repositories, 0, manifests, policy, now, permissions)
    } else {
        let chunks = balanced_chunks(&repositories, manifests, workers);
        let mut first = 0;
        let starts: Vec<usize> = chunks
            .iter()
            .map(|chunk| {
                let start = first;
                first += chunk.len();
                start
            })
            .collect();
        let parts: Vec<(Vec<PlanEntry>, Reclaim)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .iter()
                .zip(starts)
                .map(|(chunk, start)| {
                    let size = chunk.iter().map(|(_, r)| r.images.len()).sum();
                    scope.spawn(move || plan_part(chunk, start, size, policy, now, permissions))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        let mut entries = Vec::with_capacity(manifests);
        let mut reclaim = Reclaim::default();
        for (part, part_reclaim) in parts {
            entries.extend(part);
            reclaim.absorb(part_reclaim);
        }
        (entries, reclaim)
    };
    let (reclaimable, _) = reclaim.finish(inventory, repositories.len());
    Plan {
        now,
        policy: policy.clone(),
        entries,
        reclaimable,
    }
}

/// Plans a run of repositories, in order; `first` is the position of the
/// run's first repository in the inventory.
fn plan_part<'a>(
    repositories: &[(&'a RepositoryName, &'a Repository)],
    first: usize,
    manifests: usize,
    policy: &Policy,
    now: OffsetDateTime,
    permissions: &DeletePermissions,
) -> (Vec<PlanEntry>, Reclaim<'a>) {
    let mut entries = Vec::with_capacity(manifests);
    let mut reclaim = Reclaim::default();
    let mut planner = RepositoryPlanner::default();
    for (at, (name, repository)) in repositories.iter().enumerate() {
        reclaim.repository = first + at;
        let (pattern, rule) = policy.rule_for(name);
        planner.plan(
            name,
            repository,
            (pattern, rule),
            now,
            permissions.denies(name),
            &mut entries,
            &mut reclaim,
        );
    }
    (entries, reclaim)
}

/// Below this many manifests a thread costs more than it saves.
#[cfg(not(target_arch = "wasm32"))]
const MANIFESTS_PER_THREAD: usize = 50_000;

/// Threads for planning natively; the browser plans on one.
#[cfg(not(target_arch = "wasm32"))]
fn planning_threads(manifests: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(8).min(manifests / MANIFESTS_PER_THREAD).max(1)
}

#[cfg(target_arch = "wasm32")]
fn planning_threads(_manifests: usize) -> usize {
    1
}

/// Splits repositories into at most `parts` contiguous runs of about the
/// same number of manifests.
fn balanced_chunks<'r, 'a>(
    repositories: &'r [(&'a RepositoryName, &'a Repository)],
    manifests: usize,
    parts: usize,
) -> Vec<&'r [(&'a RepositoryName, &'a Repository)]> {
    let target = manifests.div_ceil(parts).max(1);
    let mut chunks = Vec::with_capacity(parts);
    let mut start = 0;
    let mut size = 0;
    for (at, (_, repository)) in repositories.iter().enumerate() {
        size += repository.images.len();
        if size >= target && chunks.len() + 1 < parts {
            chunks.push(&repositories[start..=at]);
            start = at + 1;
            size = 0;
        }
    }
    if start < repositories.len() {
        chunks.push(&repositories[start..]);
    }
    chunks
}

/// A digest as a hash-map key. Digests are uniformly random hex, so their
/// first 16 digits, read once and kept beside the reference, hash them well
/// (a table that grows rehashes without touching the digest again); equality
/// compares the whole digest only when those digits agree.
#[derive(Clone, Copy)]
struct DigestKey<'a> {
    prefix: u64,
    digest: &'a Digest,
}

impl<'a> DigestKey<'a> {
    fn new(digest: &'a Digest) -> Self {
        let hex = digest.hex().as_bytes();
        // Fixed-size reads; a parsed digest has 64 or 128 digits.
        let word = |at: usize| {
            hex.get(at..at + 8)
                .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
                .map_or(hex.len() as u64, u64::from_le_bytes)
        };
        DigestKey {
            prefix: word(0) ^ word(8).rotate_left(29),
            digest,
        }
    }
}

impl PartialEq for DigestKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.prefix == other.prefix && self.digest == other.digest
    }
}

impl Eq for DigestKey<'_> {}

impl Hash for DigestKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.prefix);
    }
}

/// Mixes the one word a [`DigestKey`] writes (the splitmix64 finaliser),
/// so every bit of the hash depends on every digit hashed.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        let mut z = (self.0 ^ word).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type DigestMap<'a, V> = HashMap<DigestKey<'a>, V, BuildHasherDefault<DigestHasher>>;

/// Who refers to whom in one repository. Every digest the repository has a
/// manifest or a tag for gets an id, its position in digest order, and the
/// tables below are indexed by it. The tables are refilled for each
/// repository and keep their memory from one to the next.
#[derive(Default)]
struct Relations<'a> {
    digests: Vec<&'a Digest>,
    images: Vec<Option<&'a Image>>,
    /// Its tags, in name order.
    tags: Vec<Vec<Tag>>,
    /// The indexes that list it, in digest order.
    parents: Vec<Vec<usize>>,
    /// For an index: the id of each child, in the index's order (`None`: the
    /// repository has neither a manifest nor a tag for it).
    children: Vec<Vec<Option<usize>>>,
    /// What it is attached to.
    attached: Vec<Option<(Digest, AttachmentKind)>>,
    /// The id of the subject it is attached to, when that is a manifest of
    /// the repository.
    subject: Vec<Option<usize>>,
    /// The manifests attached to it, in digest order.
    attachments: Vec<Vec<usize>>,
    /// How the scan found it when no tag points at it.
    untagged: Vec<Option<&'a Untagged>>,
    ids: DigestMap<'a, usize>,
    /// The id each tag points at, in tag order, and how many tags each id has.
    tagged: Vec<usize>,
    tag_counts: Vec<usize>,
    /// How many ids the previous repository used.
    used: usize,
}

/// Leaves at least `count` lists in `table`, all empty, keeping their
/// memory: the first `used` were filled for the previous repository, the
/// others are empty already.
fn reset<T>(table: &mut Vec<Vec<T>>, used: usize, count: usize) {
    table.iter_mut().take(used).for_each(Vec::clear);
    if table.len() < count {
        table.resize_with(count, Vec::new);
    }
}

impl<'a> Relations<'a> {
    fn load(&mut self, repository: &'a Repository) {
        self.digests.clear();
        self.digests.extend(repository.images.keys());
        self.images.clear();
        self.images.extend(repository.images.values().map(Some));
        self.ids.clear();
        let ids = &mut self.ids;
        ids.extend(
            self.digests
                .iter()
                .enumerate()
                .map(|(id, d)| (DigestKey::new(d), id)),
        );
        // Tags on digests the inventory has no manifest for (an inventory
        // from elsewhere): merge them in, in digest order.
        let mut untracked: Vec<&Digest> = repository
            .tags
            .values()
            .filter(|digest| !ids.contains_key(&DigestKey::new(digest)))
            .collect();
        if !untracked.is_empty() {
            untracked.sort_unstable();
            untracked.dedup();
            let known: Vec<(&Digest, Option<&Image>)> =
                self.digests.drain(..).zip(self.images.drain(..)).collect();
            let mut known = known.into_iter().peekable();
            let mut extra = untracked.into_iter().peekable();
            loop {
                let take_known = match (known.peek(), extra.peek()) {
                    (Some((a, _)), Some(b)) => a < b,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                let (digest, image) = if take_known {
                    known.next().expect("peeked")
                } else {
                    (extra.next().expect("peeked"), None)
                };
                self.digests.push(digest);
                self.images.push(image);
            }
            ids.clear();
            ids.extend(
                self.digests
                    .iter()
                    .enumerate()
                    .map(|(id, d)| (DigestKey::new(d), id)),
            );
        }
        let count = self.digests.len();
        let id = |digest: &Digest| ids.get(&DigestKey::new(digest)).copied();
        self.untagged.clear();
        if repository.untagged.is_empty() {
            self.untagged.resize(count, None);
        } else {
            self.untagged.extend(
                self.digests
                    .iter()
                    .map(|digest| repository.untagged.get(*digest)),
            );
        }

        // Each digest's tags, in a list of exactly their number (the lists
        // move into the plan's entries).
        reset(&mut self.tags, self.used, count);
        self.tagged.clear();
        self.tagged.extend(
            repository
                .tags
                .values()
                .map(|digest| id(digest).expect("every tagged digest has an id")),
        );
        self.tag_counts.clear();
        self.tag_counts.resize(count, 0);
        for &at in &self.tagged {
            self.tag_counts[at] += 1;
        }
        for (at, &tags) in self.tag_counts.iter().enumerate() {
            self.tags[at].reserve_exact(tags);
        }
        for (tag, &at) in repository.tags.keys().zip(&self.tagged) {
            self.tags[at].push(tag.clone());
        }
        reset(&mut self.parents, self.used, count);
        reset(&mut self.children, self.used, count);
        for (index, image) in self.images.iter().enumerate() {
            let Some(image) = image.filter(|image| !image.children.is_empty()) else {
                continue;
            };
            let listed = &mut self.children[index];
            listed.extend(image.children.iter().map(|child| id(&child.digest)));
            for &child in listed.iter().flatten() {
                // Indexes are visited in digest order, so a repeat is the last.
                let parents = &mut self.parents[child];
                if parents.last() != Some(&index) {
                    parents.push(index);
                }
            }
        }
        self.attached.clear();
        self.subject.clear();
        reset(&mut self.attachments, self.used, count);
        for at in 0..count {
            let image = self.images[at];
            let found = attachment(image.and_then(|i| i.subject.as_ref()), &self.tags[at]);
            let subject = found.as_ref().and_then(|(digest, _)| id(digest));
            if let (Some(_), Some(of)) = (image, subject) {
                self.attachments[of].push(at);
            }
            self.subject
                .push(subject.filter(|&of| self.images[of].is_some()));
            self.attached.push(found);
        }
        self.used = count;
    }

    fn count(&self) -> usize {
        self.digests.len()
    }
}

/// One rule's verdict on the images of one repository.
struct RuleJudge<'r> {
    rule: &'r Rule,
    tags: &'r [Vec<Tag>],
    /// Age limits with the moment each keeps from.
    limits: Vec<(AgeLimit, OffsetDateTime)>,
}

impl<'r> RuleJudge<'r> {
    fn new(rule: &'r Rule, now: OffsetDateTime, tags: &'r [Vec<Tag>]) -> Self {
        RuleJudge {
            rule,
            tags,
            limits: rule.age_limits(now),
        }
    }

    fn tags(&self, id: usize) -> &[Tag] {
        &self.tags[id]
    }

    /// Keep clauses that hold whatever the image's age: no limit, outside
    /// the filter, a kept tag. Checked before ranking.
    fn unranked_keep(&self, id: usize) -> Option<KeepReason> {
        if !self.rule.has_limit() {
            return Some(KeepReason::NoLimit);
        }
        let tags = self.tags(id);
        if let Some(filter) = &self.rule.only_tags
            && let Some(outside) = tags.iter().find(|tag| !filter.matches(tag.as_str()))
        {
            return Some(KeepReason::OutsideFilter {
                tag: outside.clone(),
                pattern: filter.as_str().to_owned(),
                shared: tags.iter().any(|tag| filter.matches(tag.as_str())),
            });
        }
        None
    }

    /// Keep clauses that a ranked or undated image may still meet.
    fn tag_keep(&self, id: usize) -> Option<KeepReason> {
        let tags = self.tags(id);
        for tag in tags {
            if let Some(pattern) = self
                .rule
                .keep_tags
                .iter()
                .find(|p: &&TagPattern| p.matches(tag.as_str()))
            {
                return Some(KeepReason::TagMatches {
                    tag: tag.clone(),
                    pattern: pattern.as_str().to_owned(),
                });
            }
        }
        if self.rule.skip_shared_digests && tags.len() > 1 {
            return Some(KeepReason::SharedDigest { tags: tags.len() });
        }
        None
    }

    /// `rank` counts the images the rule considers, newest first.
    fn dated(&self, id: usize, created: OffsetDateTime, rank: &mut usize) -> Decision {
        if let Some(reason) = self.unranked_keep(id) {
            return Decision::Keep { reason };
        }
        *rank += 1;
        let rank = *rank;
        if let Some(keep) = self.rule.keep_newest
            && rank <= keep
        {
            return Decision::Keep {
                reason: KeepReason::Newest { rank, keep },
            };
        }
        if let Some(reason) = self.tag_keep(id) {
            return Decision::Keep { reason };
        }
        if let Some((limit, _)) = self.limits.iter().find(|(_, from)| created >= *from) {
            return Decision::Keep {
                reason: KeepReason::Recent {
                    limit: limit.clone(),
                },
            };
        }
        Decision::Delete {
            reason: DeleteReason::Expired {
                rank,
                keep_newest: self.rule.keep_newest,
                older_than: self.limits.iter().map(|(limit, _)| limit.clone()).collect(),
            },
        }
    }

    fn undated(&self, id: usize) -> Decision {
        let reason = self
            .unranked_keep(id)
            .or_else(|| self.tag_keep(id))
            .or_else(|| (!self.rule.delete_unknown_age).then_some(KeepReason::UnknownAge));
        match reason {
            Some(reason) => Decision::Keep { reason },
            None => Decision::Delete {
                reason: DeleteReason::UnknownAge,
            },
        }
    }
}

/// Plans one repository at a time. Its tables keep their memory from one
/// repository to the next.
#[derive(Default)]
struct RepositoryPlanner<'a> {
    relations: Relations<'a>,
    /// The images the policy decides, in plan order.
    images: Vec<usize>,
    /// Whether the policy decides it (it counts as an image).
    is_image: Vec<bool>,
    /// Whether the policy decides it as an untagged manifest.
    is_untagged: Vec<bool>,
    /// Untagged manifests the policy decides, with their dates.
    untagged: Vec<(usize, Option<OffsetDateTime>)>,
    /// Each digest's tags once the rule's `remove_tags` are gone.
    remaining: Vec<Vec<Tag>>,
    verdicts: Verdicts,
    dated: Vec<(usize, OffsetDateTime)>,
    undated: Vec<(usize, Option<KeepReason>)>,
    order: Vec<usize>,
    placed: Vec<bool>,
    stack: Vec<(usize, bool)>,
}

/// Decisions as they are made.
#[derive(Default)]
struct Verdicts {
    /// The policy's decision, until `decide` takes it.
    policy: Vec<Option<Decision>>,
    decided: Vec<Option<Decision>>,
    visiting: Vec<bool>,
}

impl<'a> RepositoryPlanner<'a> {
    /// Appends the repository's entries to `out`, in plan order, and tells
    /// `reclaim` what the plan deletes and keeps.
    /// With `denied`, its changes are marked
    /// [`Blocked::NoDeletePermission`] and count as kept for `reclaim`.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &mut self,
        name: &RepositoryName,
        repository: &'a Repository,
        (pattern, rule): (Option<&RepositoryPattern>, &Rule),
        now: OffsetDateTime,
        denied: bool,
        out: &mut Vec<PlanEntry>,
        reclaim: &mut Reclaim<'a>,
    ) {
        let first = out.len();
        self.relations.load(repository);
        self.judge(rule, now);
        self.judge_untagged(rule, now);
        self.order();
        // Decided in plan order first: a loop's verdicts depend on where
        // deciding starts.
        for &id in &self.order {
            self.verdicts
                .decide(id, &self.relations, &repository.subjects);
        }
        let relations = &self.relations;
        for (id, image) in relations.images.iter().enumerate() {
            let (Some(image), Some(decision)) = (image, &self.verdicts.decided[id]) else {
                continue;
            };
            reclaim.note(
                relations.digests[id],
                image,
                decision.is_delete() && !denied,
            );
        }
        let order = std::mem::take(&mut self.order);
        for &id in &order {
            let entry = self.entry(id, name, pattern);
            let is_image = self.is_image[id];
            out.push(entry);
            if is_image && let Some(remove) = &rule.remove_tags {
                let image = out.len() - 1;
                let tags = tag_entries(&out[image], remove, &rule.keep_tags);
                out.extend(tags);
            }
        }
        self.order = order;
        if denied {
            for entry in out[first..]
                .iter_mut()
                .filter(|entry| entry.decision.is_change())
            {
                entry.blocked = Some(Blocked::NoDeletePermission {
                    repository: name.clone(),
                });
            }
        }
    }

    /// Decides the untagged manifests the scan found that nothing else
    /// decides: not listed by an index of the repository, not attached.
    fn judge_untagged(&mut self, rule: &Rule, now: OffsetDateTime) {
        let relations = &self.relations;
        let count = relations.count();
        self.is_untagged.clear();
        self.is_untagged.resize(count, false);
        self.untagged.clear();
        if !relations.untagged.iter().any(Option::is_some) {
            return;
        }
        for id in 0..count {
            let (Some(found), Some(image)) = (relations.untagged[id], relations.images[id]) else {
                continue;
            };
            if !relations.tags[id].is_empty()
                || !relations.parents[id].is_empty()
                || relations.attached[id].is_some()
            {
                continue;
            }
            let decision = if !image.kind.is_interpreted() {
                Decision::Keep {
                    reason: KeepReason::NotInterpreted {
                        media_type: image.media_type.clone(),
                    },
                }
            } else if let Some(pushed) = found.pushed.filter(|&at| at > now - UNTAGGED_GRACE) {
                Decision::Keep {
                    reason: KeepReason::PushedRecently { pushed },
                }
            } else if rule.delete_untagged {
                Decision::Delete {
                    reason: DeleteReason::Untagged,
                }
            } else {
                Decision::Keep {
                    reason: KeepReason::UntaggedKept,
                }
            };
            self.verdicts.policy[id] = Some(decision);
            self.is_untagged[id] = true;
            self.untagged.push((id, image.created));
        }
        // Newest first, undated last, ties in digest order.
        self.untagged.sort_unstable_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) => y.cmp(&x).then(a.0.cmp(&b.0)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.cmp(&b.0),
        });
        self.images.extend(self.untagged.iter().map(|(id, _)| *id));
    }

    /// The policy's decisions on the images it decides.
    fn judge(&mut self, rule: &Rule, now: OffsetDateTime) {
        let relations = &self.relations;
        let count = relations.count();
        self.dated.clear();
        self.undated.clear();
        // Tagged digests in digest order (ids are in digest order).
        for id in (0..count).filter(|&id| !relations.tags[id].is_empty()) {
            if relations.attached[id].is_some() {
                continue;
            }
            let Some(image) = relations.images[id] else {
                // The scan reads every tagged manifest; an inventory from
                // elsewhere may lack one. Without it nothing is known.
                self.undated.push((id, Some(KeepReason::Untracked)));
                continue;
            };
            match image.created {
                Some(created) if image.kind.is_interpreted() => self.dated.push((id, created)),
                _ if image.kind.is_interpreted() => self.undated.push((id, None)),
                _ => self.undated.push((
                    id,
                    Some(KeepReason::NotInterpreted {
                        media_type: image.media_type.clone(),
                    }),
                )),
            }
        }
        // Newest first; equal dates fall back to digest order so plans are stable.
        self.dated
            .sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // An image is judged by the tags it keeps: the plan leaves the
        // registry as the next plan will find it.
        let judged = match &rule.remove_tags {
            Some(remove) => {
                self.remaining.clear();
                self.remaining.extend(
                    relations
                        .tags
                        .iter()
                        .take(count)
                        .map(|tags| remaining_tags(tags, remove, &rule.keep_tags)),
                );
                &self.remaining
            }
            None => &relations.tags,
        };
        let judge = RuleJudge::new(rule, now, judged);
        let mut rank = 0;
        self.images.clear();
        self.is_image.clear();
        self.is_image.resize(count, false);
        let verdicts = &mut self.verdicts;
        verdicts.policy.clear();
        verdicts.policy.resize(count, None);
        verdicts.decided.clear();
        verdicts.decided.resize(count, None);
        verdicts.visiting.clear();
        verdicts.visiting.resize(count, false);
        for &(id, created) in &self.dated {
            verdicts.policy[id] = Some(judge.dated(id, created, &mut rank));
            self.is_image[id] = true;
            self.images.push(id);
        }
        for (id, known) in self.undated.drain(..) {
            verdicts.policy[id] = Some(match known {
                Some(reason) => Decision::Keep { reason },
                None => judge.undated(id),
            });
            self.is_image[id] = true;
            self.images.push(id);
        }
    }

    fn role(&self, id: usize) -> Role {
        let relations = &self.relations;
        if self.is_image[id] {
            return Role::Image;
        }
        if self.is_untagged[id]
            && let Some(found) = relations.untagged[id]
        {
            return Role::Untagged(found.clone());
        }
        if let Some((subject, kind)) = &relations.attached[id] {
            return Role::Attachment {
                subject: subject.clone(),
                kind: *kind,
                artifact_type: relations.images[id].and_then(|image| image.artifact_type.clone()),
            };
        }
        let parents = &relations.parents[id];
        if parents.is_empty() {
            return Role::Image;
        }
        let platform = parents.iter().find_map(|&index| {
            let image = relations.images[index]?;
            let at = relations.children[index]
                .iter()
                .position(|child| *child == Some(id))?;
            image.children[at].platform.clone()
        });
        Role::Child {
            indexes: parents
                .iter()
                .map(|&index| relations.digests[index].clone())
                .collect(),
            platform,
        }
    }

    /// Plan order: each image, then what belongs to it, depth first. A
    /// manifest comes only after all of its owners (every index that lists
    /// it, its subject), so apply, which deletes in this order, finds them
    /// gone when it gets to it; only loops, which the planner keeps, are
    /// placed regardless.
    fn order(&mut self) {
        let relations = &self.relations;
        let count = relations.count();
        let manifests = || (0..count).filter(|&id| relations.images[id].is_some());
        let unlisted = |id: &usize| relations.parents[*id].is_empty();
        // The policy's images, then what no index lists (orphans and their
        // kin), then anything left, which then follows its index. An image
        // that an index also lists goes under that index, so the index is
        // deleted before it. Roots wait for their owners; a leftover is
        // placed anyway: only a loop of references leaves one.
        let roots = self
            .images
            .iter()
            .copied()
            .filter(unlisted)
            .chain(self.images.iter().copied())
            .chain(manifests().filter(unlisted))
            .map(|id| (id, false))
            .chain(manifests().map(|id| (id, true)));
        let order = &mut self.order;
        let placed = &mut self.placed;
        let stack = &mut self.stack;
        order.clear();
        placed.clear();
        placed.resize(count, false);
        stack.clear();
        for root in roots {
            stack.push(root);
            while let Some((id, forced)) = stack.pop() {
                if placed[id] {
                    continue;
                }
                // What must come first: the indexes that list it and the
                // subject it is attached to. The last of them to be placed
                // pushes it again.
                let mut owners = relations.parents[id].iter().chain(&relations.subject[id]);
                if !forced && owners.any(|&owner| !placed[owner]) {
                    continue;
                }
                placed[id] = true;
                let next = stack.len();
                let children = relations.children[id]
                    .iter()
                    .flatten()
                    .copied()
                    .filter(|&child| relations.images[child].is_some());
                let attached = relations.attachments[id].iter().copied();
                stack.extend(children.chain(attached).map(|id| (id, false)));
                stack[next..].reverse();
                order.push(id);
            }
        }
    }

    /// The entry of one decided manifest; called once per id.
    fn entry(
        &mut self,
        id: usize,
        name: &RepositoryName,
        pattern: Option<&RepositoryPattern>,
    ) -> PlanEntry {
        let decision = self.verdicts.decided[id]
            .take()
            .expect("every manifest in the order was decided");
        let role = self.role(id);
        // Its tags move into its entry.
        let tags = std::mem::take(&mut self.relations.tags[id]);
        let digest = self.relations.digests[id].clone();
        match self.relations.images[id] {
            Some(image) => PlanEntry {
                repository: name.clone(),
                digest,
                tags,
                media_type: image.media_type.clone(),
                kind: image.kind,
                role,
                created: image.created,
                created_from: image.created_from,
                size: image.size,
                platforms: image
                    .children
                    .iter()
                    .filter_map(|child| child.platform.clone())
                    .collect(),
                rule: pattern.cloned(),
                decision,
                blocked: None,
            },
            None => PlanEntry {
                repository: name.clone(),
                digest,
                tags,
                media_type: MediaType::Other(String::new()),
                kind: ImageKind::Unknown,
                role,
                created: None,
                created_from: None,
                size: 0,
                platforms: Vec::new(),
                rule: pattern.cloned(),
                decision,
                blocked: None,
            },
        }
    }
}

/// What stays of `tags` once `remove` is applied: every tag it does not
/// match, every tag a `keep_tags` pattern matches, every cosign or
/// referrers tag, and, when nothing ordinary would be left, the first
/// removable tag in name order (an image keeps a tag of its own).
fn remaining_tags(tags: &[Tag], remove: &TagPattern, keep_tags: &[TagPattern]) -> Vec<Tag> {
    let removable = |tag: &Tag| {
        remove.matches(tag.as_str())
            && !keep_tags
                .iter()
                .any(|pattern| pattern.matches(tag.as_str()))
            && attachment_tag(tag).is_none()
    };
    if !tags.iter().any(removable) {
        return tags.to_vec();
    }
    let mut remaining: Vec<Tag> = tags.iter().filter(|tag| !removable(tag)).cloned().collect();
    if remaining.iter().all(|tag| attachment_tag(tag).is_some())
        && let Some(last) = tags.iter().find(|tag| removable(tag))
    {
        remaining.push(last.clone());
        remaining.sort();
    }
    remaining
}

/// The entries of a kept image's tags that `remove` matches, in tag order:
/// each removed, or kept because it also matches `keep_tags` or is the
/// image's last (see [`remaining_tags`]).
fn tag_entries(image: &PlanEntry, remove: &TagPattern, keep_tags: &[TagPattern]) -> Vec<PlanEntry> {
    if image.decision.is_delete() {
        return Vec::new();
    }
    let remaining = remaining_tags(&image.tags, remove, keep_tags);
    image
        .tags
        .iter()
        .filter(|tag| remove.matches(tag.as_str()) && attachment_tag(tag).is_none())
        .map(|tag| {
            let kept_by = keep_tags
                .iter()
                .find(|pattern| pattern.matches(tag.as_str()));
            let decision = if let Some(pattern) = kept_by {
                Decision::Keep {
                    reason: KeepReason::TagKept {
                        pattern: pattern.as_str().to_owned(),
                    },
                }
            } else if remaining.contains(tag) {
                Decision::Keep {
                    reason: KeepReason::LastTag {
                        pattern: remove.as_str().to_owned(),
                    },
                }
            } else {
                Decision::Untag {
                    reason: UntagReason::RemoveTags {
                        pattern: remove.as_str().to_owned(),
                    },
                }
            };
            PlanEntry {
                tags: vec![tag.clone()],
                role: Role::Tag {
                    remaining: remaining.clone(),
                },
                platforms: Vec::new(),
                decision,
                ..image.clone()
            }
        })
        .collect()
}

impl Verdicts {
    /// Decides one manifest of the repository, once; says whether it goes.
    fn decide(
        &mut self,
        id: usize,
        relations: &Relations<'_>,
        subjects: &BTreeMap<Digest, bool>,
    ) -> bool {
        if let Some(known) = &self.decided[id] {
            return known.is_delete();
        }
        if self.visiting[id] {
            // Its relations loop back to it: kept (`Unresolved`) for now.
            return false;
        }
        self.visiting[id] = true;
        let mut kept_parent = None;
        for &parent in &relations.parents[id] {
            if !self.decide(parent, relations, subjects) {
                kept_parent = Some(parent);
                break;
            }
        }
        let policy = self.policy[id].take();
        let decision = if let Some(index) = kept_parent {
            Decision::Keep {
                reason: KeepReason::InKeptIndex {
                    index: relations.digests[index].clone(),
                },
            }
        } else if let Some(decision) = policy {
            decision
        } else if let Some((subject, _)) = &relations.attached[id] {
            let subject = subject.clone();
            if let Some(of) = relations.subject[id] {
                if self.decide(of, relations, subjects) {
                    Decision::Delete {
                        reason: DeleteReason::WithDeletedSubject { subject },
                    }
                } else {
                    Decision::Keep {
                        reason: KeepReason::AttachedToKept { subject },
                    }
                }
            } else if subjects.get(&subject) == Some(&false) {
                Decision::Delete {
                    reason: DeleteReason::Orphan { subject },
                }
            } else {
                Decision::Keep {
                    reason: KeepReason::SubjectUntracked { subject },
                }
            }
        } else if let Some(&index) = relations.parents[id].first() {
            Decision::Delete {
                reason: DeleteReason::WithDeletedIndex {
                    index: relations.digests[index].clone(),
                },
            }
        } else {
            Decision::Keep {
                reason: KeepReason::Untracked,
            }
        };
        self.visiting[id] = false;
        let delete = decision.is_delete();
        self.decided[id] = Some(decision);
        delete
    }
}

/// Collects, repository by repository, what garbage collection frees: blobs
/// (manifests, configs, layers) that deleted manifests reference and no
/// remaining manifest in any scanned repository does.
#[derive(Default)]
struct Reclaim<'a> {
    /// Everything a delete references, with what freeing it is worth as the
    /// last delete to reference it, in (repository, digest) order, says, and
    /// the position of the first repository whose deletes reference it.
    /// Whether a remaining manifest uses it is found out at the end.
    candidates: DigestMap<'a, Candidate>,
    /// Everything the remaining manifests reference, checked at the end.
    kept: Vec<&'a Digest>,
    /// How many of `kept` are checked already (see [`Reclaim::mark`]).
    marked: usize,
    /// The position (in the inventory) of the repository being noted.
    repository: usize,
}

struct Candidate {
    worth: Worth,
    used: bool,
    /// Where it is counted when freed: the first repository, in name
    /// order, whose deletes reference it.
    repository: usize,
}

/// What freeing a digest is worth: a manifest's own size, or a blob's size
/// from the inventory, looked up only if it is freed.
#[derive(Clone, Copy)]
enum Worth {
    Manifest(u64),
    Blob,
}

impl<'a> Reclaim<'a> {
    /// One manifest; called in (repository, digest) order.
    fn note(&mut self, digest: &'a Digest, image: &'a Image, deleted: bool) {
        if deleted {
            let repository = self.repository;
            self.candidate(
                DigestKey::new(digest),
                Worth::Manifest(image.manifest_size),
                repository,
            );
            for blob in &image.blobs {
                self.candidate(DigestKey::new(blob), Worth::Blob, repository);
            }
        } else {
            self.kept.push(digest);
            self.kept.extend(&image.blobs);
        }
    }

    /// A later note replaces the worth and keeps the first repository.
    fn candidate(&mut self, key: DigestKey<'a>, worth: Worth, repository: usize) {
        self.candidates
            .entry(key)
            .and_modify(|known| known.worth = worth)
            .or_insert(Candidate {
                worth,
                used: false,
                repository,
            });
    }

    /// Takes in what a run of later repositories noted, as if noted here.
    fn absorb(&mut self, later: Reclaim<'a>) {
        if self.candidates.is_empty() {
            self.candidates = later.candidates;
        } else {
            self.candidates.reserve(later.candidates.len());
            for (key, candidate) in later.candidates {
                self.candidate(key, candidate.worth, candidate.repository);
            }
        }
        self.kept.extend(later.kept);
        self.repository = later.repository;
    }

    /// Checks up to `count` more kept references against the candidates;
    /// only once every repository is noted. Says how many it checked.
    fn mark(&mut self, count: usize) -> usize {
        let end = self.marked.saturating_add(count).min(self.kept.len());
        if !self.candidates.is_empty() {
            for digest in &self.kept[self.marked..end] {
                if let Some(candidate) = self.candidates.get_mut(&DigestKey::new(digest)) {
                    candidate.used = true;
                }
            }
        }
        let checked = end - self.marked;
        self.marked = end;
        checked
    }

    /// What is freed in all, and per repository (by position; each freed
    /// blob counted once, so the figures add up to the whole).
    fn finish(
        mut self,
        inventory: &Inventory,
        repositories: usize,
    ) -> (Reclaimable, Vec<(u64, usize)>) {
        let mut freed = Reclaimable {
            bytes: 0,
            blobs: 0,
            whole_registry: inventory.whole_registry,
        };
        let mut by_repository = vec![(0, 0); repositories];
        if self.candidates.is_empty() {
            return (freed, by_repository);
        }
        self.mark(usize::MAX);
        for (digest, candidate) in &self.candidates {
            if candidate.used {
                continue;
            }
            let bytes = match candidate.worth {
                Worth::Manifest(size) => size,
                Worth::Blob => inventory.blobs.get(digest.digest).copied().unwrap_or(0),
            };
            freed.blobs += 1;
            freed.bytes += bytes;
            if let Some(figure) = by_repository.get_mut(candidate.repository) {
                figure.0 += bytes;
                figure.1 += 1;
            }
        }
        (freed, by_repository)
    }
}

/// What garbage collection frees, counted where it is freed: a blob that
/// deletes in several repositories free goes to the first of them (name
/// order), so the figures of all repositories add up to
/// [`Reclaimable::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryReclaim {
    pub repository: RepositoryName,
    pub bytes: u64,
    pub blobs: usize,
}

/// A plan made a few repositories at a time, so a caller that must stay
/// responsive (the browser's only thread) can pause between steps. The
/// finished plan equals [`plan()`]'s for the same inputs.
///
/// ```
/// # use cleanreg_core::{Inventory, PlanBuilder, Policy, plan};
/// # let inventory = Inventory::default();
/// # let policy = Policy::keep_newest(3);
/// # let now = time::OffsetDateTime::UNIX_EPOCH;
/// let mut builder = PlanBuilder::new(&inventory, &policy, now);
/// while builder.plan_repositories(10) > 0 {
///     // let the page breathe
/// }
/// let (made, _per_repository) = builder.finish();
/// assert_eq!(made, plan(&inventory, &policy, now));
/// ```
pub struct PlanBuilder<'a> {
    inventory: &'a Inventory,
    policy: &'a Policy,
    now: OffsetDateTime,
    repositories: Vec<(&'a RepositoryName, &'a Repository)>,
    /// How many of `repositories` are planned.
    next: usize,
    entries: Vec<PlanEntry>,
    reclaim: Reclaim<'a>,
    planner: RepositoryPlanner<'a>,
    permissions: Option<&'a DeletePermissions>,
}

impl<'a> PlanBuilder<'a> {
    pub fn new(inventory: &'a Inventory, policy: &'a Policy, now: OffsetDateTime) -> Self {
        let repositories: Vec<_> = inventory.repositories.iter().collect();
        let manifests = repositories.iter().map(|(_, r)| r.images.len()).sum();
        PlanBuilder {
            inventory,
            policy,
            now,
            repositories,
            next: 0,
            entries: Vec::with_capacity(manifests),
            reclaim: Reclaim::default(),
            planner: RepositoryPlanner::default(),
            permissions: None,
        }
    }

    /// Plans as [`plan_with`] does with these permissions.
    pub fn with_permissions(mut self, permissions: &'a DeletePermissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// Repositories in the inventory.
    pub fn repository_count(&self) -> usize {
        self.repositories.len()
    }

    /// Repositories planned so far.
    pub fn planned(&self) -> usize {
        self.next
    }

    pub fn is_done(&self) -> bool {
        self.next == self.repositories.len()
    }

    /// The manifest count of the next repository to plan (its cost), if any.
    pub fn next_size(&self) -> Option<usize> {
        self.repositories
            .get(self.next)
            .map(|(_, r)| r.images.len())
    }

    /// Plans up to `count` more repositories, in name order; says how many
    /// it planned (0 once all are).
    pub fn plan_repositories(&mut self, count: usize) -> usize {
        let end = self.next.saturating_add(count).min(self.repositories.len());
        let start = self.next;
        for at in start..end {
            let (name, repository) = self.repositories[at];
            let (pattern, rule) = self.policy.rule_for(name);
            self.reclaim.repository = at;
            let denied = self.permissions.is_some_and(|p| p.denies(name));
            self.planner.plan(
                name,
                repository,
                (pattern, rule),
                self.now,
                denied,
                &mut self.entries,
                &mut self.reclaim,
            );
        }
        self.next = end;
        end - start
    }

    /// Once every repository is planned: checks up to `count` blob and
    /// manifest references of kept manifests against what the deletes
    /// would free, the part of [`PlanBuilder::finish`] that can be spread
    /// over steps. Says how many it checked: 0 while repositories remain
    /// and once all are checked.
    pub fn settle(&mut self, count: usize) -> usize {
        if self.is_done() {
            self.reclaim.mark(count)
        } else {
            0
        }
    }

    /// The plan, with what garbage collection frees per repository (every
    /// repository of the inventory, in name order). Plans what is left
    /// first.
    pub fn finish(mut self) -> (Plan, Vec<RepositoryReclaim>) {
        self.plan_repositories(usize::MAX);
        let (reclaimable, by_repository) =
            self.reclaim.finish(self.inventory, self.repositories.len());
        let by_repository = self
            .repositories
            .iter()
            .zip(by_repository)
            .map(|((name, _), (bytes, blobs))| RepositoryReclaim {
                repository: (*name).clone(),
                bytes,
                blobs,
            })
            .collect();
        let plan = Plan {
            now: self.now,
            policy: self.policy.clone(),
            entries: self.entries,
            reclaimable,
        };
        (plan, by_repository)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Repository;
    use std::collections::BTreeMap;
    use time::macros::datetime;

    fn digest(n: u8) -> Digest {
        Digest::sha256_of(&[n])
    }

    fn image(created: Option<OffsetDateTime>) -> Image {
        Image::simple(MediaType::DockerManifest, created, 10)
    }

    /// One repository with images 1..=n, image i created i days after the base.
    fn repository(count: u8) -> Repository {
        let mut repository = Repository::default();
        for i in 1..=count {
            let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(i.into());
            repository.images.insert(digest(i), image(Some(created)));
            repository
                .tags
                .insert(format!("v{i}").parse().unwrap(), digest(i));
        }
        repository
    }

    fn inventory(repos: Vec<(&str, Repository)>) -> Inventory {
        Inventory {
            repositories: repos
                .into_iter()
                .map(|(name, repo)| (name.parse().unwrap(), repo))
                .collect(),
            ..Inventory::default()
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-06-01 0:00 UTC);

    fn decisions(plan: &Plan) -> Vec<(String, &'static str)> {
        plan.entries
            .iter()
            .map(|e| {
                (
                    e.tags
                        .iter()
                        .map(Tag::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    e.decision.label(),
                )
            })
            .collect()
    }

    #[test]
    fn keeps_the_newest_n_and_deletes_the_rest_newest_first() {
        let plan = plan(
            &inventory(vec![("team/app", repository(5))]),
            &Policy::keep_newest(2),
            NOW,
        );
        assert_eq!(
            decisions(&plan),
            [
                ("v5", "keep"),
                ("v4", "keep"),
                ("v3", "delete"),
                ("v2", "delete"),
                ("v1", "delete")
            ]
            .map(|(t, d)| (t.to_string(), d))
        );
        assert_eq!(
            plan.entries[1].decision.to_string(),
            "kept: newest 2, this is #2"
        );
        assert_eq!(
            plan.entries[2].decision.to_string(),
            "deleted: 3rd newest, only the newest 2 are kept"
        );
        assert_eq!(plan.totals().deleted_images, 3);
    }

    #[test]
    fn denied_repositories_keep_their_deletes_blocked_and_counted_apart() {
        // The same layer in both repositories: deletes in `a` free it only
        // if `b`'s copy goes too, and `b` may not delete.
        let mut repo = repository(4);
        for image in repo.images.values_mut() {
            image.manifest_size = 100;
        }
        let inv = inventory(vec![("a", repo.clone()), ("b", repo)]);
        let policy = Policy::keep_newest(1);
        let open = plan(&inv, &policy, NOW);
        let mut permissions = DeletePermissions::none_denied();
        permissions.deny("b".parse().unwrap());
        let made = plan_with(&inv, &policy, NOW, &permissions);
        // The same decisions; only `b`'s changes are marked.
        assert_eq!(
            made.entries
                .iter()
                .map(|e| (&e.digest, &e.decision))
                .collect::<Vec<_>>(),
            open.entries
                .iter()
                .map(|e| (&e.digest, &e.decision))
                .collect::<Vec<_>>()
        );
        for entry in &made.entries {
            let expected =
                (entry.repository.as_str() == "b" && entry.decision.is_change()).then(|| {
                    Blocked::NoDeletePermission {
                        repository: "b".parse().unwrap(),
                    }
                });
            assert_eq!(entry.blocked, expected, "{entry:?}");
        }
        let blocked = made.blocked().next().unwrap().blocked.clone().unwrap();
        assert_eq!(
            blocked.to_string(),
            "cannot delete: no delete permission in b"
        );
        assert!(made.deletes().all(|e| e.repository.as_str() == "a"));
        let (open_totals, totals) = (open.totals(), made.totals());
        assert_eq!(totals.deleted_manifests, 3);
        assert_eq!(totals.blocked, 3);
        assert_eq!(totals.changes(), 3);
        assert_eq!(open_totals.changes(), 6);
        // Both repositories' images are the same digests: nothing `b` keeps
        // can be freed, so nothing at all is.
        assert_eq!(open.reclaimable.bytes, 300);
        assert_eq!(made.reclaimable.bytes, 0);
        // The browser's builder agrees.
        let (built, _) = PlanBuilder::new(&inv, &policy, NOW)
            .with_permissions(&permissions)
            .finish();
        assert_eq!(built, made);
        // A saved plan keeps the marks.
        let json = serde_json::to_string(&made).unwrap();
        assert!(json.contains(r#""blocked":{"reason":"no_delete_permission","repository":"b"}"#));
        assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), made);
    }

    #[test]
    fn a_delete_lists_every_tag_of_its_digest() {
        let mut repo = repository(3);
        repo.tags.insert("old".parse().unwrap(), digest(1));
        let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(1), NOW);
        let last = plan.entries.last().unwrap();
        assert_eq!(last.digest, digest(1));
        assert_eq!(last.tags, ["old".parse().unwrap(), "v1".parse().unwrap()]);
        assert!(last.decision.is_delete());
        assert_eq!(plan.totals().deleted_tags, 3);
    }

    #[test]
    fn keep_zero_deletes_everything_dated_and_keep_more_than_all_deletes_nothing() {
        let inv = inventory(vec![("a", repository(3))]);
        assert_eq!(
            plan(&inv, &Policy::keep_newest(0), NOW).deletes().count(),
            3
        );
        assert_eq!(
            plan(&inv, &Policy::keep_newest(9), NOW).deletes().count(),
            0
        );
    }

    #[test]
    fn images_of_unknown_age_and_unread_kinds_are_kept() {
        let mut repo = repository(2);
        repo.images.insert(digest(10), image(None));
        repo.tags.insert("undated".parse().unwrap(), digest(10));
        repo.tags.insert("schema1".parse().unwrap(), digest(11));
        repo.images.insert(
            digest(11),
            Image::simple(MediaType::DockerSchema1Signed, Some(NOW), 0),
        );
        let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(0), NOW);
        let kept: Vec<_> = plan
            .entries
            .iter()
            .filter(|e| !e.decision.is_delete())
            .collect();
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().any(|e| e.decision
            == Decision::Keep {
                reason: KeepReason::UnknownAge
            }));
    }

    #[test]
    fn equal_dates_are_ordered_by_digest_and_repositories_are_independent() {
        let mut repo = Repository::default();
        for i in 1..=4 {
            repo.images.insert(digest(i), image(Some(NOW)));
            repo.tags
                .insert(format!("t{i}").parse().unwrap(), digest(i));
        }
        let inv = inventory(vec![("a", repo.clone()), ("b", repository(1))]);
        let first = plan(&inv, &Policy::keep_newest(1), NOW);
        assert_eq!(first, plan(&inv, &Policy::keep_newest(1), NOW));
        let mut sorted: Vec<_> = (1..=4).map(digest).collect();
        sorted.sort();
        assert_eq!(first.entries[0].digest, sorted[0]);
        assert_eq!(first.deletes().count(), 3);
        assert!(
            !first.entries[4].decision.is_delete(),
            "b's only image is kept"
        );
    }

    fn at(day: i64) -> Option<OffsetDateTime> {
        Some(datetime!(2026-01-01 0:00 UTC) + time::Duration::days(day))
    }

    fn index(children: &[&Digest]) -> Image {
        let mut index = Image::simple(MediaType::OciIndex, None, 0);
        index.children = children
            .iter()
            .map(|digest| crate::inventory::Child {
                digest: (*digest).clone(),
                platform: None,
            })
            .collect();
        index
    }

    fn decision_of<'p>(plan: &'p Plan, digest: &Digest) -> &'p Decision {
        &plan
            .entries
            .iter()
            .find(|e| e.digest == *digest)
            .unwrap_or_else(|| panic!("{digest} not in the plan"))
            .decision
    }

    #[test]
    fn an_index_counts_once_and_its_children_follow_it_unless_a_kept_index_lists_them() {
        let (amd_old, arm_old, shared, arm_new) = (digest(1), digest(2), digest(3), digest(4));
        let (old, new) = (digest(10), digest(11));
        let mut repo = Repository::default();
        for (child, day) in [(&amd_old, 1), (&arm_old, 1), (&shared, 1), (&arm_new, 4)] {
            repo.images.insert(child.clone(), image(at(day)));
        }
        let mut old_index = index(&[&amd_old, &arm_old, &shared]);
        old_index.created = at(1);
        let mut new_index = index(&[&shared, &arm_new]);
        new_index.created = at(5);
        repo.images.insert(old.clone(), old_index);
        repo.images.insert(new.clone(), new_index);
        repo.tags.insert("v1".parse().unwrap(), old.clone());
        repo.tags.insert("v2".parse().unwrap(), new.clone());
        // A child that is also tagged, and older than the newest 1.
        repo.tags
            .insert("arm-only".parse().unwrap(), arm_new.clone());
        let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(1), NOW);

        assert!(decision_of(&plan, &old).is_delete());
        assert_eq!(
            decision_of(&plan, &amd_old),
            &Decision::Delete {
                reason: DeleteReason::WithDeletedIndex { index: old.clone() }
            }
        );
        assert!(decision_of(&plan, &arm_old).is_delete());
        assert_eq!(
            decision_of(&plan, &shared),
            &Decision::Keep {
                reason: KeepReason::InKeptIndex { index: new.clone() }
            }
        );
        assert_eq!(
            decision_of(&plan, &arm_new),
            &Decision::Keep {
                reason: KeepReason::InKeptIndex { index: new.clone() }
            }
        );
        let totals = plan.totals();
        assert_eq!((totals.kept_images, totals.deleted_images), (2, 1));
        assert_eq!(totals.deleted_manifests, 3);
        // Each index is followed by its children.
        let order: Vec<&Digest> = plan.entries.iter().map(|e| &e.digest).collect();
        let position = |d: &Digest| order.iter().position(|o| *o == d).unwrap();
        assert!(position(&old) < position(&amd_old));
        assert!(position(&new) < position(&shared));
        assert!(matches!(
            plan.entries[position(&amd_old)].role,
            Role::Child { .. }
        ));
    }

    #[test]
    fn attachments_follow_their_subject_and_orphans_go() {
        let sig_tag = |d: &Digest, suffix: &str| -> Tag {
            format!("sha256-{}{suffix}", d.hex()).parse().unwrap()
        };
        let mut repo = repository(3); // v1 (oldest) .. v3
        let (old, newest) = (digest(1), digest(3));
        let gone = Digest::sha256_of(b"gone");
        let untracked = Digest::sha256_of(b"untagged but present");
        let attachments = [
            (digest(20), sig_tag(&old, ".sig")),
            (digest(21), sig_tag(&newest, ".sig")),
            (digest(22), sig_tag(&newest, ".att")),
            (digest(23), sig_tag(&gone, ".sig")),
            (digest(24), sig_tag(&untracked, ".sbom")),
        ];
        for (attachment, tag) in &attachments {
            repo.images.insert(attachment.clone(), image(at(100)));
            repo.tags.insert(tag.clone(), attachment.clone());
        }
        // An OCI referrer with a subject, untagged, listed by the fallback index.
        let mut referrer = image(at(100));
        referrer.subject = Some(old.clone());
        repo.images.insert(digest(25), referrer);
        repo.images.insert(digest(26), index(&[&digest(25)]));
        repo.tags.insert(sig_tag(&old, ""), digest(26));
        repo.subjects.insert(gone.clone(), false);
        repo.subjects.insert(untracked.clone(), true);

        let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(2), NOW);
        let with_deleted = Decision::Delete {
            reason: DeleteReason::WithDeletedSubject {
                subject: old.clone(),
            },
        };
        assert_eq!(decision_of(&plan, &digest(20)), &with_deleted);
        assert_eq!(decision_of(&plan, &digest(25)), &with_deleted);
        assert_eq!(decision_of(&plan, &digest(26)), &with_deleted);
        assert!(!decision_of(&plan, &digest(21)).is_delete());
        assert!(!decision_of(&plan, &digest(22)).is_delete());
        assert_eq!(
            decision_of(&plan, &digest(23)),
            &Decision::Delete {
                reason: DeleteReason::Orphan { subject: gone }
            }
        );
        assert_eq!(
            decision_of(&plan, &digest(24)),
            &Decision::Keep {
                reason: KeepReason::SubjectUntracked { subject: untracked }
            }
        );
        // Attachments do not take places among the newest 2.
        assert!(!decision_of(&plan, &digest(2)).is_delete());
        let totals = plan.totals();
        assert_eq!((totals.kept_images, totals.deleted_images), (2, 1));
        assert_eq!(totals.deleted_manifests, 5);
        // The subject comes before what is attached to it.
        let order: Vec<&Digest> = plan.entries.iter().map(|e| &e.digest).collect();
        let position = |d: &Digest| order.iter().position(|o| *o == d).unwrap();
        assert!(position(&old) < position(&digest(20)));
        assert!(position(&digest(26)) < position(&digest(25)));
    }

    #[test]
    fn reclaimable_bytes_count_only_blobs_nothing_remaining_references() {
        let (shared, only_old, only_new) = (digest(50), digest(51), digest(52));
        let mut blobs = BTreeMap::new();
        blobs.insert(shared.clone(), 1000);
        blobs.insert(only_old.clone(), 300);
        blobs.insert(only_new.clone(), 7);
        let with_blobs = |created, list: &[&Digest]| {
            let mut image = image(created);
            image.manifest_size = 20;
            image.blobs = list.iter().map(|d| (*d).clone()).collect();
            image
        };
        let mut a = Repository::default();
        a.images
            .insert(digest(1), with_blobs(at(1), &[&shared, &only_old]));
        a.images.insert(digest(2), with_blobs(at(2), &[&only_new]));
        a.tags.insert("old".parse().unwrap(), digest(1));
        a.tags.insert("new".parse().unwrap(), digest(2));
        let mut b = Repository::default();
        b.images.insert(digest(3), with_blobs(at(1), &[&shared]));
        b.tags.insert("only".parse().unwrap(), digest(3));
        let mut inv = inventory(vec![("a", a), ("b", b)]);
        inv.blobs = blobs;
        inv.whole_registry = true;
        let plan = plan(&inv, &Policy::keep_newest(1), NOW);
        assert_eq!(plan.deletes().count(), 1);
        // The old manifest (20 bytes) and its own layer; the shared one stays.
        assert_eq!(
            plan.reclaimable,
            Reclaimable {
                bytes: 320,
                blobs: 2,
                whole_registry: true
            }
        );
        assert_eq!(plan.totals().reclaimable_bytes, 320);
    }

    #[test]
    fn a_tagged_child_of_a_deleted_index_comes_after_it() {
        let child = digest(1);
        let index_digest = digest(2);
        let mut repo = Repository::default();
        repo.images.insert(child.clone(), image(at(3)));
        let mut listing = index(&[&child]);
        listing.created = at(1);
        repo.images.insert(index_digest.clone(), listing);
        repo.images.insert(digest(3), image(at(10)));
        repo.tags.insert("child".parse().unwrap(), child.clone());
        repo.tags
            .insert("index".parse().unwrap(), index_digest.clone());
        repo.tags.insert("new".parse().unwrap(), digest(3));
        let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(1), NOW);
        let deletes: Vec<&Digest> = plan.deletes().map(|e| &e.digest).collect();
        assert_eq!(deletes, [&index_digest, &child]);
    }

    fn reasons(plan: &Plan) -> Vec<(String, String)> {
        plan.entries
            .iter()
            .map(|e| {
                let tags: Vec<String> = e.tags.iter().map(Tag::to_string).collect();
                (tags.join(","), e.decision.to_string())
            })
            .collect()
    }

    fn policy(toml: &str) -> Policy {
        Policy::from_toml(toml).unwrap()
    }

    #[test]
    fn keep_clauses_add_up_and_each_decision_says_which_held() {
        // v1..v6, created Jan 2..Jan 7; now is Jan 10.
        let mut repo = repository(6);
        repo.tags.insert("latest".parse().unwrap(), digest(1));
        let now = datetime!(2026-01-10 0:00 UTC);
        let plan = plan(
            &inventory(vec![("a", repo)]),
            &policy(
                "[default]\nkeep_newest = 2\nkeep_younger_than_days = 5\nkeep_tags = ['latest']\n",
            ),
            now,
        );
        assert_eq!(
            reasons(&plan),
            [
                ("v6", "kept: newest 2, this is #1"),
                ("v5", "kept: newest 2, this is #2"),
                ("v4", "kept: younger than 5 days"),
                (
                    "v3",
                    "deleted: 4th newest, only the newest 2 are kept, older than 5 days"
                ),
                (
                    "v2",
                    "deleted: 5th newest, only the newest 2 are kept, older than 5 days"
                ),
                ("latest,v1", "kept: tag latest matches latest"),
            ]
            .map(|(t, r)| (t.to_string(), r.to_string()))
        );
    }

    #[test]
    fn an_age_limit_alone_deletes_what_is_older() {
        let now = datetime!(2026-01-10 0:00 UTC);
        let plan = plan(
            &inventory(vec![("a", repository(4))]),
            &policy("[default]\nkeep_newer_than = \"2026-01-04\"\n"),
            now,
        );
        assert_eq!(
            reasons(&plan),
            [
                ("v4", "kept: created since 2026-01-04"),
                ("v3", "kept: created since 2026-01-04"),
                ("v2", "deleted: 3rd newest, created before 2026-01-04"),
                ("v1", "deleted: 4th newest, created before 2026-01-04"),
            ]
            .map(|(t, r)| (t.to_string(), r.to_string()))
        );
    }

    #[test]
    fn only_tags_limits_what_is_considered_and_ranked() {
        let mut repo = Repository::default();
        for (i, tag) in [(1u8, "ci-1"), (2, "release"), (3, "ci-3"), (4, "ci-4")] {
            let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(i.into());
            repo.images.insert(digest(i), image(Some(created)));
            repo.tags.insert(tag.parse().unwrap(), digest(i));
        }
        // ci-3 also carries "stable": deleting it would take stable along.
        repo.tags.insert("stable".parse().unwrap(), digest(3));
        let plan = plan(
            &inventory(vec![("a", repo)]),
            &policy("[default]\nkeep_newest = 1\nonly_tags = 'ci-.*'\n"),
            NOW,
        );
        assert_eq!(
            reasons(&plan),
            [
                ("ci-4", "kept: newest 1, this is #1"),
                (
                    "ci-3,stable",
                    "kept: shares its digest with kept tag stable"
                ),
                (
                    "release",
                    "kept: tag release is outside ci-.*, which the rule cleans"
                ),
                ("ci-1", "deleted: 2nd newest, only the newest 1 is kept"),
            ]
            .map(|(t, r)| (t.to_string(), r.to_string()))
        );
    }

    #[test]
    fn shared_digests_unknown_ages_and_rules_without_limits() {
        let mut repo = repository(3);
        repo.tags.insert("also".parse().unwrap(), digest(1));
        repo.images.insert(digest(9), image(None));
        repo.tags.insert("undated".parse().unwrap(), digest(9));
        let inv = inventory(vec![("a", repo.clone()), ("b", repo)]);
        let plan = plan(
            &inv,
            &policy(
                "[repositories.a]\nkeep_newest = 0\nskip_shared_digests = true\ndelete_unknown_age = true\n",
            ),
            NOW,
        );
        let in_a: Vec<_> = reasons(&plan).into_iter().take(4).collect();
        assert_eq!(
            in_a,
            [
                ("v3", "deleted: 1st newest, only the newest 0 are kept"),
                ("v2", "deleted: 2nd newest, only the newest 0 are kept"),
                (
                    "also,v1",
                    "kept: 2 tags share this digest, and shared digests are skipped"
                ),
                (
                    "undated",
                    "deleted: build date unknown, and its rule deletes such images"
                ),
            ]
            .map(|(t, r)| (t.to_string(), r.to_string()))
        );
        assert!(
            plan.entries[..4]
                .iter()
                .all(|e| e.rule.as_ref().map(|p| p.as_str()) == Some("a"))
        );
        // b falls to the empty default rule: nothing goes.
        assert!(plan.entries[4..].iter().all(|e| e.rule.is_none()
            && e.decision.to_string() == "kept: its rule sets no count or age limit"));
    }

    fn untagged(found: &[crate::inventory::Found]) -> Untagged {
        Untagged {
            found: found.to_vec(),
            ..Untagged::default()
        }
    }

    #[test]
    fn untagged_manifests_follow_delete_untagged_and_take_their_kin_along() {
        use crate::inventory::Found;
        // main moved from 1 to 3 and from 3 to 5; 1 is an index with a
        // child 2, 4 is a signature of 3 (tagged with its cosign tag), 6 a
        // referrer of 1 (untagged itself), 7 a child that kept index 5 lists
        // and that untagged index 8 lists too; 9 was pushed a minute ago.
        let mut repo = Repository::default();
        let mut old_index = index(&[&digest(2)]);
        old_index.created = at(1);
        repo.images.insert(digest(1), old_index);
        repo.images.insert(digest(2), image(at(1)));
        repo.images.insert(digest(3), image(at(3)));
        let mut signature = image(at(3));
        signature.kind = ImageKind::Artifact;
        repo.images.insert(digest(4), signature);
        let mut current = index(&[&digest(7)]);
        current.created = at(5);
        repo.images.insert(digest(5), current);
        let mut referrer = image(at(1));
        referrer.subject = Some(digest(1));
        repo.images.insert(digest(6), referrer);
        repo.images.insert(digest(7), image(at(5)));
        repo.images.insert(digest(8), index(&[&digest(7)]));
        repo.images.insert(digest(9), image(at(9)));
        repo.tags.insert("main".parse().unwrap(), digest(5));
        repo.tags.insert(
            format!("sha256-{}.sig", digest(3).hex()).parse().unwrap(),
            digest(4),
        );
        for n in [1, 2, 3, 6, 8] {
            repo.untagged.insert(digest(n), untagged(&[Found::History]));
        }
        let mut recent = untagged(&[Found::Storage]);
        recent.pushed = Some(NOW - time::Duration::minutes(1));
        repo.untagged.insert(digest(9), recent);
        let inv = inventory(vec![("a", repo)]);

        let kept = plan(&inv, &policy("[default]\nkeep_newest = 1\n"), NOW);
        assert_eq!(kept.deletes().count(), 0, "delete_untagged is off");
        assert_eq!(
            decision_of(&kept, &digest(3)).to_string(),
            "kept: no tag points at it, and its rule does not delete untagged manifests"
        );
        let totals = kept.totals();
        assert_eq!((totals.kept_images, totals.kept_untagged), (1, 4));

        let made = plan(
            &inv,
            &policy("[default]\nkeep_newest = 1\ndelete_untagged = true\n"),
            NOW,
        );
        let untagged = Decision::Delete {
            reason: DeleteReason::Untagged,
        };
        assert_eq!(decision_of(&made, &digest(1)), &untagged);
        assert_eq!(decision_of(&made, &digest(3)), &untagged);
        assert_eq!(decision_of(&made, &digest(8)), &untagged);
        assert_eq!(
            decision_of(&made, &digest(2)),
            &Decision::Delete {
                reason: DeleteReason::WithDeletedIndex { index: digest(1) }
            }
        );
        assert_eq!(
            decision_of(&made, &digest(4)),
            &Decision::Delete {
                reason: DeleteReason::WithDeletedSubject { subject: digest(3) }
            }
        );
        assert_eq!(
            decision_of(&made, &digest(6)),
            &Decision::Delete {
                reason: DeleteReason::WithDeletedSubject { subject: digest(1) }
            }
        );
        assert_eq!(
            decision_of(&made, &digest(7)),
            &Decision::Keep {
                reason: KeepReason::InKeptIndex { index: digest(5) }
            },
            "the current image's child stays though an untagged index lists it"
        );
        assert!(matches!(
            decision_of(&made, &digest(9)),
            Decision::Keep {
                reason: KeepReason::PushedRecently { .. }
            }
        ));
        let role_of = |n: u8| {
            made.entries
                .iter()
                .find(|e| e.digest == digest(n))
                .map(|e| e.role.clone())
                .unwrap()
        };
        assert!(matches!(role_of(3), Role::Untagged(found) if found.found == [Found::History]));
        assert!(matches!(role_of(2), Role::Child { .. }));
        let totals = made.totals();
        assert_eq!((totals.deleted_untagged, totals.kept_untagged), (3, 1));
        assert_eq!(totals.deleted_manifests, 6);
        // Untagged manifests come after the images, newest first; what
        // belongs to them after them.
        let order: Vec<Digest> = made.entries.iter().map(|e| e.digest.clone()).collect();
        let position = |n: u8| order.iter().position(|d| *d == digest(n)).unwrap();
        assert!(position(5) < position(9) && position(9) < position(3));
        assert!(position(3) < position(4) && position(1) < position(2));
        assert!(position(1) < position(6));
    }

    #[test]
    fn remove_tags_takes_tags_off_kept_images_but_never_the_last() {
        let mut repo = Repository::default();
        for (n, tags) in [
            (1u8, &["pr-1", "sha-aaa"][..]),
            (2, &["v1.0.0", "sha-bbb", "pr-2"][..]),
            (3, &["v2.0.0", "sha-ccc", "stable"][..]),
            (4, &["pr-4"][..]),
        ] {
            repo.images.insert(digest(n), image(at(i64::from(n))));
            for tag in tags {
                repo.tags.insert(tag.parse().unwrap(), digest(n));
            }
        }
        let made = plan(
            &inventory(vec![("a", repo)]),
            &policy(
                "[default]\nkeep_newest = 2\nkeep_tags = ['v.*', 'sha-ccc']\nremove_tags = 'sha-.*|pr-.*'\n",
            ),
            NOW,
        );
        assert_eq!(
            reasons(&made),
            [
                ("pr-4", "kept: newest 2, this is #1"),
                (
                    "pr-4",
                    "kept: matches remove_tags sha-.*|pr-.*, but it is the image's last tag: \
                     removing it would leave the image untagged"
                ),
                ("sha-ccc,stable,v2.0.0", "kept: newest 2, this is #2"),
                (
                    "sha-ccc",
                    "kept: matches remove_tags, but also keep_tags sha-ccc"
                ),
                ("pr-2,sha-bbb,v1.0.0", "kept: tag v1.0.0 matches v.*"),
                ("pr-2", "tag removed: matches remove_tags sha-.*|pr-.*"),
                ("sha-bbb", "tag removed: matches remove_tags sha-.*|pr-.*"),
                (
                    "pr-1,sha-aaa",
                    "deleted: 4th newest, only the newest 2 are kept"
                ),
            ]
            .map(|(t, r)| (t.to_string(), r.to_string()))
        );
        let tag_entry = &made.entries[5];
        assert_eq!(
            tag_entry.role,
            Role::Tag {
                remaining: vec!["v1.0.0".parse().unwrap()]
            }
        );
        assert_eq!(made.totals().removed_tags, 2);
        assert_eq!(made.totals().kept_images, 3);
        assert_eq!(made.untags().count(), 2);
        assert_eq!(made.changes().count(), 3);
    }

    #[test]
    fn an_image_is_judged_by_the_tags_it_keeps() {
        // ci-1 also carries pr-1, which only_tags does not match: without
        // remove_tags it is kept for it; with pr-1 removed it is a CI image
        // like the others and the count deletes it in the same plan.
        let mut repo = Repository::default();
        for (n, tags) in [(1u8, &["ci-1", "pr-1"][..]), (2, &["ci-2"][..])] {
            repo.images.insert(digest(n), image(at(i64::from(n))));
            for tag in tags {
                repo.tags.insert(tag.parse().unwrap(), digest(n));
            }
        }
        let inv = inventory(vec![("a", repo)]);
        let rule = "[default]\nkeep_newest = 1\nonly_tags = 'ci-.*'\n";
        let without = plan(&inv, &policy(rule), NOW);
        assert!(!decision_of(&without, &digest(1)).is_delete());
        let with = plan(
            &inv,
            &policy(&format!("{rule}remove_tags = 'pr-.*'\n")),
            NOW,
        );
        assert!(decision_of(&with, &digest(1)).is_delete());
        assert_eq!(
            with.untags().count(),
            0,
            "a deleted image loses its tags anyway"
        );
    }

    /// Repositories of every size, a digest and layers shared across them,
    /// and rules that delete in some and not in others.
    fn mixed_inventory() -> (Inventory, Policy) {
        let mut repos = Vec::new();
        let names: Vec<String> = (0..23).map(|i| format!("r{i:02}")).collect();
        for (i, name) in names.iter().enumerate() {
            let mut repo = repository((i % 7 + 1) as u8);
            repo.tags.insert("shared".parse().unwrap(), digest(1));
            for (at, image) in repo.images.values_mut().enumerate() {
                image.blobs.push(digest(200 + (at % 3) as u8));
                image.blobs.push(digest(100 + i as u8));
            }
            repos.push((name.as_str(), repo));
        }
        let mut inv = inventory(repos);
        for n in (100..123).chain(200..203) {
            inv.blobs.insert(digest(n), 1_000 + u64::from(n));
        }
        let policy =
            policy("[default]\nkeep_newest = 2\n[repositories.\"r1*\"]\nkeep_newest = 0\n");
        (inv, policy)
    }

    #[test]
    fn a_plan_made_in_steps_equals_the_plan_made_at_once() {
        let (inv, policy) = mixed_inventory();
        let whole = plan(&inv, &policy, NOW);
        assert!(whole.deletes().count() > 20);
        assert!(whole.reclaimable.bytes > 0);
        for step in [1, 2, 5, 22, 23, 1_000] {
            let mut builder = PlanBuilder::new(&inv, &policy, NOW);
            assert_eq!(builder.repository_count(), 23);
            let mut steps = 0;
            assert_eq!(builder.settle(5), 0, "nothing to settle before the end");
            while builder.plan_repositories(step) > 0 {
                steps += 1;
                assert!(builder.planned() <= 23);
            }
            assert!(builder.is_done());
            assert_eq!(steps, 23_usize.div_ceil(step));
            // Part of the settling done in steps (the rest by finish).
            let mut settled = 0;
            for _ in 0..step.min(30) {
                settled += builder.settle(step);
            }
            assert!(settled > 0);
            let (stepped, by_repository) = builder.finish();
            assert_eq!(stepped, whole, "steps of {step}");
            assert_eq!(by_repository.len(), 23);
            assert_eq!(
                by_repository.iter().map(|r| r.bytes).sum::<u64>(),
                whole.reclaimable.bytes
            );
            assert_eq!(
                by_repository.iter().map(|r| r.blobs).sum::<usize>(),
                whole.reclaimable.blobs
            );
        }
        // Finishing plans what is left.
        let mut builder = PlanBuilder::new(&inv, &policy, NOW);
        builder.plan_repositories(3);
        assert_eq!(builder.finish().0, whole);
    }

    #[test]
    fn freed_bytes_are_counted_in_the_first_repository_that_frees_them() {
        // Two repositories delete everything; they share layer 9, which
        // only the first counts; a third keeps layer 8, so nobody frees it.
        let mut inv = Inventory::default();
        for (name, layers) in [("a", [7, 9]), ("b", [9, 8]), ("c", [8, 8])] {
            let mut repo = Repository::default();
            let mut image = image(Some(datetime!(2026-01-02 0:00 UTC)));
            image.manifest_size = 10;
            image.blobs = layers.iter().map(|&n| digest(n)).collect();
            let own = Digest::sha256_of(name.as_bytes());
            repo.images.insert(own.clone(), image);
            repo.tags.insert("v1".parse().unwrap(), own);
            inv.repositories.insert(name.parse().unwrap(), repo);
        }
        for n in [7, 8, 9] {
            inv.blobs.insert(digest(n), u64::from(n) * 100);
        }
        let policy = policy("[default]\nkeep_newest = 0\n[repositories.c]\nkeep_newest = 1\n");
        let (made, by_repository) = PlanBuilder::new(&inv, &policy, NOW).finish();
        let figures: Vec<(String, u64, usize)> = by_repository
            .iter()
            .map(|r| (r.repository.to_string(), r.bytes, r.blobs))
            .collect();
        assert_eq!(
            figures,
            [
                ("a".to_owned(), 10 + 700 + 900, 3),
                ("b".to_owned(), 10, 1),
                ("c".to_owned(), 0, 0)
            ]
        );
        assert_eq!(made.reclaimable.bytes, 1_620);
        assert_eq!(made, plan(&inv, &policy, NOW));
    }

    #[test]
    fn threads_change_nothing_in_the_plan() {
        let mut repos = Vec::new();
        let names: Vec<String> = (0..23).map(|i| format!("r{i:02}")).collect();
        for (i, name) in names.iter().enumerate() {
            let mut repo = repository((i % 7 + 1) as u8);
            // A digest every repository shares, for the reclaimable bytes.
            repo.tags.insert("shared".parse().unwrap(), digest(1));
            repos.push((name.as_str(), repo));
        }
        let inv = inventory(repos);
        let policy =
            policy("[default]\nkeep_newest = 2\n[repositories.\"r1*\"]\nkeep_newest = 0\n");
        let one = plan_on_threads(&inv, &policy, NOW, &DeletePermissions::none_denied(), 1);
        let (mixed, mixed_policy) = mixed_inventory();
        let mixed_one = plan_on_threads(
            &mixed,
            &mixed_policy,
            NOW,
            &DeletePermissions::none_denied(),
            1,
        );
        for workers in [2, 3, 5, 40] {
            assert_eq!(
                plan_on_threads(
                    &mixed,
                    &mixed_policy,
                    NOW,
                    &DeletePermissions::none_denied(),
                    workers
                ),
                mixed_one,
                "{workers} threads, shared layers"
            );
        }
        assert!(one.deletes().count() > 20);
        for workers in [2, 3, 5, 40] {
            assert_eq!(
                plan_on_threads(
                    &inv,
                    &policy,
                    NOW,
                    &DeletePermissions::none_denied(),
                    workers
                ),
                one,
                "{workers} threads"
            );
        }
    }
}
