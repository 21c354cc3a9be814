//! One rule's verdict on an image of a repository: the keep clauses, the
//! newest-N rank and the age limits.
//!
//! A rule deletes only when it sets a limit (count or age); every keep clause
//! (newest N, tag pattern, age, shared digest, outside `only_tags`) only adds
//! to what is kept. A tag in `exclude_tags` keeps its image out of the count
//! (it takes none of the N places); with `keep_newest_beyond_age` neither
//! does a recent image. An image counts under `only_tags` only when every one of
//! its tags matches, since deleting it deletes all of them. An image whose
//! build date is unknown (missing, unparsable, or the 1970 that reproducible
//! builds write) takes none of the N places and is kept unless the rule sets
//! `delete_unknown_age`.

use time::OffsetDateTime;

use super::{Decision, DeleteReason, KeepReason};
use crate::name::Tag;
use crate::policy::{AgeLimit, Rule, TagPattern};

/// One rule's verdict on the images of one repository.
pub(super) struct RuleJudge<'r> {
    rule: &'r Rule,
    tags: &'r [Vec<Tag>],
    /// Age limits with the moment each keeps from.
    limits: Vec<(AgeLimit, OffsetDateTime)>,
}

impl<'r> RuleJudge<'r> {
    pub(super) fn new(rule: &'r Rule, now: OffsetDateTime, tags: &'r [Vec<Tag>]) -> Self {
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
        matching(&self.rule.exclude_tags, tags)
    }

    /// Keep clauses that a ranked or undated image may still meet.
    fn tag_keep(&self, id: usize) -> Option<KeepReason> {
        let tags = self.tags(id);
        if let Some(reason) = matching(&self.rule.keep_tags, tags) {
            return Some(reason);
        }
        if self.rule.skip_shared_digests && tags.len() > 1 {
            return Some(KeepReason::SharedDigest { tags: tags.len() });
        }
        None
    }

    /// `rank` counts the images the rule considers, newest first: over the
    /// repository, or with `keep_newest_per` within `line`.
    pub(super) fn dated(
        &self,
        id: usize,
        created: OffsetDateTime,
        rank: &mut usize,
        line: Option<&str>,
    ) -> Decision {
        if let Some(reason) = self.unranked_keep(id) {
            return Decision::Keep { reason };
        }
        if self.rule.keep_newest_beyond_age
            && let Some(reason) = self.recent(created)
        {
            return Decision::Keep { reason };
        }
        *rank += 1;
        let rank = *rank;
        if let Some(keep) = self.rule.keep_newest
            && rank <= keep
        {
            return Decision::Keep {
                reason: KeepReason::Newest {
                    rank,
                    keep,
                    line: line.map(str::to_owned),
                },
            };
        }
        if let Some(reason) = self.tag_keep(id) {
            return Decision::Keep { reason };
        }
        if let Some(reason) = self.recent(created) {
            return Decision::Keep { reason };
        }
        Decision::Delete {
            reason: DeleteReason::Expired {
                rank,
                keep_newest: self.rule.keep_newest,
                older_than: self.limits.iter().map(|(limit, _)| limit.clone()).collect(),
                line: line.map(str::to_owned),
            },
        }
    }

    /// The first age limit `created` is within.
    fn recent(&self, created: OffsetDateTime) -> Option<KeepReason> {
        self.limits
            .iter()
            .find(|(_, from)| created >= *from)
            .map(|(limit, _)| KeepReason::Recent {
                limit: limit.clone(),
            })
    }

    pub(super) fn undated(&self, id: usize) -> Decision {
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

/// The first of `tags` that one of `patterns` matches, as a keep reason.
fn matching(patterns: &[TagPattern], tags: &[Tag]) -> Option<KeepReason> {
    tags.iter().find_map(|tag| {
        patterns
            .iter()
            .find(|pattern| pattern.matches(tag.as_str()))
            .map(|pattern| KeepReason::TagMatches {
                tag: tag.clone(),
                pattern: pattern.as_str().to_owned(),
            })
    })
}
