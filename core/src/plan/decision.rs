//! What the planner decides for one entry (keep, delete, untag) and the
//! reason it gives, each printable as one sentence.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::media_type::MediaType;
use crate::name::Tag;
use crate::policy::AgeLimit;

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
    /// Among the newest `keep` images; `rank` 1 is the newest. With
    /// `keep_newest_per`, `line` names the release line ranked in (`1.4.x`,
    /// or the images without a version tag).
    Newest {
        rank: usize,
        keep: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<String>,
    },
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
    /// Something runs it, as `source` (a file of image references or of
    /// pods) says; kept whatever the policy says, and so are its tags.
    InUse { source: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum DeleteReason {
    /// Beyond every limit of its rule: not among the newest `keep_newest`
    /// (when set), older than every age limit, and no keep clause holds.
    /// `rank` 1 is the newest image the rule considers.
    /// With `keep_newest_per`, `rank` counts within `line`.
    Expired {
        rank: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keep_newest: Option<usize>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        older_than: Vec<AgeLimit>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<String>,
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
            KeepReason::Newest {
                rank,
                keep,
                line: None,
            } => write!(f, "newest {keep}, this is #{rank}"),
            KeepReason::Newest {
                rank,
                keep,
                line: Some(line),
            } => write!(f, "newest {keep} of {line}, this is #{rank}"),
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
            KeepReason::InUse { source } => write!(f, "in use ({source})"),
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
                line,
            } => {
                write!(f, "{} newest", ordinal(*rank))?;
                if let Some(line) = line {
                    write!(f, " of {line}")?;
                }
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
