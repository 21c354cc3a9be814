//! Putting back what a recovery file holds: pick the file, see what it
//! holds (deleted manifests, and images that only lost tags) and whether it
//! belongs to the connected registry, restore, and see each entry's result.

use std::sync::Arc;

use cleanreg_core::{RecoveryFile, RestoreOutcome, RestoreReport, RestoreResult};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::apply::Pager;
use crate::apply::apply_text::{
    page_count, page_label, page_range, recovery_holds, recovery_summary, restore_blocker,
    restore_done, restore_running,
};
use crate::browser;
use crate::connect::from_unix_millis;
use crate::state::AppState;

/// What an entry of a recovery file is about: a deleted manifest, or an
/// image that stayed and lost the entry's tags.
pub fn entry_kind(tags_only: bool) -> &'static str {
    if tags_only {
        "tags removed (the image stayed)"
    } else {
        "manifest deleted"
    }
}

/// The text of a restore result's detail cell.
pub fn result_detail(outcome: &RestoreOutcome) -> String {
    match &outcome.result {
        RestoreResult::Failed { reason } => reason.clone(),
        _ => outcome.to_string(),
    }
}

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

    let pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if running.get_untracked() {
            return;
        }
        spawn_local(async move {
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
        });
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
        spawn_local(async move {
            client
                .restore(&recovery, &mut |outcome| {
                    results.update(|all| all.push(outcome.clone()));
                })
                .await;
            state.busy.set(false);
            running.set(false);
            finished.set(true);
        });
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
    // Which entries only removed tags, by their index in the file.
    let tags_only = move |index: usize| {
        file.with_untracked(|f| {
            f.as_ref()
                .and_then(|(_, f)| f.entries.get(index))
                .is_some_and(|e| e.tags_only)
        })
    };
    let result_count = move || results.with(Vec::len);
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
                        let now = from_unix_millis(js_sys::Date::now());
                        view! {
                            <p class="restore-summary" data-testid="restore-summary">
                                <strong>{name}</strong>
                                ": "
                                {recovery_summary(&f, now)}
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
                <Pager
                    page=page
                    pages=Signal::derive(move || page_count(result_count()))
                    label=Signal::derive(move || page_label(result_count(), page.get()))
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
                                    let range = page_range(result_count(), page.get());
                                    results.with(|all| all[range].to_vec())
                                }
                                key=|o| o.index
                                let:outcome
                            >
                                <RestoreRow tags_only=tags_only(outcome.index) outcome=outcome />
                            </For>
                        </tbody>
                    </table>
                </div>
            </Show>
        </section>
    }
}

/// What the file holds, before a restore.
#[component]
fn HeldTable(file: RwSignal<Option<(String, Arc<RecoveryFile>)>>) -> impl IntoView {
    let page = RwSignal::new(0usize);
    let len = move || file.with(|f| f.as_ref().map_or(0, |(_, f)| f.entries.len()));
    view! {
        <h3>"What it holds"</h3>
        <Pager
            page=page
            pages=Signal::derive(move || page_count(len()))
            label=Signal::derive(move || page_label(len(), page.get()))
        />
        <div class="table-wrap">
            <table data-testid="recovery-table">
                <thead>
                    <tr>
                        <th scope="col">"Repository"</th>
                        <th scope="col">"Digest"</th>
                        <th scope="col">"Tags"</th>
                        <th scope="col">"What"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || {
                            let range = page_range(len(), page.get());
                            file.with(|f| {
                                f.as_ref()
                                    .map(|(_, f)| {
                                        range.clone().zip(f.entries[range].iter().cloned()).collect()
                                    })
                                    .unwrap_or_else(Vec::new)
                            })
                        }
                        key=|(index, _)| *index
                        let:item
                    >
                        {
                            let entry = item.1;
                            let tags: Vec<&str> = entry.tags.iter().map(|t| t.as_str()).collect();
                            let tags = if tags.is_empty() { "(untagged)".to_owned() } else { tags.join(", ") };
                            let digest_attr = entry.digest.to_string();
                            let digest_title = digest_attr.clone();
                            view! {
                                <tr
                                    data-testid="recovery-entry"
                                    data-repository=entry.repository.to_string()
                                    data-digest=digest_attr
                                    data-tags-only=entry.tags_only.to_string()
                                >
                                    <td>{entry.repository.to_string()}</td>
                                    <td class="digest" title=digest_title>
                                        <code>{entry.digest.short().to_owned()}</code>
                                    </td>
                                    <td class="tags">{tags}</td>
                                    <td>{entry_kind(entry.tags_only)}</td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn RestoreRow(outcome: RestoreOutcome, tags_only: bool) -> impl IntoView {
    let label = outcome.result.label();
    let tags: Vec<&str> = outcome.tags.iter().map(|t| t.as_str()).collect();
    let tags = if tags.is_empty() {
        "(untagged)".to_owned()
    } else {
        tags.join(", ")
    };
    let digest_attr = outcome.digest.to_string();
    let digest_title = digest_attr.clone();
    let class = format!("result-{}", label.replace(' ', "-"));
    view! {
        <tr
            data-testid="restore-row"
            class=class
            data-result=label
            data-digest=digest_attr
            data-repository=outcome.repository.to_string()
            data-tags-only=tags_only.to_string()
        >
            <td>{outcome.repository.to_string()}</td>
            <td class="digest" title=digest_title>
                <code>{outcome.digest.short().to_owned()}</code>
            </td>
            <td class="tags">{tags}</td>
            <td>{entry_kind(tags_only)}</td>
            <td class="outcome">
                <span class="badge">{label}</span>
            </td>
            <td class="reason">{result_detail(&outcome)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::Digest;

    #[test]
    fn a_failed_restore_shows_its_reason_and_others_their_line() {
        let mut outcome = RestoreOutcome {
            index: 0,
            repository: "team/app".parse().unwrap(),
            digest: Digest::sha256_of(b"x"),
            tags: vec!["v1".parse().unwrap()],
            result: RestoreResult::Failed {
                reason: "its blobs were garbage-collected".into(),
            },
        };
        assert_eq!(result_detail(&outcome), "its blobs were garbage-collected");
        outcome.result = RestoreResult::Restored {
            tags_repointed: vec!["v1".parse().unwrap()],
        };
        let detail = result_detail(&outcome);
        assert!(
            detail.starts_with("restored team/app@sha256:") && detail.ends_with("tags v1"),
            "{detail}"
        );
        // A tag removal put back: the image was there, its tag re-pointed.
        outcome.result = RestoreResult::AlreadyPresent {
            tags_repointed: vec!["v1".parse().unwrap()],
        };
        assert!(result_detail(&outcome).ends_with("re-pointed tags v1"));
        assert_eq!(entry_kind(true), "tags removed (the image stayed)");
        assert_eq!(entry_kind(false), "manifest deleted");
    }
}
