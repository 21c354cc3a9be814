//! Carrying out the plan: confirm (with the recovery file offered first),
//! delete manifests and remove tags one by one with a stop button, show
//! every outcome, retry the failed ones.
//!
//! The person types the number of changes: the manifests to delete plus the
//! tags to remove from kept images, everything apply will do.

use std::sync::Arc;

use cleanreg_core::{
    ApplyCounts, ApplyReport, EntryOutcome, GARBAGE_COLLECT_HINT, Plan, retry_plan,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::connect::from_unix_millis;
use crate::diagnose::{Diagnosis, DiagnosisView};
use crate::state::AppState;

#[path = "apply_text.rs"]
pub(crate) mod apply_text;

use apply_text::{
    OutcomeFilter, RecoveryState, apply_done, apply_label, apply_next_steps, apply_running,
    confirm_blocker, confirm_button, confirm_lines, count_label, count_matches, counts_of,
    is_refusal, merge_outcome, outcome_reason, page_count, page_label, page_range,
    recovery_file_name, replacement_note, retry_label,
};

/// Where the deletes of the current scan stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApplyPhase {
    #[default]
    Idle,
    /// The confirmation panel is open.
    Confirming,
    Running(ApplyCounts),
    /// Finished (or stopped); another apply needs a new scan, since the plan
    /// is stale. Failed deletes may be retried.
    Done(ApplyCounts),
}

impl ApplyPhase {
    /// Whether the apply button may open the confirmation: idle, with
    /// `changes` (deletes and tag removals) to make.
    pub fn can_start(&self, changes: usize) -> bool {
        *self == ApplyPhase::Idle && changes > 0
    }

    /// Whether the shown plan must stay the one confirmed or applied.
    pub fn holds_plan(&self) -> bool {
        *self != ApplyPhase::Idle
    }

    pub fn is_running(&self) -> bool {
        matches!(self, ApplyPhase::Running(_))
    }

    /// The counts the progress bar shows.
    pub fn counts(&self) -> Option<ApplyCounts> {
        match self {
            ApplyPhase::Running(counts) | ApplyPhase::Done(counts) => Some(*counts),
            _ => None,
        }
    }

    pub fn status(&self, stopping: bool) -> Option<String> {
        match self {
            ApplyPhase::Running(counts) => Some(apply_running(counts, stopping)),
            ApplyPhase::Done(counts) => Some(apply_done(counts, stopping)),
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
    // The plan confirmed: the one applied and retried, whatever is on screen.
    let applied = StoredValue::new(None::<Arc<Plan>>);
    let typed = RwSignal::new(String::new());
    let recovery = RwSignal::new(RecoveryState::NotMade);
    let skip_recovery = RwSignal::new(false);
    // Set by the stop button; the running apply asks it before each delete.
    let stop_requested = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    let count_input = NodeRef::<leptos::html::Input>::new();

    // A new scan resets the panel.
    Effect::new(move |_| {
        if !state.plan_held.get() && phase.get_untracked() != ApplyPhase::Idle {
            phase.set(ApplyPhase::Idle);
            outcomes.set(Vec::new());
            applied.set_value(None);
            notice.set(None);
        }
    });
    // The confirmation takes the keyboard focus to the count field.
    Effect::new(move |_| {
        if phase.get() == ApplyPhase::Confirming
            && let Some(input) = count_input.get()
        {
            let _ = input.focus();
        }
    });

    let totals =
        Memo::new(move |_| plan.with(|p| p.as_deref().map(Plan::totals).unwrap_or_default()));
    let confirmed_totals = move || {
        applied
            .with_value(|p| p.as_deref().map(Plan::totals))
            .unwrap_or_else(|| totals.get())
    };
    let client = move || session.with_untracked(|s| s.as_ref().map(|s| Arc::clone(&s.client)));
    let registry = move || {
        session.with(|s| {
            s.as_ref()
                .map(|s| s.client.registry().to_string())
                .unwrap_or_default()
        })
    };

    let run = move |target: Arc<Plan>, retry: bool| {
        let Some(client) = client() else {
            notice.set(Some(
                "Connect first: the page has no registry session.".into(),
            ));
            return;
        };
        notice.set(None);
        stop_requested.set(false);
        state.busy.set(true);
        if !retry {
            outcomes.set(Vec::new());
        }
        phase.set(ApplyPhase::Running(ApplyCounts {
            // Blocked changes too: apply reports them as skipped.
            total: target
                .entries
                .iter()
                .filter(|e| e.decision.is_change())
                .count(),
            ..ApplyCounts::default()
        }));
        spawn_local(async move {
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
            // Repositories run side by side, so outcomes arrived as they
            // ended; the finished table follows the plan's order.
            if !retry {
                outcomes.set(report.outcomes);
            }
            state.busy.set(false);
            phase.set(ApplyPhase::Done(outcomes.with_untracked(|o| counts_of(o))));
        });
    };

    let open = move |_| {
        if state.busy.get_untracked() {
            return;
        }
        let Some(current) = plan.get_untracked() else {
            return;
        };
        if !phase.get_untracked().can_start(current.totals().changes()) {
            return;
        }
        applied.set_value(Some(current));
        typed.set(String::new());
        recovery.set(RecoveryState::NotMade);
        skip_recovery.set(false);
        notice.set(None);
        state.plan_held.set(true);
        phase.set(ApplyPhase::Confirming);
    };
    let cancel = move |_| {
        phase.set(ApplyPhase::Idle);
        applied.set_value(None);
        state.plan_held.set(false);
    };
    let make_recovery = move |_| {
        if phase.get_untracked() != ApplyPhase::Confirming
            || recovery.get_untracked() == RecoveryState::Reading
        {
            return;
        }
        let Some(target) = applied.get_value() else {
            return;
        };
        let Some(client) = client() else {
            recovery.set(RecoveryState::Failed(
                "the page is not connected to a registry".into(),
            ));
            return;
        };
        recovery.set(RecoveryState::Reading);
        spawn_local(async move {
            let made = client.recovery_for(&target).await;
            let still_wanted = phase.get_untracked() == ApplyPhase::Confirming
                && applied.with_value(|p| p.as_ref().is_some_and(|p| Arc::ptr_eq(p, &target)));
            if !still_wanted {
                return;
            }
            let state = match made {
                Ok(file) => {
                    let name = recovery_file_name(
                        client.registry(),
                        from_unix_millis(js_sys::Date::now()),
                    );
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
            };
            recovery.set(state);
        });
    };
    let blocker = move || {
        let expected = confirmed_totals().changes();
        recovery.with(|r| {
            confirm_blocker(
                count_matches(&typed.get(), expected),
                r,
                skip_recovery.get(),
            )
        })
    };
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if phase.get_untracked() != ApplyPhase::Confirming || state.busy.get_untracked() {
            return;
        }
        if untrack(blocker).is_some() {
            return;
        }
        if let Some(target) = applied.get_value() {
            run(target, false);
        }
    };
    let stop = move |_| stop_requested.set(true);
    let failed_count = move || phase.get().counts().map_or(0, |c| c.failed);
    // The failed deletes and tag removals of the plan applied.
    let to_retry = move || {
        let original = applied.get_value()?;
        let report = ApplyReport {
            outcomes: outcomes.get(),
        };
        Some(retry_plan(&original, &report))
    };
    let retry = move |_| {
        if state.busy.get_untracked() || !matches!(phase.get_untracked(), ApplyPhase::Done(_)) {
            return;
        }
        let Some(original) = applied.get_value() else {
            return;
        };
        let report = ApplyReport {
            outcomes: outcomes.get_untracked(),
        };
        let again = retry_plan(&original, &report);
        if again.changes().next().is_some() {
            run(Arc::new(again), true);
        }
    };
    let refused = move || outcomes.with(|all| all.iter().any(|o| is_refusal(&o.outcome)));
    // Blobs tag removals by replacement left, per repository, for the
    // garbage collection note.
    let replaced = move || {
        outcomes.with(|all| {
            let report = ApplyReport {
                outcomes: all.clone(),
            };
            replacement_note(&report.replacement_blobs())
        })
    };

    view! {
        <Show when=move || plan.with(Option::is_some)>
            <section class="apply" aria-labelledby="apply-heading">
                <h2 id="apply-heading" class="visually-hidden">"Apply the plan"</h2>
                <button
                    type="button"
                    class="danger"
                    data-testid="apply"
                    disabled=move || {
                        state.busy.get() || !phase.get().can_start(totals.get().changes())
                    }
                    on:click=open
                >
                    {move || apply_label(&totals.get())}
                </button>
                <Show when=move || phase.get() == ApplyPhase::Confirming>
                    <form
                        class="confirm"
                        role="dialog"
                        aria-labelledby="confirm-heading"
                        data-testid="confirm-panel"
                        on:submit=confirm
                    >
                        <h3 id="confirm-heading">"Confirm the changes"</h3>
                        {move || {
                            confirm_lines(&confirmed_totals(), &registry())
                                .into_iter()
                                .enumerate()
                                .map(|(at, line)| {
                                    view! { <p class:confirm-what=at == 0>{line}</p> }
                                })
                                .collect_view()
                        }}
                        <fieldset class="recovery">
                            <legend>"Recovery file (before the first delete)"</legend>
                            <button
                                type="button"
                                data-testid="recovery-download"
                                disabled=move || recovery.get() == RecoveryState::Reading
                                on:click=make_recovery
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
                                            "It holds the exact bytes and tags of every manifest \
                                             about to go and of every image about to lose tags, \
                                             in the CLI's format."
                                                .to_owned()
                                        })
                                }}
                            </p>
                            <label class="check">
                                <input
                                    type="checkbox"
                                    data-testid="recovery-skip"
                                    bind:checked=skip_recovery
                                />
                                " Delete without a recovery file (nothing can then be put back)"
                            </label>
                        </fieldset>
                        <label class="count">
                            {move || count_label(&confirmed_totals())}
                            <input
                                type="text"
                                inputmode="numeric"
                                autocomplete="off"
                                spellcheck="false"
                                data-testid="confirm-count"
                                aria-describedby="confirm-blocker"
                                node_ref=count_input
                                bind:value=typed
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
                                {move || confirm_button(&confirmed_totals())}
                            </button>
                            <button type="button" data-testid="cancel-apply" on:click=cancel>
                                "Cancel"
                            </button>
                        </div>
                    </form>
                </Show>
                {move || notice.get().map(|n| view! { <p class="error" role="alert">{n}</p> })}
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
                            {move || {
                                phase
                                    .get()
                                    .counts()
                                    .map(|c| format!("{} of {}", c.done(), c.total))
                            }}
                        </span>
                        <Show when=move || phase.get().is_running()>
                            <button
                                type="button"
                                data-testid="stop-apply"
                                disabled=move || stop_requested.get()
                                on:click=stop
                            >
                                {move || if stop_requested.get() { "Stopping…" } else { "Stop" }}
                            </button>
                        </Show>
                    </div>
                </Show>
                <p class="status" data-testid="apply-status" role="status">
                    {move || phase.get().status(stop_requested.get())}
                </p>
                <Show when=refused>
                    <DiagnosisView diagnosis=Diagnosis::delete_disabled(&registry()) />
                </Show>
                <Show when=move || matches!(phase.get(), ApplyPhase::Done(_))>
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
                            replaced()
                                .map(|note| {
                                    view! {
                                        <p class="hint" data-testid="replacement-blobs">
                                            {note}
                                        </p>
                                    }
                                })
                        }}
                        <Show when=move || { failed_count() > 0 && !refused() }>
                            <button
                                type="button"
                                data-testid="retry-failed"
                                disabled=move || state.busy.get()
                                on:click=retry
                            >
                                {move || to_retry().map(|again| retry_label(&again.totals()))}
                            </button>
                        </Show>
                        <p class="hint">"Press Scan again to see the registry as it is now."</p>
                    </div>
                </Show>
                <Show when=move || outcomes.with(|o| !o.is_empty())>
                    <h3>"Outcomes"</h3>
                    <OutcomeTable outcomes=outcomes />
                </Show>
            </section>
        </Show>
    }
}

/// Every outcome so far, a page at a time, optionally only one kind.
#[component]
fn OutcomeTable(outcomes: RwSignal<Vec<EntryOutcome>>) -> impl IntoView {
    let filter = RwSignal::new(OutcomeFilter::All);
    let page = RwSignal::new(0usize);
    // Indices of the outcomes the filter admits (all of them: no list).
    let admitted = Memo::new(move |_| {
        let filter = filter.get();
        if filter == OutcomeFilter::All {
            return None;
        }
        Some(outcomes.with(|all| {
            all.iter()
                .enumerate()
                .filter(|(_, o)| filter.admits(&o.outcome))
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        }))
    });
    let shown_len = move || {
        admitted.with(|a| match a {
            Some(list) => list.len(),
            None => outcomes.with(Vec::len),
        })
    };
    let rows = move || {
        let range = page_range(shown_len(), page.get());
        admitted.with(|a| {
            outcomes.with(|all| match a {
                Some(list) => list[range]
                    .iter()
                    .map(|&i| (i, all[i].clone()))
                    .collect::<Vec<_>>(),
                None => range.clone().zip(all[range].iter().cloned()).collect(),
            })
        })
    };
    let pages = move || page_count(shown_len());
    view! {
        <div class="table-tools">
            <label>
                "Show "
                <select
                    data-testid="outcome-filter"
                    on:change=move |ev| {
                        filter.set(OutcomeFilter::from_key(&event_target_value(&ev)));
                        page.set(0);
                    }
                >
                    {OutcomeFilter::ALL
                        .into_iter()
                        .map(|f| view! { <option value=f.key()>{f.key()}</option> })
                        .collect_view()}
                </select>
            </label>
            <Pager page=page pages=Signal::derive(pages) label=Signal::derive(move || page_label(shown_len(), page.get())) />
        </div>
        <div class="table-wrap">
            <table data-testid="outcome-table">
                <thead>
                    <tr>
                        <th scope="col">"Repository"</th>
                        <th scope="col">"Digest"</th>
                        <th scope="col">"Tags"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>
                    // An image's tag removals share its digest: the tags tell
                    // them apart.
                    <For
                        each=rows
                        key=|(_, o)| {
                            (o.repository.clone(), o.digest.clone(), o.tags.clone(), o.outcome.label())
                        }
                        let:item
                    >
                        <OutcomeRow outcome=item.1 />
                    </For>
                </tbody>
            </table>
        </div>
    }
}

/// Previous / next page buttons and where the table stands.
#[component]
pub(crate) fn Pager(
    page: RwSignal<usize>,
    pages: Signal<usize>,
    label: Signal<String>,
) -> impl IntoView {
    view! {
        <Show when=move || { pages.get() > 1 }>
            <div class="pager">
                <button
                    type="button"
                    disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))
                >
                    "Previous page"
                </button>
                <span aria-live="polite">{move || label.get()}</span>
                <button
                    type="button"
                    disabled=move || page.get() + 1 >= pages.get()
                    on:click=move |_| page.update(|p| *p = (*p + 1).min(pages.get_untracked() - 1))
                >
                    "Next page"
                </button>
            </div>
        </Show>
    }
}

#[component]
fn OutcomeRow(outcome: EntryOutcome) -> impl IntoView {
    let label = outcome.outcome.label();
    let tags: Vec<&str> = outcome.tags.iter().map(|t| t.as_str()).collect();
    let tags = if tags.is_empty() {
        "(untagged)".to_owned()
    } else {
        tags.join(", ")
    };
    let digest_attr = outcome.digest.to_string();
    let digest_title = digest_attr.clone();
    let tags_attr = outcome
        .tags
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",");
    view! {
        <tr
            data-testid="outcome-row"
            class=format!("outcome-{}", label.replace(' ', "-"))
            data-outcome=label
            data-digest=digest_attr
            data-repository=outcome.repository.to_string()
            data-tags=tags_attr
        >
            <td>{outcome.repository.to_string()}</td>
            <td class="digest" title=digest_title>
                <code>{outcome.digest.short().to_owned()}</code>
            </td>
            <td class="tags">{tags}</td>
            <td class="outcome">
                <span class="badge">{label}</span>
            </td>
            <td class="reason">{outcome_reason(&outcome.outcome)}</td>
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
            ..ApplyCounts::default()
        };
        assert_eq!(ApplyPhase::Idle.status(false), None);
        assert_eq!(ApplyPhase::Confirming.counts(), None);
        let running = ApplyPhase::Running(counts).status(false).unwrap();
        assert!(!running.contains("done"), "{running}");
        assert!(
            ApplyPhase::Done(counts)
                .status(false)
                .unwrap()
                .contains("done")
        );
        assert_eq!(ApplyPhase::Done(counts).counts(), Some(counts));
    }
}

/// The confirmation in a real browser (wasm-bindgen-test, headless
/// Chromium): the panel mounted over a plan, driven through the DOM.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use super::*;
    use cleanreg_core::{
        Decision, DeleteReason, Digest, ImageKind, KeepReason, MediaType, PlanEntry, Policy,
        Reclaimable, Role,
    };
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use crate::route::Route;

    wasm_bindgen_test_configure!(run_in_browser);

    fn entry(n: u8, delete: bool) -> PlanEntry {
        PlanEntry {
            repository: "team/app".parse().unwrap(),
            digest: Digest::sha256_of(&[n]),
            tags: vec![format!("v{n}").parse().unwrap()],
            media_type: MediaType::OciManifest,
            kind: ImageKind::Image,
            role: Role::Image,
            created: None,
            created_from: None,
            size: 1000,
            platforms: Vec::new(),
            rule: None,
            decision: if delete {
                Decision::Delete {
                    reason: DeleteReason::UnknownAge,
                }
            } else {
                Decision::Keep {
                    reason: KeepReason::NoLimit,
                }
            },
            blocked: None,
        }
    }

    fn find(id: &str) -> Option<web_sys::HtmlElement> {
        web_sys::window()?
            .document()?
            .query_selector(&format!("[data-testid=\"{id}\"]"))
            .ok()
            .flatten()
            .map(|e| e.unchecked_into())
    }

    fn get(id: &str) -> web_sys::HtmlElement {
        find(id).unwrap_or_else(|| panic!("no element with data-testid {id}"))
    }

    fn disabled(id: &str) -> bool {
        get(id).has_attribute("disabled")
    }

    fn type_into(id: &str, text: &str) {
        let input: web_sys::HtmlInputElement = get(id).unchecked_into();
        input.set_value(text);
        let event = web_sys::Event::new("input").unwrap();
        input.dispatch_event(&event).unwrap();
    }

    async fn settle() {
        for _ in 0..3 {
            browser::yield_now().await;
        }
    }

    #[wasm_bindgen_test]
    async fn deleting_waits_for_the_typed_count_and_a_recovery_choice() {
        let state = AppState::new(Route::default());
        state.plan.set(Some(Arc::new(Plan {
            now: time::OffsetDateTime::UNIX_EPOCH,
            policy: Policy::keep_newest(1),
            entries: vec![entry(1, false), entry(2, true), entry(3, true)],
            reclaimable: Reclaimable::default(),
        })));
        let document = web_sys::window().unwrap().document().unwrap();
        let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&host).unwrap();
        let mounted = leptos::mount::mount_to(host, move || {
            provide_context(state);
            view! { <ApplyPanel /> }
        });
        settle().await;

        assert!(!disabled("apply"));
        assert!(find("confirm-panel").is_none());
        get("apply").click();
        settle().await;
        let panel = get("confirm-panel").text_content().unwrap();
        assert!(panel.contains("Delete 2 manifests"), "{panel}");
        assert!(
            state.plan_held.get_untracked(),
            "the plan is held from here"
        );
        assert!(disabled("confirm-apply"));

        type_into("confirm-count", "3");
        settle().await;
        assert!(disabled("confirm-apply"), "a wrong count");
        type_into("confirm-count", "2");
        settle().await;
        assert!(disabled("confirm-apply"), "no recovery file yet, no skip");

        // Not connected: the recovery file cannot be read, and says so.
        get("recovery-download").click();
        settle().await;
        assert_eq!(
            get("recovery-status")
                .get_attribute("data-state")
                .as_deref(),
            Some("failed")
        );
        assert!(disabled("confirm-apply"));

        get("recovery-skip").click();
        settle().await;
        assert!(!disabled("confirm-apply"), "count typed and skip ticked");
        type_into("confirm-count", "");
        settle().await;
        assert!(disabled("confirm-apply"));

        get("cancel-apply").click();
        settle().await;
        assert!(find("confirm-panel").is_none());
        assert!(!state.plan_held.get_untracked());
        assert!(
            find("apply-status")
                .unwrap()
                .text_content()
                .unwrap()
                .is_empty()
        );
        drop(mounted);
    }

    /// A tag entry of `image`'s kept entry: same digest, one tag.
    fn untag(image: &PlanEntry, tag: &str) -> PlanEntry {
        PlanEntry {
            tags: vec![tag.parse().unwrap()],
            role: Role::Tag {
                remaining: image.tags.clone(),
            },
            decision: Decision::Untag {
                reason: cleanreg_core::UntagReason::RemoveTags {
                    pattern: "pr-.*".into(),
                },
            },
            ..image.clone()
        }
    }

    #[wasm_bindgen_test]
    async fn the_typed_number_counts_deletes_and_tag_removals() {
        let state = AppState::new(Route::default());
        let kept = entry(1, false);
        state.plan.set(Some(Arc::new(Plan {
            now: time::OffsetDateTime::UNIX_EPOCH,
            policy: Policy::keep_newest(1),
            entries: vec![
                kept.clone(),
                untag(&kept, "pr-1"),
                untag(&kept, "pr-2"),
                entry(2, true),
            ],
            reclaimable: Reclaimable::default(),
        })));
        let document = web_sys::window().unwrap().document().unwrap();
        let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&host).unwrap();
        let mounted = leptos::mount::mount_to(host, move || {
            provide_context(state);
            view! { <ApplyPanel /> }
        });
        settle().await;

        let label = get("apply").text_content().unwrap();
        assert!(label.contains("and remove 2 tags"), "{label}");
        get("apply").click();
        settle().await;
        let panel = get("confirm-panel").text_content().unwrap();
        assert!(panel.contains("Delete 1 manifest"), "{panel}");
        assert!(panel.contains("Remove 2 tags from kept images"), "{panel}");
        assert!(panel.contains("permission to push"), "{panel}");
        assert!(
            panel.contains("Type 3 (1 manifest to delete + 2 tags to remove)"),
            "{panel}"
        );
        get("recovery-skip").click();
        type_into("confirm-count", "1");
        settle().await;
        assert!(
            disabled("confirm-apply"),
            "the deletes alone are not the count"
        );
        type_into("confirm-count", "3");
        settle().await;
        assert!(!disabled("confirm-apply"));
        assert_eq!(
            get("confirm-apply").text_content().as_deref(),
            Some("Delete 1 manifest and remove 2 tags")
        );
        get("cancel-apply").click();
        settle().await;
        drop(mounted);
    }
}
