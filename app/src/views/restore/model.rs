//! The pure parts of restoring: whether a recovery file fits the
//! connection, what it holds, what each entry is about, and what the page
//! says while and after restoring. Native tests reach all of it.
//!
//! A file made for another registry is refused, as the CLI refuses it: its
//! manifests and tags belong there.

use std::sync::Arc;

use cleanreg_core::format;
use cleanreg_core::{RecoveryFile, RegistryUrl, RestoreCounts, RestoreOutcome, RestoreResult};
use time::OffsetDateTime;

/// A recovery file that was read, with the name it was picked under.
pub type Picked = Option<(String, Arc<RecoveryFile>)>;

/// What an entry of a recovery file is about: a deleted manifest, or an
/// image that stayed and lost the entry's tags.
pub fn entry_kind(tags_only: bool) -> &'static str {
    if tags_only {
        "tags removed (the image stayed)"
    } else {
        "manifest deleted"
    }
}

/// The text of a restore result's detail cell.
pub fn result_detail(outcome: &RestoreOutcome) -> String {
    match &outcome.result {
        RestoreResult::Failed { reason } => reason.clone(),
        _ => outcome.to_string(),
    }
}

/// Why a recovery file cannot be restored with this connection; `None`
/// when it can.
pub fn restore_blocker(file: &RecoveryFile, connected: Option<&RegistryUrl>) -> Option<String> {
    match connected {
        None => Some(format!(
            "Connect first: enter {} above and press Connect, then restore.",
            file.registry
        )),
        Some(registry) if !file.is_for(registry) => Some(format!(
            "This file was made for {}, but the page is connected to {registry}. A restore \
             only works on the registry the manifests came from (their blobs are there): \
             connect to {} first.",
            file.registry, file.registry
        )),
        Some(_) => None,
    }
}

/// What a recovery file holds: manifests deleted, and images that only
/// lost tags (`tags_only`), e.g. `2 manifests (0 tags) and the removed tags
/// of 1 image (2 tags)`.
pub fn recovery_holds(file: &RecoveryFile) -> String {
    let (only, deleted): (Vec<_>, Vec<_>) = file.entries.iter().partition(|e| e.tags_only);
    let tags = |entries: &[&cleanreg_core::RecoveryEntry]| -> usize {
        entries.iter().map(|e| e.tags.len()).sum()
    };
    let mut text = format!(
        "{} {} ({} {})",
        deleted.len(),
        plural(deleted.len(), "manifest", "manifests"),
        tags(&deleted),
        plural(tags(&deleted), "tag", "tags"),
    );
    if !only.is_empty() {
        text.push_str(&format!(
            " and the removed tags of {} {} ({} {})",
            only.len(),
            plural(only.len(), "image", "images"),
            tags(&only),
            plural(tags(&only), "tag", "tags"),
        ));
    }
    text
}

/// One line about a recovery file that was read.
pub fn recovery_summary(file: &RecoveryFile, now: OffsetDateTime) -> String {
    let repositories: std::collections::BTreeSet<_> =
        file.entries.iter().map(|e| &e.repository).collect();
    format!(
        "{} in {} {} of {}, planned {} ({}). Garbage collection that ran since \
         may have removed blobs they need; those entries will fail.",
        recovery_holds(file),
        repositories.len(),
        plural(repositories.len(), "repository", "repositories"),
        file.registry,
        format::age(file.created, now),
        format::date(file.created),
    )
}

pub fn restore_running(done: usize, total: usize) -> String {
    format!("Restoring: {done} of {total}")
}

/// The finished line; contains the word `done`.
pub fn restore_done(counts: &RestoreCounts) -> String {
    format!(
        "Restore done: {} restored, {} already present, {} partly restored, {} failed (of {}).",
        counts.restored, counts.already_present, counts.partial, counts.failed, counts.total
    )
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::{Digest, MediaType, RECOVERY_FORMAT, RecoveryEntry};
    use time::macros::datetime;

    #[test]
    fn a_failed_restore_shows_its_reason_and_others_their_line() {
        let mut outcome = RestoreOutcome {
            index: 0,
            repository: "team/app".parse().unwrap(),
            digest: Digest::sha256_of(b"x"),
            tags: vec!["v1".parse().unwrap()],
            result: RestoreResult::Failed {
                reason: "its blobs were garbage-collected".into(),
            },
        };
        assert_eq!(result_detail(&outcome), "its blobs were garbage-collected");
        outcome.result = RestoreResult::Restored {
            tags_repointed: vec!["v1".parse().unwrap()],
        };
        let detail = result_detail(&outcome);
        assert!(
            detail.starts_with("restored team/app@sha256:") && detail.ends_with("tags v1"),
            "{detail}"
        );
        // A tag removal put back: the image was there, its tag re-pointed.
        outcome.result = RestoreResult::AlreadyPresent {
            tags_repointed: vec!["v1".parse().unwrap()],
        };
        assert!(result_detail(&outcome).ends_with("re-pointed tags v1"));
        assert_eq!(entry_kind(true), "tags removed (the image stayed)");
        assert_eq!(entry_kind(false), "manifest deleted");
    }

    #[test]
    fn only_the_finished_status_says_done() {
        assert!(!restore_running(1, 2).contains("done"));
        let restored = RestoreCounts {
            total: 2,
            restored: 1,
            failed: 1,
            ..RestoreCounts::default()
        };
        assert!(restore_done(&restored).starts_with("Restore done: 1 restored"));
    }

    #[test]
    fn restore_needs_a_connection_to_the_files_registry() {
        let file = RecoveryFile {
            format: RECOVERY_FORMAT,
            registry: "http://127.0.0.1:5000".into(),
            created: datetime!(2026-01-01 00:00 UTC),
            entries: vec![RecoveryEntry::new(
                "team/app".parse().unwrap(),
                MediaType::OciManifest,
                vec!["v1".parse().unwrap(), "latest".parse().unwrap()],
                b"{}",
            )],
        };
        let none = restore_blocker(&file, None).unwrap();
        assert!(none.starts_with("Connect first"), "{none}");
        let other = RegistryUrl::parse("http://127.0.0.1:5001").unwrap();
        let why = restore_blocker(&file, Some(&other)).unwrap();
        assert!(why.contains("http://127.0.0.1:5000") && why.contains("5001"));
        let same = RegistryUrl::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(restore_blocker(&file, Some(&same)), None);
        let summary = recovery_summary(&file, datetime!(2026-01-03 00:00 UTC));
        assert!(
            summary.starts_with("1 manifest (2 tags) in 1 repository of http://127.0.0.1:5000"),
            "{summary}"
        );
        let mut with_tags = file.clone();
        let mut only = RecoveryEntry::new(
            "team/app".parse().unwrap(),
            MediaType::OciManifest,
            vec!["pr-1".parse().unwrap()],
            b"{\"kept\":1}",
        );
        only.tags_only = true;
        with_tags.entries.push(only);
        assert_eq!(
            recovery_holds(&with_tags),
            "1 manifest (2 tags) and the removed tags of 1 image (1 tag)"
        );
    }
}
