//! The plan cut up for the page: per repository summaries, the filter, the
//! totals' wording and the plan's state. Pure, so native tests reach it.

use std::collections::HashMap;
use std::ops::Range;

use cleanreg_core::format;
use cleanreg_core::{Decision, Plan, PlanTotals, RepositoryReclaim, Role};

/// When the whole plan has at most this many entries, every repository
/// starts open with all its rows on the page.
pub const SMALL_PLAN: usize = 1_000;

/// One repository of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSummary {
    pub repository: String,
    /// Its entries in `Plan::entries` (the plan keeps each repository's
    /// entries together).
    pub entries: Range<usize>,
    pub kept_images: usize,
    pub deleted_images: usize,
    /// Untagged manifests deleted and kept (not their children).
    pub deleted_untagged: usize,
    pub kept_untagged: usize,
    /// Entries kept, deleted and untagged (tag removals), whatever their
    /// role.
    pub keep_entries: usize,
    pub delete_entries: usize,
    pub untag_entries: usize,
    pub deleted_tags: usize,
    /// Deletes and tag removals apply will not send (no delete permission);
    /// also counted above.
    pub blocked_entries: usize,
    /// What garbage collection frees that this repository's deletes free
    /// first; `None` when the figures are not known.
    pub reclaimable: Option<u64>,
}

/// Every repository with entries, in plan order.
pub fn summarize(plan: &Plan, reclaim: Option<&[RepositoryReclaim]>) -> Vec<RepoSummary> {
    let freed: Option<HashMap<&str, u64>> = reclaim.map(|figures| {
        figures
            .iter()
            .map(|f| (f.repository.as_str(), f.bytes))
            .collect()
    });
    let mut out: Vec<RepoSummary> = Vec::new();
    for (at, entry) in plan.entries.iter().enumerate() {
        let name = entry.repository.as_str();
        if out.last().is_none_or(|last| last.repository != name) {
            out.push(RepoSummary {
                repository: name.to_owned(),
                entries: at..at,
                kept_images: 0,
                deleted_images: 0,
                deleted_untagged: 0,
                kept_untagged: 0,
                keep_entries: 0,
                delete_entries: 0,
                untag_entries: 0,
                deleted_tags: 0,
                blocked_entries: 0,
                reclaimable: freed
                    .as_ref()
                    .map(|freed| freed.get(name).copied().unwrap_or(0)),
            });
        }
        let summary = out.last_mut().expect("pushed above");
        summary.entries.end = at + 1;
        let image = entry.role == Role::Image;
        let untagged = matches!(entry.role, Role::Untagged(_));
        if entry.blocked.is_some() && entry.decision.is_change() {
            summary.blocked_entries += 1;
        }
        match &entry.decision {
            Decision::Delete { .. } => {
                summary.delete_entries += 1;
                summary.deleted_tags += entry.tags.len();
                summary.deleted_images += usize::from(image);
                summary.deleted_untagged += usize::from(untagged);
            }
            Decision::Untag { .. } => summary.untag_entries += 1,
            Decision::Keep { .. } => {
                summary.keep_entries += 1;
                summary.kept_images += usize::from(image);
                summary.kept_untagged += usize::from(untagged);
            }
        }
    }
    out
}

/// Which decisions the plan view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecisionFilter {
    #[default]
    All,
    Keep,
    Delete,
    /// Tags removed from kept images.
    Untag,
}

impl DecisionFilter {
    pub const ALL: [DecisionFilter; 4] = [
        DecisionFilter::All,
        DecisionFilter::Keep,
        DecisionFilter::Delete,
        DecisionFilter::Untag,
    ];

    /// The decision label it shows (`Decision::label`), or `all`.
    pub fn key(self) -> &'static str {
        match self {
            DecisionFilter::All => "all",
            DecisionFilter::Keep => "keep",
            DecisionFilter::Delete => "delete",
            DecisionFilter::Untag => "untag",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DecisionFilter::All => "All",
            DecisionFilter::Keep => "Kept",
            DecisionFilter::Delete => "Deleted",
            DecisionFilter::Untag => "Tags removed",
        }
    }

    pub fn from_key(key: &str) -> DecisionFilter {
        DecisionFilter::ALL
            .into_iter()
            .find(|f| f.key() == key)
            .unwrap_or_default()
    }

    pub fn admits(self, decision: &Decision) -> bool {
        self == DecisionFilter::All || self.key() == decision.label()
    }

    /// How many of the repository's entries it shows.
    pub fn count(self, summary: &RepoSummary) -> usize {
        match self {
            DecisionFilter::All => {
                summary.keep_entries + summary.delete_entries + summary.untag_entries
            }
            DecisionFilter::Keep => summary.keep_entries,
            DecisionFilter::Delete => summary.delete_entries,
            DecisionFilter::Untag => summary.untag_entries,
        }
    }
}

/// Whether a repository name matches the filter text: a case-insensitive
/// part of the name; empty matches all.
pub fn name_matches(name: &str, filter: &str) -> bool {
    let filter = filter.trim();
    filter.is_empty() || name.to_lowercase().contains(&filter.to_lowercase())
}

/// The totals as label and value pairs, in reading order.
pub fn totals(totals: &PlanTotals, whole_registry: bool) -> Vec<(&'static str, String)> {
    let freed = format::bytes(totals.reclaimable_bytes);
    let mut rows = vec![
        ("Images kept", totals.kept_images.to_string()),
        ("Images to delete", totals.deleted_images.to_string()),
        (
            "Untagged manifests",
            format!(
                "{} to delete, {} kept",
                totals.deleted_untagged, totals.kept_untagged
            ),
        ),
        (
            "Manifests to delete",
            format!(
                "{} (images and untagged manifests with their children and attachments)",
                totals.deleted_manifests
            ),
        ),
        (
            "Tags deleted with those manifests",
            totals.deleted_tags.to_string(),
        ),
        (
            "Tags removed from kept images",
            format!(
                "{} (the images and their other tags stay)",
                totals.removed_tags
            ),
        ),
        (
            "Freed by garbage collection",
            if whole_registry {
                freed
            } else {
                format!(
                    "at most {freed} (the scan did not read the whole registry: \
                     repositories it did not read may still use some of these blobs)"
                )
            },
        ),
    ];
    if totals.blocked > 0 {
        // Before the freed bytes, which stay last.
        rows.insert(
            rows.len() - 1,
            (
                "Not sent: no delete permission",
                format!(
                    "{} (deletes and tag removals this account's token does not allow; \
                     apply skips them)",
                    totals.blocked
                ),
            ),
        );
    }
    rows
}

/// What the plan's status line says and its `data-state`.
pub fn status(
    connected: bool,
    planning: bool,
    has_plan: bool,
    held: bool,
) -> (&'static str, &'static str) {
    if !connected {
        ("ready", "Connect and scan to see a plan.")
    } else if held && has_plan {
        (
            "ready",
            "Plan held: it stays as confirmed until the next scan.",
        )
    } else if planning || !has_plan {
        ("planning", "Planning…")
    } else {
        ("ready", "Plan ready.")
    }
}

/// One line for a repository's heading.
pub fn repo_counts(summary: &RepoSummary) -> String {
    let mut text = format!(
        "{} kept, {} to delete",
        plural(summary.kept_images, "image", "images"),
        summary.deleted_images
    );
    if summary.deleted_untagged + summary.kept_untagged > 0 {
        text.push_str(&format!(
            ", {} ({} to delete)",
            plural(
                summary.deleted_untagged + summary.kept_untagged,
                "untagged manifest",
                "untagged manifests"
            ),
            summary.deleted_untagged
        ));
    }
    let extra = summary.delete_entries - summary.deleted_images - summary.deleted_untagged;
    if extra > 0 {
        text.push_str(&format!(
            " (+{} with them)",
            plural(extra, "child or attachment", "children or attachments")
        ));
    }
    if summary.untag_entries > 0 {
        text.push_str(&format!(
            ", {} to remove",
            plural(summary.untag_entries, "tag", "tags")
        ));
    }
    if summary.blocked_entries > 0 {
        text.push_str(&format!(
            ", {} not sent (no delete permission)",
            plural(summary.blocked_entries, "change", "changes")
        ));
    }
    if let Some(bytes) = summary.reclaimable {
        text.push_str(&format!(", frees {}", format::bytes(bytes)));
    }
    text
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::{Digest, Image, Inventory, MediaType, Policy, Repository, plan};
    use time::macros::datetime;

    /// `a` with 3 images, `b` with 1, keep newest 1: a deletes 2.
    fn sample() -> Plan {
        let mut inventory = Inventory::default();
        for (name, count) in [("team/a", 3_u8), ("b", 1)] {
            let mut repository = Repository::default();
            for i in 1..=count {
                let digest = Digest::sha256_of(&[i, count, name.len() as u8]);
                let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(i.into());
                repository.images.insert(
                    digest.clone(),
                    Image::simple(MediaType::DockerManifest, Some(created), 10),
                );
                repository
                    .tags
                    .insert(format!("v{i}").parse().unwrap(), digest);
            }
            inventory
                .repositories
                .insert(name.parse().unwrap(), repository);
        }
        plan(
            &inventory,
            &Policy::keep_newest(1),
            datetime!(2026-06-01 0:00 UTC),
        )
    }

    #[test]
    fn changes_without_delete_permission_are_counted_apart() {
        let mut plan = sample();
        let mut permissions = cleanreg_core::DeletePermissions::none_denied();
        permissions.deny("team/a".parse().unwrap());
        plan.block_denied(&permissions);
        let summaries = summarize(&plan, None);
        let a = summaries.iter().find(|s| s.repository == "team/a").unwrap();
        assert_eq!((a.delete_entries, a.blocked_entries), (2, 2));
        assert_eq!(
            repo_counts(a),
            "1 image kept, 2 to delete, 2 changes not sent (no delete permission)"
        );
        let shown = totals(&plan.totals(), true);
        let blocked = shown
            .iter()
            .find(|(label, _)| *label == "Not sent: no delete permission")
            .expect("a row for what is not sent");
        assert!(blocked.1.starts_with("2 "), "{blocked:?}");
        assert_eq!(shown.last().unwrap().0, "Freed by garbage collection");
        // Without blocked changes there is no such row.
        assert!(
            totals(&sample().totals(), true)
                .iter()
                .all(|(label, _)| !label.starts_with("Not sent"))
        );
    }

    #[test]
    fn summaries_cover_each_repository_once_with_its_counts() {
        let plan = sample();
        let figures = vec![RepositoryReclaim {
            repository: "team/a".parse().unwrap(),
            bytes: 2_000,
            blobs: 2,
        }];
        let summaries = summarize(&plan, Some(&figures));
        assert_eq!(summaries.len(), 2);
        let (b, a) = (&summaries[0], &summaries[1]);
        assert_eq!((b.repository.as_str(), b.entries.clone()), ("b", 0..1));
        assert_eq!((a.repository.as_str(), a.entries.clone()), ("team/a", 1..4));
        assert_eq!((a.kept_images, a.deleted_images, a.deleted_tags), (1, 2, 2));
        assert_eq!((b.kept_images, b.deleted_images), (1, 0));
        assert_eq!((a.reclaimable, b.reclaimable), (Some(2_000), Some(0)));
        assert_eq!(summarize(&plan, None)[1].reclaimable, None);
        assert_eq!(repo_counts(a), "1 image kept, 2 to delete, frees 2.0 kB");
        assert_eq!(DecisionFilter::Delete.count(a), 2);
        assert_eq!(DecisionFilter::Keep.count(a), 1);
        assert_eq!(DecisionFilter::All.count(b), 1);
        let deleted = &plan.entries[a.entries.clone()];
        assert_eq!(
            deleted
                .iter()
                .filter(|e| DecisionFilter::Delete.admits(&e.decision))
                .count(),
            2
        );
    }

    /// `app`: `main` on the newest image and `pr-1`, `v1` on an older one,
    /// two manifests `main` left behind; delete untagged, remove `pr-.*`.
    fn untagged_sample() -> Plan {
        use cleanreg_core::{Found, Untagged};
        let mut repository = Repository::default();
        for (i, tags) in [
            (1_u8, &["pr-1", "v1"][..]),
            (2, &["main"][..]),
            (3, &[]),
            (4, &[]),
        ] {
            let digest = Digest::sha256_of(&[i]);
            let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(i.into());
            repository.images.insert(
                digest.clone(),
                Image::simple(MediaType::OciManifest, Some(created), 10),
            );
            for tag in tags {
                repository.tags.insert(tag.parse().unwrap(), digest.clone());
            }
            if tags.is_empty() {
                repository.untagged.insert(
                    digest,
                    Untagged {
                        found: vec![Found::History],
                        last_tags: vec!["main".parse().unwrap()],
                        ..Untagged::default()
                    },
                );
            }
        }
        let mut inventory = Inventory::default();
        inventory
            .repositories
            .insert("app".parse().unwrap(), repository);
        let policy = Policy::from_toml(
            "[default]\nkeep_newest = 5\ndelete_untagged = true\nremove_tags = 'pr-.*'\n",
        )
        .unwrap();
        plan(&inventory, &policy, datetime!(2026-06-01 0:00 UTC))
    }

    #[test]
    fn untagged_manifests_and_tag_removals_are_counted_and_filtered() {
        let plan = untagged_sample();
        let summaries = summarize(&plan, None);
        let app = &summaries[0];
        assert_eq!(
            (app.kept_images, app.deleted_images, app.deleted_untagged),
            (2, 0, 2)
        );
        assert_eq!(
            (app.keep_entries, app.delete_entries, app.untag_entries),
            (2, 2, 1)
        );
        assert_eq!(
            repo_counts(app),
            "2 images kept, 0 to delete, 2 untagged manifests (2 to delete), 1 tag to remove"
        );
        assert_eq!(DecisionFilter::Untag.count(app), 1);
        assert_eq!(DecisionFilter::Keep.count(app), 2);
        assert_eq!(DecisionFilter::All.count(app), 5);
        let untags: Vec<_> = plan
            .entries
            .iter()
            .filter(|e| DecisionFilter::Untag.admits(&e.decision))
            .collect();
        assert_eq!(untags.len(), 1);
        assert_eq!(untags[0].tags, ["pr-1".parse().unwrap()]);
        assert!(
            !plan
                .entries
                .iter()
                .any(|e| DecisionFilter::Keep.admits(&e.decision) && e.decision.is_untag()),
            "a tag removal is not shown as kept"
        );
        let shown = totals(&plan.totals(), true);
        assert!(shown.contains(&("Untagged manifests", "2 to delete, 0 kept".to_owned())));
        assert!(shown.contains(&(
            "Tags removed from kept images",
            "1 (the images and their other tags stay)".to_owned()
        )));
        assert_eq!(DecisionFilter::from_key("untag"), DecisionFilter::Untag);
    }

    #[test]
    fn filters_match_names_and_decisions() {
        assert!(name_matches("Team/App", " app "));
        assert!(name_matches("team/app", ""));
        assert!(!name_matches("team/app", "web"));
        assert_eq!(DecisionFilter::from_key("delete"), DecisionFilter::Delete);
        assert_eq!(DecisionFilter::from_key("nonsense"), DecisionFilter::All);
    }

    #[test]
    fn totals_say_at_most_when_the_scan_was_partial() {
        let sums = PlanTotals {
            kept_images: 3,
            deleted_images: 2,
            deleted_manifests: 4,
            deleted_tags: 5,
            deleted_bytes: 10,
            reclaimable_bytes: 1_500_000,
            ..PlanTotals::default()
        };
        let whole = totals(&sums, true);
        assert_eq!(whole[0], ("Images kept", "3".to_owned()));
        let freed = whole.len() - 1;
        assert_eq!(
            whole[freed],
            ("Freed by garbage collection", "1.5 MB".to_owned())
        );
        let part = totals(&sums, false);
        assert!(
            part[freed].1.starts_with("at most 1.5 MB"),
            "{}",
            part[freed].1
        );
    }

    #[test]
    fn the_status_is_ready_only_for_a_finished_plan() {
        assert_eq!(status(true, true, true, false).0, "planning");
        assert_eq!(status(true, false, false, false).0, "planning");
        assert_eq!(status(true, false, true, false).0, "ready");
        assert_eq!(status(true, false, true, true).0, "ready");
        assert_eq!(status(false, false, false, false).0, "ready");
    }
}
