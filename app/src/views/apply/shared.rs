//! What the apply panel and its parts share: where the apply stands, its
//! outcomes, the plan confirmed, and the run of the changes themselves.

use std::sync::Arc;

use cleanreg_core::{ApplyCounts, ApplyReport, Client, EntryOutcome, Plan, PlanTotals, retry_plan};
use leptos::prelude::*;

use super::model::{ApplyPhase, counts_of, is_refusal, merge_outcome, replacement_note};
use crate::platform::fetch::FetchTransport;
use crate::state::AppState;

/// What a run of changes needs: the client, the plan, and whether it is a
/// retry.
type Run = (Arc<Client<FetchTransport>>, Arc<Plan>, bool);

/// What the apply panel and its parts share: where the apply stands, its
/// outcomes, and the plan confirmed.
#[derive(Clone, Copy)]
pub(super) struct Apply {
    pub(super) state: AppState,
    pub(super) phase: RwSignal<ApplyPhase>,
    pub(super) outcomes: RwSignal<Vec<EntryOutcome>>,
    /// The plan confirmed: the one applied and retried, whatever is on screen.
    pub(super) applied: StoredValue<Option<Arc<Plan>>>,
    /// Set by the stop button; the running apply asks it before each delete.
    pub(super) stop_requested: RwSignal<bool>,
    pub(super) notice: RwSignal<Option<String>>,
    /// The totals of the plan on screen.
    pub(super) totals: Memo<PlanTotals>,
    /// Runs the changes of a plan; `true` for a retry.
    changes: Action<Run, ()>,
}

impl Apply {
    pub(super) fn new(state: AppState) -> Apply {
        let phase = RwSignal::new(ApplyPhase::Idle);
        let outcomes = RwSignal::new(Vec::<EntryOutcome>::new());
        let stop_requested = RwSignal::new(false);
        let plan = state.plan;
        Apply {
            state,
            phase,
            outcomes,
            applied: StoredValue::new(None),
            stop_requested,
            notice: RwSignal::new(None),
            totals: Memo::new(move |_| {
                plan.with(|p| p.as_ref().map(|p| p.plan.totals()).unwrap_or_default())
            }),
            changes: Action::new_local(move |(client, target, retry): &Run| {
                carry_out(
                    Arc::clone(client),
                    Arc::clone(target),
                    *retry,
                    state,
                    phase,
                    outcomes,
                    stop_requested,
                )
            }),
        }
    }

    /// A new scan resets the panel.
    pub(super) fn reset_on_new_scan(self) {
        Effect::new(move |_| {
            if !self.state.plan_held.get() && self.phase.get_untracked() != ApplyPhase::Idle {
                self.phase.set(ApplyPhase::Idle);
                self.outcomes.set(Vec::new());
                self.applied.set_value(None);
                self.notice.set(None);
            }
        });
    }

    /// The totals of the plan confirmed, else of the plan on screen.
    pub(super) fn confirmed_totals(self) -> PlanTotals {
        self.applied
            .with_value(|p| p.as_deref().map(Plan::totals))
            .unwrap_or_else(|| self.totals.get())
    }

    pub(super) fn client(self) -> Option<Arc<Client<FetchTransport>>> {
        self.state
            .session
            .with_untracked(|s| s.as_ref().map(|s| Arc::clone(&s.client)))
    }

    /// The connected registry's URL; empty when not connected.
    pub(super) fn registry(self) -> String {
        self.state.session.with(|s| {
            s.as_ref()
                .map(|s| s.client.registry().to_string())
                .unwrap_or_default()
        })
    }

    /// Starts the changes of `target`; a retry keeps the earlier outcomes
    /// and replaces those it retries.
    pub(super) fn run(self, target: Arc<Plan>, retry: bool) {
        let Some(client) = self.client() else {
            self.notice.set(Some(
                "Connect first: the page has no registry session.".into(),
            ));
            return;
        };
        self.notice.set(None);
        self.stop_requested.set(false);
        self.state.busy.set(true);
        if !retry {
            self.outcomes.set(Vec::new());
        }
        self.phase.set(ApplyPhase::Running(ApplyCounts {
            // Blocked changes too: apply reports them as skipped.
            total: target
                .entries
                .iter()
                .filter(|e| e.decision.is_change())
                .count(),
            ..ApplyCounts::default()
        }));
        self.changes.dispatch_local((client, target, retry));
    }

    /// Opens the confirmation for the plan on screen, which from now on is
    /// held; `reset_confirmation` empties what the last one held.
    pub(super) fn open(self, reset_confirmation: impl FnOnce()) {
        if self.state.busy.get_untracked() {
            return;
        }
        let Some(current) = self
            .state
            .plan
            .with_untracked(|p| p.as_ref().map(|p| p.plan.clone()))
        else {
            return;
        };
        if !self
            .phase
            .get_untracked()
            .can_start(current.totals().changes())
        {
            return;
        }
        self.applied.set_value(Some(current));
        reset_confirmation();
        self.notice.set(None);
        self.state.plan_held.set(true);
        self.phase.set(ApplyPhase::Confirming);
    }

    pub(super) fn cancel(self) {
        self.phase.set(ApplyPhase::Idle);
        self.applied.set_value(None);
        self.state.plan_held.set(false);
    }

    /// The failed deletes and tag removals of the plan applied.
    pub(super) fn to_retry(self, outcomes: Vec<EntryOutcome>) -> Option<Plan> {
        let original = self.applied.get_value()?;
        Some(retry_plan(&original, &ApplyReport { outcomes }))
    }

    pub(super) fn retry(self) {
        if self.state.busy.get_untracked()
            || !matches!(self.phase.get_untracked(), ApplyPhase::Done(_))
        {
            return;
        }
        let Some(again) = self.to_retry(self.outcomes.get_untracked()) else {
            return;
        };
        if again.changes().next().is_some() {
            self.run(Arc::new(again), true);
        }
    }

    pub(super) fn failed_count(self) -> usize {
        self.phase.get().counts().map_or(0, |c| c.failed)
    }

    /// Whether the registry refuses every delete.
    pub(super) fn refused(self) -> bool {
        self.outcomes
            .with(|all| all.iter().any(|o| is_refusal(&o.outcome)))
    }

    /// Blobs tag removals by replacement left, per repository, for the
    /// garbage collection note.
    pub(super) fn replaced(self) -> Option<String> {
        self.outcomes.with(|all| {
            let report = ApplyReport {
                outcomes: all.clone(),
            };
            replacement_note(&report.replacement_blobs())
        })
    }
}

/// Applies `target` with `client`, reporting each outcome as it comes, until
/// done or stopped.
async fn carry_out(
    client: Arc<Client<FetchTransport>>,
    target: Arc<Plan>,
    retry: bool,
    state: AppState,
    phase: RwSignal<ApplyPhase>,
    outcomes: RwSignal<Vec<EntryOutcome>>,
    stop_requested: RwSignal<bool>,
) {
    let report = client
        .apply_until(
            &target,
            &move || stop_requested.get_untracked(),
            &mut |counts, outcome| {
                phase.set(ApplyPhase::Running(*counts));
                if retry {
                    outcomes.update(|all| {
                        merge_outcome(all, outcome.clone());
                    });
                } else {
                    outcomes.update(|all| all.push(outcome.clone()));
                }
            },
        )
        .await;
    // Repositories run side by side, so outcomes arrived as they ended; the
    // finished table follows the plan's order.
    if !retry {
        outcomes.set(report.outcomes);
    }
    state.busy.set(false);
    phase.set(ApplyPhase::Done(outcomes.with_untracked(|o| counts_of(o))));
}
