//! The confirmation: what the changes are, the recovery file offered
//! before the first delete (or the explicit choice to go without), and the
//! typed number of changes. The recovery file takes the manifests' bytes
//! from the scan cache where it holds them, as the CLI does.
//!
//! Nothing is deleted until the person has typed that number and either
//! downloaded the recovery file (the CLI's format, named
//! `cleanreg-recovery-<host>-<YYYYMMDD-HHMM>.json`) or ticked "Delete without
//! a recovery file".

use std::sync::Arc;

use cleanreg_core::{Client, Plan, RecoveryFile};
use leptos::prelude::*;

use super::model::{
    ApplyPhase, RecoveryState, confirm_blocker, confirm_button, confirm_lines, count_label,
    count_matches, recovery_file_name,
};
use super::shared::Apply;
use crate::platform::fetch::FetchTransport;
use crate::platform::{browser, cache, timer};

/// What the confirmation holds. Kept by the panel, not the form, so a
/// recovery file still being read when the form closes and opens again
/// lands where it did before; [`Confirmation::reset`] empties it.
#[derive(Clone, Copy)]
pub(super) struct Confirmation {
    typed: RwSignal<String>,
    recovery: RwSignal<RecoveryState>,
    skip_recovery: RwSignal<bool>,
    /// Reads the recovery file of a plan and offers it as a download.
    make_recovery: Action<(Arc<Client<FetchTransport>>, Arc<Plan>), ()>,
}

impl Confirmation {
    pub(super) fn new(apply: Apply) -> Confirmation {
        let recovery = RwSignal::new(RecoveryState::NotMade);
        Confirmation {
            typed: RwSignal::new(String::new()),
            recovery,
            skip_recovery: RwSignal::new(false),
            make_recovery: Action::new_local(
                move |(client, target): &(Arc<Client<FetchTransport>>, Arc<Plan>)| {
                    let (client, target) = (Arc::clone(client), Arc::clone(target));
                    async move {
                        // The scan cache holds the exact bytes of what the
                        // scan read (checked against each digest again): only
                        // manifests it lacks are read from the registry.
                        let cache = cache::shared().await;
                        let made = client.recovery_for_cached(&target, &*cache).await;
                        let still_wanted = apply.phase.get_untracked() == ApplyPhase::Confirming
                            && apply.applied.with_value(|p| {
                                p.as_ref().is_some_and(|p| Arc::ptr_eq(p, &target))
                            });
                        if still_wanted {
                            recovery.set(offer_recovery_file(&client, made));
                        }
                    }
                },
            ),
        }
    }

    pub(super) fn reset(self) {
        self.typed.set(String::new());
        self.recovery.set(RecoveryState::NotMade);
        self.skip_recovery.set(false);
    }

    /// Reads the recovery file of the plan confirmed, unless one is being
    /// read already.
    fn start_recovery(self, apply: Apply) {
        if apply.phase.get_untracked() != ApplyPhase::Confirming
            || self.recovery.get_untracked() == RecoveryState::Reading
        {
            return;
        }
        let Some(target) = apply.applied.get_value() else {
            return;
        };
        let Some(client) = apply.client() else {
            self.recovery.set(RecoveryState::Failed(
                "the page is not connected to a registry".into(),
            ));
            return;
        };
        self.recovery.set(RecoveryState::Reading);
        self.make_recovery.dispatch_local((client, target));
    }

    /// Why the delete button is still disabled; `None` once it may be
    /// pressed.
    fn blocker(self, apply: Apply) -> Option<&'static str> {
        let expected = apply.confirmed_totals().changes();
        self.recovery.with(|r| {
            confirm_blocker(
                count_matches(&self.typed.get(), expected),
                r,
                self.skip_recovery.get(),
            )
        })
    }
}

/// Saves the recovery file that was read as a download named after the
/// registry and the time.
fn offer_recovery_file(
    client: &Client<FetchTransport>,
    made: Result<RecoveryFile, cleanreg_core::Error>,
) -> RecoveryState {
    match made {
        Ok(file) => {
            let name = recovery_file_name(client.registry(), timer::now());
            let mut json = file.to_json_pretty();
            json.push('\n');
            match browser::download(&name, "application/json", &json) {
                Ok(()) => RecoveryState::Saved {
                    name,
                    entries: file.entries.len(),
                    tags_only: file.entries.iter().filter(|e| e.tags_only).count(),
                },
                Err(why) => RecoveryState::Failed(why),
            }
        }
        Err(error) => RecoveryState::Failed(error.to_string()),
    }
}

#[component]
pub(super) fn ConfirmForm(apply: Apply, confirmation: Confirmation) -> impl IntoView {
    let count_input = NodeRef::<leptos::html::Input>::new();
    // The confirmation takes the keyboard focus to the count field.
    Effect::new(move |_| {
        if apply.phase.get() == ApplyPhase::Confirming
            && let Some(input) = count_input.get()
        {
            let _ = input.focus();
        }
    });
    let blocker = move || confirmation.blocker(apply);
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if apply.phase.get_untracked() != ApplyPhase::Confirming || apply.state.busy.get_untracked()
        {
            return;
        }
        if untrack(blocker).is_some() {
            return;
        }
        if let Some(target) = apply.applied.get_value() {
            apply.run(target, false);
        }
    };

    view! {
        <form
            class="confirm"
            role="dialog"
            aria-labelledby="confirm-heading"
            data-testid="confirm-panel"
            on:submit=confirm
        >
            <h3 id="confirm-heading">"Confirm the changes"</h3>
            {move || {
                confirm_lines(&apply.confirmed_totals(), &apply.registry())
                    .into_iter()
                    .enumerate()
                    .map(|(at, line)| view! { <p class:confirm-what=at == 0>{line}</p> })
                    .collect_view()
            }}
            <RecoveryChoice apply=apply confirmation=confirmation />
            <label class="count">
                {move || count_label(&apply.confirmed_totals())}
                <input
                    type="text"
                    inputmode="numeric"
                    autocomplete="off"
                    spellcheck="false"
                    data-testid="confirm-count"
                    aria-describedby="confirm-blocker"
                    node_ref=count_input
                    bind:value=confirmation.typed
                />
            </label>
            <p id="confirm-blocker" class="hint" aria-live="polite">
                {move || blocker().unwrap_or("Ready: the changes start when you press the button.")}
            </p>
            <div class="actions">
                <button
                    type="submit"
                    class="danger"
                    data-testid="confirm-apply"
                    disabled=move || blocker().is_some()
                >
                    {move || confirm_button(&apply.confirmed_totals())}
                </button>
                <button type="button" data-testid="cancel-apply" on:click=move |_| apply.cancel()>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// The recovery file's button and where it stands, and the choice to
/// delete without one.
#[component]
fn RecoveryChoice(apply: Apply, confirmation: Confirmation) -> impl IntoView {
    let recovery = confirmation.recovery;
    view! {
        <fieldset class="recovery">
            <legend>"Recovery file (before the first delete)"</legend>
            <button
                type="button"
                data-testid="recovery-download"
                disabled=move || recovery.get() == RecoveryState::Reading
                on:click=move |_| confirmation.start_recovery(apply)
            >
                {move || match recovery.get() {
                    RecoveryState::Saved { .. } => "Download the recovery file again",
                    _ => "Download the recovery file",
                }}
            </button>
            <p
                class=move || match recovery.get() {
                    RecoveryState::Failed(_) => "error",
                    _ => "hint",
                }
                data-testid="recovery-status"
                data-state=move || match recovery.get() {
                    RecoveryState::NotMade => "none",
                    RecoveryState::Reading => "reading",
                    RecoveryState::Saved { .. } => "saved",
                    RecoveryState::Failed(_) => "failed",
                }
                role="status"
            >
                {move || {
                    recovery
                        .get()
                        .message()
                        .unwrap_or_else(|| {
                            "It holds the exact bytes and tags of every manifest about to go \
                             and of every image about to lose tags, in the CLI's format."
                                .to_owned()
                        })
                }}
            </p>
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="recovery-skip"
                    bind:checked=confirmation.skip_recovery
                />
                " Delete without a recovery file (nothing can then be put back)"
            </label>
        </fieldset>
    }
}
