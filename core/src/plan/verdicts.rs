//! Decisions that follow an owner: a child its indexes, an attachment its
//! subject; the policy decides the rest.
//!
//! An image is a tagged manifest not attached to another, so a multi-platform
//! index counts as one image. Its children follow it: none is deleted while
//! any kept index lists it, and those that only deleted indexes list are
//! deleted right after their index (Distribution 2.x would otherwise keep
//! them until a `garbage-collect --delete-untagged`).
//!
//! Attachments (cosign `sha256-<hex>.sig|.att|.sbom` tags, referrers fallback
//! `sha256-<hex>` tags, manifests with a `subject`, referrers the API lists)
//! are not images: they are kept with a kept subject and deleted after a
//! deleted one, whatever `delete_untagged` says. One whose subject the
//! registry no longer has (the scan's `HEAD` said so) is an orphan and goes;
//! one whose subject is there but not in the inventory is kept. Manifests
//! whose references loop are kept. Referrers keep the attachments' order,
//! deleted right after their subject once it is gone: deleting them first
//! would strip a signature from an image whose own delete the re-check
//! might then skip.

use std::collections::BTreeMap;

use super::graph::Relations;
use super::{Decision, DeleteReason, KeepReason};
use crate::digest::Digest;

/// Decisions as they are made.
#[derive(Default)]
pub(super) struct Verdicts {
    /// The policy's decision, until `decide` takes it.
    pub(super) policy: Vec<Option<Decision>>,
    pub(super) decided: Vec<Option<Decision>>,
    pub(super) visiting: Vec<bool>,
}

impl Verdicts {
    /// Decides one manifest of the repository, once; says whether it goes.
    pub(super) fn decide(
        &mut self,
        id: usize,
        relations: &Relations<'_>,
        subjects: &BTreeMap<Digest, bool>,
    ) -> bool {
        if let Some(known) = &self.decided[id] {
            return known.is_delete();
        }
        if self.visiting[id] {
            // Its relations loop back to it: kept (`Unresolved`) for now.
            return false;
        }
        self.visiting[id] = true;
        let mut kept_parent = None;
        for &parent in &relations.parents[id] {
            if !self.decide(parent, relations, subjects) {
                kept_parent = Some(parent);
                break;
            }
        }
        let policy = self.policy[id].take();
        let decision = if let Some(index) = kept_parent {
            Decision::Keep {
                reason: KeepReason::InKeptIndex {
                    index: relations.digests[index].clone(),
                },
            }
        } else if let Some(decision) = policy {
            decision
        } else if let Some((subject, _)) = &relations.attached[id] {
            let subject = subject.clone();
            if let Some(of) = relations.subject[id] {
                if self.decide(of, relations, subjects) {
                    Decision::Delete {
                        reason: DeleteReason::WithDeletedSubject { subject },
                    }
                } else {
                    Decision::Keep {
                        reason: KeepReason::AttachedToKept { subject },
                    }
                }
            } else if subjects.get(&subject) == Some(&false) {
                Decision::Delete {
                    reason: DeleteReason::Orphan { subject },
                }
            } else {
                Decision::Keep {
                    reason: KeepReason::SubjectUntracked { subject },
                }
            }
        } else if let Some(&index) = relations.parents[id].first() {
            Decision::Delete {
                reason: DeleteReason::WithDeletedIndex {
                    index: relations.digests[index].clone(),
                },
            }
        } else {
            Decision::Keep {
                reason: KeepReason::Untracked,
            }
        };
        self.visiting[id] = false;
        let delete = decision.is_delete();
        self.decided[id] = Some(decision);
        delete
    }
}
