//! The planner: inventory + policy + now -> a decision for every manifest.
//!
//! A pure function: the same inventory, policy and `now` give the same plan
//! in the same order (repositories by name; within one, images newest first,
//! undated last, ties by digest). [`plan_with`] takes the account's
//! [`DeletePermissions`] as a fourth input: the decisions stay the same, but
//! the changes in a denied repository are marked
//! [`Blocked::NoDeletePermission`], count as kept for the reclaimable bytes
//! and appear in no total but `blocked`, so a confirmation that asks for the
//! number of changes asks for what will really be sent. A saved plan gets the
//! same marks later through [`Plan::block_denied`] (its reclaimable figure
//! stays as planned).
//!
//! An image is a distinct manifest digest, not a tag: deleting a digest
//! removes every tag of the repository on it, so a delete entry lists them
//! all.
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
//!
//! The planning itself is spread over this folder, one job per file: the
//! decisions and their reasons (`decision`), the references between the
//! manifests of a repository (`graph`), a rule's verdict on images
//! (`judge`), what follows an owner (`verdicts`), tag removals (`tags`),
//! one repository's plan (`repository`), reclaimable bytes (`reclaim`),
//! planning on threads (`threads`) and in steps (`builder`).

mod builder;
mod decision;
mod digest_key;
mod graph;
mod judge;
mod reclaim;
mod repository;
mod tags;
mod threads;
mod verdicts;

#[cfg(test)]
mod release_lines_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::inventory::{AttachmentKind, DateSource, ImageKind, Inventory, Untagged};
use crate::manifest::Platform;
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::permissions::DeletePermissions;
use crate::policy::{Policy, RepositoryPattern};

pub use builder::PlanBuilder;
pub use decision::{Decision, DeleteReason, KeepReason, UNTAGGED_GRACE, UntagReason};
pub use reclaim::RepositoryReclaim;
use threads::{plan_on_threads, planning_threads};

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
