//! What apply reports: each entry's outcome, the counts, the reasons that
//! other parts of cleanreg recognise, and the plan that retries failures.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client::untag::RemovedBy;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::name::{RepositoryName, Tag};
use crate::plan::Plan;

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

    pub(super) fn add(&mut self, outcome: &Outcome) {
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

/// The skip reason of an entry a stopped
/// [`Client::apply_until`](crate::Client::apply_until) did not attempt.
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
    use crate::plan::{Decision, DeleteReason, KeepReason, PlanEntry, Reclaimable, Role};
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
