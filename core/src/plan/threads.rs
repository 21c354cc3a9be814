//! Planning natively on several threads: repositories are split into
//! contiguous runs of about the same size, planned side by side and merged
//! in order, which gives the plan one thread would.

use time::OffsetDateTime;

use super::reclaim::Reclaim;
use super::repository::RepositoryPlanner;
use super::{Plan, PlanEntry, Reclaimable};
use crate::inventory::{Inventory, Repository};
use crate::name::RepositoryName;
use crate::permissions::DeletePermissions;
use crate::policy::Policy;

pub(super) fn plan_on_threads(
    inventory: &Inventory,
    policy: &Policy,
    now: OffsetDateTime,
    permissions: &DeletePermissions,
    workers: usize,
) -> Plan {
    let repositories: Vec<(&RepositoryName, &Repository)> = inventory.repositories.iter().collect();
    let manifests: usize = repositories.iter().map(|(_, r)| r.images.len()).sum();
    if workers <= 1 {
        let (entries, reclaim) = plan_part(
            &repositories,
            0,
            manifests,
            Reclaim::default(),
            policy,
            now,
            permissions,
        );
        let (reclaimable, _) = reclaim.finish(inventory, repositories.len());
        return Plan {
            now,
            policy: policy.clone(),
            entries,
            reclaimable,
        };
    }
    // Repositories are planned independently; contiguous chunks merged in
    // order give the same plan as one pass, whatever the thread count.
    let chunks = balanced_chunks(&repositories, manifests, workers);
    let mut first = 0;
    let starts: Vec<usize> = chunks
        .iter()
        .map(|chunk| {
            let start = first;
            first += chunk.len();
            start
        })
        .collect();
    // The first run plans straight into the plan's list, made big enough
    // for every manifest, so only the later runs are copied.
    let parts: Vec<(Vec<PlanEntry>, Reclaim)> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .zip(starts)
            .map(|(chunk, start)| {
                let size = if start == 0 {
                    manifests
                } else {
                    chunk.iter().map(|(_, r)| r.images.len()).sum()
                };
                let reclaim = Reclaim::sharded(workers);
                scope
                    .spawn(move || plan_part(chunk, start, size, reclaim, policy, now, permissions))
            })
            .collect();
        handles.into_iter().map(joined).collect()
    });
    // Each shard of the reclaimable bytes, noted by every run, is finished
    // on a thread of its own while this one puts the entries together.
    let mut shards: Vec<Vec<Reclaim>> = (0..workers).map(|_| Vec::new()).collect();
    let mut lists = Vec::with_capacity(parts.len());
    for (entries, reclaim) in parts {
        lists.push(entries);
        for (at, shard) in reclaim.into_shards().into_iter().enumerate() {
            shards[at].push(shard);
        }
    }
    let (entries, figures) = std::thread::scope(|scope| {
        let count = repositories.len();
        let handles: Vec<_> = shards
            .into_iter()
            .map(|runs| {
                scope.spawn(move || {
                    let mut runs = runs.into_iter();
                    let mut reclaim = runs.next().expect("every run notes every shard");
                    for later in runs {
                        reclaim.absorb(later);
                    }
                    reclaim.finish(inventory, count).0
                })
            })
            .collect();
        let mut lists = lists.into_iter();
        let mut entries = lists.next().expect("at least one run");
        for list in lists {
            entries.extend(list);
        }
        let figures: Vec<Reclaimable> = handles.into_iter().map(joined).collect();
        (entries, figures)
    });
    let reclaimable = figures.into_iter().fold(
        Reclaimable {
            bytes: 0,
            blobs: 0,
            whole_registry: inventory.whole_registry,
        },
        |all, shard| Reclaimable {
            bytes: all.bytes + shard.bytes,
            blobs: all.blobs + shard.blobs,
            whole_registry: all.whole_registry,
        },
    );
    Plan {
        now,
        policy: policy.clone(),
        entries,
        reclaimable,
    }
}

/// A thread's result; its panic goes on in the caller.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Plans a run of repositories, in order; `first` is the position of the
/// run's first repository in the inventory.
fn plan_part<'a>(
    repositories: &[(&'a RepositoryName, &'a Repository)],
    first: usize,
    manifests: usize,
    mut reclaim: Reclaim<'a>,
    policy: &Policy,
    now: OffsetDateTime,
    permissions: &DeletePermissions,
) -> (Vec<PlanEntry>, Reclaim<'a>) {
    let mut entries = Vec::with_capacity(manifests);
    let mut planner = RepositoryPlanner::default();
    for (at, (name, repository)) in repositories.iter().enumerate() {
        reclaim.repository = first + at;
        let (pattern, rule) = policy.rule_for(name);
        planner.plan(
            name,
            repository,
            (pattern, rule),
            now,
            permissions.denies(name),
            &mut entries,
            &mut reclaim,
        );
    }
    (entries, reclaim)
}

/// Below this many manifests a thread costs more than it saves.
#[cfg(not(target_arch = "wasm32"))]
const MANIFESTS_PER_THREAD: usize = 50_000;

/// Threads for planning natively; the browser plans on one.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn planning_threads(manifests: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(8).min(manifests / MANIFESTS_PER_THREAD).max(1)
}

#[cfg(target_arch = "wasm32")]
pub(super) fn planning_threads(_manifests: usize) -> usize {
    1
}

/// Splits repositories into at most `parts` contiguous runs of about the
/// same number of manifests.
fn balanced_chunks<'r, 'a>(
    repositories: &'r [(&'a RepositoryName, &'a Repository)],
    manifests: usize,
    parts: usize,
) -> Vec<&'r [(&'a RepositoryName, &'a Repository)]> {
    let target = manifests.div_ceil(parts).max(1);
    let mut chunks = Vec::with_capacity(parts);
    let mut start = 0;
    let mut size = 0;
    for (at, (_, repository)) in repositories.iter().enumerate() {
        size += repository.images.len();
        if size >= target && chunks.len() + 1 < parts {
            chunks.push(&repositories[start..=at]);
            start = at + 1;
            size = 0;
        }
    }
    if start < repositories.len() {
        chunks.push(&repositories[start..]);
    }
    chunks
}
