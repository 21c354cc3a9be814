//! Removing one tag from a kept image without touching the image.
//!
//! Deleting a manifest by digest removes every tag on it, so a single tag
//! needs its own way, tried in this order:
//!
//! 1. The registry's tag delete, `DELETE /v2/<name>/manifests/<tag>` (OCI
//!    distribution-spec, "Deleting tags"): Distribution 3 answers 202 and
//!    removes only the tag's link. Distribution 2.x answers an error (400
//!    `DIGEST_INVALID`); anything but 202 means "not this way".
//! 2. A replacement, where the account may push: a tiny manifest of
//!    cleanreg's own (a unique config and the two-byte empty blob `{}`, in
//!    the original's media type family) is pushed to the tag, then deleted
//!    by its digest, which takes the tag with it. Its config and the empty
//!    blob stay in storage until garbage collection. It is tried only after
//!    a probe showed that deletes by digest work (a DELETE of a digest no
//!    repository has, answered 404), so the tag never stays on the
//!    replacement.
//!
//! The original digest and its other tags are never touched. Right before
//! the removal the tag must still point at the planned digest and must not
//! be the image's last; afterwards the digest must still be there, with its
//! other tags still on it.
//!
//! This file holds the first way and the checks around both;
//! `replacement` builds and pushes the stand-in of the second way.

mod replacement;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::client::apply::{Outcome, RepositoryNow, refused_reason};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::name::{RepositoryName, Tag};
use crate::plan::PlanEntry;
use crate::protocol;
use crate::transport::Transport;

/// How a tag was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum RemovedBy {
    /// The registry's own tag delete.
    TagDelete,
    /// A replacement manifest pushed to the tag and deleted by digest; its
    /// blobs (config and the empty blob) stay until garbage collection.
    Replacement {
        manifest: Digest,
        blobs: Vec<Digest>,
    },
}

/// The empty blob a replacement manifest lists as its one layer.
pub const EMPTY_BLOB: &[u8] = b"{}";

/// What apply has learnt about removing tags on this registry, shared by
/// the repositories it works on side by side.
#[derive(Default)]
pub(crate) struct TagRemoval {
    /// Set once the tag delete answered: true when it removed a tag (202),
    /// false when it answered anything else.
    tag_delete: Option<bool>,
    /// What the tag delete answered when it was not 202, for messages.
    tag_delete_answer: Option<String>,
    /// Whether the registry is known to take deletes by digest.
    deletes_work: bool,
    /// Makes every replacement's config unique within a run.
    replacements: u64,
}

/// 401 or 403: the account may not do this here.
fn is_forbidden(error: &Error) -> bool {
    matches!(error.status(), Some(401 | 403))
        || matches!(
            error.registry_code(),
            Some(ErrorCode::Unauthorized | ErrorCode::Denied)
        )
}

fn skipped(reason: impl Into<String>) -> (Outcome, bool) {
    (
        Outcome::Skipped {
            reason: reason.into(),
        },
        false,
    )
}

fn failed(reason: impl Into<String>) -> (Outcome, bool) {
    (
        Outcome::Failed {
            reason: reason.into(),
        },
        false,
    )
}

/// The image's other tags, when `tag` is still on it as apply re-read the
/// repository (`now`) and is not its last; else the entry's outcome.
fn still_removable(
    tag: &Tag,
    digest: &Digest,
    now: &RepositoryNow,
) -> Result<Vec<Tag>, (Outcome, bool)> {
    let on_image: BTreeSet<Tag> = now.tags.get(digest).cloned().unwrap_or_default();
    if !on_image.contains(tag) {
        let moved = now
            .tags
            .iter()
            .find(|(_, tags)| tags.contains(tag))
            .map(|(other, _)| other.clone());
        return Err(skipped(match moved {
            Some(other) => format!("tag {tag} moved to {} since the scan", other.short()),
            None => format!("tag {tag} was deleted since the scan"),
        }));
    }
    let others: Vec<Tag> = on_image.iter().filter(|t| *t != tag).cloned().collect();
    if others.is_empty() {
        return Err(skipped(format!(
            "tag {tag} is the last tag of {} now: removing it would leave the image untagged",
            digest.short()
        )));
    }
    Ok(others)
}

impl<T: Transport> Client<T> {
    /// Removes the tag of an untag entry (see the module documentation).
    /// `now` is the repository as apply re-read it; a removal is recorded
    /// in it, so the next entry of the same image sees one tag fewer.
    /// Returns the outcome and whether the registry refuses deletes
    /// altogether.
    pub(crate) async fn untag_entry(
        &self,
        entry: &PlanEntry,
        now: &mut RepositoryNow,
        removal: &std::cell::RefCell<TagRemoval>,
        stop: &dyn Fn() -> bool,
    ) -> (Outcome, bool) {
        let (repository, digest) = (&entry.repository, &entry.digest);
        let Some(tag) = entry.tags.first() else {
            return failed("the plan entry names no tag");
        };
        let others = match still_removable(tag, digest, now) {
            Ok(others) => others,
            Err(outcome) => return outcome,
        };
        if let Some(outcome) = self.tag_still_on(repository, tag, digest).await {
            return outcome;
        }
        if stop() {
            return skipped(crate::client::apply::CANCELLED);
        }
        let by = match self.tag_delete(repository, tag, digest, removal).await {
            Ok(Some(by)) => by,
            Ok(None) => match self.replace_tag(entry, tag, removal, stop).await {
                Ok(by) => by,
                Err(outcome) => return outcome,
            },
            Err(outcome) => return outcome,
        };
        let outcome = self
            .confirm_untag(repository, tag, digest, &others, by)
            .await;
        if matches!(outcome.0, Outcome::TagRemoved { .. })
            && let Some(tags) = now.tags.get_mut(digest)
        {
            tags.remove(tag);
        }
        outcome
    }

    /// The first way: the registry's tag delete, unless this run learnt
    /// that it does not work here. `Ok(None)`: not this way, try a
    /// replacement; `Err` is the entry's outcome.
    async fn tag_delete(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
        removal: &std::cell::RefCell<TagRemoval>,
    ) -> Result<Option<RemovedBy>, (Outcome, bool)> {
        let tried = removal.borrow().tag_delete;
        if tried == Some(false) {
            return Ok(None);
        }
        let request = protocol::delete_tag(self.registry(), repository, tag);
        let answer = match self.send(request).await {
            Ok((described, response)) => protocol::parse_delete(&described, &response),
            Err(error) => Err(error),
        };
        let error = match answer {
            Ok(()) => {
                let mut learnt = removal.borrow_mut();
                learnt.tag_delete = Some(true);
                learnt.deletes_work = true;
                return Ok(Some(RemovedBy::TagDelete));
            }
            Err(error) => error,
        };
        if crate::client::apply::is_delete_refused(&error) {
            return Err((
                Outcome::Failed {
                    reason: refused_reason(&error),
                },
                true,
            ));
        }
        if is_forbidden(&error) {
            return Err(skipped(format!(
                "the registry refused to remove tag {tag}: {error} (the account may not \
                 delete in {repository})"
            )));
        }
        // Anything but 202 may still have acted (a lost answer) or found
        // the tag gone: the registry says.
        match self.tag_digest(repository, tag).await {
            Ok(None) if tried == Some(true) || error.status().is_none() => {
                Ok(Some(RemovedBy::TagDelete))
            }
            Ok(None) => Err(skipped(format!(
                "tag {tag} was removed by someone else meanwhile"
            ))),
            Ok(Some(found)) if found == *digest => {
                if tried == Some(true) || error.status().is_none_or(|s| s >= 500) {
                    return Err(failed(format!("removing tag {tag} failed: {error}")));
                }
                let mut learnt = removal.borrow_mut();
                learnt.tag_delete = Some(false);
                learnt.tag_delete_answer = Some(short_answer(&error));
                Ok(None)
            }
            Ok(Some(found)) => Err(skipped(format!(
                "tag {tag} moved to {} meanwhile",
                found.short()
            ))),
            Err(check) => Err(failed(format!(
                "{}: removing tag {tag} failed ({error}) and so did reading where it points \
                 ({check})",
                crate::client::apply::UNVERIFIED
            ))),
        }
    }

    /// Skips when the tag no longer points at the digest (read right now).
    async fn tag_still_on(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
    ) -> Option<(Outcome, bool)> {
        match self.tag_digest(repository, tag).await {
            Ok(Some(found)) if found == *digest => None,
            Ok(Some(found)) => Some(skipped(format!(
                "tag {tag} moved to {} since the scan",
                found.short()
            ))),
            Ok(None) => Some(skipped(format!("tag {tag} was deleted since the scan"))),
            Err(error) => Some(failed(format!("could not re-check tag {tag}: {error}"))),
        }
    }

    /// After a removal: the tag is gone, the digest is there, and every
    /// other tag still points at it.
    async fn confirm_untag(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
        others: &[Tag],
        by: RemovedBy,
    ) -> (Outcome, bool) {
        match self.tag_digest(repository, tag).await {
            Ok(None) => {}
            Ok(Some(found)) if found == *digest => {
                return failed(format!(
                    "the registry accepted the removal, but tag {tag} still points at {}",
                    digest.short()
                ));
            }
            Ok(Some(found)) => {
                return failed(format!(
                    "tag {tag} was removed from {}, but points at {} now (pushed again meanwhile?)",
                    digest.short(),
                    found.short()
                ));
            }
            Err(error) => {
                return failed(format!(
                    "{}: tag {tag} may be removed, but reading it failed: {error}",
                    crate::client::apply::UNVERIFIED
                ));
            }
        }
        match self.manifest_exists(repository, digest).await {
            Ok(true) => {}
            Ok(false) => {
                return failed(format!(
                    "removing tag {tag} took the image {} with it: restore it with the recovery \
                     file before garbage collection runs",
                    digest.short()
                ));
            }
            Err(error) => {
                return failed(format!(
                    "tag {tag} is removed, but checking that {} is still there failed: {error}",
                    digest.short()
                ));
            }
        }
        for other in others {
            match self.tag_digest(repository, other).await {
                Ok(Some(found)) if found == *digest => {}
                Ok(_) => {
                    return failed(format!(
                        "after removing tag {tag}, tag {other} no longer points at {}",
                        digest.short()
                    ));
                }
                Err(error) => {
                    return failed(format!(
                        "tag {tag} is removed, but checking tag {other} failed: {error}"
                    ));
                }
            }
        }
        (Outcome::TagRemoved { by }, false)
    }
}

/// `HTTP 400 DIGEST_INVALID`, for messages.
fn short_answer(error: &Error) -> String {
    match (error.status(), error.registry_code()) {
        (Some(status), Some(code)) => format!("HTTP {status} {}", code.as_str()),
        (Some(status), None) => format!("HTTP {status}"),
        _ => error.to_string(),
    }
}
