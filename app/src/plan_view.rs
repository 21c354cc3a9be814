//! The plan as a table: one row per image, what happens to it and why.

use std::sync::Arc;

use cleanreg_core::format;
use cleanreg_core::{Plan, PlanEntry, Role};
use leptos::prelude::*;
use time::OffsetDateTime;

use crate::state::AppState;
use crate::text;

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
        }
    }

    pub fn rows(plan: &Plan) -> Vec<PlanRow> {
        plan.entries
            .iter()
            .map(|entry| PlanRow::new(entry, plan.now))
            .collect()
    }
}

#[component]
pub fn PlanView() -> impl IntoView {
    let plan: RwSignal<Option<Arc<Plan>>> = AppState::get().plan;
    let rows = Memo::new(move |_| {
        plan.with(|plan| plan.as_deref().map(PlanRow::rows).unwrap_or_default())
    });
    let totals = move || {
        plan.with(|plan| {
            plan.as_deref()
                .map(|plan| text::plan_totals(&plan.totals()))
        })
    };
    view! {
        <Show when=move || plan.with(Option::is_some)>
            <section class="plan">
                <h2>"Plan"</h2>
                <p class="totals" data-testid="plan-totals">{totals}</p>
                <Show
                    when=move || rows.with(|rows| !rows.is_empty())
                    fallback=|| view! { <p class="empty">"The registry holds no tagged images."</p> }
                >
                    <div class="table-wrap">
                        <table data-testid="plan-table">
                            <thead>
                                <tr>
                                    <th>"Repository"</th>
                                    <th>"Digest"</th>
                                    <th>"Tags"</th>
                                    <th>"Kind"</th>
                                    <th>"Created"</th>
                                    <th class="num">"Size"</th>
                                    <th>"Decision"</th>
                                    <th>"Reason"</th>
                                </tr>
                            </thead>
                            <tbody>
                                <For each=move || rows.get() key=|row| row.clone() let:row>
                                    <PlanRowView row=row />
                                </For>
                            </tbody>
                        </table>
                    </div>
                </Show>
            </section>
        </Show>
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
            <td class="reason">{row.reason}</td>
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
