//! What a restore did with each entry of a recovery file, and the counts
//! over a whole restore.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::name::{RepositoryName, Tag};
use crate::recovery::short;

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
