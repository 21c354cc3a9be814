//! What a recovery file holds, before a restore: a table of its entries,
//! a page at a time.

use leptos::prelude::*;

use super::model::{Picked, entry_kind};
use crate::widgets::Pager;
use crate::widgets::outcome_row::tags_text;
use crate::widgets::paging::{PAGE_ROWS, page_count, page_range, rows_label};

/// What the file holds, before a restore.
#[component]
pub(super) fn HeldTable(file: RwSignal<Picked>) -> impl IntoView {
    let page = RwSignal::new(0usize);
    let len = move || file.with(|f| f.as_ref().map_or(0, |(_, f)| f.entries.len()));
    view! {
        <h3>"What it holds"</h3>
        <Pager
            page=page
            pages=Signal::derive(move || page_count(len(), PAGE_ROWS))
            label=Signal::derive(move || rows_label(len(), PAGE_ROWS, page.get()))
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
                            let range = page_range(len(), PAGE_ROWS, page.get());
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
                            let tags = tags_text(&entry.tags);
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
