//! Tag removals (`remove_tags`): what stays of an image's tags and the
//! entry of each removed or kept tag.
//!
//! Each matching tag of a kept image gets an entry of its own
//! ([`Role::Tag`](super::Role::Tag), decision `untag`, or keep with the
//! reason). A tag that matches `keep_tags`, a cosign or referrers tag and the
//! image's last ordinary tag are never removed, so an image never loses its
//! name. Removing a tag never changes where another tag points.

use super::{Decision, KeepReason, PlanEntry, Role, UntagReason};
use crate::inventory::attachment_tag;
use crate::name::Tag;
use crate::policy::TagPattern;

/// What stays of `tags` once `remove` is applied: every tag it does not
/// match, every tag a `keep_tags` pattern matches, every cosign or
/// referrers tag, and, when nothing ordinary would be left, the first
/// removable tag in name order (an image keeps a tag of its own).
pub(super) fn remaining_tags(
    tags: &[Tag],
    remove: &TagPattern,
    keep_tags: &[TagPattern],
) -> Vec<Tag> {
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
pub(super) fn tag_entries(
    image: &PlanEntry,
    remove: &TagPattern,
    keep_tags: &[TagPattern],
) -> Vec<PlanEntry> {
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
