//! Every outcome of the apply so far, a page at a time, optionally only
//! one kind.

use cleanreg_core::EntryOutcome;
use leptos::prelude::*;

use super::model::{OutcomeFilter, outcome_reason};
use crate::widgets::paging::{PAGE_ROWS, page_count, page_range, rows_label};
use crate::widgets::{OutcomeCells, OutcomeOf, OutcomeRow, Pager};

/// What an outcome's row says.
fn cells(outcome: EntryOutcome) -> OutcomeCells {
    OutcomeCells {
        label: outcome.outcome.label(),
        reason: outcome_reason(&outcome.outcome),
        repository: outcome.repository,
        digest: outcome.digest,
        tags: outcome.tags,
    }
}

/// Every outcome so far, a page at a time, optionally only one kind.
#[component]
pub(super) fn OutcomeTable(outcomes: RwSignal<Vec<EntryOutcome>>) -> impl IntoView {
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
        let range = page_range(shown_len(), PAGE_ROWS, page.get());
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
    let pages = move || page_count(shown_len(), PAGE_ROWS);
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
            <Pager
                page=page
                pages=Signal::derive(pages)
                label=Signal::derive(move || rows_label(shown_len(), PAGE_ROWS, page.get()))
            />
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
                        <OutcomeRow of=OutcomeOf::Apply cells=cells(item.1) />
                    </For>
                </tbody>
            </table>
        </div>
    }
}
