//! Keeps `AppState::plan` in step with the scan and the policy, without
//! freezing the page: the plan is made a few repositories at a time with a
//! pause between steps, a policy edit waits until typing settles, and a run
//! whose input has changed since stops and never overwrites a newer plan.
//!
//! This is an `Effect` that spawns the work, not a `LocalResource`: a
//! resource would re-run on every policy edit at once (no settling pause
//! for typing, and no way to tell a new scan, planned at once, from an
//! edit), it would keep computing a stale plan to the end instead of
//! stopping between steps when the generation counter moves on, and it
//! could not leave the plan alone while an apply holds it.
//!
//! The figures: each step plans with `PlanBuilder` for about 12 ms
//! ([`STEP_BUDGET_MS`]) before yielding, and a run starts 150 ms
//! ([`POLICY_SETTLE_MS`]) after the last policy edit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cleanreg_core::{
    DeletePermissions, InUseFile, InUseReport, Inventory, Plan, PlanBuilder, Policy, RegistryUrl,
    RepositoryReclaim,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use time::OffsetDateTime;

use crate::platform::timer;
use crate::state::{AppState, Planned};

/// How long a policy edit waits for the next one before planning starts.
pub const POLICY_SETTLE_MS: i32 = 150;

/// How long one step may run before the page gets the thread back.
pub const STEP_BUDGET_MS: f64 = 12.0;

/// Kept references checked per call of `PlanBuilder::settle`.
const SETTLE_CHUNK: usize = 4_096;

/// Re-plans whenever the session or the policy changes, unless the plan is
/// held by an apply.
pub fn keep_planning(state: AppState) {
    // Bumped for every new input: a run that sees another number stops.
    let generation = Arc::new(AtomicU64::new(0));
    // The inventory of the last run, to tell a new scan (plan at once) from
    // a policy edit (wait for the typing to settle).
    let last_inventory: StoredValue<Option<Arc<Inventory>>> = StoredValue::new(None);
    let pinned = StoredValue::new(None::<Pinned>);
    Effect::new(move |_| {
        let policy = state.policy.get();
        let held = state.plan_held.get();
        let in_use = state.in_use.get();
        let hosts = state.in_use_hosts.get();
        let input = state.session.with(|s| {
            s.as_ref().map(|s| {
                (
                    s.inventory.clone(),
                    s.scanned_at,
                    s.permissions.clone(),
                    s.client.registry().clone(),
                )
            })
        });
        let run = generation.fetch_add(1, Ordering::SeqCst) + 1;
        if held {
            // The plan on screen is the one confirmed: nothing replaces it.
            state.planning.set(false);
            return;
        }
        let Some((inventory, scanned_at, permissions, registry)) = input else {
            last_inventory.set_value(None);
            state.in_use_reports.set(Vec::new());
            state.plan.set(None);
            state.planning.set(false);
            return;
        };
        let new_scan = !last_inventory
            .with_value(|last| last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &inventory)));
        last_inventory.set_value(Some(inventory.clone()));
        // What runs is pinned in a copy of the inventory, made again only
        // when the scan or the files change.
        let (inventory, reports) = pinned.with_value(|last| match last {
            Some(last) if last.matches(&inventory, &in_use, &hosts) => {
                (last.pinned.clone(), last.reports.clone())
            }
            _ => {
                let made = Pinned::new(&inventory, &in_use, &registry, &hosts);
                let answer = (made.pinned.clone(), made.reports.clone());
                pinned.set_value(Some(made));
                answer
            }
        });
        state.in_use_reports.set(reports);
        state.planning.set(true);
        let generation = generation.clone();
        spawn_local(async move {
            let current = || generation.load(Ordering::SeqCst) == run;
            if !new_scan {
                timer::sleep_ms(POLICY_SETTLE_MS).await;
                if !current() {
                    return;
                }
            }
            let Some((plan, reclaim)) =
                plan_in_steps(&inventory, &policy, &permissions, scanned_at, &current).await
            else {
                return;
            };
            state.plan.set(Some(Planned::new(plan, reclaim)));
            state.planning.set(false);
        });
    });
}

/// The scan's inventory with the in-use files' manifests pinned, and what
/// pinning found.
struct Pinned {
    scanned: Arc<Inventory>,
    files: Vec<Arc<InUseFile>>,
    hosts: Vec<String>,
    pinned: Arc<Inventory>,
    reports: Vec<InUseReport>,
}

impl Pinned {
    fn new(
        scanned: &Arc<Inventory>,
        files: &[Arc<InUseFile>],
        registry: &RegistryUrl,
        hosts: &[String],
    ) -> Self {
        let (pinned, reports) = if files.is_empty() {
            (scanned.clone(), Vec::new())
        } else {
            let mut copy = Inventory::clone(scanned);
            let reports = files
                .iter()
                .map(|file| file.pin_also(&mut copy, registry, hosts))
                .collect();
            (Arc::new(copy), reports)
        };
        Pinned {
            scanned: scanned.clone(),
            files: files.to_vec(),
            hosts: hosts.to_vec(),
            pinned,
            reports,
        }
    }

    fn matches(
        &self,
        scanned: &Arc<Inventory>,
        files: &[Arc<InUseFile>],
        hosts: &[String],
    ) -> bool {
        Arc::ptr_eq(&self.scanned, scanned)
            && self.files.len() == files.len()
            && self.files.iter().zip(files).all(|(a, b)| Arc::ptr_eq(a, b))
            && self.hosts == hosts
    }
}

/// Plans in steps of about [`STEP_BUDGET_MS`], yielding to the page between
/// them; `None` as soon as `current` says the input changed.
async fn plan_in_steps(
    inventory: &Inventory,
    policy: &Policy,
    permissions: &DeletePermissions,
    now: OffsetDateTime,
    current: &impl Fn() -> bool,
) -> Option<(Plan, Vec<RepositoryReclaim>)> {
    let mut builder = PlanBuilder::new(inventory, policy, now).with_permissions(permissions);
    let mut more = true;
    while more {
        let started = js_sys::Date::now();
        // A repository at a time, then the cross-repository check of kept
        // references a few thousand at a time, until the step's time is up.
        loop {
            if builder.plan_repositories(1) == 0 && builder.settle(SETTLE_CHUNK) == 0 {
                more = false;
                break;
            }
            if js_sys::Date::now() - started >= STEP_BUDGET_MS {
                break;
            }
        }
        timer::yield_now().await;
        if !current() {
            return None;
        }
    }
    Some(builder.finish())
}
