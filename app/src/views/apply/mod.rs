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
mod shared;

use leptos::prelude::*;

use crate::state::AppState;
use crate::views::connect::DiagnosisView;
use crate::views::connect::diagnose::Diagnosis;
use confirm::{ConfirmForm, Confirmation};
use model::{ApplyPhase, apply_label};
use outcomes::OutcomeTable;
use run::{ApplyProgress, ApplySummary};
use shared::Apply;

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
                    on:click=move |_| apply.open(|| confirmation.reset())
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
