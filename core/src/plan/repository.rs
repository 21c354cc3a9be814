//! Planning one repository: the policy's verdicts on its images and
//! untagged manifests, plan order, and the entries in that order.
//!
//! Plan order puts a manifest after every index of the repository that
//! lists it and after its subject, so apply can always delete in plan order
//! and find what a manifest belongs to already gone. Untagged manifests come
//! after the repository's images, newest first. One that no index or subject
//! leads to is decided by its rule's `delete_untagged` alone (default keep),
//! never by a count or age; one the storage says was pushed less than
//! [`UNTAGGED_GRACE`] (5 minutes) before the plan is kept, as it may be a push
//! still under way, and so is a kind core does not interpret.
//!
//! Only interpreted kinds (images, indexes, OCI artifacts) are ranked and
//! dated; an OCI artifact without a subject (a Helm chart) is an image like
//! any other. A kind core does not interpret (schema1, unknown media types)
//! is always kept, even under `delete_unknown_age`. With a `remove_tags`
//! rule, every image is judged by the tags it keeps after the removals, so a
//! second plan after apply changes nothing more (property-tested in
//! `core/tests/guarantees.rs`).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::graph::Relations;
use super::judge::RuleJudge;
use super::reclaim::Reclaim;
use super::tags::{remaining_tags, tag_entries};
use super::verdicts::Verdicts;
use super::{Blocked, Decision, DeleteReason, KeepReason, PlanEntry, Role, UNTAGGED_GRACE};
use crate::digest::Digest;
use crate::inventory::{ImageKind, Repository};
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::policy::{RepositoryPattern, Rule};
use crate::version::{self, Line, Version};

/// The group `keep_newest_per` ranks the images without a version tag in,
/// as reasons name it.
const NO_VERSION: &str = "the images without a version tag";

/// Plans one repository at a time. Its tables keep their memory from one
/// repository to the next.
#[derive(Default)]
pub(super) struct RepositoryPlanner<'a> {
    relations: Relations<'a>,
    /// The images the policy decides, in plan order.
    images: Vec<usize>,
    /// Whether the policy decides it (it counts as an image).
    is_image: Vec<bool>,
    /// Whether the policy decides it as an untagged manifest.
    is_untagged: Vec<bool>,
    /// Untagged manifests the policy decides, by plan order's sort key.
    untagged: Vec<(Moment, usize)>,
    /// Each digest's tags once the rule's `remove_tags` are gone.
    remaining: Vec<Vec<Tag>>,
    verdicts: Verdicts,
    /// Dated images by plan order's sort key (see [`newest_first`]).
    dated: Vec<u128>,
    undated: Vec<(usize, Option<KeepReason>)>,
    order: Vec<usize>,
    placed: Vec<bool>,
    stack: Vec<(usize, bool)>,
}

impl<'a> RepositoryPlanner<'a> {
    /// Appends the repository's entries to `out`, in plan order, and tells
    /// `reclaim` what the plan deletes and keeps.
    /// With `denied`, its changes are marked
    /// [`Blocked::NoDeletePermission`] and count as kept for `reclaim`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan(
        &mut self,
        name: &RepositoryName,
        repository: &'a Repository,
        (pattern, rule): (Option<&RepositoryPattern>, &Rule),
        now: OffsetDateTime,
        denied: bool,
        out: &mut Vec<PlanEntry>,
        reclaim: &mut Reclaim<'a>,
    ) {
        let first = out.len();
        self.relations.load(repository);
        self.judge(rule, now, &repository.in_use);
        self.judge_untagged(rule, now);
        self.keep_in_use(&repository.in_use);
        self.order();
        // Decided in plan order first: a loop's verdicts depend on where
        // deciding starts.
        for &id in &self.order {
            self.verdicts
                .decide(id, &self.relations, &repository.subjects);
        }
        let relations = &self.relations;
        for (id, image) in relations.images.iter().enumerate() {
            let (Some(image), Some(decision)) = (image, &self.verdicts.decided[id]) else {
                continue;
            };
            reclaim.note(
                relations.digests[id],
                image,
                decision.is_delete() && !denied,
            );
        }
        let order = std::mem::take(&mut self.order);
        for &id in &order {
            let entry = self.entry(id, name, pattern);
            let is_image = self.is_image[id];
            out.push(entry);
            if is_image
                && let Some(remove) = &rule.remove_tags
                && !repository.in_use.contains_key(self.relations.digests[id])
            {
                let image = out.len() - 1;
                let tags = tag_entries(&out[image], remove, &rule.kept_tag_patterns());
                out.extend(tags);
            }
        }
        self.order = order;
        if denied {
            for entry in out[first..]
                .iter_mut()
                .filter(|entry| entry.decision.is_change())
            {
                entry.blocked = Some(Blocked::NoDeletePermission {
                    repository: name.clone(),
                });
            }
        }
    }

    /// Decides the untagged manifests the scan found that nothing else
    /// decides: not listed by an index of the repository, not attached.
    fn judge_untagged(&mut self, rule: &Rule, now: OffsetDateTime) {
        let relations = &self.relations;
        let count = relations.count();
        self.is_untagged.clear();
        self.is_untagged.resize(count, false);
        self.untagged.clear();
        if !relations.untagged.iter().any(Option::is_some) {
            return;
        }
        for id in 0..count {
            let (Some(found), Some(image)) = (relations.untagged[id], relations.images[id]) else {
                continue;
            };
            if !relations.tags[id].is_empty()
                || !relations.parents[id].is_empty()
                || relations.attached[id].is_some()
            {
                continue;
            }
            let decision = if !image.kind.is_interpreted() {
                Decision::Keep {
                    reason: KeepReason::NotInterpreted {
                        media_type: image.media_type.clone(),
                    },
                }
            } else if let Some(pushed) = found.pushed.filter(|&at| at > now - UNTAGGED_GRACE) {
                Decision::Keep {
                    reason: KeepReason::PushedRecently { pushed },
                }
            } else if rule.delete_untagged {
                Decision::Delete {
                    reason: DeleteReason::Untagged,
                }
            } else {
                Decision::Keep {
                    reason: KeepReason::UntaggedKept,
                }
            };
            self.verdicts.policy[id] = Some(decision);
            self.is_untagged[id] = true;
            self.untagged.push((Moment::of(image.created), id));
        }
        // Newest first, undated last, ties in digest order.
        self.untagged.sort_unstable();
        self.images.extend(self.untagged.iter().map(|&(_, id)| id));
    }

    /// Whatever the policy said, a manifest in use is kept: before deciding,
    /// so what it lists and what is attached to it are kept with it (a
    /// child in use stays even when its index goes).
    fn keep_in_use(&mut self, in_use: &BTreeMap<Digest, String>) {
        if in_use.is_empty() {
            return;
        }
        let relations = &self.relations;
        for id in 0..relations.count() {
            if relations.images[id].is_none() {
                continue;
            }
            if let Some(source) = in_use.get(relations.digests[id]) {
                self.verdicts.policy[id] = Some(Decision::Keep {
                    reason: KeepReason::InUse {
                        source: source.clone(),
                    },
                });
            }
        }
    }

    /// The policy's decisions on the images it decides.
    fn judge(&mut self, rule: &Rule, now: OffsetDateTime, in_use: &BTreeMap<Digest, String>) {
        let relations = &self.relations;
        let count = relations.count();
        self.dated.clear();
        self.undated.clear();
        // Tagged digests in digest order (ids are in digest order).
        for id in (0..count).filter(|&id| !relations.tags[id].is_empty()) {
            if relations.attached[id].is_some() {
                continue;
            }
            let Some(image) = relations.images[id] else {
                // The scan reads every tagged manifest; an inventory from
                // elsewhere may lack one. Without it nothing is known.
                self.undated.push((id, Some(KeepReason::Untracked)));
                continue;
            };
            match image.created {
                Some(created) if image.kind.is_interpreted() => {
                    self.dated.push(newest_first(created, id));
                }
                _ if image.kind.is_interpreted() => self.undated.push((id, None)),
                _ => self.undated.push((
                    id,
                    Some(KeepReason::NotInterpreted {
                        media_type: image.media_type.clone(),
                    }),
                )),
            }
        }
        // Newest first; equal dates fall back to digest order so plans are stable.
        self.dated.sort_unstable();
        // An image is judged by the tags it keeps: the plan leaves the
        // registry as the next plan will find it.
        let judged = match &rule.remove_tags {
            Some(remove) => {
                let kept = rule.kept_tag_patterns();
                self.remaining.clear();
                // An image in use keeps every tag.
                self.remaining
                    .extend(
                        relations
                            .tags
                            .iter()
                            .take(count)
                            .enumerate()
                            .map(|(id, tags)| {
                                if in_use.contains_key(relations.digests[id]) {
                                    tags.clone()
                                } else {
                                    remaining_tags(tags, remove, &kept)
                                }
                            }),
                    );
                &self.remaining
            }
            None => &relations.tags,
        };
        let judge = RuleJudge::new(rule, now, judged);
        let mut rank = 0;
        self.images.clear();
        self.is_image.clear();
        self.is_image.resize(count, false);
        let verdicts = &mut self.verdicts;
        verdicts.policy.clear();
        verdicts.policy.resize(count, None);
        verdicts.decided.clear();
        verdicts.decided.resize(count, None);
        verdicts.visiting.clear();
        verdicts.visiting.resize(count, false);
        let created = |key: u128| {
            let id = (key & ID_BITS) as usize;
            let created = relations.images[id]
                .and_then(|image| image.created)
                .expect("only dated images are ranked");
            (id, created)
        };
        match rule.keep_newest_per {
            None => {
                for &key in &self.dated {
                    let (id, created) = created(key);
                    verdicts.policy[id] = Some(judge.dated(id, created, &mut rank, None));
                }
            }
            Some(per) => {
                // Each line ranks its own images: highest version first (a
                // pre-release below its release), equal versions newest
                // first. The images without a version tag are one more
                // group, newest first.
                let mut lined: Vec<(Option<Line>, Option<Reverse<Version>>, u128)> = self
                    .dated
                    .iter()
                    .map(|&key| {
                        let id = (key & ID_BITS) as usize;
                        let version = version::highest(judged[id].iter().map(Tag::as_str));
                        let line = version.as_ref().map(|version| version.line(per));
                        (line, version.map(Reverse), key)
                    })
                    .collect();
                lined.sort_unstable();
                let mut group = None;
                let mut label = String::new();
                for (line, _, key) in lined {
                    if group != Some(line) {
                        group = Some(line);
                        rank = 0;
                        label = match line {
                            Some(line) => line.to_string(),
                            None => NO_VERSION.to_owned(),
                        };
                    }
                    let (id, created) = created(key);
                    verdicts.policy[id] = Some(judge.dated(id, created, &mut rank, Some(&label)));
                }
            }
        }
        for &key in &self.dated {
            let id = (key & ID_BITS) as usize;
            self.is_image[id] = true;
            self.images.push(id);
        }
        for (id, known) in self.undated.drain(..) {
            verdicts.policy[id] = Some(match known {
                Some(reason) => Decision::Keep { reason },
                None => judge.undated(id),
            });
            self.is_image[id] = true;
            self.images.push(id);
        }
    }

    fn role(&self, id: usize) -> Role {
        let relations = &self.relations;
        if self.is_image[id] {
            return Role::Image;
        }
        if self.is_untagged[id]
            && let Some(found) = relations.untagged[id]
        {
            return Role::Untagged(found.clone());
        }
        if let Some((subject, kind)) = &relations.attached[id] {
            return Role::Attachment {
                subject: subject.clone(),
                kind: *kind,
                artifact_type: relations.images[id].and_then(|image| image.artifact_type.clone()),
            };
        }
        let parents = &relations.parents[id];
        if parents.is_empty() {
            return Role::Image;
        }
        let platform = parents.iter().find_map(|&index| {
            let image = relations.images[index]?;
            let at = relations.children[index]
                .iter()
                .position(|child| *child == Some(id))?;
            image.children[at].platform.clone()
        });
        Role::Child {
            indexes: parents
                .iter()
                .map(|&index| relations.digests[index].clone())
                .collect(),
            platform,
        }
    }

    /// Plan order: each image, then what belongs to it, depth first. A
    /// manifest comes only after all of its owners (every index that lists
    /// it, its subject), so apply, which deletes in this order, finds them
    /// gone when it gets to it; only loops, which the planner keeps, are
    /// placed regardless.
    fn order(&mut self) {
        let relations = &self.relations;
        let count = relations.count();
        let manifests = || (0..count).filter(|&id| relations.images[id].is_some());
        let unlisted = |id: &usize| relations.parents[*id].is_empty();
        // The policy's images, then what no index lists (orphans and their
        // kin), then anything left, which then follows its index. An image
        // that an index also lists goes under that index, so the index is
        // deleted before it. Roots wait for their owners; a leftover is
        // placed anyway: only a loop of references leaves one.
        let roots = self
            .images
            .iter()
            .copied()
            .filter(unlisted)
            .chain(self.images.iter().copied())
            .chain(manifests().filter(unlisted))
            .map(|id| (id, false))
            .chain(manifests().map(|id| (id, true)));
        let order = &mut self.order;
        let placed = &mut self.placed;
        let stack = &mut self.stack;
        order.clear();
        placed.clear();
        placed.resize(count, false);
        stack.clear();
        for root in roots {
            stack.push(root);
            while let Some((id, forced)) = stack.pop() {
                if placed[id] {
                    continue;
                }
                // What must come first: the indexes that list it and the
                // subject it is attached to. The last of them to be placed
                // pushes it again.
                let mut owners = relations.parents[id].iter().chain(&relations.subject[id]);
                if !forced && owners.any(|&owner| !placed[owner]) {
                    continue;
                }
                placed[id] = true;
                let next = stack.len();
                let children = relations.children[id]
                    .iter()
                    .flatten()
                    .copied()
                    .filter(|&child| relations.images[child].is_some());
                let attached = relations.attachments[id].iter().copied();
                stack.extend(children.chain(attached).map(|id| (id, false)));
                stack[next..].reverse();
                order.push(id);
            }
        }
    }

    /// The entry of one decided manifest; called once per id.
    fn entry(
        &mut self,
        id: usize,
        name: &RepositoryName,
        pattern: Option<&RepositoryPattern>,
    ) -> PlanEntry {
        let decision = self.verdicts.decided[id]
            .take()
            .expect("every manifest in the order was decided");
        let role = self.role(id);
        // Its tags move into its entry.
        let tags = std::mem::take(&mut self.relations.tags[id]);
        let digest = self.relations.digests[id].clone();
        match self.relations.images[id] {
            Some(image) => PlanEntry {
                repository: name.clone(),
                digest,
                tags,
                media_type: image.media_type.clone(),
                kind: image.kind,
                role,
                created: image.created,
                created_from: image.created_from,
                size: image.size,
                platforms: image
                    .children
                    .iter()
                    .filter_map(|child| child.platform.clone())
                    .collect(),
                rule: pattern.cloned(),
                decision,
                blocked: None,
            },
            None => PlanEntry {
                repository: name.clone(),
                digest,
                tags,
                media_type: MediaType::Other(String::new()),
                kind: ImageKind::Unknown,
                role,
                created: None,
                created_from: None,
                size: 0,
                platforms: Vec::new(),
                rule: pattern.cloned(),
                decision,
                blocked: None,
            },
        }
    }
}

/// The low bits of a [`newest_first`] key: the id.
const ID_BITS: u128 = (1 << 42) - 1;

/// A dated image's place in plan order as one number: newest first, equal
/// dates in id (digest) order. Sorting numbers is much faster than comparing
/// `OffsetDateTime`s, which convert both sides to UTC on every comparison;
/// the order is the same, as both order instants. Dates lie within a
/// million years of 1970, less than 2^85 nanoseconds either side, so the
/// age fits in the 86 high bits and the id in the 42 low ones.
fn newest_first(created: OffsetDateTime, id: usize) -> u128 {
    let age = (1_i128 << 85) - created.unix_timestamp_nanos();
    debug_assert!(age >= 0 && (id as u128) <= ID_BITS);
    ((age as u128) << 42) | id as u128
}

/// An untagged manifest's date as plan order sorts it: newest first,
/// undated last; compared as numbers, as [`newest_first`] explains.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Moment {
    undated: bool,
    /// Nanoseconds since 1970, negated so that newer sorts first.
    age: i128,
}

impl Moment {
    fn of(created: Option<OffsetDateTime>) -> Moment {
        Moment {
            undated: created.is_none(),
            age: created.map_or(0, |at| -at.unix_timestamp_nanos()),
        }
    }
}
