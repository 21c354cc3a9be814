//! The state every view shares, handed down as a Leptos context: the
//! session, the policy, the plan (kept in step by [`planner`]), the route
//! and the locks.

pub mod planner;
mod session;

use std::sync::Arc;

use cleanreg_core::{InUseFile, InUseReport, Plan, Policy, RepositoryReclaim};
use leptos::prelude::*;

use crate::route::Route;
pub use session::Session;

/// How many images each repository keeps under the starting policy.
pub const DEFAULT_KEEP: usize = 3;

/// Signals only, so it is `Copy` and every closure can hold it.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The connected registry and its last scan.
    pub session: RwSignal<Option<Session>>,
    /// The policy in force: always a valid one. Editors keep their own
    /// drafts and set this only when the draft parses.
    pub policy: RwSignal<Policy>,
    /// The plan for `session` under `policy`, with its figures; `None`
    /// before a scan and while the first plan is computed.
    pub plan: RwSignal<Option<Planned>>,
    /// True while a new plan is being computed for changed input.
    pub planning: RwSignal<bool>,
    /// What the URL fragment says.
    pub route: RwSignal<Route>,
    /// True while deletes or a restore run: connecting, the policy and the
    /// plan are frozen.
    pub busy: RwSignal<bool>,
    /// True from the apply confirmation until the next scan: the plan on
    /// screen stays the one confirmed or applied.
    pub plan_held: RwSignal<bool>,
    /// Files of images in use (references or pods): the planner keeps what
    /// they name in this registry whatever the policy says.
    pub in_use: RwSignal<Vec<Arc<InUseFile>>>,
    /// What the last plan's pinning found, one report per file.
    pub in_use_reports: RwSignal<Vec<InUseReport>>,
    /// The registry's other names in those files (hosts as references
    /// write them), checked.
    pub in_use_hosts: RwSignal<Vec<String>>,
}

impl AppState {
    pub fn new(route: Route) -> AppState {
        AppState {
            session: RwSignal::new(None),
            policy: RwSignal::new(Policy::keep_newest(DEFAULT_KEEP)),
            plan: RwSignal::new(None),
            planning: RwSignal::new(false),
            route: RwSignal::new(route),
            busy: RwSignal::new(false),
            plan_held: RwSignal::new(false),
            in_use: RwSignal::new(Vec::new()),
            in_use_reports: RwSignal::new(Vec::new()),
            in_use_hosts: RwSignal::new(Vec::new()),
        }
    }

    /// The state every view reads; provided by [`crate::App`].
    pub fn get() -> AppState {
        expect_context::<AppState>()
    }

    /// Whether the policy may change now.
    pub fn policy_locked(&self) -> bool {
        self.busy.get() || self.plan_held.get()
    }
}

/// A plan and what the plan view shows beside it, made together by the
/// planner so they always belong to each other.
#[derive(Clone)]
pub struct Planned {
    pub plan: Arc<Plan>,
    /// Garbage collection's freed bytes per repository of the inventory,
    /// in name order, for the chart.
    pub reclaim: Arc<Vec<RepositoryReclaim>>,
}

impl Planned {
    pub fn new(plan: Plan, reclaim: Vec<RepositoryReclaim>) -> Planned {
        Planned {
            plan: Arc::new(plan),
            reclaim: Arc::new(reclaim),
        }
    }
}

/// The same plan: plans are large, so this compares pointers, not contents.
impl PartialEq for Planned {
    fn eq(&self, other: &Planned) -> bool {
        Arc::ptr_eq(&self.plan, &other.plan) && Arc::ptr_eq(&self.reclaim, &other.reclaim)
    }
}
