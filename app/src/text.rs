//! What the page says, as pure functions the native tests reach.

use cleanreg_core::format;
use cleanreg_core::{ApplyCounts, Inventory, PlanTotals, ScanProgress};

pub fn scan_progress(progress: &ScanProgress) -> String {
    format!("Scanning: {progress}")
}

pub fn scan_done(inventory: &Inventory) -> String {
    format!(
        "Scan done: {} {}, {} {}, {} {}",
        inventory.repositories.len(),
        plural(inventory.repositories.len(), "repository", "repositories"),
        inventory.image_count(),
        plural(inventory.image_count(), "image", "images"),
        inventory.tag_count(),
        plural(inventory.tag_count(), "tag", "tags"),
    )
}

pub fn plan_totals(totals: &PlanTotals) -> String {
    format!(
        "{} {} kept, {} to delete ({} {} with children and attachments, {} {} removed); \
         garbage collection frees {}",
        totals.kept_images,
        plural(totals.kept_images, "image", "images"),
        totals.deleted_images,
        totals.deleted_manifests,
        plural(totals.deleted_manifests, "manifest", "manifests"),
        totals.deleted_tags,
        plural(totals.deleted_tags, "tag", "tags"),
        format::bytes(totals.reclaimable_bytes),
    )
}

/// The confirmation question: exactly what goes, and that it is final.
pub fn confirm_question(totals: &PlanTotals, registry: &str) -> String {
    format!(
        "Delete {} {} from {registry}? This removes {} {} with them. It cannot be undone: \
         the registry keeps no copy once a manifest is deleted.",
        totals.deleted_manifests,
        plural(totals.deleted_manifests, "manifest", "manifests"),
        totals.deleted_tags,
        plural(totals.deleted_tags, "tag", "tags"),
    )
}

pub fn apply_progress(counts: &ApplyCounts) -> String {
    format!(
        "Deleting: {} of {} ({} deleted, {} skipped, {} failed)",
        counts.done(),
        counts.total,
        counts.deleted,
        counts.skipped,
        counts.failed
    )
}

pub fn apply_done(counts: &ApplyCounts) -> String {
    format!(
        "Apply done: {} deleted, {} skipped, {} failed",
        counts.deleted, counts.skipped, counts.failed
    )
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_read_as_sentences() {
        let progress = ScanProgress {
            repositories_total: 5,
            repositories_done: 2,
            tags_total: 30,
            manifests_read: 31,
            blobs_read: 4,
            current: Some("acme/api".parse().unwrap()),
        };
        assert_eq!(
            scan_progress(&progress),
            "Scanning: 2 of 5 repositories listed, 31 manifests read (30 tags), 4 configs read (last: acme/api)"
        );
        let counts = ApplyCounts {
            total: 8,
            deleted: 2,
            skipped: 1,
            failed: 0,
        };
        assert_eq!(
            apply_progress(&counts),
            "Deleting: 3 of 8 (2 deleted, 1 skipped, 0 failed)"
        );
        assert_eq!(
            apply_done(&counts),
            "Apply done: 2 deleted, 1 skipped, 0 failed"
        );
        assert_eq!(
            scan_done(&Inventory::default()),
            "Scan done: 0 repositories, 0 images, 0 tags"
        );
    }

    #[test]
    fn totals_and_confirmation_name_the_counts() {
        let totals = PlanTotals {
            kept_images: 1,
            deleted_images: 2,
            deleted_manifests: 3,
            deleted_tags: 4,
            deleted_bytes: 1_500_000,
            reclaimable_bytes: 1_000_000,
        };
        assert_eq!(
            plan_totals(&totals),
            "1 image kept, 2 to delete (3 manifests with children and attachments, 4 tags removed); \
             garbage collection frees 1.0 MB"
        );
        let question = confirm_question(&totals, "http://r:5000");
        assert!(question.starts_with("Delete 3 manifests from http://r:5000?"));
        assert!(question.contains("4 tags") && question.contains("cannot be undone"));
    }
}
