//! Carrying out a [`Plan`]'s deletes, each ending with an outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::name::{RepositoryName, Tag};
use crate::plan::{Plan, PlanEntry};
use crate::protocol::Reference;
use crate::transport::Transport;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The registry accepted the DELETE and no longer serves the manifest.
    Deleted,
    /// Not deleted on purpose; the registry is as it was for this entry.
    Skipped { reason: String },
    /// The attempt went wrong; the manifest may or may not be there.
    Failed { reason: String },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Deleted => "deleted",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Deleted => f.write_str("deleted"),
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

/// What happened to every delete of a plan, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    pub outcomes: Vec<EntryOutcome>,
}

/// Counts of outcomes so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyCounts {
    pub total: usize,
    pub deleted: usize,
    pub skipped: usize,
    pub failed: usize,
}

impl ApplyCounts {
    pub fn done(&self) -> usize {
        self.deleted + self.skipped + self.failed
    }

    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Deleted => self.deleted += 1,
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
}

/// Where a registry's tags point now, grouped by digest.
type TagsByDigest = BTreeMap<Digest, BTreeSet<Tag>>;

const REFUSED: &str = "the registry refuses deletes (HTTP 405 UNSUPPORTED); set `storage: {delete: {enabled: true}}` in its config.yml";

impl<T: Transport> Client<T> {
    /// Deletes the plan's deletes one by one. Before a repository's deletes
    /// it re-reads where every tag points and skips any entry whose tags
    /// changed since the scan; right before each DELETE it re-reads that
    /// entry's tags again; after it, it checks the manifest is gone. Nothing
    /// stops the report: every delete gets an outcome.
    pub async fn apply(
        &self,
        plan: &Plan,
        progress: &mut dyn FnMut(&ApplyCounts, &EntryOutcome),
    ) -> ApplyReport {
        let deletes: Vec<&PlanEntry> = plan.deletes().collect();
        let mut counts = ApplyCounts {
            total: deletes.len(),
            ..ApplyCounts::default()
        };
        let mut report = ApplyReport::default();
        let mut refused: Option<String> = None;
        let mut current: Option<(RepositoryName, Result<TagsByDigest, String>)> = None;
        for entry in deletes {
            let outcome = if let Some(why) = &refused {
                Outcome::Skipped {
                    reason: format!("not attempted: {why}"),
                }
            } else {
                if current.as_ref().map(|(name, _)| name) != Some(&entry.repository) {
                    let tags = self.tags_by_digest(&entry.repository).await;
                    current = Some((entry.repository.clone(), tags));
                }
                let tags_now = &current.as_ref().expect("set just above").1;
                let (outcome, refuses) = self.apply_entry(entry, tags_now).await;
                if refuses {
                    refused = Some(REFUSED.into());
                }
                outcome
            };
            counts.add(&outcome);
            let done = EntryOutcome {
                repository: entry.repository.clone(),
                digest: entry.digest.clone(),
                tags: entry.tags.clone(),
                outcome,
            };
            progress(&counts, &done);
            report.outcomes.push(done);
        }
        report
    }

    async fn tags_by_digest(&self, repository: &RepositoryName) -> Result<TagsByDigest, String> {
        let mut by_digest = TagsByDigest::new();
        let tags = self
            .tags(repository)
            .await
            .map_err(|e| format!("could not re-read the repository's tags: {e}"))?;
        for tag in tags {
            if let Some(digest) = self
                .resolve_tag(repository, &tag)
                .await
                .map_err(|e| format!("could not re-read tag {tag}: {e}"))?
            {
                by_digest.entry(digest).or_default().insert(tag);
            }
        }
        Ok(by_digest)
    }

    async fn apply_entry(
        &self,
        entry: &PlanEntry,
        tags_now: &Result<TagsByDigest, String>,
    ) -> (Outcome, bool) {
        let tags_now = match tags_now {
            Ok(tags) => tags,
            Err(reason) => {
                return (
                    Outcome::Failed {
                        reason: reason.clone(),
                    },
                    false,
                );
            }
        };
        let planned: BTreeSet<Tag> = entry.tags.iter().cloned().collect();
        let empty = BTreeSet::new();
        let found = tags_now.get(&entry.digest).unwrap_or(&empty);
        if let Some(added) = found.difference(&planned).next() {
            return (
                Outcome::Skipped {
                    reason: format!(
                        "tag {added} points at it since the scan; deleting would remove it"
                    ),
                },
                false,
            );
        }
        if let Some(gone) = planned.difference(found).next() {
            return (
                Outcome::Skipped {
                    reason: format!("tag {gone} moved or was deleted since the scan"),
                },
                false,
            );
        }
        // The last look, right before the DELETE (REGISTRY.md item 9).
        for tag in &entry.tags {
            match self.resolve_tag(&entry.repository, tag).await {
                Ok(Some(digest)) if digest == entry.digest => {}
                Ok(Some(digest)) => {
                    return (
                        Outcome::Skipped {
                            reason: format!("tag {tag} moved to {} since the scan", digest.short()),
                        },
                        false,
                    );
                }
                Ok(None) => {
                    return (
                        Outcome::Skipped {
                            reason: format!("tag {tag} was deleted since the scan"),
                        },
                        false,
                    );
                }
                Err(error) => {
                    return (
                        Outcome::Failed {
                            reason: format!("could not re-check tag {tag}: {error}"),
                        },
                        false,
                    );
                }
            }
        }
        match self.delete_manifest(&entry.repository, &entry.digest).await {
            Ok(()) => (self.confirm_gone(entry).await, false),
            Err(error) if is_not_found(&error) => (
                Outcome::Skipped {
                    reason: "already gone from the registry".into(),
                },
                false,
            ),
            Err(error) => (
                Outcome::Failed {
                    reason: error.to_string(),
                },
                is_delete_refused(&error),
            ),
        }
    }

    /// A 202 is not proof (REGISTRY.md item 11): the manifest must be gone.
    async fn confirm_gone(&self, entry: &PlanEntry) -> Outcome {
        let reference = Reference::Digest(entry.digest.clone());
        match self.manifest(&entry.repository, &reference).await {
            Err(error) if is_not_found(&error) => Outcome::Deleted,
            Ok(_) => Outcome::Failed {
                reason: "the registry answered 202 but still serves the manifest".into(),
            },
            Err(error) => Outcome::Failed {
                reason: format!(
                    "the registry accepted the delete, but checking that it is gone failed: {error}"
                ),
            },
        }
    }
}

/// True for errors that say the registry refuses every delete.
pub fn is_delete_refused(error: &Error) -> bool {
    error.status() == Some(405) || error.registry_code() == Some(&ErrorCode::Unsupported)
}
