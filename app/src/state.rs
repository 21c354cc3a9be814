//! The state every view shares, handed down as a Leptos context.

use std::sync::Arc;

use cleanreg_core::{Plan, Policy};
use leptos::prelude::*;

use crate::connect::Session;
use crate::route::Route;

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
    /// The plan for `session` under `policy`; `None` before a scan and
    /// while the first plan is computed.
    pub plan: RwSignal<Option<Arc<Plan>>>,
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
