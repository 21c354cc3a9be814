//! What the registry holds: repositories, and one repository's images and
//! untagged manifests.
//!
//! The lists are paged, so 500 repositories or a repository with
//! thousands of tags put only one page of rows in the document. The chosen
//! repository lives in the route, so the URL carries it.

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
pub mod model;

use std::sync::Arc;

use leptos::prelude::*;

use crate::platform::browser;
use crate::state::AppState;
use crate::views::connect::model::scan_done;
use crate::widgets::Pager;
use model::{ImageRow, Page, RepoRow, SIZE_MEANS, Sort, UntaggedRow, filter_sort, page};

/// Repositories per page.
const REPO_PAGE: usize = 50;
/// Images per page.
const IMAGE_PAGE: usize = 50;

#[component]
pub fn InventoryView() -> impl IntoView {
    let state = AppState::get();
    view! {
        <Show
            when=move || state.session.with(Option::is_some)
            fallback=|| view! { <p class="empty">"Connect to a registry to see what it holds."</p> }
        >
            <p data-testid="inventory-summary">
                {move || {
                    state
                        .session
                        .with(|s| s.as_ref().map(|s| scan_done(&s.inventory)))
                }}
            </p>
            <div class="inventory">
                <Repositories />
                <Images />
            </div>
        </Show>
    }
}

#[component]
fn Repositories() -> impl IntoView {
    let state = AppState::get();
    let all = Memo::new(move |_| {
        state.session.with(|session| {
            Arc::new(
                session
                    .as_ref()
                    .map(|s| RepoRow::all(&s.inventory))
                    .unwrap_or_default(),
            )
        })
    });
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(Sort::default());
    let page_index = RwSignal::new(0_usize);
    let shown = Memo::new(move |_| {
        let rows = all.with(|all| filter_sort(all, &filter.get(), sort.get()));
        page(&rows, page_index.get(), REPO_PAGE)
    });
    let chosen = move || state.route.with(|r| r.repository.clone());
    let choose = move |name: String| {
        state.route.update(|r| r.repository = Some(name));
    };
    view! {
        <section class="repositories" aria-labelledby="repositories-title">
            <h2 id="repositories-title">"Repositories"</h2>
            <div class="list-controls">
                <label for="repo-filter">"Filter by name"</label>
                <input
                    type="search"
                    id="repo-filter"
                    data-testid="repo-filter"
                    placeholder="team/"
                    prop:value=move || filter.get()
                    on:input=move |ev| {
                        filter.set(event_target_value(&ev));
                        page_index.set(0);
                    }
                />
                <label for="repo-sort">"Sort"</label>
                <select
                    id="repo-sort"
                    data-testid="repo-sort"
                    on:change=move |ev| {
                        sort.set(Sort::from_key(&event_target_value(&ev)));
                        page_index.set(0);
                    }
                >
                    {Sort::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.key() selected=move || sort.get() == s>
                                    {s.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <p class="hint">{SIZE_MEANS}</p>
            <div class="table-wrap">
                <table data-testid="repo-table">
                    <thead>
                        <tr>
                            <th scope="col">"Repository"</th>
                            <th scope="col" class="num">"Tags"</th>
                            <th scope="col" class="num">"Images"</th>
                            <th scope="col" class="num">
                                <abbr title="Manifests no tag points at, found through scan history">
                                    "Untagged"
                                </abbr>
                            </th>
                            <th scope="col" class="num">"Size"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || shown.with(|p| p.items.clone()) key=|row| row.clone() let:row>
                            {
                                let name = row.name.clone();
                                let selected = {
                                    let name = name.clone();
                                    move || chosen().as_deref() == Some(name.as_str())
                                };
                                let selected_for_aria = selected.clone();
                                view! {
                                    <tr
                                        data-testid="repo-row"
                                        data-repository=row.name.clone()
                                        data-tags=row.tags.to_string()
                                        data-images=row.images.to_string()
                                        data-untagged=row.untagged.to_string()
                                        data-size=row.size.to_string()
                                        class:selected=selected
                                    >
                                        <td>
                                            <button
                                                type="button"
                                                class="link"
                                                data-testid="repo-open"
                                                aria-current=move || selected_for_aria().then_some("true")
                                                on:click=move |_| choose(name.clone())
                                            >
                                                {row.name.clone()}
                                            </button>
                                        </td>
                                        <td class="num">{row.tags}</td>
                                        <td class="num">{row.images}</td>
                                        <td class="num">{row.untagged}</td>
                                        <td class="num">{row.size_text.clone()}</td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
            </div>
            <Pager
                page=page_index
                pages=Signal::derive(move || shown.with(|p| p.count))
                label=Signal::derive(move || shown.with(Page::position))
                testid="repo"
                aria_label="repo pages"
                always=true
            />
        </section>
    }
}

#[component]
fn Images() -> impl IntoView {
    let state = AppState::get();
    let chosen = Memo::new(move |_| state.route.with(|r| r.repository.clone()));
    // The chosen repository's rows, or `None` when it is not in the scan.
    let rows = Memo::new(move |_| {
        let name = chosen.get()?;
        state.session.with(|session| {
            let session = session.as_ref()?;
            let key = name.parse().ok()?;
            let repo = session.inventory.repositories.get(&key)?;
            Some(Arc::new(ImageRow::all(&name, repo, session.scanned_at)))
        })
    });
    let page_index = RwSignal::new(0_usize);
    // A new repository starts on its first page.
    Effect::new(move |_| {
        chosen.track();
        page_index.set(0);
    });
    let shown = Memo::new(move |_| {
        rows.with(|rows| {
            rows.as_ref()
                .map(|rows| page(rows, page_index.get(), IMAGE_PAGE))
        })
    });
    let copied = RwSignal::new(None::<String>);
    view! {
        <Show when=move || chosen.with(Option::is_some)>
            <section class="images" aria-labelledby="images-title" data-testid="repo-images">
                <h2 id="images-title">
                    "Images of " {move || chosen.get().unwrap_or_default()}
                </h2>
                <button
                    type="button"
                    class="secondary"
                    data-testid="repo-close"
                    on:click=move |_| state.route.update(|r| r.repository = None)
                >
                    "Back to all repositories"
                </button>
                <Show
                    when=move || rows.with(Option::is_some)
                    fallback=move || {
                        view! {
                            <p class="empty">
                                {move || chosen.get().unwrap_or_default()}
                                " is not in the last scan."
                            </p>
                        }
                    }
                >
                    <p class="hint">
                        "One row per tagged manifest, newest first. Size: its config and layers (an index: its platforms' summed). Signatures, attestations, SBOMs and other referrers are listed on the image they belong to, with their artifact type."
                    </p>
                    <p class="status" role="status">{move || copied.get()}</p>
                    <div class="table-wrap">
                        <table data-testid="image-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Tags"</th>
                                    <th scope="col">"Digest"</th>
                                    <th scope="col">"Kind and platforms"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col" class="num">"Size"</th>
                                    <th scope="col">"Attached"</th>
                                </tr>
                            </thead>
                            <tbody>
                                <For
                                    each=move || shown.with(|p| p.as_ref().map(|p| p.items.clone()).unwrap_or_default())
                                    key=|row| row.clone()
                                    let:row
                                >
                                    <ImageRowView row=row copied=copied />
                                </For>
                            </tbody>
                        </table>
                    </div>
                    <Pager
                        page=page_index
                        pages=Signal::derive(move || shown.with(|p| p.as_ref().map_or(1, |p| p.count)))
                        label=Signal::derive(move || shown.with(|p| p.as_ref().map(Page::position).unwrap_or_default()))
                        testid="image"
                        aria_label="image pages"
                        always=true
                    />
                    <Untagged chosen=chosen copied=copied />
                </Show>
            </section>
        </Show>
    }
}

/// The chosen repository's manifests that no tag points at, when a scan
/// found any.
#[component]
fn Untagged(chosen: Memo<Option<String>>, copied: RwSignal<Option<String>>) -> impl IntoView {
    let state = AppState::get();
    let rows = Memo::new(move |_| {
        let name = chosen.get()?;
        state.session.with(|session| {
            let session = session.as_ref()?;
            let repo = session.inventory.repositories.get(&name.parse().ok()?)?;
            Some(Arc::new(UntaggedRow::all(&name, repo, session.scanned_at)))
        })
    });
    let page_index = RwSignal::new(0_usize);
    Effect::new(move |_| {
        chosen.track();
        page_index.set(0);
    });
    let shown = Memo::new(move |_| {
        rows.with(|rows| {
            rows.as_ref()
                .filter(|rows| !rows.is_empty())
                .map(|rows| page(rows, page_index.get(), IMAGE_PAGE))
        })
    });
    view! {
        <Show when=move || shown.with(Option::is_some)>
            <h3 id="untagged-title">"Untagged manifests"</h3>
            <p class="hint">
                "Manifests no tag points at any more (a tag such as main pushed again leaves the previous one stored), found by asking the registry for each digest an earlier scan saw, and referrers pushed without a tag, found through the registry's referrers API. They take space until deleted and garbage-collected; the policy's \"Delete untagged manifests\" decides them, and referrers follow the image they belong to."
            </p>
            <div class="table-wrap">
                <table data-testid="untagged-table" aria-labelledby="untagged-title">
                    <thead>
                        <tr>
                            <th scope="col">"Digest"</th>
                            <th scope="col">"Last tags"</th>
                            <th scope="col">"Kind and platforms"</th>
                            <th scope="col">"Created"</th>
                            <th scope="col" class="num">"Size"</th>
                            <th scope="col">"Found through"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || shown.with(|p| p.as_ref().map(|p| p.items.clone()).unwrap_or_default())
                            key=|row| row.clone()
                            let:row
                        >
                            <UntaggedRowView row=row copied=copied />
                        </For>
                    </tbody>
                </table>
            </div>
            <Pager
                page=page_index
                pages=Signal::derive(move || shown.with(|p| p.as_ref().map_or(1, |p| p.count)))
                label=Signal::derive(move || shown.with(|p| p.as_ref().map(Page::position).unwrap_or_default()))
                testid="untagged"
                aria_label="untagged pages"
                always=true
            />
        </Show>
    }
}

#[component]
fn UntaggedRowView(row: UntaggedRow, copied: RwSignal<Option<String>>) -> impl IntoView {
    let digest = row.digest.clone();
    let copy = {
        let digest = digest.clone();
        move |_| {
            browser::copy_text(&digest);
            copied.set(Some(format!("Copied {digest} to the clipboard.")));
        }
    };
    let was = row.was();
    let kind = if row.platforms.is_empty() {
        row.kind.clone()
    } else {
        format!("{}: {}", row.kind, row.platforms)
    };
    let seen: Vec<String> = [row.last_in_use.clone(), row.pushed.clone()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    view! {
        <tr
            data-testid="untagged-row"
            data-digest=digest.clone()
            data-repository=row.repository.clone()
            data-found=row.found.clone()
            data-last-tags=row.last_tags.join(",")
        >
            <td class="digest">
                <code title=digest.clone()>{row.digest_short.clone()}</code>
                " "
                <button
                    type="button"
                    class="copy"
                    data-testid="copy-digest"
                    title=digest.clone()
                    aria-label=format!("Copy the full digest of untagged {}", row.digest_short)
                    on:click=copy
                >
                    "Copy"
                </button>
            </td>
            <td class="tags">
                {if was.is_empty() {
                    view! { <span class="none">"not known"</span> }.into_any()
                } else {
                    row.last_tags
                        .iter()
                        .map(|tag| view! { <code class="tag was">{tag.clone()}</code> " " })
                        .collect_view()
                        .into_any()
                }}
            </td>
            <td class="kind">{kind}</td>
            <td>
                {row.age.clone()}
                <span class="date">
                    {if row.date.is_empty() {
                        row.date_source.clone()
                    } else {
                        format!("{} ({})", row.date, row.date_source)
                    }}
                </span>
            </td>
            <td class="num">{row.size.clone()}</td>
            <td class="found">
                {row.found.clone()}
                <span class="date">{seen.join("; ")}</span>
            </td>
        </tr>
    }
}

#[component]
fn ImageRowView(row: ImageRow, copied: RwSignal<Option<String>>) -> impl IntoView {
    let digest = row.digest.clone();
    let copy = {
        let digest = digest.clone();
        move |_| {
            browser::copy_text(&digest);
            copied.set(Some(format!("Copied {digest} to the clipboard.")));
        }
    };
    let tags_label = if row.tags.is_empty() {
        "untagged".to_owned()
    } else {
        row.tags.join(", ")
    };
    let kind = if row.platforms.is_empty() {
        row.kind.clone()
    } else {
        format!("{}: {}", row.kind, row.platforms)
    };
    view! {
        <tr
            data-testid="image-row"
            data-digest=digest.clone()
            data-repository=row.repository.clone()
            class:role-attachment=row.attached_to_other
        >
            <td class="tags">
                {row.tags.iter().map(|tag| view! { <code class="tag">{tag.clone()}</code> " " }).collect_view()}
            </td>
            <td class="digest">
                <code title=digest.clone()>{row.digest_short.clone()}</code>
                " "
                <button
                    type="button"
                    class="copy"
                    data-testid="copy-digest"
                    title=digest.clone()
                    aria-label=format!("Copy the full digest of {tags_label}")
                    on:click=copy
                >
                    "Copy"
                </button>
            </td>
            <td class="kind">{kind}</td>
            <td>
                {row.age.clone()}
                <span class="date">
                    {if row.date.is_empty() {
                        row.date_source.clone()
                    } else {
                        format!("{} ({})", row.date, row.date_source)
                    }}
                </span>
            </td>
            <td class="num">{row.size.clone()}</td>
            <td class="attached">
                {if row.attachments.is_empty() {
                    "none".to_owned()
                } else {
                    row.attachments.join(", ")
                }}
            </td>
        </tr>
    }
}
