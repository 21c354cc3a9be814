//! Carrying out the plan: confirm (with the recovery file offered first),
//! delete manifests and remove tags one by one with a stop button, show
//! every outcome, retry the failed ones.
//!
//! The person types the number of changes: the manifests to delete plus the
//! tags to remove from kept images, everything apply will do.

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
mod confirm;
pub mod model;
mod outcomes;
mod run;

use std::sync::Arc;

use cleanreg_core::{ApplyCounts, ApplyReport, Client, EntryOutcome, Plan, PlanTotals, retry_plan};
use leptos::prelude::*;

use crate::platform::fetch::FetchTransport;
use crate::state::AppState;
use crate::views::connect::DiagnosisView;
use crate::views::connect::diagnose::Diagnosis;
use confirm::{ConfirmForm, Confirmation};
use model::{ApplyPhase, apply_label, counts_of, is_refusal, merge_outcome, replacement_note};
use outcomes::OutcomeTable;
use run::{ApplyProgress, ApplySummary};

/// What a run of changes needs: the client, the plan, and whether it is a
/// retry.
type Run = (Arc<Client<FetchTransport>>, Arc<Plan>, bool);

/// What the apply panel and its parts share: where the apply stands, its
/// outcomes, and the plan confirmed.
#[derive(Clone, Copy)]
struct Apply {
    state: AppState,
    phase: RwSignal<ApplyPhase>,
    outcomes: RwSignal<Vec<EntryOutcome>>,
    /// The plan confirmed: the one applied and retried, whatever is on screen.
    applied: StoredValue<Option<Arc<Plan>>>,
    /// Set by the stop button; the running apply asks it before each delete.
    stop_requested: RwSignal<bool>,
    notice: RwSignal<Option<String>>,
    /// The totals of the plan on screen.
    totals: Memo<PlanTotals>,
    /// Runs the changes of a plan; `true` for a retry.
    changes: Action<Run, ()>,
}

impl Apply {
    fn new(state: AppState) -> Apply {
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
    fn reset_on_new_scan(self) {
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
    fn confirmed_totals(self) -> PlanTotals {
        self.applied
            .with_value(|p| p.as_deref().map(Plan::totals))
            .unwrap_or_else(|| self.totals.get())
    }

    fn client(self) -> Option<Arc<Client<FetchTransport>>> {
        self.state
            .session
            .with_untracked(|s| s.as_ref().map(|s| Arc::clone(&s.client)))
    }

    /// The connected registry's URL; empty when not connected.
    fn registry(self) -> String {
        self.state.session.with(|s| {
            s.as_ref()
                .map(|s| s.client.registry().to_string())
                .unwrap_or_default()
        })
    }

    /// Starts the changes of `target`; a retry keeps the earlier outcomes
    /// and replaces those it retries.
    fn run(self, target: Arc<Plan>, retry: bool) {
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
    /// held.
    fn open(self, confirmation: Confirmation) {
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
        confirmation.reset();
        self.notice.set(None);
        self.state.plan_held.set(true);
        self.phase.set(ApplyPhase::Confirming);
    }

    fn cancel(self) {
        self.phase.set(ApplyPhase::Idle);
        self.applied.set_value(None);
        self.state.plan_held.set(false);
    }

    /// The failed deletes and tag removals of the plan applied.
    fn to_retry(self, outcomes: Vec<EntryOutcome>) -> Option<Plan> {
        let original = self.applied.get_value()?;
        Some(retry_plan(&original, &ApplyReport { outcomes }))
    }

    fn retry(self) {
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

    fn failed_count(self) -> usize {
        self.phase.get().counts().map_or(0, |c| c.failed)
    }

    /// Whether the registry refuses every delete.
    fn refused(self) -> bool {
        self.outcomes
            .with(|all| all.iter().any(|o| is_refusal(&o.outcome)))
    }

    /// Blobs tag removals by replacement left, per repository, for the
    /// garbage collection note.
    fn replaced(self) -> Option<String> {
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

#[component]
pub fn ApplyPanel() -> impl IntoView {
    let state = AppState::get();
    let apply = Apply::new(state);
    apply.reset_on_new_scan();
    let confirmation = Confirmation::new(apply);
    let phase = apply.phase;
    let totals = apply.totals;

    view! {
        <Show when=move || state.plan.with(Option::is_some)>
            <section class="apply" aria-labelledby="apply-heading">
                <h2 id="apply-heading" class="visually-hidden">"Apply the plan"</h2>
                <button
                    type="button"
                    class="danger"
                    data-testid="apply"
                    disabled=move || {
                        state.busy.get() || !phase.get().can_start(totals.get().changes())
                    }
                    on:click=move |_| apply.open(confirmation)
                >
                    {move || apply_label(&totals.get())}
                </button>
                <Show when=move || phase.get() == ApplyPhase::Confirming>
                    <ConfirmForm apply=apply confirmation=confirmation />
                </Show>
                {move || apply.notice.get().map(|n| view! { <p class="error" role="alert">{n}</p> })}
                <ApplyProgress apply=apply />
                <p class="status" data-testid="apply-status" role="status">
                    {move || phase.get().status(apply.stop_requested.get())}
                </p>
                <Show when=move || apply.refused()>
                    <DiagnosisView diagnosis=Diagnosis::delete_disabled(&apply.registry()) />
                </Show>
                <Show when=move || matches!(phase.get(), ApplyPhase::Done(_))>
                    <ApplySummary apply=apply />
                </Show>
                <Show when=move || apply.outcomes.with(|o| !o.is_empty())>
                    <h3>"Outcomes"</h3>
                    <OutcomeTable outcomes=apply.outcomes />
                </Show>
            </section>
        </Show>
    }
}
