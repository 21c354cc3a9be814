//! The plan: its status, totals, a chart of what garbage collection frees
//! per repository, and per repository what is kept and deleted and why
//! (images, their children and attachments, untagged manifests, and the
//! single tags `remove_tags` takes off kept images), with a filter,
//! collapsible sections and paged rows for large registries, and exports as
//! the CLI's plan file (JSON) and as CSV.
//!
//! An image and the entries about its tags share a digest, so a row is
//! told apart by repository, digest and role (and tag), never by digest
//! alone.

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
    /// `signature of 1a2b3c4d5e6f`, `untagged image (history)`, `tag`.
    pub kind: String,
    /// `image`, `child`, `attachment`, `untagged` or `tag`.
    pub role: &'static str,
    /// For a tag entry: the tag it is about.
    pub tag: Option<String>,
    /// What else the row says: an untagged manifest's last tags (`was
    /// main`), the tags an image keeps after its tag removals.
    pub note: String,
    pub age: String,
    pub date: String,
    pub size: String,
    /// `keep`, `delete` or `untag`.
    pub decision: &'static str,
    pub reason: String,
    /// Why apply will not send this change (e.g. `cannot delete: no delete
    /// permission in team/tool`), if so.
    pub blocked: Option<String>,
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
            Role::Attachment {
                subject,
                kind,
                artifact_type,
            } => (
                match artifact_type {
                    Some(artifact_type) => {
                        format!("{kind} of {} ({artifact_type})", subject.short())
                    }
                    None => format!("{kind} of {}", subject.short()),
                },
                "attachment",
            ),
            Role::Untagged(found) => (
                format!("untagged {} ({})", entry.kind.label(), found.found_label()),
                "untagged",
            ),
            Role::Tag { .. } => (format!("tag of {}", entry.kind.label()), "tag"),
        };
        let note = match &entry.role {
            Role::Untagged(found) if !found.last_tags.is_empty() => format!(
                "was {}",
                found
                    .last_tags
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Role::Tag { remaining } if remaining.is_empty() => String::new(),
            Role::Tag { remaining } => format!(
                "the image keeps {}",
                remaining
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
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
            tag: entry
                .role
                .is_tag()
                .then(|| tags.first().map(|t| (*t).to_owned()))
                .flatten(),
            note,
            age,
            date,
            size: format::bytes(entry.size),
            decision: entry.decision.label(),
            reason: match &entry.blocked {
                Some(blocked) if entry.decision.is_change() => format!(
                    "{blocked}; the policy would {}: {}",
                    entry.decision.label(),
                    entry.decision.reason()
                ),
                _ => entry.decision.reason(),
            },
            blocked: entry
                .blocked
                .as_ref()
                .filter(|_| entry.decision.is_change())
                .map(ToString::to_string),
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
            blocked: None,
        }
    }

    #[test]
    fn a_blocked_delete_says_why_it_is_not_sent() {
        let mut blocked = entry(
            None,
            Decision::Delete {
                reason: DeleteReason::UnknownAge,
            },
        );
        blocked.blocked = Some(cleanreg_core::Blocked::NoDeletePermission {
            repository: "team/app".parse().unwrap(),
        });
        let row = PlanRow::new(&blocked, datetime!(2026-06-01 0:00 UTC));
        assert_eq!(row.decision, "delete");
        assert_eq!(
            row.blocked.as_deref(),
            Some("cannot delete: no delete permission in team/app")
        );
        assert!(
            row.reason.starts_with(
                "cannot delete: no delete permission in team/app; the policy would delete: "
            ),
            "{}",
            row.reason
        );
        let kept = entry(
            None,
            Decision::Keep {
                reason: KeepReason::NoLimit,
            },
        );
        assert_eq!(
            PlanRow::new(&kept, datetime!(2026-06-01 0:00 UTC)).blocked,
            None
        );
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
    fn untagged_and_tag_rows_say_what_they_are_about() {
        let now = datetime!(2026-06-04 0:00 UTC);
        let mut untagged = entry(
            Some(datetime!(2026-05-01 0:00 UTC)),
            Decision::Delete {
                reason: DeleteReason::Untagged,
            },
        );
        untagged.tags = Vec::new();
        untagged.role = Role::Untagged(cleanreg_core::Untagged {
            found: vec![cleanreg_core::Found::History],
            last_tags: vec!["main".parse().unwrap()],
            ..cleanreg_core::Untagged::default()
        });
        let row = PlanRow::new(&untagged, now);
        assert_eq!((row.role, row.decision), ("untagged", "delete"));
        assert_eq!(row.kind, "untagged image (history)");
        assert_eq!(
            (row.tags.as_str(), row.note.as_str()),
            ("(untagged)", "was main")
        );
        assert_eq!(row.tag, None);

        let mut tag = entry(
            Some(datetime!(2026-05-01 0:00 UTC)),
            Decision::Untag {
                reason: cleanreg_core::UntagReason::RemoveTags {
                    pattern: "pr-.*".into(),
                },
            },
        );
        tag.tags = vec!["pr-1".parse().unwrap()];
        tag.role = Role::Tag {
            remaining: vec!["latest".parse().unwrap(), "v1".parse().unwrap()],
        };
        let row = PlanRow::new(&tag, now);
        assert_eq!((row.role, row.decision), ("tag", "untag"));
        assert_eq!(row.tag.as_deref(), Some("pr-1"));
        assert_eq!(row.note, "the image keeps latest, v1");
        assert_eq!(row.reason, "matches remove_tags pr-.*");
        // Same digest as its image, told apart by role and tag.
        let image = PlanRow::new(
            &entry(
                None,
                Decision::Keep {
                    reason: KeepReason::NoLimit,
                },
            ),
            now,
        );
        assert_eq!(image.digest, row.digest);
        assert_ne!((image.role, image.tag), (row.role, row.tag.clone()));
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

/// The plan view in a real browser (wasm-bindgen-test, headless Chromium):
/// rows for untagged manifests and for the tags of a kept image, which
/// share the image's digest.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use super::*;
    use cleanreg_core::{
        Decision, DeleteReason, Digest, Found, ImageKind, KeepReason, MediaType, Policy,
        Reclaimable, UntagReason, Untagged,
    };
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use crate::planner::PlanDetails;
    use crate::route::Route;

    wasm_bindgen_test_configure!(run_in_browser);

    fn entry(digest: &Digest, tags: &[&str], role: Role, decision: Decision) -> PlanEntry {
        PlanEntry {
            repository: "app".parse().unwrap(),
            digest: digest.clone(),
            tags: tags.iter().map(|t| t.parse().unwrap()).collect(),
            media_type: MediaType::OciManifest,
            kind: ImageKind::Image,
            role,
            created: None,
            created_from: None,
            size: 1_000,
            platforms: Vec::new(),
            rule: None,
            decision,
            blocked: None,
        }
    }

    fn rows(root: &web_sys::Element, selector: &str) -> Vec<web_sys::Element> {
        let list = root.query_selector_all(selector).unwrap();
        (0..list.length())
            .filter_map(|i| list.get(i))
            .map(|node| node.unchecked_into())
            .collect()
    }

    async fn settle() {
        for _ in 0..3 {
            crate::browser::yield_now().await;
        }
    }

    #[wasm_bindgen_test]
    async fn tag_and_untagged_rows_are_told_apart_and_filtered() {
        let (image, old) = (Digest::sha256_of(b"image"), Digest::sha256_of(b"old"));
        let kept = KeepReason::NoLimit;
        let untag = Decision::Untag {
            reason: UntagReason::RemoveTags {
                pattern: "pr-.*".into(),
            },
        };
        let plan = Plan {
            now: time::OffsetDateTime::UNIX_EPOCH,
            policy: Policy::keep_newest(1),
            entries: vec![
                entry(
                    &image,
                    &["latest", "pr-1", "pr-2"],
                    Role::Image,
                    Decision::Keep {
                        reason: kept.clone(),
                    },
                ),
                entry(
                    &image,
                    &["pr-1"],
                    Role::Tag {
                        remaining: vec!["latest".parse().unwrap()],
                    },
                    untag.clone(),
                ),
                entry(
                    &image,
                    &["pr-2"],
                    Role::Tag {
                        remaining: vec!["latest".parse().unwrap()],
                    },
                    untag,
                ),
                entry(
                    &old,
                    &[],
                    Role::Untagged(Untagged {
                        found: vec![Found::History],
                        last_tags: vec!["main".parse().unwrap()],
                        ..Untagged::default()
                    }),
                    Decision::Delete {
                        reason: DeleteReason::Untagged,
                    },
                ),
            ],
            reclaimable: Reclaimable::default(),
        };
        let state = AppState::new(Route::default());
        state.plan.set(Some(Arc::new(plan)));
        let document = web_sys::window().unwrap().document().unwrap();
        let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&host).unwrap();
        let root: web_sys::Element = host.clone().into();
        let mounted = leptos::mount::mount_to(host, move || {
            provide_context(state);
            provide_context(PlanDetails {
                reclaim: RwSignal::new(None),
            });
            view! { <PlanView /> }
        });
        settle().await;

        let all = rows(&root, "[data-testid=\"plan-row\"]");
        assert_eq!(all.len(), 4);
        let keyed: Vec<(String, String, Option<String>)> = all
            .iter()
            .map(|row| {
                (
                    row.get_attribute("data-digest").unwrap(),
                    row.get_attribute("data-role").unwrap(),
                    row.get_attribute("data-tag"),
                )
            })
            .collect();
        let mut unique = keyed.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 4, "{keyed:?}");
        assert_eq!(
            keyed
                .iter()
                .filter(|(digest, ..)| *digest == image.to_string())
                .count(),
            3
        );
        assert_eq!(keyed[1].2.as_deref(), Some("pr-1"));
        let untagged = &all[3];
        assert_eq!(
            untagged.get_attribute("data-role").as_deref(),
            Some("untagged")
        );
        assert!(untagged.text_content().unwrap().contains("was main"));
        assert!(
            all[1]
                .text_content()
                .unwrap()
                .contains("the image keeps latest")
        );

        let totals = root
            .query_selector("[data-testid=\"plan-totals\"]")
            .unwrap()
            .unwrap();
        for (attribute, value) in [
            ("data-removed-tags", "2"),
            ("data-deleted-untagged", "1"),
            ("data-changes", "3"),
            ("data-deleted-manifests", "1"),
        ] {
            assert_eq!(
                totals.get_attribute(attribute).as_deref(),
                Some(value),
                "{attribute}"
            );
        }

        let filter: web_sys::HtmlSelectElement = root
            .query_selector("[data-testid=\"plan-decision\"]")
            .unwrap()
            .unwrap()
            .unchecked_into();
        filter.set_value("untag");
        filter
            .dispatch_event(&web_sys::Event::new("change").unwrap())
            .unwrap();
        settle().await;
        let shown = rows(&root, "[data-testid=\"plan-row\"]");
        assert_eq!(shown.len(), 2);
        assert!(
            shown
                .iter()
                .all(|row| row.get_attribute("data-decision").as_deref() == Some("untag"))
        );
        filter.set_value("keep");
        filter
            .dispatch_event(&web_sys::Event::new("change").unwrap())
            .unwrap();
        settle().await;
        assert_eq!(rows(&root, "[data-testid=\"plan-row\"]").len(), 1);
        drop(mounted);
    }
}
