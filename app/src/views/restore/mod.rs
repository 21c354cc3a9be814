//! Putting back what a recovery file holds: pick the file, see what it
//! holds (deleted manifests, and images that only lost tags) and whether it
//! belongs to the connected registry, restore, and see each entry's result.

mod held;
pub mod model;

use std::sync::Arc;

use cleanreg_core::{Client, RecoveryFile, RestoreOutcome, RestoreReport};
use leptos::prelude::*;

use crate::platform::fetch::FetchTransport;
use crate::platform::{browser, timer};
use crate::state::AppState;
use crate::widgets::paging::{PAGE_ROWS, page_count, page_range, rows_label};
use crate::widgets::{OutcomeCells, OutcomeOf, OutcomeRow, Pager};
use held::HeldTable;
use model::{
    Picked, entry_kind, recovery_holds, recovery_summary, restore_blocker, restore_done,
    restore_running, result_detail,
};

#[component]
pub fn RestoreView() -> impl IntoView {
    let state = AppState::get();
    let session = state.session;
    let file = RwSignal::new(None::<(String, Arc<RecoveryFile>)>);
    let error = RwSignal::new(None::<String>);
    let results = RwSignal::new(Vec::<RestoreOutcome>::new());
    let running = RwSignal::new(false);
    let finished = RwSignal::new(false);
    let page = RwSignal::new(0usize);

    // Reads the picked file; a new file clears the last results.
    let read = Action::new_local(move |input: &web_sys::HtmlInputElement| {
        let input = input.clone();
        async move {
            let Some(picked) = browser::read_picked_file(&input).await else {
                return;
            };
            results.set(Vec::new());
            finished.set(false);
            page.set(0);
            match picked.and_then(|(name, text)| {
                RecoveryFile::from_json(&text)
                    .map(|f| (name.clone(), Arc::new(f)))
                    .map_err(|e| format!("{name} cannot be used: {e}"))
            }) {
                Ok(read) => {
                    error.set(None);
                    file.set(Some(read));
                }
                Err(why) => {
                    file.set(None);
                    error.set(Some(why));
                }
            }
        }
    });
    // Puts the file's entries back, one result at a time.
    let restore = Action::new_local(
        move |(client, recovery): &(Arc<Client<FetchTransport>>, Arc<RecoveryFile>)| {
            let (client, recovery) = (Arc::clone(client), Arc::clone(recovery));
            async move {
                client
                    .restore(&recovery, &mut |outcome| {
                        results.update(|all| all.push(outcome.clone()));
                    })
                    .await;
                state.busy.set(false);
                running.set(false);
                finished.set(true);
            }
        },
    );

    let pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if running.get_untracked() {
            return;
        }
        read.dispatch_local(input);
    };
    let blocker = move || {
        file.with(|f| {
            f.as_ref().and_then(|(_, f)| {
                session.with(|s| restore_blocker(f, s.as_ref().map(|s| s.client.registry())))
            })
        })
    };
    let run = move |_| {
        if running.get_untracked() || state.busy.get_untracked() || untrack(blocker).is_some() {
            return;
        }
        let Some((_, recovery)) = file.get_untracked() else {
            return;
        };
        let Some(client) = session.with_untracked(|s| s.as_ref().map(|s| Arc::clone(&s.client)))
        else {
            return;
        };
        results.set(Vec::new());
        finished.set(false);
        page.set(0);
        running.set(true);
        state.busy.set(true);
        restore.dispatch_local((client, recovery));
    };
    let status = move || {
        let total = file.with(|f| f.as_ref().map_or(0, |(_, f)| f.entries.len()));
        if running.get() {
            Some(restore_running(results.with(Vec::len), total))
        } else if finished.get() {
            Some(restore_done(
                &RestoreReport {
                    outcomes: results.get(),
                }
                .counts(),
            ))
        } else {
            None
        }
    };
    let entry_count = move || file.with(|f| f.as_ref().map_or(0, |(_, f)| f.entries.len()));
    let holds = move || file.with(|f| f.as_ref().map(|(_, f)| recovery_holds(f)));
    let showing_results = move || running.get() || finished.get();

    view! {
        <section class="restore" aria-labelledby="restore-heading">
            <h2 id="restore-heading">"Restore from a recovery file"</h2>
            <p class="hint">
                "Until the registry's garbage collection runs, a recovery file (written by the \
                 Apply step or by the cleanreg CLI) puts the deleted manifests back byte for byte \
                 and re-points their tags. A tag that points at another manifest now is left alone."
            </p>
            <label class="file">
                "Recovery file (.json) "
                <input
                    type="file"
                    accept=".json,application/json"
                    data-testid="restore-file"
                    disabled=move || running.get()
                    on:change=pick
                />
            </label>
            {move || {
                error
                    .get()
                    .map(|why| {
                        view! {
                            <p class="error" role="alert" data-testid="restore-error">
                                {why}
                            </p>
                        }
                    })
            }}
            {move || {
                file.get()
                    .map(|(name, f)| {
                        view! {
                            <p class="restore-summary" data-testid="restore-summary">
                                <strong>{name}</strong>
                                ": "
                                {recovery_summary(&f, timer::now())}
                            </p>
                        }
                    })
            }}
            <Show when=move || file.with(Option::is_some)>
                {move || {
                    blocker()
                        .map(|why| {
                            view! {
                                <p class="warning" role="alert" data-testid="restore-blocked">
                                    {why}
                                </p>
                            }
                        })
                }}
                <button
                    type="button"
                    data-testid="restore-run"
                    disabled=move || running.get() || state.busy.get() || blocker().is_some()
                    on:click=run
                >
                    {move || format!("Restore {}", holds().unwrap_or_default())}
                </button>
            </Show>
            <p class="status" data-testid="restore-status" role="status">
                {status}
            </p>
            <Show
                when=showing_results
                fallback=move || {
                    view! {
                        <Show when=move || { entry_count() > 0 }>
                            <HeldTable file=file />
                        </Show>
                    }
                }
            >
                <ResultTable file=file results=results page=page />
            </Show>
        </section>
    }
}

/// Each entry's result so far, a page at a time.
#[component]
fn ResultTable(
    file: RwSignal<Picked>,
    results: RwSignal<Vec<RestoreOutcome>>,
    page: RwSignal<usize>,
) -> impl IntoView {
    let result_count = move || results.with(Vec::len);
    // Which entries only removed tags, by their index in the file.
    let tags_only = move |index: usize| {
        file.with_untracked(|f| {
            f.as_ref()
                .and_then(|(_, f)| f.entries.get(index))
                .is_some_and(|e| e.tags_only)
        })
    };
    view! {
        <Pager
            page=page
            pages=Signal::derive(move || page_count(result_count(), PAGE_ROWS))
            label=Signal::derive(move || rows_label(result_count(), PAGE_ROWS, page.get()))
        />
        <div class="table-wrap">
            <table data-testid="restore-table">
                <thead>
                    <tr>
                        <th scope="col">"Repository"</th>
                        <th scope="col">"Digest"</th>
                        <th scope="col">"Tags"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || {
                            let range = page_range(result_count(), PAGE_ROWS, page.get());
                            results.with(|all| all[range].to_vec())
                        }
                        key=|o| o.index
                        let:outcome
                    >
                        {
                            let tags_only = tags_only(outcome.index);
                            view! {
                                <OutcomeRow
                                    of=OutcomeOf::Restore {
                                        tags_only,
                                        what: entry_kind(tags_only),
                                    }
                                    cells=cells(outcome)
                                />
                            }
                        }
                    </For>
                </tbody>
            </table>
        </div>
    }
}

/// What a result's row says.
fn cells(outcome: RestoreOutcome) -> OutcomeCells {
    OutcomeCells {
        label: outcome.result.label(),
        reason: result_detail(&outcome),
        repository: outcome.repository,
        digest: outcome.digest,
        tags: outcome.tags,
    }
}
