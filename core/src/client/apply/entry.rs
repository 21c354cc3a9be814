//! One entry of a plan: the checks right before its DELETE (its tags as
//! re-read and read once more, what it belongs to), the DELETE, and what
//! the answer, or its lack, means.
//!
//! Right before each DELETE: the repository's tags as re-read before its
//! first delete and refreshed before each wave (a new or moved tag skips
//! the digest), and the entry's own tags resolved again (a `HEAD` each).
//! An existing tag moved onto a planned digest after the re-read is not
//! seen, nor a new tag put on it after its wave's re-list (`SECURITY.md`
//! says so).
//!
//! No outcome contradicts the registry: after a 202 a `HEAD` checks the
//! manifest is gone; a DELETE that errors is followed by a `HEAD` (gone:
//! deleted; present: failed), and if that cannot be asked either the
//! outcome is failed with the [`UNVERIFIED`] reason. A planned manifest whose
//! tags vanished because it is itself gone is skipped as [`ALREADY_GONE`].

use std::collections::BTreeSet;

use super::is_delete_refused;
use super::{ALREADY_GONE, CANCELLED, Halt, Outcome, Progress, RepositoryNow, UNVERIFIED};
use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::name::{RepositoryName, Tag};
use crate::plan::{PlanEntry, Role};
use crate::transport::Transport;

impl<T: Transport> Client<T> {
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

    pub(super) async fn apply_entry(
        &self,
        entry: &PlanEntry,
        now: &Result<&RepositoryNow, String>,
        planned: &BTreeSet<(&RepositoryName, &Digest)>,
        run: &Progress,
        stop: &dyn Fn() -> bool,
    ) -> (Outcome, Halt) {
        let now = match now {
            Ok(now) => *now,
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
    /// scan: what it belongs to, its tags as re-read, and each tag read once
    /// more.
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
        self.tag_moved(entry).await
    }

    /// The last look, right before the DELETE: a tag moved since the re-list
    /// would otherwise lose its image with this digest.
    async fn tag_moved(&self, entry: &PlanEntry) -> Option<Outcome> {
        for tag in &entry.tags {
            match self.tag_digest(&entry.repository, tag).await {
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

/// The skip of a digest that a tag the plan does not know now points at.
fn tag_added(tag: &Tag) -> Outcome {
    Outcome::Skipped {
        reason: format!("tag {tag} points at it since the scan; deleting would remove it"),
    }
}
