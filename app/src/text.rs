//! What the page says, as pure functions the native tests reach.

use cleanreg_core::{Inventory, ScanProgress};

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
            ..ScanProgress::default()
        };
        assert_eq!(
            scan_progress(&progress),
            "Scanning: 2 of 5 repositories listed, 31 manifests read (30 tags), 4 configs read (last: acme/api)"
        );
        assert_eq!(
            scan_done(&Inventory::default()),
            "Scan done: 0 repositories, 0 images, 0 tags"
        );
    }
}
