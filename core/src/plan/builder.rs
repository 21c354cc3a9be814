//! The stepwise planner for a caller that must pause between steps (the
//! browser's only thread); its plan equals [`plan()`](super::plan)'s.
//!
//! The caller plans a few repositories per step, then runs the
//! cross-repository reclaim check a few thousand references per step
//! ([`PlanBuilder::settle`]), yielding between steps. That the result equals
//! the plan made at once is property-tested (`core/tests/guarantees.rs`).

use time::OffsetDateTime;

use super::reclaim::{Reclaim, RepositoryReclaim};
use super::repository::RepositoryPlanner;
use super::{Plan, PlanEntry};
use crate::inventory::{Inventory, Repository};
use crate::name::RepositoryName;
use crate::permissions::DeletePermissions;
use crate::policy::Policy;

/// A plan made a few repositories at a time, so a caller that must stay
/// responsive (the browser's only thread) can pause between steps. The
/// finished plan equals [`plan()`](super::plan())'s for the same inputs.
///
/// ```
/// # use cleanreg_core::{Inventory, PlanBuilder, Policy, plan};
/// # let inventory = Inventory::default();
/// # let policy = Policy::keep_newest(3);
/// # let now = time::OffsetDateTime::UNIX_EPOCH;
/// let mut builder = PlanBuilder::new(&inventory, &policy, now);
/// while builder.plan_repositories(10) > 0 {
///     // let the page breathe
/// }
/// let (made, _per_repository) = builder.finish();
/// assert_eq!(made, plan(&inventory, &policy, now));
/// ```
pub struct PlanBuilder<'a> {
    inventory: &'a Inventory,
    policy: &'a Policy,
    now: OffsetDateTime,
    repositories: Vec<(&'a RepositoryName, &'a Repository)>,
    /// How many of `repositories` are planned.
    next: usize,
    entries: Vec<PlanEntry>,
    reclaim: Reclaim<'a>,
    planner: RepositoryPlanner<'a>,
    permissions: Option<&'a DeletePermissions>,
}

impl<'a> PlanBuilder<'a> {
    pub fn new(inventory: &'a Inventory, policy: &'a Policy, now: OffsetDateTime) -> Self {
        let repositories: Vec<_> = inventory.repositories.iter().collect();
        let manifests = repositories.iter().map(|(_, r)| r.images.len()).sum();
        PlanBuilder {
            inventory,
            policy,
            now,
            repositories,
            next: 0,
            entries: Vec::with_capacity(manifests),
            reclaim: Reclaim::default(),
            planner: RepositoryPlanner::default(),
            permissions: None,
        }
    }

    /// Plans as [`plan_with`](super::plan_with) does with these permissions.
    pub fn with_permissions(mut self, permissions: &'a DeletePermissions) -> Self {
        self.permissions = Some(permissions);
        self
    }

    /// Repositories in the inventory.
    pub fn repository_count(&self) -> usize {
        self.repositories.len()
    }

    /// Repositories planned so far.
    pub fn planned(&self) -> usize {
        self.next
    }

    pub fn is_done(&self) -> bool {
        self.next == self.repositories.len()
    }

    /// The manifest count of the next repository to plan (its cost), if any.
    pub fn next_size(&self) -> Option<usize> {
        self.repositories
            .get(self.next)
            .map(|(_, r)| r.images.len())
    }

    /// Plans up to `count` more repositories, in name order; says how many
    /// it planned (0 once all are).
    pub fn plan_repositories(&mut self, count: usize) -> usize {
        let end = self.next.saturating_add(count).min(self.repositories.len());
        let start = self.next;
        for at in start..end {
            let (name, repository) = self.repositories[at];
            let (pattern, rule) = self.policy.rule_for(name);
            self.reclaim.repository = at;
            let denied = self.permissions.is_some_and(|p| p.denies(name));
            self.planner.plan(
                name,
                repository,
                (pattern, rule),
                self.now,
                denied,
                &mut self.entries,
                &mut self.reclaim,
            );
        }
        self.next = end;
        end - start
    }

    /// Once every repository is planned: checks up to `count` blob and
    /// manifest references of kept manifests against what the deletes
    /// would free, the part of [`PlanBuilder::finish`] that can be spread
    /// over steps. Says how many it checked: 0 while repositories remain
    /// and once all are checked.
    pub fn settle(&mut self, count: usize) -> usize {
        if self.is_done() {
            self.reclaim.mark(count)
        } else {
            0
        }
    }

    /// The plan, with what garbage collection frees per repository (every
    /// repository of the inventory, in name order). Plans what is left
    /// first.
    pub fn finish(mut self) -> (Plan, Vec<RepositoryReclaim>) {
        self.plan_repositories(usize::MAX);
        let (reclaimable, by_repository) =
            self.reclaim.finish(self.inventory, self.repositories.len());
        let by_repository = self
            .repositories
            .iter()
            .zip(by_repository)
            .map(|((name, _), (bytes, blobs))| RepositoryReclaim {
                repository: (*name).clone(),
                bytes,
                blobs,
            })
            .collect();
        let plan = Plan {
            now: self.now,
            policy: self.policy.clone(),
            entries: self.entries,
            reclaimable,
        };
        (plan, by_repository)
    }
}
