//! Keeps `AppState::plan` in step with the scan and the policy.

use std::sync::Arc;

use cleanreg_core::plan;
use leptos::prelude::*;

use crate::state::AppState;

/// Re-plans whenever the session or the policy changes, unless the plan is
/// held by an apply.
pub fn keep_planning(state: AppState) {
    Effect::new(move |_| {
        let policy = state.policy.get();
        let held = state.plan_held.get();
        if held {
            return;
        }
        let next = state.session.with(|session| {
            session
                .as_ref()
                .map(|s| Arc::new(plan(&s.inventory, &policy, s.scanned_at)))
        });
        state.plan.set(next);
    });
}
