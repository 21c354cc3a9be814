//! Carrying out a [`Plan`]'s deletes and tag removals, each ending with an
//! outcome.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::client::untag::{RemovedBy, TagRemoval};
use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::name::{RepositoryName, Tag};
use crate::plan::{Plan, PlanEntry, Role};
use crate::protocol::Reference;
use crate::transport::Transport;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The registry accepted the DELETE and no longer serves the manifest.
    Deleted,
    /// The tag is gone; the manifest and its other tags are as they were.
    TagRemoved { by: RemovedBy },
    /// Not deleted on purpose; the registry is as it was for this entry.
    Skipped { reason: String },
    /// The attempt went wrong; the manifest may or may not be there.
    Failed { reason: String },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Deleted => "deleted",
            Outcome::TagRemoved { .. } => "tag removed",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Deleted => f.write_str("deleted"),
            Outcome::TagRemoved {
                by: RemovedBy::TagDelete,
            } => f.write_str("tag removed (the registry's tag delete)"),
            Outcome::TagRemoved {
                by: RemovedBy::Replacement { manifest, .. },
            } => write!(
                f,
                "tag removed (through replacement {}, deleted again)",
                manifest.short()
            ),
            Outcome::Skipped { reason } => write!(f, "skipped: {reason}"),
            Outcome::Failed { reason } => write!(f, "failed: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryOutcome {
    pub repository: RepositoryName,
    pub digest: Digest,
    pub tags: Vec<Tag>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What happened to every delete and tag removal of a plan, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub outcomes: Vec<EntryOutcome>,
}

/// Counts of outcomes so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyCounts {
    pub total: usize,
    pub deleted: usize,
    /// Tags removed from kept images.
    #[serde(default)]
    pub tags_removed: usize,
    pub skipped: usize,
    pub failed: usize,
}

impl ApplyCounts {
    pub fn done(&self) -> usize {
        self.deleted + self.tags_removed + self.skipped + self.failed
    }

    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Deleted => self.deleted += 1,
            Outcome::TagRemoved { .. } => self.tags_removed += 1,
            Outcome::Skipped { .. } => self.skipped += 1,
            Outcome::Failed { .. } => self.failed += 1,
        }
    }
}

impl ApplyReport {
    pub fn counts(&self) -> ApplyCounts {
        let mut counts = ApplyCounts {
            total: self.outcomes.len(),
            ..ApplyCounts::default()
        };
        for entry in &self.outcomes {
            counts.add(&entry.outcome);
        }
        counts
    }

    /// The blobs that replacement manifests (tag removals on registries
    /// without a tag delete) left in each repository, for the garbage
    /// collection hint.
    pub fn replacement_blobs(&self) -> BTreeMap<&RepositoryName, BTreeSet<&Digest>> {
        let mut left: BTreeMap<&RepositoryName, BTreeSet<&Digest>> = BTreeMap::new();
        for entry in &self.outcomes {
            if let Outcome::TagRemoved {
                by: RemovedBy::Replacement { blobs, .. },
            } = &entry.outcome
            {
                left.entry(&entry.repository).or_default().extend(blobs);
            }
        }
        left
    }
}

/// Where a repository's tags point now, and which manifests the indexes
/// they point at list.
pub(crate) struct RepositoryNow {
    pub(crate) tags: BTreeMap<Digest, BTreeSet<Tag>>,
    /// Child digest -> the tagged indexes that list it.
    listed_by: BTreeMap<Digest, BTreeSet<Digest>>,
}

const REFUSED: &str = "the registry refuses deletes (HTTP 405 UNSUPPORTED); set `storage: {delete: {enabled: true}}` in its config.yml";

/// The reason of the entry whose delete (or tag removal) the registry
/// refused with 405 `UNSUPPORTED`.
pub(crate) fn refused_reason(error: &Error) -> String {
    error.to_string()
}

/// What the repositories applied side by side share: the counts, the
/// outcomes in plan order, a registry-wide refusal, the caller's progress.
struct Shared<'p> {
    counts: ApplyCounts,
    outcomes: Vec<Option<EntryOutcome>>,
    refused: Option<String>,
    progress: &'p mut dyn FnMut(&ApplyCounts, &EntryOutcome),
}

/// What every repository's run shares besides [`Shared`]: what is known
/// about removing single tags on this registry.
struct Learnt {
    removal: RefCell<TagRemoval>,
}

/// What every repository's run reads.
struct Limits<'a> {
    /// Requests in flight for one repository's re-read of its tags.
    rereads: usize,
    planned: &'a BTreeSet<(&'a RepositoryName, &'a Digest)>,
    stop: &'a dyn Fn() -> bool,
}

/// What happened so far in this run, for the entries that depend on others.
#[derive(Default)]
struct Progress {
    /// Manifests this run deleted or found already gone.
    gone: BTreeSet<(RepositoryName, Digest)>,
}

impl<T: Transport> Client<T> {
    /// Deletes the plan's deletes and removes its tags (see
    /// [`crate::client::untag`]), each repository's in plan order: an
    /// index before its children, a subject before its attachments, and a
    /// child or attachment only once what it belongs to is gone. Up to
    /// [`Client::concurrency`] repositories are worked on side by side (a
    /// manifest belongs to one repository, so their deletes are
    /// independent); `progress` sees outcomes as they end, the report holds
    /// them in plan order. Before a repository's deletes it
    /// re-reads where every tag points (and what the tagged indexes list) and
    /// skips any entry whose tags changed or that a tagged index now lists;
    /// right before each DELETE it re-reads that entry's tags again; after
    /// it, a `HEAD` checks the manifest is gone. Nothing stops the report:
    /// every delete gets an outcome.
    pub async fn apply(
        &self,
        plan: &Plan,
        progress: &mut dyn FnMut(&ApplyCounts, &EntryOutcome),
    ) -> ApplyReport {
        self.apply_until(plan, &|| false, progress).await
    }

    /// [`Client::apply`] that can be stopped: `stop` is asked before each
    /// entry and again right before each DELETE. Once it says true, no
    /// further DELETE is sent; a DELETE already sent finishes and is
    /// reported, and every entry not attempted ends as skipped with the
    /// reason [`CANCELLED`].
    pub async fn apply_until(
        &self,
        plan: &Plan,
        stop: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(&ApplyCounts, &EntryOutcome),
    ) -> ApplyReport {
        // Blocked entries too: each ends as skipped with its reason.
        let deletes: Vec<&PlanEntry> = plan
            .entries
            .iter()
            .filter(|e| e.decision.is_change())
            .collect();
        let planned: BTreeSet<(&RepositoryName, &Digest)> =
            plan.deletes().map(|e| (&e.repository, &e.digest)).collect();
        // Each repository's deletes in plan order; repositories are
        // independent, so several run side by side.
        let mut runs: BTreeMap<&RepositoryName, Vec<(usize, &PlanEntry)>> = BTreeMap::new();
        for (index, entry) in deletes.iter().enumerate() {
            runs.entry(&entry.repository)
                .or_default()
                .push((index, *entry));
        }
        let side_by_side = self.concurrency().min(runs.len()).max(1);
        let shared = RefCell::new(Shared {
            counts: ApplyCounts {
                total: deletes.len(),
                ..ApplyCounts::default()
            },
            outcomes: vec![None; deletes.len()],
            refused: None,
            progress,
        });
        let limits = Limits {
            // The tag re-reads of the repositories in flight share the
            // concurrency.
            rereads: (self.concurrency() / side_by_side).max(1),
            planned: &planned,
            stop,
        };
        let learnt = Learnt {
            removal: RefCell::new(TagRemoval::default()),
        };
        stream::iter(
            runs.values()
                .map(|run| self.apply_repository(run, &limits, &shared, &learnt)),
        )
        .buffer_unordered(side_by_side)
        .for_each(|()| async {})
        .await;
        ApplyReport {
            outcomes: shared.into_inner().outcomes.into_iter().flatten().collect(),
        }
    }

    /// One repository's deletes and tag removals, in plan order.
    async fn apply_repository(
        &self,
        run: &[(usize, &PlanEntry)],
        limits: &Limits<'_>,
        shared: &RefCell<Shared<'_>>,
        learnt: &Learnt,
    ) {
        let mut done_here = Progress::default();
        let mut current: Option<Result<RepositoryNow, String>> = None;
        // Set by the first DELETE here the registry refused for lack of
        // rights (401/403): the rest of the repository is not attempted.
        let mut denied: Option<String> = None;
        for &(index, entry) in run {
            let refused = shared.borrow().refused.clone();
            let outcome = if let Some(blocked) = &entry.blocked {
                Outcome::Skipped {
                    reason: blocked.to_string(),
                }
            } else if let Some(why) = refused {
                Outcome::Skipped {
                    reason: format!("not attempted: {why}"),
                }
            } else if let Some(why) = &denied {
                Outcome::Skipped {
                    reason: why.clone(),
                }
            } else if (limits.stop)() {
                Outcome::Skipped {
                    reason: CANCELLED.into(),
                }
            } else {
                if current.is_none() {
                    current = Some(self.repository_now(&entry.repository, limits.rereads).await);
                }
                let now = current.as_mut().expect("set just above");
                let (outcome, halt) = match now {
                    Ok(now) if entry.decision.is_untag() => {
                        let (outcome, refuses) = self
                            .untag_entry(entry, now, &learnt.removal, limits.stop)
                            .await;
                        (outcome, if refuses { Halt::Registry } else { Halt::No })
                    }
                    now => {
                        self.apply_entry(entry, now, limits.planned, &done_here, limits.stop)
                            .await
                    }
                };
                match halt {
                    Halt::No => {}
                    Halt::Registry => shared.borrow_mut().refused = Some(REFUSED.into()),
                    Halt::Repository(why) => denied = Some(why),
                }
                outcome
            };
            let gone = matches!(outcome, Outcome::Deleted)
                || matches!(&outcome, Outcome::Skipped { reason } if reason == ALREADY_GONE);
            if gone {
                done_here
                    .gone
                    .insert((entry.repository.clone(), entry.digest.clone()));
            }
            let done = EntryOutcome {
                repository: entry.repository.clone(),
                digest: entry.digest.clone(),
                tags: entry.tags.clone(),
                outcome,
            };
            let mut shared = shared.borrow_mut();
            let Shared {
                counts,
                outcomes,
                progress,
                ..
            } = &mut *shared;
            counts.add(&done.outcome);
            progress(counts, &done);
            outcomes[index] = Some(done);
        }
    }

    async fn repository_now(
        &self,
        repository: &RepositoryName,
        limit: usize,
    ) -> Result<RepositoryNow, String> {
        let tags = self
            .tags(repository)
            .await
            .map_err(|e| format!("could not re-read the repository's tags: {e}"))?;
        let mut now = RepositoryNow {
            tags: BTreeMap::new(),
            listed_by: BTreeMap::new(),
        };
        let mut answers = stream::iter(tags.into_iter().map(|tag| async move {
            let reference = Reference::Tag(tag.clone());
            (tag, self.manifest(repository, &reference).await)
        }))
        .buffer_unordered(limit);
        while let Some((tag, fetched)) = answers.next().await {
            let fetched = match fetched {
                Ok(fetched) => fetched,
                Err(error) if is_not_found(&error) => continue,
                Err(error) => return Err(format!("could not re-read tag {tag}: {error}")),
            };
            for child in fetched.manifest.children() {
                now.listed_by
                    .entry(child.digest.clone())
                    .or_default()
                    .insert(fetched.digest.clone());
            }
            now.tags.entry(fetched.digest).or_default().insert(tag);
        }
        Ok(now)
    }

    /// Why an entry must wait for, or give way to, another manifest.
    async fn blocked_by_relations(
        &self,
        entry: &PlanEntry,
        now: &RepositoryNow,
        planned: &BTreeSet<(&RepositoryName, &Digest)>,
        run: &Progress,
    ) -> Result<Option<String>, String> {
        let is_gone = |digest: &Digest| {
            run.gone
                .contains(&(entry.repository.clone(), digest.clone()))
        };
        if let Some(index) = now
            .listed_by
            .get(&entry.digest)
            .into_iter()
            .flatten()
            .find(|index| !is_gone(index))
        {
            return Ok(Some(format!(
                "index {} still lists it; deleting it would break that image",
                index.short()
            )));
        }
        match &entry.role {
            Role::Image | Role::Untagged(_) | Role::Tag { .. } => Ok(None),
            Role::Child { indexes, .. } => {
                for index in indexes.iter().filter(|index| !is_gone(index)) {
                    if planned.contains(&(&entry.repository, index)) {
                        return Ok(Some(format!("its index {} was not deleted", index.short())));
                    }
                    // Not deleted by this run (a retry of a plan's failures):
                    // an earlier run may have; the registry says.
                    match self.manifest_exists(&entry.repository, index).await {
                        Ok(false) => {}
                        Ok(true) => {
                            return Ok(Some(format!(
                                "its index {} was not deleted",
                                index.short()
                            )));
                        }
                        Err(error) => {
                            return Err(format!(
                                "could not check its index {}: {error}",
                                index.short()
                            ));
                        }
                    }
                }
                Ok(None)
            }
            Role::Attachment { subject, .. } => {
                if planned.contains(&(&entry.repository, subject)) {
                    return Ok((!is_gone(subject))
                        .then(|| format!("its subject {} was not deleted", subject.short())));
                }
                // An orphan: make sure the subject did not come back.
                match self.manifest_exists(&entry.repository, subject).await {
                    Ok(false) => Ok(None),
                    Ok(true) => Ok(Some(format!(
                        "its subject {} exists again",
                        subject.short()
                    ))),
                    Err(error) => Err(format!(
                        "could not check its subject {}: {error}",
                        subject.short()
                    )),
                }
            }
        }
    }

    async fn apply_entry(
        &self,
        entry: &PlanEntry,
        now: &Result<RepositoryNow, String>,
        planned: &BTreeSet<(&RepositoryName, &Digest)>,
        run: &Progress,
        stop: &dyn Fn() -> bool,
    ) -> (Outcome, Halt) {
        let now = match now {
            Ok(now) => now,
            Err(reason) => {
                return (
                    Outcome::Failed {
                        reason: reason.clone(),
                    },
                    Halt::No,
                );
            }
        };
        if let Some(outcome) = self.not_as_planned(entry, now, planned, run).await {
            return (outcome, Halt::No);
        }
        if stop() {
            return (
                Outcome::Skipped {
                    reason: CANCELLED.into(),
                },
                Halt::No,
            );
        }
        self.delete_entry(entry).await
    }

    /// Why the entry must not be deleted now, if anything changed since the
    /// scan: what it belongs to, its tags as re-read, each tag read once
    /// more, and tags added since the re-read.
    async fn not_as_planned(
        &self,
        entry: &PlanEntry,
        now: &RepositoryNow,
        planned: &BTreeSet<(&RepositoryName, &Digest)>,
        run: &Progress,
    ) -> Option<Outcome> {
        match self.blocked_by_relations(entry, now, planned, run).await {
            Ok(None) => {}
            Ok(Some(reason)) => return Some(Outcome::Skipped { reason }),
            Err(reason) => return Some(Outcome::Failed { reason }),
        }
        let planned_tags: BTreeSet<Tag> = entry.tags.iter().cloned().collect();
        let empty = BTreeSet::new();
        let found = now.tags.get(&entry.digest).unwrap_or(&empty);
        if let Some(added) = found.difference(&planned_tags).next() {
            return Some(tag_added(added));
        }
        if let Some(gone) = planned_tags.difference(found).next() {
            // Deleting a manifest deletes its tags: someone else may have
            // deleted the manifest itself.
            let reason = match self.manifest_exists(&entry.repository, &entry.digest).await {
                Ok(false) => ALREADY_GONE.to_owned(),
                _ => format!("tag {gone} moved or was deleted since the scan"),
            };
            return Some(Outcome::Skipped { reason });
        }
        if let Some(outcome) = self.tag_moved(entry).await {
            return Some(outcome);
        }
        // A tag put on it after the repository was re-read (a rollback
        // retag while this apply runs), or on an index that lists it (a
        // multi-platform push finishing): list the tags once more and look
        // at any the re-read did not have.
        match self.tag_added_since(entry, now).await {
            Ok(None) => None,
            Ok(Some(outcome)) => Some(outcome),
            Err(reason) => Some(Outcome::Failed { reason }),
        }
    }

    /// The last look, right before the DELETE: a tag moved since the re-list
    /// would otherwise lose its image with this digest.
    async fn tag_moved(&self, entry: &PlanEntry) -> Option<Outcome> {
        for tag in &entry.tags {
            match self.resolve_tag(&entry.repository, tag).await {
                Ok(Some(digest)) if digest == entry.digest => {}
                Ok(Some(digest)) => {
                    return Some(Outcome::Skipped {
                        reason: format!("tag {tag} moved to {} since the scan", digest.short()),
                    });
                }
                Ok(None) => {
                    return Some(Outcome::Skipped {
                        reason: format!("tag {tag} was deleted since the scan"),
                    });
                }
                Err(error) => {
                    return Some(Outcome::Failed {
                        reason: format!("could not re-check tag {tag}: {error}"),
                    });
                }
            }
        }
        None
    }

    /// The DELETE itself, and what its answer (or its lack) means.
    async fn delete_entry(&self, entry: &PlanEntry) -> (Outcome, Halt) {
        match self.delete_manifest(&entry.repository, &entry.digest).await {
            Ok(()) => (self.confirm_gone(entry).await, Halt::No),
            Err(error) if is_not_found(&error) => (
                Outcome::Skipped {
                    reason: ALREADY_GONE.into(),
                },
                Halt::No,
            ),
            Err(error) if error.is_permission_denied() => {
                let repository = &entry.repository;
                let why = format!(
                    "cannot delete: no delete permission in {repository} (the registry refused \
                     the delete of {} with HTTP {})",
                    entry.digest.short(),
                    error.status().unwrap_or_default()
                );
                (
                    Outcome::Failed {
                        reason: format!(
                            "no delete permission in {repository}: {error}; the rest of \
                             {repository} is not attempted"
                        ),
                    },
                    Halt::Repository(why),
                )
            }
            Err(error) if is_delete_refused(&error) => (
                Outcome::Failed {
                    reason: error.to_string(),
                },
                Halt::Registry,
            ),
            // The request may have reached the registry before its answer
            // was lost (a reset, a proxy's 502): the registry says.
            Err(error) => match self.manifest_exists(&entry.repository, &entry.digest).await {
                Ok(false) => (Outcome::Deleted, Halt::No),
                Ok(true) => (
                    Outcome::Failed {
                        reason: error.to_string(),
                    },
                    Halt::No,
                ),
                Err(check) => (
                    Outcome::Failed {
                        reason: format!(
                            "{UNVERIFIED}: the delete failed ({error}) and so did checking \
                             for the manifest ({check})"
                        ),
                    },
                    Halt::No,
                ),
            },
        }
    }

    /// The skip for a tag of the repository that the re-read did not see
    /// and that now points at the entry's digest, or at an index that lists
    /// it.
    async fn tag_added_since(
        &self,
        entry: &PlanEntry,
        now: &RepositoryNow,
    ) -> Result<Option<Outcome>, String> {
        let tags = self
            .tags(&entry.repository)
            .await
            .map_err(|e| format!("could not re-check the repository's tags: {e}"))?;
        let known: BTreeSet<&Tag> = now.tags.values().flatten().collect();
        for tag in tags.iter().filter(|tag| !known.contains(tag)) {
            match self
                .manifest(&entry.repository, &Reference::Tag(tag.clone()))
                .await
            {
                Ok(fetched) if fetched.digest == entry.digest => return Ok(Some(tag_added(tag))),
                Ok(fetched)
                    if fetched
                        .manifest
                        .children()
                        .iter()
                        .any(|child| child.digest == entry.digest) =>
                {
                    return Ok(Some(Outcome::Skipped {
                        reason: format!(
                            "index {} (new tag {tag}) lists it since the scan; deleting it \
                             would break that image",
                            fetched.digest.short()
                        ),
                    }));
                }
                Ok(_) => {}
                Err(error) if is_not_found(&error) => {}
                Err(error) => return Err(format!("could not re-check new tag {tag}: {error}")),
            }
        }
        Ok(None)
    }

    /// A 202 is not proof (Distribution has answered 202 for a digest it did
    /// not delete): the manifest must be gone.
    async fn confirm_gone(&self, entry: &PlanEntry) -> Outcome {
        match self.manifest_exists(&entry.repository, &entry.digest).await {
            Ok(false) => Outcome::Deleted,
            Ok(true) => Outcome::Failed {
                reason: "the registry answered 202 but still serves the manifest".into(),
            },
            Err(error) => Outcome::Failed {
                reason: format!(
                    "{UNVERIFIED}: the registry accepted the delete, but checking that it is \
                     gone failed: {error}"
                ),
            },
        }
    }
}

/// What an entry's outcome stops besides itself.
enum Halt {
    No,
    /// The registry refuses every delete (`405 UNSUPPORTED`).
    Registry,
    /// The registry refused this DELETE for lack of rights (401/403): the
    /// rest of the repository is skipped with this reason.
    Repository(String),
}

/// The skip reason of an entry a stopped [`Client::apply_until`] did not
/// attempt.
pub const CANCELLED: &str = "cancelled before it was deleted";

/// The plan that retries a run's failures: `plan` with only the deletes
/// and tag removals whose outcome in `report` is failed, in plan order
/// (kept entries are left out; apply reads only changes). Apply re-checks
/// each as it would the first time, and a child or attachment whose index
/// or subject is still there is skipped, whichever run was meant to delete
/// that one. Skipped entries are not retried: each was skipped for a reason
/// that a new scan and plan must look at.
pub fn retry_plan(plan: &Plan, report: &ApplyReport) -> Plan {
    let failed: BTreeSet<(&RepositoryName, &Digest, &[Tag])> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Failed { .. }))
        .map(|o| (&o.repository, &o.digest, o.tags.as_slice()))
        .collect();
    Plan {
        now: plan.now,
        policy: plan.policy.clone(),
        entries: plan
            .changes()
            .filter(|e| failed.contains(&(&e.repository, &e.digest, e.tags.as_slice())))
            .cloned()
            .collect(),
        reclaimable: plan.reclaimable,
    }
}

/// The skip of a digest that a tag the plan does not know now points at.
fn tag_added(tag: &Tag) -> Outcome {
    Outcome::Skipped {
        reason: format!("tag {tag} points at it since the scan; deleting would remove it"),
    }
}

/// How the reason of a failed delete starts when the registry could not be
/// asked afterwards whether the manifest is gone: the outcome is unknown,
/// and a retry (or a new scan) finds out.
pub const UNVERIFIED: &str = "not known whether it was deleted";

/// The skip reason of a manifest someone else deleted first.
pub const ALREADY_GONE: &str = "already gone from the registry";

/// True for errors that say the registry refuses every delete.
pub fn is_delete_refused(error: &Error) -> bool {
    error.status() == Some(405) || error.registry_code() == Some(&ErrorCode::Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ImageKind;
    use crate::media_type::MediaType;
    use crate::plan::{Decision, DeleteReason, KeepReason, Reclaimable};
    use crate::policy::Policy;

    fn entry(repo: &str, n: u8, delete: bool) -> PlanEntry {
        PlanEntry {
            repository: repo.parse().unwrap(),
            digest: Digest::sha256_of(&[n]),
            tags: Vec::new(),
            media_type: MediaType::OciManifest,
            kind: ImageKind::Image,
            role: Role::Image,
            created: None,
            created_from: None,
            size: 1,
            platforms: Vec::new(),
            rule: None,
            decision: if delete {
                Decision::Delete {
                    reason: DeleteReason::UnknownAge,
                }
            } else {
                Decision::Keep {
                    reason: KeepReason::NoLimit,
                }
            },
            blocked: None,
        }
    }

    fn outcome(entry: &PlanEntry, outcome: Outcome) -> EntryOutcome {
        EntryOutcome {
            repository: entry.repository.clone(),
            digest: entry.digest.clone(),
            tags: entry.tags.clone(),
            outcome,
        }
    }

    #[test]
    fn a_retry_plan_holds_only_the_failed_deletes_in_plan_order() {
        let entries = vec![
            entry("a", 1, false),
            entry("a", 2, true),
            entry("a", 3, true),
            entry("b", 2, true),
            entry("b", 4, true),
        ];
        let plan = Plan {
            now: time::OffsetDateTime::UNIX_EPOCH,
            policy: Policy::keep_newest(1),
            entries: entries.clone(),
            reclaimable: Reclaimable::default(),
        };
        let failed = || Outcome::Failed {
            reason: "HTTP 500".into(),
        };
        // Reported out of order, and the same digest in two repositories.
        let report = ApplyReport {
            outcomes: vec![
                outcome(&entries[4], failed()),
                outcome(&entries[3], Outcome::Deleted),
                outcome(
                    &entries[2],
                    Outcome::Skipped {
                        reason: CANCELLED.into(),
                    },
                ),
                outcome(&entries[1], failed()),
            ],
        };
        let retry = retry_plan(&plan, &report);
        assert_eq!(retry.entries, vec![entries[1].clone(), entries[4].clone()]);
        assert_eq!(retry.now, plan.now);
        assert!(
            retry_plan(&plan, &ApplyReport::default())
                .entries
                .is_empty()
        );
    }
}
