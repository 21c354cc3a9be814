//! The plan: its status, totals, a chart of what garbage collection frees
//! per repository, and per repository what is kept and deleted and why
//! (images, their children and attachments, untagged manifests, and the
//! single tags `remove_tags` takes off kept images), with a filter,
//! collapsible sections a page of [`SECTION_PAGE`] repositories at a time,
//! paged rows for large registries, and exports as
//! the CLI's plan file (JSON) and as CSV.
//!
//! An image and the entries about its tags share a digest, so a row is
//! told apart by repository, digest and role (and tag), never by digest
//! alone.

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
mod chart;
mod export;
mod in_use;
pub mod model;
mod row;
mod section;

use std::collections::HashMap;
use std::sync::Arc;

use cleanreg_core::format;
use leptos::prelude::*;

use crate::platform::browser;
use crate::state::{AppState, Planned};
use crate::widgets::Pager;
use crate::widgets::paging::{page_count, page_range};
use in_use::InUse;
use model::{DecisionFilter, RepoSummary};
pub use row::PlanRow;
use section::RepoSection;

/// Repository sections per page: the document holds at most this many
/// sections (each of at most a page of rows), whatever the registry's size.
pub const SECTION_PAGE: usize = 50;

/// The plan on screen with what the view derives from it once. Equal when
/// it is the same plan (pointer equality: plans are large).
#[derive(Clone)]
struct Shown {
    planned: Planned,
    summaries: Arc<Vec<RepoSummary>>,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Shown) -> bool {
        self.planned == other.planned
    }
}

#[component]
pub fn PlanView() -> impl IntoView {
    let state = AppState::get();
    let plan = state.plan;
    let name_filter = RwSignal::new(String::new());
    let decision = RwSignal::new(DecisionFilter::All);
    // Sections opened or closed by hand; the rest follow the defaults.
    let expanded: RwSignal<HashMap<String, bool>> = RwSignal::new(HashMap::new());
    let export_error = RwSignal::new(None::<String>);

    let shown = Memo::new(move |_| {
        let planned = plan.get()?;
        let summaries = Arc::new(model::summarize(
            &planned.plan,
            Some(planned.reclaim.as_slice()),
        ));
        Some(Shown { planned, summaries })
    });
    let status = Memo::new(move |_| {
        let held = state.plan_held.get();
        let planning = state.planning.get();
        let (connected, current) = state.session.with(|session| {
            let current = plan.with(|plan| match (session, plan) {
                (Some(_), Some(_)) if held => true,
                (Some(session), Some(Planned { plan, .. })) => {
                    plan.now == session.scanned_at && state.policy.with(|p| *p == plan.policy)
                }
                _ => false,
            });
            (session.is_some(), current)
        });
        model::status(connected, planning, current, held)
    });
    let ready = move || status.get().0 == "ready";

    let export_file = move |json: bool| {
        let Some(Planned { plan, .. }) = plan.get_untracked() else {
            return;
        };
        let Some(registry) = state
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.client.registry().as_str().to_owned()))
        else {
            return;
        };
        let (name, mime, text) = if json {
            (
                export::file_name(&registry, plan.now, "json"),
                "application/json",
                export::json(&registry, &plan),
            )
        } else {
            (
                export::file_name(&registry, plan.now, "csv"),
                "text/csv",
                export::csv(&plan),
            )
        };
        export_error.set(browser::download(&name, mime, &text).err());
    };

    // The sections matching the filters, all of them; `sections` is the
    // page of them on screen.
    let matching = move || {
        let text = name_filter.get();
        let decision = decision.get();
        shown.with(|shown| {
            shown
                .as_ref()
                .map(|shown| {
                    shown
                        .summaries
                        .iter()
                        .filter(|s| {
                            model::name_matches(&s.repository, &text) && decision.count(s) > 0
                        })
                        .map(|s| (shown.planned.plan.clone(), s.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    // A page of repository sections at a time: a registry of hundreds of
    // repositories would otherwise build every section in one task.
    let section_page = RwSignal::new(0_usize);
    let sections = move || {
        let mut all = matching();
        let range = page_range(all.len(), SECTION_PAGE, section_page.get());
        all.truncate(range.end);
        all.drain(..range.start);
        all
    };
    let section_pages = move || page_count(matching().len(), SECTION_PAGE);
    let section_pager_text = move || {
        let len = matching().len();
        let range = page_range(len, SECTION_PAGE, section_page.get());
        format!("Repositories {}–{} of {len}", range.start + 1, range.end)
    };
    let section_count = move || {
        let matching_now = matching().len();
        let all = shown.with(|s| s.as_ref().map_or(0, |s| s.summaries.len()));
        format!("{matching_now} of {all} repositories shown")
    };
    let as_of = move || {
        plan.with(|plan| {
            plan.as_ref()
                .map(|p| format!("Ages are as of the scan, {}.", format::date(p.plan.now)))
        })
    };

    view! {
        <p
            class="plan-status"
            data-testid="plan-status"
            role="status"
            data-state=move || status.get().0
        >
            {move || status.get().1}
        </p>
        <Show when=move || state.session.with(Option::is_some)>
            <InUse />
        </Show>
        <Show when=move || shown.with(Option::is_some)>
            <section class="plan" aria-labelledby="plan-heading">
                <h2 id="plan-heading">"Plan"</h2>
                <p class="hint">{as_of}</p>
                {move || {
                    shown
                        .with(|shown| {
                            shown
                                .as_ref()
                                .map(|shown| {
                                    let totals = shown.planned.plan.totals();
                                    let whole = shown.planned.plan.reclaimable.whole_registry;
                                    view! { <Totals totals=totals whole_registry=whole /> }
                                })
                        })
                }}
                <div class="plan-exports">
                    <button
                        type="button"
                        data-testid="plan-export-json"
                        disabled=move || !ready()
                        on:click=move |_| export_file(true)
                    >
                        "Export plan (JSON, for cleanreg --apply-plan)"
                    </button>
                    <button
                        type="button"
                        data-testid="plan-export-csv"
                        disabled=move || !ready()
                        on:click=move |_| export_file(false)
                    >
                        "Export as CSV"
                    </button>
                    {move || {
                        export_error
                            .get()
                            .map(|e| view! { <p class="error" role="alert">{e}</p> })
                    }}
                </div>
                {move || {
                    shown
                        .with(|shown| {
                            shown
                                .as_ref()
                                .map(|shown| {
                                    let figures = &shown.planned.reclaim;
                                    view! {
                                        <chart::ReclaimChart bars=chart::bars(figures, chart::TOP) />
                                    }
                                })
                        })
                }}
                <Show
                    when=move || shown.with(|s| s.as_ref().is_some_and(|s| !s.planned.plan.entries.is_empty()))
                    fallback=|| view! { <p class="empty">"The registry holds no tagged images."</p> }
                >
                    <div class="plan-filter" role="search" aria-label="Filter the plan">
                        <label>
                            "Repository "
                            <input
                                type="search"
                                data-testid="plan-filter"
                                placeholder="part of a name"
                                prop:value=move || name_filter.get()
                                on:input=move |ev| {
                                    section_page.set(0);
                                    name_filter.set(event_target_value(&ev));
                                }
                            />
                        </label>
                        <label>
                            "Decision "
                            <select
                                data-testid="plan-decision"
                                on:change=move |ev| {
                                    section_page.set(0);
                                    decision.set(DecisionFilter::from_key(&event_target_value(&ev)));
                                }
                                prop:value=move || decision.get().key()
                            >
                                {DecisionFilter::ALL
                                    .into_iter()
                                    .map(|f| view! { <option value=f.key()>{f.label()}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                        <span class="hint" aria-live="polite">{section_count}</span>
                    </div>
                    <Show
                        when=move || !sections().is_empty()
                        fallback=|| view! { <p class="empty">"No repository matches the filter."</p> }
                    >
                        <For
                            each=sections
                            key=|(plan, summary)| (Arc::as_ptr(plan) as usize, summary.repository.clone())
                            children=move |(plan, summary)| {
                                let small = plan.entries.len() <= model::SMALL_PLAN;
                                view! {
                                    <RepoSection
                                        plan=plan
                                        summary=summary
                                        decision=decision
                                        expanded=expanded
                                        small=small
                                    />
                                }
                            }
                        />
                        <Pager
                            page=section_page
                            pages=Signal::derive(section_pages)
                            label=Signal::derive(section_pager_text)
                            testid="plan-repos"
                            aria_label="Pages of repositories"
                        />
                    </Show>
                </Show>
            </section>
        </Show>
    }
}

#[component]
fn Totals(totals: cleanreg_core::PlanTotals, whole_registry: bool) -> impl IntoView {
    let changes = totals.changes();
    let items = model::totals(&totals, whole_registry)
        .into_iter()
        .map(|(label, value)| {
            view! {
                <div>
                    <dt>{label}</dt>
                    <dd>{value}</dd>
                </div>
            }
        })
        .collect_view();
    view! {
        <dl
            class="totals plan-totals"
            data-testid="plan-totals"
            data-kept-images=totals.kept_images
            data-deleted-images=totals.deleted_images
            data-deleted-manifests=totals.deleted_manifests
            data-deleted-tags=totals.deleted_tags
            data-deleted-untagged=totals.deleted_untagged
            data-kept-untagged=totals.kept_untagged
            data-removed-tags=totals.removed_tags
            data-blocked=totals.blocked
            data-changes=changes
            data-reclaimable-bytes=totals.reclaimable_bytes
            data-whole-registry=whole_registry.to_string()
        >
            {items}
        </dl>
    }
}
