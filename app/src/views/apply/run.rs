//! The apply while it runs and after: the progress bar with the stop
//! button, and the summary with the next steps, the garbage collection
//! hint and the retry of failed changes.

use cleanreg_core::GARBAGE_COLLECT_HINT;
use leptos::prelude::*;

use super::model::{apply_next_steps, retry_label};
use super::shared::Apply;

/// Changes done of all, and Stop while running.
#[component]
pub(super) fn ApplyProgress(apply: Apply) -> impl IntoView {
    let phase = apply.phase;
    let stop_requested = apply.stop_requested;
    view! {
        <Show when=move || phase.get().counts().is_some()>
            <div class="apply-run">
                <label class="progress">
                    <span class="visually-hidden">"Changes done"</span>
                    <progress
                        data-testid="apply-progress"
                        max=move || phase.get().counts().map_or(0, |c| c.total.max(1))
                        value=move || phase.get().counts().map_or(0, |c| c.done())
                    ></progress>
                </label>
                <span class="progress-counts">
                    {move || phase.get().counts().map(|c| format!("{} of {}", c.done(), c.total))}
                </span>
                <Show when=move || phase.get().is_running()>
                    <button
                        type="button"
                        data-testid="stop-apply"
                        disabled=move || stop_requested.get()
                        on:click=move |_| stop_requested.set(true)
                    >
                        {move || if stop_requested.get() { "Stopping…" } else { "Stop" }}
                    </button>
                </Show>
            </div>
        </Show>
    }
}

/// What to do next once the apply is done, and the retry of what failed.
#[component]
pub(super) fn ApplySummary(apply: Apply) -> impl IntoView {
    let phase = apply.phase;
    view! {
        <div class="summary" data-testid="apply-summary">
            <ul>
                {move || {
                    phase
                        .get()
                        .counts()
                        .map(|c| apply_next_steps(&c))
                        .unwrap_or_default()
                        .into_iter()
                        .map(|step| view! { <li>{step}</li> })
                        .collect_view()
                }}
            </ul>
            <p class="hint" data-testid="gc-hint">{GARBAGE_COLLECT_HINT}</p>
            {move || {
                apply
                    .replaced()
                    .map(|note| {
                        view! {
                            <p class="hint" data-testid="replacement-blobs">
                                {note}
                            </p>
                        }
                    })
            }}
            <Show when=move || { apply.failed_count() > 0 && !apply.refused() }>
                <button
                    type="button"
                    data-testid="retry-failed"
                    disabled=move || apply.state.busy.get()
                    on:click=move |_| apply.retry()
                >
                    {move || {
                        apply
                            .to_retry(apply.outcomes.get())
                            .map(|again| retry_label(&again.totals()))
                    }}
                </button>
            </Show>
            <p class="hint">"Press Scan again to see the registry as it is now."</p>
        </div>
    }
}
