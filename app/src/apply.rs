//! Carrying out the plan: confirm, delete one by one, show every outcome.

use std::sync::Arc;

use cleanreg_core::{ApplyCounts, EntryOutcome, GARBAGE_COLLECT_HINT, Plan};
use leptos::prelude::*;

use crate::state::AppState;
use crate::text;

/// Where the deletes of the current scan stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApplyPhase {
    #[default]
    Idle,
    /// The confirmation panel is open.
    Confirming,
    Running(ApplyCounts),
    /// Finished; another apply needs a new scan, since the plan is stale.
    Done(ApplyCounts),
}

impl ApplyPhase {
    /// Whether the apply button may open the confirmation.
    pub fn can_start(&self, deletes: usize) -> bool {
        *self == ApplyPhase::Idle && deletes > 0
    }

    /// Whether the shown plan must stay the one confirmed or applied.
    pub fn holds_plan(&self) -> bool {
        *self != ApplyPhase::Idle
    }

    pub fn is_running(&self) -> bool {
        matches!(self, ApplyPhase::Running(_))
    }

    pub fn status(&self) -> Option<String> {
        match self {
            ApplyPhase::Running(counts) => Some(text::apply_progress(counts)),
            ApplyPhase::Done(counts) => Some(text::apply_done(counts)),
            _ => None,
        }
    }
}

#[component]
pub fn ApplyPanel() -> impl IntoView {
    let state = AppState::get();
    let session = state.session;
    let plan = state.plan;
    let phase = RwSignal::new(ApplyPhase::Idle);
    let outcomes = RwSignal::new(Vec::<EntryOutcome>::new());
    // A new scan resets the panel; the phase holds the plan and the page.
    Effect::new(move |_| {
        if !state.plan_held.get() && phase.get_untracked() != ApplyPhase::Idle {
            phase.set(ApplyPhase::Idle);
            outcomes.set(Vec::new());
        }
    });
    Effect::new(move |_| {
        let now = phase.get();
        state.busy.set(now.is_running());
        if now.holds_plan() {
            state.plan_held.set(true);
        }
    });
    let totals =
        Memo::new(move |_| plan.with(|p| p.as_deref().map(Plan::totals).unwrap_or_default()));

    let run = Action::new_local(move |plan: &Arc<Plan>| {
        let plan = Arc::clone(plan);
        let client = session.with_untracked(|s| s.as_ref().map(|s| Arc::clone(&s.client)));
        async move {
            let Some(client) = client else { return };
            outcomes.set(Vec::new());
            phase.set(ApplyPhase::Running(ApplyCounts {
                total: plan.deletes().count(),
                ..ApplyCounts::default()
            }));
            let report = client
                .apply(&plan, &mut |counts, outcome| {
                    phase.set(ApplyPhase::Running(*counts));
                    outcomes.update(|all| all.push(outcome.clone()));
                })
                .await;
            phase.set(ApplyPhase::Done(report.counts()));
        }
    });

    let open = move |_| {
        if phase
            .get_untracked()
            .can_start(totals.get_untracked().deleted_manifests)
        {
            phase.set(ApplyPhase::Confirming);
        }
    };
    let cancel = move |_| {
        phase.set(ApplyPhase::Idle);
        state.plan_held.set(false);
    };
    let confirm = move |_| {
        if phase.get_untracked() != ApplyPhase::Confirming {
            return;
        }
        if let Some(plan) = plan.get_untracked() {
            run.dispatch_local(plan);
        }
    };
    let registry = move || {
        session.with(|s| {
            s.as_ref()
                .map(|s| s.client.registry().to_string())
                .unwrap_or_default()
        })
    };

    view! {
        <Show when=move || plan.with(Option::is_some)>
            <section class="apply">
                <button
                    class="danger"
                    data-testid="apply"
                    disabled=move || !phase.get().can_start(totals.get().deleted_manifests)
                    on:click=open
                >
                    {move || format!("Apply: delete {} images ({} manifests)", totals.get().deleted_images, totals.get().deleted_manifests)}
                </button>
                <Show when=move || phase.get() == ApplyPhase::Confirming>
                    <div class="confirm" role="alertdialog" data-testid="confirm-panel">
                        <p>{move || text::confirm_question(&totals.get(), &registry())}</p>
                        <div class="actions">
                            <button class="danger" data-testid="confirm-apply" on:click=confirm>
                                {move || {
                                    format!("Delete {} manifests", totals.get().deleted_manifests)
                                }}
                            </button>
                            <button data-testid="cancel-apply" on:click=cancel>
                                "Cancel"
                            </button>
                        </div>
                    </div>
                </Show>
                <p class="status" data-testid="apply-status" aria-live="polite">
                    {move || phase.get().status()}
                </p>
                <Show when=move || outcomes.with(|o| !o.is_empty())>
                    <h2>"Outcomes"</h2>
                    <OutcomeTable outcomes=outcomes />
                </Show>
                <Show when=move || matches!(phase.get(), ApplyPhase::Done(_))>
                    <p class="hint" data-testid="gc-hint">{GARBAGE_COLLECT_HINT}</p>
                    <p class="hint">"Press Scan again to see the registry as it is now."</p>
                </Show>
            </section>
        </Show>
    }
}

#[component]
fn OutcomeTable(outcomes: RwSignal<Vec<EntryOutcome>>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="outcome-table">
                <thead>
                    <tr>
                        <th>"Repository"</th>
                        <th>"Digest"</th>
                        <th>"Tags"</th>
                        <th>"Outcome"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || outcomes.get().into_iter().enumerate()
                        key=|(index, _)| *index
                        let:item
                    >
                        <OutcomeRow outcome=item.1 />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn OutcomeRow(outcome: EntryOutcome) -> impl IntoView {
    let label = outcome.outcome.label();
    let tags: Vec<&str> = outcome.tags.iter().map(|t| t.as_str()).collect();
    let tags = tags.join(", ");
    view! {
        <tr
            data-testid="outcome-row"
            class=format!("outcome-{label}")
            data-outcome=label
            data-digest=outcome.digest.to_string()
            data-repository=outcome.repository.to_string()
        >
            <td>{outcome.repository.to_string()}</td>
            <td class="digest" title=outcome.digest.to_string()>
                <code>{outcome.digest.short().to_owned()}</code>
            </td>
            <td>{tags}</td>
            <td class="reason">{outcome.outcome.to_string()}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_opens_only_when_idle_with_deletes() {
        assert!(ApplyPhase::Idle.can_start(2));
        assert!(!ApplyPhase::Idle.can_start(0));
        assert!(!ApplyPhase::Confirming.can_start(2));
        let counts = ApplyCounts::default();
        assert!(!ApplyPhase::Running(counts).can_start(2));
        assert!(!ApplyPhase::Done(counts).can_start(2));
    }

    #[test]
    fn status_says_done_only_when_done() {
        let counts = ApplyCounts {
            total: 2,
            deleted: 1,
            skipped: 0,
            failed: 0,
        };
        assert_eq!(ApplyPhase::Idle.status(), None);
        let running = ApplyPhase::Running(counts).status().unwrap();
        assert!(!running.contains("done"), "{running}");
        assert!(ApplyPhase::Done(counts).status().unwrap().contains("done"));
    }
}
