//! The plan: its status, totals, a chart of what garbage collection frees
//! per repository, and per repository what is kept and deleted and why,
//! with a filter, collapsible sections and paged rows for large
//! registries, and exports as the CLI's plan file (JSON) and as CSV.

mod chart;
mod export;
mod model;

use std::collections::HashMap;
use std::sync::Arc;

use cleanreg_core::format;
use cleanreg_core::{Plan, PlanEntry, RepositoryReclaim, Role};
use leptos::prelude::*;
use time::OffsetDateTime;

use crate::browser;
use crate::planner::PlanDetails;
use crate::route::View;
use crate::state::AppState;

use model::{DecisionFilter, RepoSummary};
/// One table row, every cell already text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlanRow {
    pub repository: String,
    pub digest: String,
    pub digest_short: String,
    pub tags: String,
    /// `image`, `index linux/amd64, linux/arm64`, `child linux/arm64`,
    /// `signature of 1a2b3c4d5e6f`.
    pub kind: String,
    /// `image`, `child` or `attachment`.
    pub role: &'static str,
    pub age: String,
    pub date: String,
    pub size: String,
    /// `keep` or `delete`.
    pub decision: &'static str,
    pub reason: String,
    /// The rule that decided: `rule team/*` or `default rule`.
    pub rule: String,
}

impl PlanRow {
    pub fn new(entry: &PlanEntry, now: OffsetDateTime) -> PlanRow {
        let tags: Vec<&str> = entry.tags.iter().map(|t| t.as_str()).collect();
        let (age, date) = match (entry.created, entry.created_from) {
            (Some(created), Some(source)) => (
                format::age(created, now),
                format!("{} (from {source})", format::date(created)),
            ),
            (Some(created), None) => (format::age(created, now), format::date(created)),
            _ => ("unknown".to_owned(), String::new()),
        };
        let platforms = entry
            .platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let (kind, role) = match &entry.role {
            Role::Image if platforms.is_empty() => (entry.kind.label().to_owned(), "image"),
            Role::Image => (format!("index {platforms}"), "image"),
            Role::Child { platform, .. } => (
                platform
                    .as_ref()
                    .map_or_else(|| "child".to_owned(), |p| format!("child {p}")),
                "child",
            ),
            Role::Attachment { subject, kind } => {
                (format!("{kind} of {}", subject.short()), "attachment")
            }
            Role::Untagged(found) => (
                format!("untagged {} ({})", entry.kind.label(), found.found_label()),
                "untagged",
            ),
            Role::Tag { .. } => ("tag".to_owned(), "tag"),
        };
        PlanRow {
            repository: entry.repository.to_string(),
            digest: entry.digest.to_string(),
            digest_short: entry.digest.short().to_owned(),
            tags: if tags.is_empty() {
                "(untagged)".to_owned()
            } else {
                tags.join(", ")
            },
            kind,
            role,
            age,
            date,
            size: format::bytes(entry.size),
            decision: entry.decision.label(),
            reason: entry.decision.reason(),
            rule: entry
                .rule
                .as_ref()
                .map_or_else(|| "default rule".to_owned(), |p| format!("rule {p}")),
        }
    }

    pub fn rows(plan: &Plan) -> Vec<PlanRow> {
        plan.entries
            .iter()
            .map(|entry| PlanRow::new(entry, plan.now))
            .collect()
    }
}

/// The plan on screen with what the view derives from it once. Equal when
/// it is the same plan and figures (pointer equality: plans are large).
#[derive(Clone)]
struct Shown {
    plan: Arc<Plan>,
    summaries: Arc<Vec<RepoSummary>>,
    reclaim: Option<Arc<Vec<RepositoryReclaim>>>,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Shown) -> bool {
        Arc::ptr_eq(&self.plan, &other.plan)
            && self.reclaim.as_ref().map(Arc::as_ptr) == other.reclaim.as_ref().map(Arc::as_ptr)
    }
}

#[component]
pub fn PlanView() -> impl IntoView {
    let state = AppState::get();
    let details = expect_context::<PlanDetails>();
    let plan = state.plan;
    let name_filter = RwSignal::new(String::new());
    let decision = RwSignal::new(DecisionFilter::All);
    // Sections opened or closed by hand; the rest follow the defaults.
    let expanded: RwSignal<HashMap<String, bool>> = RwSignal::new(HashMap::new());
    let export_error = RwSignal::new(None::<String>);

    let shown = Memo::new(move |_| {
        let plan = plan.get()?;
        let reclaim = details.reclaim_for(&plan);
        let summaries = Arc::new(model::summarize(
            &plan,
            reclaim.as_deref().map(Vec::as_slice),
        ));
        Some(Shown {
            plan,
            summaries,
            reclaim,
        })
    });
    let status = Memo::new(move |_| {
        let held = state.plan_held.get();
        let planning = state.planning.get();
        let (connected, current) = state.session.with(|session| {
            let current = plan.with(|plan| match (session, plan) {
                (Some(_), Some(_)) if held => true,
                (Some(session), Some(plan)) => {
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
        let Some(plan) = plan.get_untracked() else {
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

    let sections = move || {
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
                        .map(|s| (shown.plan.clone(), s.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let section_count = move || {
        let shown_now = sections().len();
        let all = shown.with(|s| s.as_ref().map_or(0, |s| s.summaries.len()));
        format!("{shown_now} of {all} repositories shown")
    };
    let as_of = move || {
        plan.with(|plan| {
            plan.as_ref()
                .map(|plan| format!("Ages are as of the scan, {}.", format::date(plan.now)))
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
                                    let totals = shown.plan.totals();
                                    let whole = shown.plan.reclaimable.whole_registry;
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
                                .and_then(|shown| shown.reclaim.clone())
                                .map(|figures| {
                                    view! {
                                        <chart::ReclaimChart bars=chart::bars(&figures, chart::TOP) />
                                    }
                                })
                        })
                }}
                <Show
                    when=move || shown.with(|s| s.as_ref().is_some_and(|s| !s.plan.entries.is_empty()))
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
                                on:input=move |ev| name_filter.set(event_target_value(&ev))
                            />
                        </label>
                        <label>
                            "Decision "
                            <select
                                data-testid="plan-decision"
                                on:change=move |ev| {
                                    decision.set(DecisionFilter::from_key(&event_target_value(&ev)))
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
                    </Show>
                </Show>
            </section>
        </Show>
    }
}

#[component]
fn Totals(totals: cleanreg_core::PlanTotals, whole_registry: bool) -> impl IntoView {
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
            data-reclaimable-bytes=totals.reclaimable_bytes
            data-whole-registry=whole_registry.to_string()
        >
            {items}
        </dl>
    }
}

/// One repository: a heading that opens and closes it (and chooses it in
/// the URL), its counts, and its rows a page at a time.
#[component]
fn RepoSection(
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

    let page_size = if small { usize::MAX } else { model::PAGE_SIZE };
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
    let pages = move || model::page_count(indices.with(Vec::len), page_size);
    let current = move || page.get().min(pages() - 1);
    let rows = move || {
        indices.with(|indices| {
            let shown = model::page_range(indices.len(), page_size, page.get());
            plan.with_value(|plan| {
                indices[shown]
                    .iter()
                    .map(|&at| PlanRow::new(&plan.entries[at], plan.now))
                    .collect::<Vec<_>>()
            })
        })
    };
    let pager_text = move || {
        let count = indices.with(Vec::len);
        let shown = model::page_range(count, page_size, page.get());
        format!("Rows {}–{} of {count}", shown.start + 1, shown.end)
    };
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
                    <Show when=move || { pages() > 1 }>
                        <nav class="pager" aria-label=pager_label.get_value()>
                            <button
                                type="button"
                                data-testid="plan-page-prev"
                                disabled=move || current() == 0
                                on:click=move |_| page.set(current().saturating_sub(1))
                            >
                                "Previous"
                            </button>
                            <span aria-live="polite">{pager_text}</span>
                            <button
                                type="button"
                                data-testid="plan-page-next"
                                disabled=move || current() + 1 >= pages()
                                on:click=move |_| page.set((current() + 1).min(pages() - 1))
                            >
                                "Next"
                            </button>
                        </nav>
                    </Show>
                </Show>
            </div>
        </section>
    }
}

#[component]
fn PlanRowView(row: PlanRow) -> impl IntoView {
    let class = format!("decision-{} role-{}", row.decision, row.role);
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
        >
            <td>{row.repository}</td>
            <td class="digest" title=row.digest>
                <code>{row.digest_short}</code>
            </td>
            <td>{row.tags}</td>
            <td class="kind">{row.kind}</td>
            <td>
                {row.age}
                <span class="date">{row.date}</span>
            </td>
            <td class="num">{row.size}</td>
            <td>
                <span class="badge">{row.decision}</span>
            </td>
            <td class="reason">
                {row.reason}
                <span class="rule">{row.rule}</span>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::{Decision, DeleteReason, ImageKind, KeepReason, MediaType, Role};
    use time::macros::datetime;

    fn entry(created: Option<OffsetDateTime>, decision: Decision) -> PlanEntry {
        PlanEntry {
            repository: "team/app".parse().unwrap(),
            digest: format!("sha256:{}", "ab".repeat(32)).parse().unwrap(),
            tags: vec!["v1".parse().unwrap(), "latest".parse().unwrap()],
            media_type: MediaType::parse("application/vnd.oci.image.manifest.v1+json"),
            kind: ImageKind::Image,
            role: Role::Image,
            created,
            created_from: created.map(|_| cleanreg_core::DateSource::Config),
            size: 2_000,
            platforms: Vec::new(),
            rule: None,
            decision,
        }
    }

    #[test]
    fn a_delete_row_names_everything() {
        let now = datetime!(2026-06-04 0:00 UTC);
        let row = PlanRow::new(
            &entry(
                Some(datetime!(2026-06-01 0:00 UTC)),
                Decision::Delete {
                    reason: DeleteReason::Expired {
                        rank: 3,
                        keep_newest: Some(2),
                        older_than: Vec::new(),
                    },
                },
            ),
            now,
        );
        assert_eq!(row.decision, "delete");
        assert_eq!(row.digest, format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(row.digest_short, "ab".repeat(6));
        assert_eq!(row.tags, "v1, latest");
        assert_eq!(row.age, "3 days ago");
        assert_eq!(row.date, "2026-06-01 00:00 UTC (from config)");
        assert_eq!((row.kind.as_str(), row.role), ("image", "image"));
        assert_eq!(row.size, "2.0 kB");
        assert!(row.reason.starts_with("3rd newest"), "{}", row.reason);
    }

    #[test]
    fn an_undated_image_says_unknown() {
        let row = PlanRow::new(
            &entry(
                None,
                Decision::Keep {
                    reason: KeepReason::UnknownAge,
                },
            ),
            datetime!(2026-06-04 0:00 UTC),
        );
        assert_eq!((row.age.as_str(), row.date.as_str()), ("unknown", ""));
        assert_eq!(row.decision, "keep");
    }
}
