//! The planner: inventory + policy + now -> a decision for every manifest.
//!
//! What counts as an image: a tagged manifest that is not attached to another
//! one. The policy decides images; everything else follows what it belongs
//! to: an index's children follow the index (kept while any kept index lists
//! them), signatures and referrers follow their subject, and an attachment
//! whose subject is gone from the registry is an orphan and goes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::inventory::{
    AttachmentKind, DateSource, Image, ImageKind, Inventory, Repository, attachment,
};
use crate::manifest::Platform;
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::policy::Policy;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The moment the plan was made; ages in reasons are relative to it.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    pub policy: Policy,
    /// Per repository in name order; within one, images newest first (undated
    /// last), each followed by its children and attachments.
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

/// One manifest of one repository and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub repository: RepositoryName,
    pub digest: Digest,
    /// Every tag of the repository that points at this digest: deleting the
    /// digest removes all of them.
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
    pub decision: Decision,
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
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Keep { reason: KeepReason },
    Delete { reason: DeleteReason },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum KeepReason {
    /// Among the newest `keep` images; `rank` 1 is the newest.
    Newest { rank: usize, keep: usize },
    /// No usable build date: a count rule never deletes it.
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum DeleteReason {
    /// Older than the newest `keep` images; `rank` 1 is the newest.
    BeyondNewest { rank: usize, keep: usize },
    /// A child of a deleted index that no kept index lists.
    WithDeletedIndex { index: Digest },
    /// Attached to a deleted manifest.
    WithDeletedSubject { subject: Digest },
    /// Attached to a manifest the registry no longer has.
    Orphan { subject: Digest },
}

impl Decision {
    pub fn is_delete(&self) -> bool {
        matches!(self, Decision::Delete { .. })
    }

    /// Why, without the `kept:`/`deleted:` prefix.
    pub fn reason(&self) -> String {
        match self {
            Decision::Keep { reason } => reason.to_string(),
            Decision::Delete { reason } => reason.to_string(),
        }
    }

    /// `keep` or `delete`, as the dashboard and exports name it.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Keep { .. } => "keep",
            Decision::Delete { .. } => "delete",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Keep { reason } => write!(f, "kept: {reason}"),
            Decision::Delete { reason } => write!(f, "deleted: {reason}"),
        }
    }
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Newest { rank, keep } => write!(f, "newest {keep}, this is #{rank}"),
            KeepReason::UnknownAge => {
                f.write_str("build date unknown, so a count rule never deletes it")
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
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::BeyondNewest { rank, keep } => {
                write!(f, "#{rank} newest, only the newest {keep} are kept")
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
        }
    }
}

/// Counts over a plan, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTotals {
    /// Entries that count as images (not children or attachments).
    pub kept_images: usize,
    pub deleted_images: usize,
    /// Every DELETE the plan makes: images, children and attachments.
    pub deleted_manifests: usize,
    pub deleted_tags: usize,
    /// Config and layer bytes of the deleted images and attachments (an
    /// index's size already holds its children's).
    pub deleted_bytes: u64,
    /// What garbage collection frees; see [`Reclaimable`].
    pub reclaimable_bytes: u64,
}

impl Plan {
    pub fn deletes(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| e.decision.is_delete())
    }

    pub fn totals(&self) -> PlanTotals {
        let mut totals = PlanTotals {
            reclaimable_bytes: self.reclaimable.bytes,
            ..PlanTotals::default()
        };
        for entry in &self.entries {
            let is_image = entry.role == Role::Image;
            if entry.decision.is_delete() {
                totals.deleted_manifests += 1;
                totals.deleted_tags += entry.tags.len();
                if is_image {
                    totals.deleted_images += 1;
                }
                if !matches!(entry.role, Role::Child { .. }) {
                    totals.deleted_bytes += entry.size;
                }
            } else if is_image {
                totals.kept_images += 1;
            }
        }
        totals
    }
}

/// Decides every manifest of `inventory`. Pure: same inputs, same plan.
pub fn plan(inventory: &Inventory, policy: &Policy, now: OffsetDateTime) -> Plan {
    let mut entries = Vec::new();
    for (name, repository) in &inventory.repositories {
        entries.extend(RepositoryPlanner::new(name, repository, policy).entries());
    }
    let reclaimable = reclaimable(inventory, &entries);
    Plan {
        now,
        policy: *policy,
        entries,
        reclaimable,
    }
}

/// Who refers to whom in one repository, computed once.
struct Relations {
    tags: BTreeMap<Digest, Vec<Tag>>,
    /// Child -> the indexes that list it.
    parents: BTreeMap<Digest, Vec<Digest>>,
    /// Attachment -> its subject.
    attached: BTreeMap<Digest, (Digest, AttachmentKind)>,
}

impl Relations {
    fn of(repository: &Repository) -> Relations {
        let mut tags: BTreeMap<Digest, Vec<Tag>> = BTreeMap::new();
        for (tag, digest) in &repository.tags {
            tags.entry(digest.clone()).or_default().push(tag.clone());
        }
        let mut parents: BTreeMap<Digest, Vec<Digest>> = BTreeMap::new();
        for (index, image) in &repository.images {
            for child in &image.children {
                let listed_by = parents.entry(child.digest.clone()).or_default();
                if !listed_by.contains(index) {
                    listed_by.push(index.clone());
                }
            }
        }
        let mut attached = BTreeMap::new();
        let digests: BTreeSet<&Digest> = repository.images.keys().chain(tags.keys()).collect();
        for digest in digests {
            let subject = repository
                .images
                .get(digest)
                .and_then(|image| image.subject.as_ref());
            let tags = tags.get(digest).map_or(&[][..], Vec::as_slice);
            if let Some(attachment) = attachment(subject, tags) {
                attached.insert(digest.clone(), attachment);
            }
        }
        Relations {
            tags,
            parents,
            attached,
        }
    }

    fn parents(&self, digest: &Digest) -> &[Digest] {
        self.parents.get(digest).map_or(&[], Vec::as_slice)
    }
}

/// Plans one repository.
struct RepositoryPlanner<'a> {
    name: &'a RepositoryName,
    repository: &'a Repository,
    relations: Relations,
    /// The images the policy decides, in plan order, with its decision.
    images: Vec<(&'a Digest, Decision)>,
    policy: BTreeMap<Digest, Decision>,
    decided: BTreeMap<Digest, Decision>,
    visiting: BTreeSet<Digest>,
}

impl<'a> RepositoryPlanner<'a> {
    fn new(name: &'a RepositoryName, repository: &'a Repository, policy: &Policy) -> Self {
        let relations = Relations::of(repository);
        let mut tagged: Vec<&Digest> = repository.tags.values().collect();
        tagged.sort();
        tagged.dedup();
        let mut dated: Vec<(&Digest, OffsetDateTime)> = Vec::new();
        let mut undated: Vec<(&Digest, KeepReason)> = Vec::new();
        for digest in tagged {
            if relations.attached.contains_key(digest) {
                continue;
            }
            let Some(image) = repository.images.get(digest) else {
                // The scan reads every tagged manifest; an inventory from
                // elsewhere may lack one. Without it nothing is known.
                undated.push((digest, KeepReason::Untracked));
                continue;
            };
            match image.created {
                Some(created) if image.kind.is_interpreted() => dated.push((digest, created)),
                _ if image.kind.is_interpreted() => undated.push((digest, KeepReason::UnknownAge)),
                _ => undated.push((
                    digest,
                    KeepReason::NotInterpreted {
                        media_type: image.media_type.clone(),
                    },
                )),
            }
        }
        // Newest first; equal dates fall back to digest order so plans are stable.
        dated.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let keep = policy.keep_newest;
        let mut images: Vec<(&Digest, Decision)> = dated
            .into_iter()
            .enumerate()
            .map(|(index, (digest, _))| {
                let rank = index + 1;
                let decision = if rank <= keep {
                    Decision::Keep {
                        reason: KeepReason::Newest { rank, keep },
                    }
                } else {
                    Decision::Delete {
                        reason: DeleteReason::BeyondNewest { rank, keep },
                    }
                };
                (digest, decision)
            })
            .collect();
        images.extend(
            undated
                .into_iter()
                .map(|(digest, reason)| (digest, Decision::Keep { reason })),
        );
        let policy = images
            .iter()
            .map(|(digest, decision)| ((*digest).clone(), decision.clone()))
            .collect();
        RepositoryPlanner {
            name,
            repository,
            relations,
            images,
            policy,
            decided: BTreeMap::new(),
            visiting: BTreeSet::new(),
        }
    }

    /// The final decision for one manifest of the repository.
    fn decide(&mut self, digest: &Digest) -> Decision {
        if let Some(known) = self.decided.get(digest) {
            return known.clone();
        }
        if !self.visiting.insert(digest.clone()) {
            return Decision::Keep {
                reason: KeepReason::Unresolved,
            };
        }
        let parents: Vec<Digest> = self.relations.parents(digest).to_vec();
        let kept_parent = parents
            .iter()
            .find(|parent| !self.decide(parent).is_delete())
            .cloned();
        let policy = self.policy.get(digest).cloned();
        let decision = if let Some(index) = kept_parent {
            Decision::Keep {
                reason: KeepReason::InKeptIndex { index },
            }
        } else if let Some(decision) = policy {
            decision
        } else if let Some((subject, _)) = self.relations.attached.get(digest).cloned() {
            if self.repository.images.contains_key(&subject) {
                if self.decide(&subject).is_delete() {
                    Decision::Delete {
                        reason: DeleteReason::WithDeletedSubject { subject },
                    }
                } else {
                    Decision::Keep {
                        reason: KeepReason::AttachedToKept { subject },
                    }
                }
            } else if self.repository.subjects.get(&subject) == Some(&false) {
                Decision::Delete {
                    reason: DeleteReason::Orphan { subject },
                }
            } else {
                Decision::Keep {
                    reason: KeepReason::SubjectUntracked { subject },
                }
            }
        } else if let Some(index) = parents.first() {
            Decision::Delete {
                reason: DeleteReason::WithDeletedIndex {
                    index: index.clone(),
                },
            }
        } else {
            Decision::Keep {
                reason: KeepReason::Untracked,
            }
        };
        self.visiting.remove(digest);
        self.decided.insert(digest.clone(), decision.clone());
        decision
    }

    fn role(&self, digest: &Digest) -> Role {
        if self.policy.contains_key(digest) {
            return Role::Image;
        }
        if let Some((subject, kind)) = self.relations.attached.get(digest).cloned() {
            return Role::Attachment { subject, kind };
        }
        let indexes: Vec<Digest> = self.relations.parents(digest).to_vec();
        if indexes.is_empty() {
            return Role::Image;
        }
        let platform = indexes.iter().find_map(|index| {
            self.repository.images[index]
                .children
                .iter()
                .find(|child| child.digest == *digest)
                .and_then(|child| child.platform.clone())
        });
        Role::Child { indexes, platform }
    }

    /// Plan order: each image, then what belongs to it, depth first.
    fn order(&self) -> Vec<Digest> {
        let mut attachments: BTreeMap<Digest, Vec<Digest>> = BTreeMap::new();
        for digest in self.repository.images.keys() {
            // One an index lists comes after that index, as its child: the
            // index must be deleted first.
            if !self.relations.parents(digest).is_empty() {
                continue;
            }
            if let Some((subject, _)) = self.relations.attached.get(digest).cloned() {
                attachments.entry(subject).or_default().push(digest.clone());
            }
        }
        let mut order = Vec::new();
        let mut placed = BTreeSet::new();
        // The policy's images, then what no index lists (orphans and their
        // kin), then anything left, which then follows its index.
        let unlisted = self
            .repository
            .images
            .keys()
            .filter(|d| self.relations.parents(d).is_empty());
        // An image that an index also lists goes under that index, so the
        // index is deleted before it.
        let roots = self
            .images
            .iter()
            .map(|(d, _)| *d)
            .filter(|d| self.relations.parents(d).is_empty())
            .chain(self.images.iter().map(|(d, _)| *d))
            .chain(unlisted)
            .chain(self.repository.images.keys())
            .cloned()
            .collect::<Vec<_>>();
        for root in roots {
            let mut stack = vec![root];
            while let Some(digest) = stack.pop() {
                if !placed.insert(digest.clone()) {
                    continue;
                }
                let children = self
                    .repository
                    .images
                    .get(&digest)
                    .map(|image| image.children.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .map(|child| child.digest.clone())
                    .filter(|child| self.repository.images.contains_key(child));
                let attached = attachments.get(&digest).cloned().unwrap_or_default();
                let mut next: Vec<Digest> = children.chain(attached).collect();
                next.reverse();
                stack.extend(next);
                order.push(digest);
            }
        }
        order
    }

    fn entries(mut self) -> Vec<PlanEntry> {
        let order = self.order();
        let mut entries = Vec::with_capacity(order.len());
        for digest in order {
            let decision = self.decide(&digest);
            let role = self.role(&digest);
            let tags = self
                .relations
                .tags
                .get(&digest)
                .cloned()
                .unwrap_or_default();
            let entry = match self.repository.images.get(&digest) {
                Some(image) => entry_of(self.name, &digest, tags, image, role, decision),
                None => PlanEntry {
                    repository: self.name.clone(),
                    digest: digest.clone(),
                    tags,
                    media_type: MediaType::Other(String::new()),
                    kind: ImageKind::Unknown,
                    role,
                    created: None,
                    created_from: None,
                    size: 0,
                    platforms: Vec::new(),
                    decision,
                },
            };
            entries.push(entry);
        }
        entries
    }
}

fn entry_of(
    repository: &RepositoryName,
    digest: &Digest,
    tags: Vec<Tag>,
    image: &Image,
    role: Role,
    decision: Decision,
) -> PlanEntry {
    PlanEntry {
        repository: repository.clone(),
        digest: digest.clone(),
        tags,
        media_type: image.media_type.clone(),
        kind: image.kind,
        role,
        created: image.created,
        created_from: image.created_from,
        size: image.size,
        platforms: image.platforms().into_iter().cloned().collect(),
        decision,
    }
}

/// Blobs only the deleted manifests reference, across every repository.
fn reclaimable(inventory: &Inventory, entries: &[PlanEntry]) -> Reclaimable {
    let deleted: BTreeSet<(&RepositoryName, &Digest)> = entries
        .iter()
        .filter(|e| e.decision.is_delete())
        .map(|e| (&e.repository, &e.digest))
        .collect();
    let mut still_used: BTreeSet<&Digest> = BTreeSet::new();
    for (name, repository) in &inventory.repositories {
        for (digest, image) in &repository.images {
            if !deleted.contains(&(name, digest)) {
                still_used.insert(digest);
                still_used.extend(image.blobs.iter());
            }
        }
    }
    let mut freed: BTreeMap<&Digest, u64> = BTreeMap::new();
    for (name, digest) in &deleted {
        let Some(image) = inventory
            .repositories
            .get(*name)
            .and_then(|r| r.images.get(*digest))
        else {
            continue;
        };
        if !still_used.contains(digest) {
            freed.insert(digest, image.manifest_size);
        }
        for blob in &image.blobs {
            if !still_used.contains(blob) {
                freed.insert(blob, inventory.blobs.get(blob).copied().unwrap_or(0));
            }
        }
    }
    Reclaimable {
        bytes: freed.values().sum(),
        blobs: freed.len(),
        whole_registry: inventory.whole_registry,
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
            "deleted: #3 newest, only the newest 2 are kept"
        );
        assert_eq!(plan.totals().deleted_images, 3);
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
}
