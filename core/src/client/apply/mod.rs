//! Carrying out a [`Plan`]'s deletes and tag removals, each ending with an
//! outcome.
//!
//! Deletes run in plan order within a repository (an index before its
//! children, a subject before its attachments) and up to
//! [`Client::concurrency`] repositories side by side: a manifest belongs to
//! one repository, so their deletes are independent. Before a repository's
//! first delete, apply re-reads where every tag points and skips any delete
//! whose set of tags changed since the scan. A child or attachment is
//! deleted only once its index or subject is gone, and nothing a currently
//! tagged index lists is deleted.
//!
//! Every entry ends as deleted, skipped (with why) or failed (with why). The
//! first `405 UNSUPPORTED` stops every DELETE not yet sent, as skipped with
//! the config fix (one already sent in another repository reports its own
//! `405`). An entry marked `blocked` (no delete permission) is never sent
//! and ends as skipped with that reason; the first 401/403 on a DELETE in a
//! repository fails that entry and skips the rest of the repository.
//!
//! [`Client::apply_until`] can be stopped between deletes: no DELETE is sent
//! after the stop, one in flight finishes, and the rest end as skipped
//! "cancelled before it was deleted". [`retry_plan`] re-applies only the
//! failed deletes, in plan order and with every check; a child whose index
//! is not in the retried plan is deleted only once a `HEAD` shows the index
//! gone.
//!
//! This file runs the plan repository by repository; `entry` decides and
//! carries out one entry (the checks right before a DELETE, the DELETE and
//! its answer), `outcome` holds what apply reports. Tag removals are
//! `untag`'s.

mod entry;
mod outcome;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};

use crate::client::untag::TagRemoval;
use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::Error;
use crate::name::{RepositoryName, Tag};
use crate::plan::{Plan, PlanEntry};
use crate::protocol::Reference;
use crate::transport::Transport;

pub use outcome::{
    ALREADY_GONE, ApplyCounts, ApplyReport, CANCELLED, EntryOutcome, Outcome, UNVERIFIED,
    is_delete_refused, retry_plan,
};

/// Where a repository's tags point now, and which manifests the indexes
/// they point at list.
pub(crate) struct RepositoryNow {
    pub(crate) tags: BTreeMap<Digest, BTreeSet<Tag>>,
    /// Child digest -> the tagged indexes that list it.
    listed_by: BTreeMap<Digest, BTreeSet<Digest>>,
}

const REFUSED: &str = "the registry refuses deletes (HTTP 405 UNSUPPORTED); set `storage: {delete: {enabled: true}}` in its config.yml";

/// The reason of the entry whose delete (or tag removal) the registry
/// refused with 405 `UNSUPPORTED`.
pub(crate) fn refused_reason(error: &Error) -> String {
    error.to_string()
}

/// What the repositories applied side by side share: the counts, the
/// outcomes in plan order, a registry-wide refusal, the caller's progress.
struct Shared<'p> {
    counts: ApplyCounts,
    outcomes: Vec<Option<EntryOutcome>>,
    refused: Option<String>,
    progress: &'p mut dyn FnMut(&ApplyCounts, &EntryOutcome),
}

/// What every repository's run shares besides [`Shared`]: what is known
/// about removing single tags on this registry.
struct Learnt {
    removal: RefCell<TagRemoval>,
}

/// What every repository's run reads.
struct Limits<'a> {
    /// Requests in flight for one repository's re-read of its tags.
    rereads: usize,
    planned: &'a BTreeSet<(&'a RepositoryName, &'a Digest)>,
    stop: &'a dyn Fn() -> bool,
}

/// What happened so far in this run, for the entries that depend on others.
#[derive(Default)]
struct Progress {
    /// Manifests this run deleted or found already gone.
    gone: BTreeSet<(RepositoryName, Digest)>,
}

impl<T: Transport> Client<T> {
    /// Deletes the plan's deletes and removes its tags (see
    /// [`crate::client::untag`]), each repository's in plan order: an
    /// index before its children, a subject before its attachments, and a
    /// child or attachment only once what it belongs to is gone. Up to
    /// [`Client::concurrency`] repositories are worked on side by side (a
    /// manifest belongs to one repository, so their deletes are
    /// independent); `progress` sees outcomes as they end, the report holds
    /// them in plan order. Before a repository's deletes it
    /// re-reads where every tag points (and what the tagged indexes list) and
    /// skips any entry whose tags changed or that a tagged index now lists;
    /// right before each DELETE it re-reads that entry's tags again; after
    /// it, a `HEAD` checks the manifest is gone. Nothing stops the report:
    /// every delete gets an outcome.
    pub async fn apply(
        &self,
        plan: &Plan,
        progress: &mut dyn FnMut(&ApplyCounts, &EntryOutcome),
    ) -> ApplyReport {
        self.apply_until(plan, &|| false, progress).await
    }

    /// [`Client::apply`] that can be stopped: `stop` is asked before each
    /// entry and again right before each DELETE. Once it says true, no
    /// further DELETE is sent; a DELETE already sent finishes and is
    /// reported, and every entry not attempted ends as skipped with the
    /// reason [`CANCELLED`].
    pub async fn apply_until(
        &self,
        plan: &Plan,
        stop: &dyn Fn() -> bool,
        progress: &mut dyn FnMut(&ApplyCounts, &EntryOutcome),
    ) -> ApplyReport {
        // Blocked entries too: each ends as skipped with its reason.
        let deletes: Vec<&PlanEntry> = plan
            .entries
            .iter()
            .filter(|e| e.decision.is_change())
            .collect();
        let planned: BTreeSet<(&RepositoryName, &Digest)> =
            plan.deletes().map(|e| (&e.repository, &e.digest)).collect();
        // Each repository's deletes in plan order; repositories are
        // independent, so several run side by side.
        let mut runs: BTreeMap<&RepositoryName, Vec<(usize, &PlanEntry)>> = BTreeMap::new();
        for (index, entry) in deletes.iter().enumerate() {
            runs.entry(&entry.repository)
                .or_default()
                .push((index, *entry));
        }
        let side_by_side = self.concurrency().min(runs.len()).max(1);
        let shared = RefCell::new(Shared {
            counts: ApplyCounts {
                total: deletes.len(),
                ..ApplyCounts::default()
            },
            outcomes: vec![None; deletes.len()],
            refused: None,
            progress,
        });
        let limits = Limits {
            // The tag re-reads of the repositories in flight share the
            // concurrency.
            rereads: (self.concurrency() / side_by_side).max(1),
            planned: &planned,
            stop,
        };
        let learnt = Learnt {
            removal: RefCell::new(TagRemoval::default()),
        };
        stream::iter(
            runs.values()
                .map(|run| self.apply_repository(run, &limits, &shared, &learnt)),
        )
        .buffer_unordered(side_by_side)
        .for_each(|()| async {})
        .await;
        ApplyReport {
            outcomes: shared.into_inner().outcomes.into_iter().flatten().collect(),
        }
    }

    /// One repository's deletes and tag removals, in plan order.
    async fn apply_repository(
        &self,
        run: &[(usize, &PlanEntry)],
        limits: &Limits<'_>,
        shared: &RefCell<Shared<'_>>,
        learnt: &Learnt,
    ) {
        let mut done_here = Progress::default();
        let mut current: Option<Result<RepositoryNow, String>> = None;
        // Set by the first DELETE here the registry refused for lack of
        // rights (401/403): the rest of the repository is not attempted.
        let mut denied: Option<String> = None;
        for &(index, entry) in run {
            let refused = shared.borrow().refused.clone();
            let outcome = if let Some(blocked) = &entry.blocked {
                Outcome::Skipped {
                    reason: blocked.to_string(),
                }
            } else if let Some(why) = refused {
                Outcome::Skipped {
                    reason: format!("not attempted: {why}"),
                }
            } else if let Some(why) = &denied {
                Outcome::Skipped {
                    reason: why.clone(),
                }
            } else if (limits.stop)() {
                Outcome::Skipped {
                    reason: CANCELLED.into(),
                }
            } else {
                if current.is_none() {
                    current = Some(self.repository_now(&entry.repository, limits.rereads).await);
                }
                let now = current.as_mut().expect("set just above");
                let (outcome, halt) = match now {
                    Ok(now) if entry.decision.is_untag() => {
                        let (outcome, refuses) = self
                            .untag_entry(entry, now, &learnt.removal, limits.stop)
                            .await;
                        (outcome, if refuses { Halt::Registry } else { Halt::No })
                    }
                    now => {
                        self.apply_entry(entry, now, limits.planned, &done_here, limits.stop)
                            .await
                    }
                };
                match halt {
                    Halt::No => {}
                    Halt::Registry => shared.borrow_mut().refused = Some(REFUSED.into()),
                    Halt::Repository(why) => denied = Some(why),
                }
                outcome
            };
            let gone = matches!(outcome, Outcome::Deleted)
                || matches!(&outcome, Outcome::Skipped { reason } if reason == ALREADY_GONE);
            if gone {
                done_here
                    .gone
                    .insert((entry.repository.clone(), entry.digest.clone()));
            }
            let done = EntryOutcome {
                repository: entry.repository.clone(),
                digest: entry.digest.clone(),
                tags: entry.tags.clone(),
                outcome,
            };
            let mut shared = shared.borrow_mut();
            let Shared {
                counts,
                outcomes,
                progress,
                ..
            } = &mut *shared;
            counts.add(&done.outcome);
            progress(counts, &done);
            outcomes[index] = Some(done);
        }
    }

    async fn repository_now(
        &self,
        repository: &RepositoryName,
        limit: usize,
    ) -> Result<RepositoryNow, String> {
        let tags = self
            .tags(repository)
            .await
            .map_err(|e| format!("could not re-read the repository's tags: {e}"))?;
        let mut now = RepositoryNow {
            tags: BTreeMap::new(),
            listed_by: BTreeMap::new(),
        };
        let mut answers = stream::iter(tags.into_iter().map(|tag| async move {
            let reference = Reference::Tag(tag.clone());
            (tag, self.manifest(repository, &reference).await)
        }))
        .buffer_unordered(limit);
        while let Some((tag, fetched)) = answers.next().await {
            let fetched = match fetched {
                Ok(fetched) => fetched,
                Err(error) if is_not_found(&error) => continue,
                Err(error) => return Err(format!("could not re-read tag {tag}: {error}")),
            };
            for child in fetched.manifest.children() {
                now.listed_by
                    .entry(child.digest.clone())
                    .or_default()
                    .insert(fetched.digest.clone());
            }
            now.tags.entry(fetched.digest).or_default().insert(tag);
        }
        Ok(now)
    }
}

/// What an entry's outcome stops besides itself.
enum Halt {
    No,
    /// The registry refuses every delete (`405 UNSUPPORTED`).
    Registry,
    /// The registry refused this DELETE for lack of rights (401/403): the
    /// rest of the repository is skipped with this reason.
    Repository(String),
}
