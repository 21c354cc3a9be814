//! The row of an outcome table: which manifest (repository, digest, tags),
//! what became of it as a badge, and why. Apply's outcomes and restore's
//! results share it; they differ only in their names for the same things.

use cleanreg_core::{Digest, RepositoryName, Tag};
use leptos::prelude::*;

/// Which table a row is in, and so its test id, class and data attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeOf {
    /// Apply's outcomes: `outcome-row`, class `outcome-<label>`,
    /// `data-outcome` and `data-tags`.
    Apply,
    /// Restore's results: `restore-row`, class `result-<label>`,
    /// `data-result` and `data-tags-only`, and a cell saying what the entry
    /// is about (`what`).
    Restore { tags_only: bool, what: &'static str },
}

/// What a row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeCells {
    pub repository: RepositoryName,
    pub digest: Digest,
    pub tags: Vec<Tag>,
    /// The outcome's or the result's label: the badge, and the class and
    /// data attribute scripts read.
    pub label: &'static str,
    /// The text of the `.reason` cell.
    pub reason: String,
}

/// The tags as the page lists them: `v1, latest`, or `(untagged)`.
pub fn tags_text(tags: &[Tag]) -> String {
    if tags.is_empty() {
        "(untagged)".to_owned()
    } else {
        tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ")
    }
}

#[component]
pub fn OutcomeRow(of: OutcomeOf, cells: OutcomeCells) -> impl IntoView {
    let OutcomeCells {
        repository,
        digest,
        tags,
        label,
        reason,
    } = cells;
    let class_word = label.replace(' ', "-");
    let (testid, class, data_outcome, data_result, data_tags, data_tags_only, what) = match of {
        OutcomeOf::Apply => (
            "outcome-row",
            format!("outcome-{class_word}"),
            Some(label),
            None,
            Some(tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(",")),
            None,
            None,
        ),
        OutcomeOf::Restore { tags_only, what } => (
            "restore-row",
            format!("result-{class_word}"),
            None,
            Some(label),
            None,
            Some(tags_only.to_string()),
            Some(what),
        ),
    };
    let digest_attr = digest.to_string();
    let digest_title = digest_attr.clone();
    view! {
        <tr
            data-testid=testid
            class=class
            data-outcome=data_outcome
            data-result=data_result
            data-digest=digest_attr
            data-repository=repository.to_string()
            data-tags=data_tags
            data-tags-only=data_tags_only
        >
            <td>{repository.to_string()}</td>
            <td class="digest" title=digest_title>
                <code>{digest.short().to_owned()}</code>
            </td>
            <td class="tags">{tags_text(&tags)}</td>
            {what.map(|what| view! { <td>{what}</td> })}
            <td class="outcome">
                <span class="badge">{label}</span>
            </td>
            <td class="reason">{reason}</td>
        </tr>
    }
}
