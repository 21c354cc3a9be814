//! One repository of the plan: a heading that opens and closes it, its
//! counts, and its rows a page at a time.

use std::collections::HashMap;
use std::sync::Arc;

use cleanreg_core::Plan;
use leptos::prelude::*;

use super::model::{self, DecisionFilter, RepoSummary};
use super::row::PlanRow;
use crate::route::View;
use crate::state::AppState;
use crate::widgets::Pager;
use crate::widgets::paging::{PAGE_ROWS, page_count, page_range, rows_label};

/// One repository: a heading that opens and closes it (and chooses it in
/// the URL), its counts, and its rows a page at a time.
#[component]
pub(super) fn RepoSection(
    plan: Arc<Plan>,
    summary: RepoSummary,
    decision: RwSignal<DecisionFilter>,
    expanded: RwSignal<HashMap<String, bool>>,
    small: bool,
) -> impl IntoView {
    let state = AppState::get();
    let name = summary.repository.clone();
    let chosen = {
        let name = name.clone();
        Memo::new(move |_| {
            state
                .route
                .with(|r| r.repository.as_deref() == Some(name.as_str()))
        })
    };
    let open = {
        let name = name.clone();
        Memo::new(move |_| {
            expanded
                .with(|e| e.get(&name).copied())
                .unwrap_or_else(|| small || chosen.get())
        })
    };
    let node = NodeRef::<leptos::html::Section>::new();
    {
        // Chosen by the URL (a link, the inventory, the heading): open it
        // and bring it into view once the plan view shows.
        let name = name.clone();
        Effect::new(move |was: Option<bool>| {
            let now = chosen.get() && state.route.with(|r| r.view == View::Plan);
            if now && was != Some(true) {
                expanded.update(|e| {
                    e.insert(name.clone(), true);
                });
                if let Some(element) = node.get() {
                    element.scroll_into_view();
                }
            }
            now
        });
    }
    let toggle = {
        let name = name.clone();
        move |_| {
            let opening = !open.get_untracked();
            expanded.update(|e| {
                e.insert(name.clone(), opening);
            });
            if opening {
                state.route.update(|r| r.repository = Some(name.clone()));
            } else if chosen.get_untracked() {
                state.route.update(|r| r.repository = None);
            }
        }
    };

    let page_size = if small { usize::MAX } else { PAGE_ROWS };
    let page = RwSignal::new(0_usize);
    let range = summary.entries.clone();
    let plan = StoredValue::new(plan);
    // Computed only once the section opens (memos are lazy).
    let indices = Memo::new(move |_| {
        let decision = decision.get();
        plan.with_value(|plan| {
            plan.entries[range.clone()]
                .iter()
                .enumerate()
                .filter(|(_, e)| decision.admits(&e.decision))
                .map(|(at, _)| range.start + at)
                .collect::<Vec<usize>>()
        })
    });
    let pages = move || page_count(indices.with(Vec::len), page_size);
    let rows = move || {
        indices.with(|indices| {
            let shown = page_range(indices.len(), page_size, page.get());
            plan.with_value(|plan| {
                indices[shown]
                    .iter()
                    .map(|&at| PlanRow::new(&plan.entries[at], plan.now))
                    .collect::<Vec<_>>()
            })
        })
    };
    let pager_text = move || rows_label(indices.with(Vec::len), page_size, page.get());
    let body_id = format!("plan-repo-body-{name}");
    let caption = StoredValue::new(format!("Plan for {name}"));
    let pager_label = StoredValue::new(format!("Pages of {name}"));
    let counts = move || {
        let visible = decision.get().count(&summary);
        let mut text = model::repo_counts(&summary);
        if decision.get() != DecisionFilter::All {
            text.push_str(&format!("; {visible} shown"));
        }
        text
    };

    view! {
        <section
            class="plan-repo"
            data-testid="plan-repo"
            data-repository=name.clone()
            data-expanded=move || open.get().to_string()
            class:chosen=move || chosen.get()
            node_ref=node
        >
            <h3 class="plan-repo-head">
                <button
                    type="button"
                    class="plan-repo-toggle"
                    aria-expanded=move || open.get().to_string()
                    aria-controls=body_id.clone()
                    on:click=toggle
                >
                    <span class="twisty" aria-hidden="true">
                        {move || if open.get() { "▾" } else { "▸" }}
                    </span>
                    <span class="repo-name">{name.clone()}</span>
                </button>
                <span class="repo-counts">{counts}</span>
            </h3>
            <div id=body_id hidden=move || !open.get()>
                <Show when=move || open.get()>
                    <div class="table-wrap">
                        <table data-testid="plan-table">
                            <caption class="visually-hidden">
                                {caption.get_value()}
                            </caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Repository"</th>
                                    <th scope="col">"Digest"</th>
                                    <th scope="col">"Tags"</th>
                                    <th scope="col">"Kind"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col" class="num">"Size"</th>
                                    <th scope="col">"Decision"</th>
                                    <th scope="col">"Reason"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {move || {
                                    rows()
                                        .into_iter()
                                        .map(|row| view! { <PlanRowView row=row /> })
                                        .collect_view()
                                }}
                            </tbody>
                        </table>
                    </div>
                    <Pager
                        page=page
                        pages=Signal::derive(pages)
                        label=Signal::derive(pager_text)
                        testid="plan"
                        aria_label=pager_label.get_value()
                    />
                </Show>
            </div>
        </section>
    }
}

#[component]
fn PlanRowView(row: PlanRow) -> impl IntoView {
    let class = format!(
        "decision-{} role-{}{}",
        row.decision,
        row.role,
        if row.blocked.is_some() {
            " blocked"
        } else {
            ""
        }
    );
    let badge = if row.blocked.is_some() {
        "blocked"
    } else {
        row.decision
    };
    let digest = row.digest.clone();
    let repository = row.repository.clone();
    view! {
        <tr
            data-testid="plan-row"
            class=class
            data-decision=row.decision
            data-digest=digest
            data-repository=repository
            data-role=row.role
            data-tag=row.tag
            data-blocked=row.blocked.clone()
        >
            <td>{row.repository}</td>
            <td class="digest" title=row.digest>
                <code>{row.digest_short}</code>
            </td>
            <td>
                {row.tags}
                <span class="note">{row.note}</span>
            </td>
            <td class="kind">{row.kind}</td>
            <td>
                {row.age}
                <span class="date">{row.date}</span>
            </td>
            <td class="num">{row.size}</td>
            <td>
                <span class="badge">{badge}</span>
            </td>
            <td class="reason">
                {row.reason}
                <span class="rule">{row.rule}</span>
            </td>
        </tr>
    }
}
