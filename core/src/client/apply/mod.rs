//! Carrying out a [`Plan`]'s deletes and tag removals, each ending with an
//! outcome.
//!
//! Up to [`Client::concurrency`] repositories are applied side by side (a
//! manifest belongs to one repository, so their deletes are independent),
//! sharing that many requests in flight. Within a repository, deletes go
//! in plan order (an index before its children, a subject before its
//! attachments) in waves: the first delete alone, so a refusal is learnt
//! from one request, then up to [`WAVE`] deletes side by side, none of
//! which belongs to another; a tag removal goes alone. Before a
//! repository's first delete, apply re-reads where every tag points (a
//! `HEAD` each, an index's manifest to learn what it lists) and skips any
//! delete whose set of tags changed since the scan; before each later wave
//! it reads the tag list again and resolves the tags it did not have. A
//! child or attachment is deleted only once its index or subject is gone,
//! and nothing a currently tagged index lists is deleted.
//!
//! Every entry ends as deleted, skipped (with why) or failed (with why). The
//! first `405 UNSUPPORTED` stops every DELETE not yet sent, as skipped with
//! the config fix (one already sent in another repository reports its own
//! `405`). An entry marked `blocked` (no delete permission) is never sent
//! and ends as skipped with that reason; the first 401/403 on a DELETE in a
//! repository fails that entry and skips the rest of the repository.
//!
//! [`Client::apply_until`] can be stopped between deletes: no DELETE is sent
//! after the stop, those in flight finish, and the rest end as skipped
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

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};

use crate::client::Client;
use crate::client::untag::TagRemoval;
use crate::digest::Digest;
use crate::error::Error;
use crate::name::{RepositoryName, Tag};
use crate::plan::{Plan, PlanEntry, Role};
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
    /// Requests in flight for the whole apply.
    concurrency: usize,
    /// Repositories being applied right now: they share the concurrency.
    active: Cell<usize>,
    planned: &'a BTreeSet<(&'a RepositoryName, &'a Digest)>,
    stop: &'a dyn Fn() -> bool,
}

impl Limits<'_> {
    /// Requests one repository may have in flight now.
    fn share(&self) -> usize {
        (self.concurrency / self.active.get().max(1)).max(1)
    }
}

/// At most this many deletes of a repository between two reads of its tag
/// list.
const WAVE: usize = 8;

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
    /// independent), and within one a wave of deletes at a time (see the
    /// module); `progress` sees outcomes as they end, the report holds them
    /// in plan order. Before a repository's deletes it re-reads where every
    /// tag points (and what the tagged indexes list), and its tag list before
    /// each wave, and skips any entry whose tags changed or that a tagged
    /// index now lists; right before each DELETE it re-reads that entry's
    /// tags again; after
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
            concurrency: self.concurrency(),
            active: Cell::new(0),
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

    /// One repository's deletes and tag removals, in plan order, in waves:
    /// a wave is up to [`WAVE`] deletes, none of which belongs to another
    /// (an index and its children, a subject and its attachments are in
    /// different waves), sent side by side. The repository's first delete
    /// goes alone, so that a refusal (401/403, 405) is learnt from one
    /// DELETE; a tag removal always goes alone. Before each wave after the
    /// re-read, the tag list is read again and any tag it did not have is
    /// resolved, so a tag put on a planned digest (or on an index listing
    /// it) while the apply runs skips it.
    async fn apply_repository(
        &self,
        run: &[(usize, &PlanEntry)],
        limits: &Limits<'_>,
        shared: &RefCell<Shared<'_>>,
        learnt: &Learnt,
    ) {
        limits.active.set(limits.active.get() + 1);
        let mut done_here = Progress::default();
        let mut current: Option<Result<RepositoryNow, String>> = None;
        // Set by the first DELETE here the registry refused for lack of
        // rights (401/403): the rest of the repository is not attempted.
        let denied: RefCell<Option<String>> = RefCell::new(None);
        let mut position = 0;
        while position < run.len() {
            let halted =
                shared.borrow().refused.is_some() || denied.borrow().is_some() || (limits.stop)();
            let wants_registry =
                !halted && run[position..].iter().any(|(_, e)| e.blocked.is_none());
            let mut relisted = Ok(());
            match &mut current {
                None if wants_registry => {
                    current = Some(
                        self.repository_now(&run[position].1.repository, limits.share())
                            .await,
                    );
                }
                Some(Ok(now)) if wants_registry => {
                    relisted = self
                        .relist(&run[position].1.repository, now, limits.share())
                        .await;
                }
                _ => {}
            }
            let wave = wave(run, position, current.as_ref());
            position += wave.len();
            if let [(index, entry)] = wave
                && entry.decision.is_untag()
            {
                let outcome = self
                    .untag_wave_entry(entry, &mut current, shared, learnt, limits, &denied)
                    .await;
                self.record(*index, entry, outcome, shared, &mut done_here);
                continue;
            }
            let now: Result<&RepositoryNow, String> = match (&current, relisted) {
                (Some(Ok(now)), Ok(())) => Ok(now),
                (Some(Err(reason)), _) => Err(reason.clone()),
                (_, Err(reason)) => Err(reason),
                // Every entry left is not attempted (see `wants_registry`).
                (None, Ok(())) => Err(String::new()),
            };
            let done_before = &done_here;
            let mut outcomes = stream::iter(wave.iter().map(|&(index, entry)| {
                let now = &now;
                let denied = &denied;
                async move {
                    let outcome = match not_attempted(entry, shared, denied, limits) {
                        Some(outcome) => outcome,
                        None => {
                            let (outcome, halt) = self
                                .apply_entry(entry, now, limits.planned, done_before, limits.stop)
                                .await;
                            halt.record(shared, denied);
                            outcome
                        }
                    };
                    (index, entry, outcome)
                }
            }))
            .buffer_unordered(limits.share());
            let mut ended = Vec::with_capacity(wave.len());
            while let Some(done) = outcomes.next().await {
                let (index, entry, outcome) = done;
                Self::report(index, entry, &outcome, shared);
                ended.push((entry, outcome));
            }
            drop(outcomes);
            for (entry, outcome) in ended {
                if is_gone(&outcome) {
                    done_here
                        .gone
                        .insert((entry.repository.clone(), entry.digest.clone()));
                }
            }
        }
        limits.active.set(limits.active.get() - 1);
    }

    /// A tag removal, alone in its wave: it needs the repository's tags as
    /// they are now, and changes them.
    async fn untag_wave_entry(
        &self,
        entry: &PlanEntry,
        current: &mut Option<Result<RepositoryNow, String>>,
        shared: &RefCell<Shared<'_>>,
        learnt: &Learnt,
        limits: &Limits<'_>,
        denied: &RefCell<Option<String>>,
    ) -> Outcome {
        if let Some(outcome) = not_attempted(entry, shared, denied, limits) {
            return outcome;
        }
        match current {
            Some(Ok(now)) => {
                let (outcome, refuses) = self
                    .untag_entry(entry, now, &learnt.removal, limits.stop)
                    .await;
                if refuses {
                    shared.borrow_mut().refused = Some(REFUSED.into());
                }
                outcome
            }
            Some(Err(reason)) => Outcome::Failed {
                reason: reason.clone(),
            },
            None => Outcome::Failed {
                reason: "the repository's tags were not read".into(),
            },
        }
    }

    /// Records an outcome that ended alone (a tag removal).
    fn record(
        &self,
        index: usize,
        entry: &PlanEntry,
        outcome: Outcome,
        shared: &RefCell<Shared<'_>>,
        done_here: &mut Progress,
    ) {
        Self::report(index, entry, &outcome, shared);
        if is_gone(&outcome) {
            done_here
                .gone
                .insert((entry.repository.clone(), entry.digest.clone()));
        }
    }

    /// Counts an outcome, tells the caller, and keeps it in plan order.
    fn report(index: usize, entry: &PlanEntry, outcome: &Outcome, shared: &RefCell<Shared<'_>>) {
        let done = EntryOutcome {
            repository: entry.repository.clone(),
            digest: entry.digest.clone(),
            tags: entry.tags.clone(),
            outcome: outcome.clone(),
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

    /// The re-read before a repository's first delete: its tag list, and
    /// where each tag points (a `HEAD` each; the manifest only for an
    /// index, to learn what it lists).
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
        self.resolve_into(repository, tags, &mut now, limit)
            .await
            .map_err(|(tag, error)| format!("could not re-read tag {tag}: {error}"))?;
        Ok(now)
    }

    /// The tag list read again between waves: a tag it did not have is
    /// resolved and added to `now`, so the deletes it reaches are skipped.
    async fn relist(
        &self,
        repository: &RepositoryName,
        now: &mut RepositoryNow,
        limit: usize,
    ) -> Result<(), String> {
        let tags = self
            .tags(repository)
            .await
            .map_err(|e| format!("could not re-check the repository's tags: {e}"))?;
        let known: BTreeSet<&Tag> = now.tags.values().flatten().collect();
        let new: Vec<Tag> = tags
            .into_iter()
            .filter(|tag| !known.contains(tag))
            .collect();
        self.resolve_into(repository, new, now, limit)
            .await
            .map_err(|(tag, error)| format!("could not re-check new tag {tag}: {error}"))
    }

    /// Adds where each of `tags` points, and what those indexes list, to
    /// `now`; a tag gone meanwhile is left out.
    async fn resolve_into(
        &self,
        repository: &RepositoryName,
        tags: Vec<Tag>,
        now: &mut RepositoryNow,
        limit: usize,
    ) -> Result<(), (Tag, Error)> {
        let mut answers = stream::iter(tags.into_iter().map(|tag| async move {
            let target = self.tag_target(repository, &tag).await;
            (tag, target)
        }))
        .buffer_unordered(limit);
        while let Some((tag, target)) = answers.next().await {
            let (digest, children) = match target {
                Ok(Some(target)) => target,
                Ok(None) => continue,
                Err(error) => return Err((tag, error)),
            };
            for child in children {
                now.listed_by
                    .entry(child)
                    .or_default()
                    .insert(digest.clone());
            }
            now.tags.entry(digest).or_default().insert(tag);
        }
        Ok(())
    }
}

/// Whether an outcome means the manifest is gone.
fn is_gone(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Deleted)
        || matches!(outcome, Outcome::Skipped { reason } if reason == ALREADY_GONE)
}

/// The outcome of an entry that is not sent: blocked, after a refusal or a
/// denial, or stopped.
fn not_attempted(
    entry: &PlanEntry,
    shared: &RefCell<Shared<'_>>,
    denied: &RefCell<Option<String>>,
    limits: &Limits<'_>,
) -> Option<Outcome> {
    let refused = shared.borrow().refused.clone();
    if let Some(blocked) = &entry.blocked {
        Some(Outcome::Skipped {
            reason: blocked.to_string(),
        })
    } else if let Some(why) = refused {
        Some(Outcome::Skipped {
            reason: format!("not attempted: {why}"),
        })
    } else if let Some(why) = denied.borrow().clone() {
        Some(Outcome::Skipped { reason: why })
    } else if (limits.stop)() {
        Some(Outcome::Skipped {
            reason: CANCELLED.into(),
        })
    } else {
        None
    }
}

/// The next wave of a repository's run from `position`: the first entry,
/// then following deletes up to [`WAVE`] while none belongs to one already
/// in the wave (as its child, attachment, or a child a tagged index in it
/// lists). The repository's first entry and every tag removal go alone.
fn wave<'r, 'p>(
    run: &'r [(usize, &'p PlanEntry)],
    position: usize,
    now: Option<&Result<RepositoryNow, String>>,
) -> &'r [(usize, &'p PlanEntry)] {
    let first = run[position].1;
    if position == 0 || first.decision.is_untag() {
        return &run[position..=position];
    }
    let listed_by = match now {
        Some(Ok(now)) => Some(&now.listed_by),
        _ => None,
    };
    let mut digests: BTreeSet<&Digest> = BTreeSet::from([&first.digest]);
    let mut end = position + 1;
    while end < run.len() && end - position < WAVE {
        let entry = run[end].1;
        let belongs = match &entry.role {
            Role::Child { indexes, .. } => indexes.iter().any(|i| digests.contains(i)),
            Role::Attachment { subject, .. } => digests.contains(subject),
            _ => false,
        } || listed_by
            .and_then(|listed| listed.get(&entry.digest))
            .is_some_and(|indexes| indexes.iter().any(|i| digests.contains(i)))
            || digests.contains(&entry.digest);
        if entry.decision.is_untag() || belongs {
            break;
        }
        digests.insert(&entry.digest);
        end += 1;
    }
    &run[position..end]
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

impl Halt {
    fn record(self, shared: &RefCell<Shared<'_>>, denied: &RefCell<Option<String>>) {
        match self {
            Halt::No => {}
            Halt::Registry => shared.borrow_mut().refused = Some(REFUSED.into()),
            Halt::Repository(why) => *denied.borrow_mut() = Some(why),
        }
    }
}
