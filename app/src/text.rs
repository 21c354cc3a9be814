//! What the page says, as pure functions the native tests reach.

use cleanreg_core::{Inventory, ScanProgress};

pub fn scan_progress(progress: &ScanProgress) -> String {
    format!("Scanning: {progress}")
}

/// What a finished scan found; untagged manifests (found through scan
/// history) only when there are any.
pub fn scan_done(inventory: &Inventory) -> String {
    let mut text = format!(
        "Scan done: {} {}, {} {}, {} {}",
        inventory.repositories.len(),
        plural(inventory.repositories.len(), "repository", "repositories"),
        inventory.image_count(),
        plural(inventory.image_count(), "image", "images"),
        inventory.tag_count(),
        plural(inventory.tag_count(), "tag", "tags"),
    );
    let untagged = inventory.untagged_count();
    if untagged > 0 {
        text.push_str(&format!(
            ", {untagged} untagged {}",
            plural(untagged, "manifest", "manifests")
        ));
    }
    text
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::{Digest, Found, Image, MediaType, Repository, Untagged};

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
        let found = ScanProgress {
            untagged_found: 2,
            current: None,
            ..progress
        };
        assert!(
            scan_progress(&found).ends_with(", 2 untagged found"),
            "{}",
            scan_progress(&found)
        );
    }

    #[test]
    fn a_scan_that_found_untagged_manifests_says_so() {
        let mut inventory = Inventory::default();
        let mut repository = Repository::default();
        let (old, new) = (Digest::sha256_of(b"old"), Digest::sha256_of(b"new"));
        for digest in [&old, &new] {
            repository.images.insert(
                digest.clone(),
                Image::simple(MediaType::OciManifest, None, 1),
            );
        }
        repository.tags.insert("main".parse().unwrap(), new);
        repository.untagged.insert(
            old,
            Untagged {
                found: vec![Found::History],
                ..Untagged::default()
            },
        );
        inventory
            .repositories
            .insert("app".parse().unwrap(), repository);
        assert_eq!(
            scan_done(&inventory),
            "Scan done: 1 repository, 1 image, 1 tag, 1 untagged manifest"
        );
    }
}
