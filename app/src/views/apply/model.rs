//! The pure parts of applying a plan: where the apply stands, the
//! confirmation check, the recovery file's name, what the page says,
//! merging a retry's outcomes, the outcome filter. Native tests reach all
//! of it.

use std::collections::{BTreeMap, BTreeSet};

use cleanreg_core::{
    ApplyCounts, Digest, EntryOutcome, Outcome, PlanTotals, RegistryUrl, RepositoryName,
};
use time::OffsetDateTime;

/// Where the deletes of the current scan stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApplyPhase {
    #[default]
    Idle,
    /// The confirmation panel is open.
    Confirming,
    Running(ApplyCounts),
    /// Finished (or stopped); another apply needs a new scan, since the plan
    /// is stale. Failed deletes may be retried.
    Done(ApplyCounts),
}

impl ApplyPhase {
    /// Whether the apply button may open the confirmation: idle, with
    /// `changes` (deletes and tag removals) to make.
    pub fn can_start(&self, changes: usize) -> bool {
        *self == ApplyPhase::Idle && changes > 0
    }

    /// Whether the shown plan must stay the one confirmed or applied.
    pub fn holds_plan(&self) -> bool {
        *self != ApplyPhase::Idle
    }

    pub fn is_running(&self) -> bool {
        matches!(self, ApplyPhase::Running(_))
    }

    /// The counts the progress bar shows.
    pub fn counts(&self) -> Option<ApplyCounts> {
        match self {
            ApplyPhase::Running(counts) | ApplyPhase::Done(counts) => Some(*counts),
            _ => None,
        }
    }

    pub fn status(&self, stopping: bool) -> Option<String> {
        match self {
            ApplyPhase::Running(counts) => Some(apply_running(counts, stopping)),
            ApplyPhase::Done(counts) => Some(apply_done(counts, stopping)),
            _ => None,
        }
    }
}

/// Whether what the person typed is exactly the number of changes, the
/// manifests to delete plus the tags to remove (surrounding spaces aside;
/// no sign, no other characters).
pub fn count_matches(typed: &str, expected: usize) -> bool {
    let typed = typed.trim();
    !typed.is_empty()
        && typed.bytes().all(|b| b.is_ascii_digit())
        && typed.parse::<usize>() == Ok(expected)
}

/// `cleanreg-recovery-<host>-<YYYYMMDD-HHMM>.json`, the time in UTC. The
/// host keeps letters, digits, dots and dashes; a port follows after a dash
/// (a colon is not allowed in every file system).
pub fn recovery_file_name(registry: &RegistryUrl, at: OffsetDateTime) -> String {
    let origin = registry.origin();
    let host_port = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host: String = host_port
        .trim_start_matches('[')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let host = host.trim_matches('-');
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "cleanreg-recovery-{host}-{:04}{:02}{:02}-{:02}{:02}.json",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// What the confirmation states: which manifests go and which tags are
/// taken off kept images, from where, what removing a tag needs, and that
/// only the recovery file (before garbage collection) brings it back. The
/// first line is what goes.
pub fn confirm_lines(totals: &PlanTotals, registry: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if totals.deleted_manifests > 0 {
        let extra = totals
            .deleted_manifests
            .saturating_sub(totals.deleted_images + totals.deleted_untagged);
        let mut parts = Vec::new();
        if totals.deleted_images > 0 || totals.deleted_untagged == 0 {
            parts.push(format!(
                "{} {}",
                totals.deleted_images,
                plural(totals.deleted_images, "image", "images")
            ));
        }
        if totals.deleted_untagged > 0 {
            parts.push(format!(
                "{} untagged {}",
                totals.deleted_untagged,
                plural(totals.deleted_untagged, "manifest", "manifests")
            ));
        }
        lines.push(format!(
            "Delete {} {} from {registry}: {}{}{}.",
            totals.deleted_manifests,
            plural(totals.deleted_manifests, "manifest", "manifests"),
            parts.join(" and "),
            if extra > 0 {
                format!(
                    " plus {extra} index {}",
                    plural(extra, "child or attachment", "children or attachments")
                )
            } else {
                String::new()
            },
            if totals.deleted_tags > 0 {
                format!(
                    ", removing {} {}",
                    totals.deleted_tags,
                    plural(totals.deleted_tags, "tag", "tags")
                )
            } else {
                String::new()
            },
        ));
    }
    if totals.removed_tags > 0 {
        lines.push(format!(
            "Remove {} {} from kept images on {registry}: the images and their other tags stay.",
            totals.removed_tags,
            plural(totals.removed_tags, "tag", "tags"),
        ));
        lines.push(
            "Where the registry has no tag delete (Distribution 2.x), each tag is removed by \
             pushing a small replacement manifest to it and deleting that again: the account \
             needs permission to push, and each replacement leaves a tiny config blob (and one \
             2-byte blob per repository) until garbage collection."
                .to_owned(),
        );
    }
    if totals.blocked > 0 {
        lines.push(format!(
            "{} {} the policy decided {} not sent: this account has no delete permission \
             there (the plan marks them); they end as skipped.",
            totals.blocked,
            plural(totals.blocked, "change", "changes"),
            if totals.blocked == 1 { "is" } else { "are" },
        ));
    }
    lines.push(
        "This cannot be undone from the registry: only the recovery file, used before the \
         registry's garbage collection runs, puts these manifests and tags back."
            .to_owned(),
    );
    lines
}

/// The label of the typed-count field: the number to type and what it
/// counts.
pub fn count_label(totals: &PlanTotals) -> String {
    let changes = totals.changes();
    match (totals.deleted_manifests, totals.removed_tags) {
        (_, 0) => format!("Type {changes} (the number of manifests to delete) to confirm"),
        (0, _) => format!("Type {changes} (the number of tags to remove) to confirm"),
        (deletes, untags) => format!(
            "Type {changes} ({deletes} {} to delete + {untags} {} to remove) to confirm",
            plural(deletes, "manifest", "manifests"),
            plural(untags, "tag", "tags"),
        ),
    }
}

/// What the button that starts the changes says.
pub fn confirm_button(totals: &PlanTotals) -> String {
    let deletes = format!(
        "{} {}",
        totals.deleted_manifests,
        plural(totals.deleted_manifests, "manifest", "manifests")
    );
    let tags = format!(
        "{} {}",
        totals.removed_tags,
        plural(totals.removed_tags, "tag", "tags")
    );
    match (totals.deleted_manifests, totals.removed_tags) {
        (_, 0) => format!("Delete {deletes}"),
        (0, _) => format!("Remove {tags}"),
        _ => format!("Delete {deletes} and remove {tags}"),
    }
}

/// What the apply button says.
pub fn apply_label(totals: &PlanTotals) -> String {
    let mut what = Vec::new();
    if totals.deleted_images > 0 || totals.deleted_untagged == 0 {
        what.push(format!(
            "{} {}",
            totals.deleted_images,
            plural(totals.deleted_images, "image", "images")
        ));
    }
    if totals.deleted_untagged > 0 {
        what.push(format!(
            "{} untagged {}",
            totals.deleted_untagged,
            plural(totals.deleted_untagged, "manifest", "manifests")
        ));
    }
    let deletes = format!(
        "delete {} ({} {})",
        what.join(" and "),
        totals.deleted_manifests,
        plural(totals.deleted_manifests, "manifest", "manifests"),
    );
    match (totals.deleted_manifests, totals.removed_tags) {
        (_, 0) => format!("Apply: {deletes}…"),
        (0, tags) => format!("Apply: remove {tags} {}…", plural(tags, "tag", "tags")),
        (_, tags) => format!(
            "Apply: {deletes} and remove {tags} {}…",
            plural(tags, "tag", "tags")
        ),
    }
}

/// Where the recovery file stands in the confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RecoveryState {
    #[default]
    NotMade,
    /// Reading the manifests to delete.
    Reading,
    /// Offered as a download under this name, holding this many manifests
    /// to delete and images that lose tags.
    Saved {
        name: String,
        entries: usize,
        tags_only: usize,
    },
    /// Could not be made: nothing was deleted.
    Failed(String),
}

impl RecoveryState {
    pub fn message(&self) -> Option<String> {
        match self {
            RecoveryState::NotMade => None,
            RecoveryState::Reading => Some(
                "Reading every manifest to delete and every image that loses tags for the \
                 recovery file…"
                    .to_owned(),
            ),
            RecoveryState::Saved {
                name,
                entries,
                tags_only,
            } => {
                let deleted = entries - tags_only;
                let mut held = format!("{deleted} {}", plural(deleted, "manifest", "manifests"));
                if *tags_only > 0 {
                    held.push_str(&format!(
                        " and the tags of {tags_only} {}",
                        plural(*tags_only, "image", "images")
                    ));
                }
                Some(format!(
                    "Recovery file downloaded as {name} ({held}). Keep it: until garbage \
                     collection runs, the Restore tab or `cleanreg restore {name}` puts them back."
                ))
            }
            RecoveryState::Failed(why) => Some(format!(
                "The recovery file could not be made, nothing was deleted: {why}"
            )),
        }
    }
}

/// Why the delete button is still disabled; `None` once it may be pressed.
/// Deleting needs the exact count typed and either a downloaded recovery
/// file or the explicit choice to go without one.
pub fn confirm_blocker(
    typed_ok: bool,
    recovery: &RecoveryState,
    skip_recovery: bool,
) -> Option<&'static str> {
    if matches!(recovery, RecoveryState::Reading) {
        return Some("Wait until the recovery file is ready.");
    }
    let recovery_ok = skip_recovery || matches!(recovery, RecoveryState::Saved { .. });
    match (typed_ok, recovery_ok) {
        (true, true) => None,
        (false, true) => Some("Type the number of changes shown above."),
        (true, false) => {
            Some("Download the recovery file, or tick “delete without a recovery file”.")
        }
        (false, false) => Some(
            "Download the recovery file (or tick “delete without a recovery file”), then type \
             the number of changes shown above.",
        ),
    }
}

pub fn apply_running(counts: &ApplyCounts, stopping: bool) -> String {
    let head = if stopping {
        "Stopping after the change in progress"
    } else {
        "Applying"
    };
    format!(
        "{head}: {} of {} ({})",
        counts.done(),
        counts.total,
        outcome_counts(counts)
    )
}

/// `2 deleted, 1 tag removed, 0 skipped, 0 failed`; tag removals only when
/// there are any.
fn outcome_counts(counts: &ApplyCounts) -> String {
    let removed = if counts.tags_removed > 0 {
        format!(
            ", {} {} removed",
            counts.tags_removed,
            plural(counts.tags_removed, "tag", "tags")
        )
    } else {
        String::new()
    };
    format!(
        "{} deleted{removed}, {} skipped, {} failed",
        counts.deleted, counts.skipped, counts.failed
    )
}

/// The finished line; the only status that contains the word `done`.
pub fn apply_done(counts: &ApplyCounts, stopped: bool) -> String {
    format!(
        "Apply done{}: {} (of {}).",
        if stopped { " (stopped)" } else { "" },
        outcome_counts(counts),
        counts.total
    )
}

/// What to do next, after the counts.
pub fn apply_next_steps(counts: &ApplyCounts) -> Vec<String> {
    let mut steps = Vec::new();
    if counts.failed > 0 {
        steps.push(format!(
            "{} {} failed: read why below, then retry {} (skipped ones are not retried).",
            counts.failed,
            plural(counts.failed, "change", "changes"),
            plural(counts.failed, "it", "them"),
        ));
    }
    if counts.skipped > 0 {
        steps.push(
            "Skipped manifests and tags were left as they are; scan again to plan them afresh."
                .to_owned(),
        );
    }
    if counts.tags_removed > 0 {
        steps.push(format!(
            "{} {} removed from kept images; the images and their other tags stay.",
            counts.tags_removed,
            plural(counts.tags_removed, "tag was", "tags were"),
        ));
    }
    if counts.deleted > 0 {
        steps.push(
            "Deleted manifests still take space until the registry's garbage collection runs:"
                .to_owned(),
        );
    }
    steps
}

/// What the retry button says, from the totals of the plan it retries.
pub fn retry_label(totals: &PlanTotals) -> String {
    let deletes = (totals.deleted_manifests > 0).then(|| {
        format!(
            "{} failed {}",
            totals.deleted_manifests,
            plural(totals.deleted_manifests, "delete", "deletes")
        )
    });
    let untags = (totals.removed_tags > 0).then(|| {
        format!(
            "{} failed {}",
            totals.removed_tags,
            plural(totals.removed_tags, "tag removal", "tag removals")
        )
    });
    let what: Vec<String> = deletes.into_iter().chain(untags).collect();
    format!("Retry {}", what.join(" and "))
}

/// Digests listed per repository in the replacement note; the rest are
/// counted.
const LISTED_BLOBS: usize = 10;

/// What tag removals by replacement left in storage, per repository, for
/// the note beside the garbage collection command; `None` when none did.
pub fn replacement_note(left: &BTreeMap<&RepositoryName, BTreeSet<&Digest>>) -> Option<String> {
    if left.is_empty() {
        return None;
    }
    let per_repository: Vec<String> = left
        .iter()
        .map(|(repository, blobs)| {
            let mut listed: Vec<String> = blobs
                .iter()
                .take(LISTED_BLOBS)
                .map(ToString::to_string)
                .collect();
            if blobs.len() > LISTED_BLOBS {
                listed.push(format!("and {} more", blobs.len() - LISTED_BLOBS));
            }
            format!("{repository}: {}", listed.join(", "))
        })
        .collect();
    Some(format!(
        "Tags removed by replacement left the replacements' config blobs and the 2-byte blob \
         {{}} in storage; garbage collection removes them with the rest. {}.",
        per_repository.join("; ")
    ))
}

/// Whether an outcome says the registry refuses every delete (HTTP 405
/// UNSUPPORTED, `storage.delete.enabled` off).
pub fn is_refusal(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Failed { reason } | Outcome::Skipped { reason } => {
            reason.contains("the registry refuses deletes")
        }
        Outcome::Deleted | Outcome::TagRemoved { .. } => false,
    }
}

/// The text of an outcome's `.reason` cell.
pub fn outcome_reason(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Deleted => "deleted; the registry no longer serves it".to_owned(),
        Outcome::TagRemoved { .. } => outcome.to_string(),
        Outcome::Skipped { reason } | Outcome::Failed { reason } => reason.clone(),
    }
}

pub fn counts_of(outcomes: &[EntryOutcome]) -> ApplyCounts {
    let mut counts = ApplyCounts {
        total: outcomes.len(),
        ..ApplyCounts::default()
    };
    for entry in outcomes {
        match entry.outcome {
            Outcome::Deleted => counts.deleted += 1,
            Outcome::TagRemoved { .. } => counts.tags_removed += 1,
            Outcome::Skipped { .. } => counts.skipped += 1,
            Outcome::Failed { .. } => counts.failed += 1,
        }
    }
    counts
}

/// Puts a retry's outcome in place of the earlier outcome of the same
/// entry (repository, digest and tags: an image's tag removals share its
/// digest); `false` when the run had no such entry (then nothing changes).
pub fn merge_outcome(all: &mut [EntryOutcome], newer: EntryOutcome) -> bool {
    match all.iter_mut().find(|o| {
        o.repository == newer.repository && o.digest == newer.digest && o.tags == newer.tags
    }) {
        Some(slot) => {
            *slot = newer;
            true
        }
        None => false,
    }
}

/// Which outcomes the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutcomeFilter {
    #[default]
    All,
    Deleted,
    TagRemoved,
    Skipped,
    Failed,
}

impl OutcomeFilter {
    pub const ALL: [OutcomeFilter; 5] = [
        OutcomeFilter::All,
        OutcomeFilter::Failed,
        OutcomeFilter::Skipped,
        OutcomeFilter::Deleted,
        OutcomeFilter::TagRemoved,
    ];

    /// The outcome label it shows (`Outcome::label`), or `all`.
    pub fn key(self) -> &'static str {
        match self {
            OutcomeFilter::All => "all",
            OutcomeFilter::Deleted => "deleted",
            OutcomeFilter::TagRemoved => "tag removed",
            OutcomeFilter::Skipped => "skipped",
            OutcomeFilter::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> OutcomeFilter {
        OutcomeFilter::ALL
            .into_iter()
            .find(|f| f.key() == key)
            .unwrap_or_default()
    }

    pub fn admits(self, outcome: &Outcome) -> bool {
        self == OutcomeFilter::All || self.key() == outcome.label()
    }
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn apply_opens_only_when_idle_with_deletes() {
        assert!(ApplyPhase::Idle.can_start(2));
        assert!(!ApplyPhase::Idle.can_start(0));
        assert!(!ApplyPhase::Confirming.can_start(2));
        let counts = ApplyCounts::default();
        assert!(!ApplyPhase::Running(counts).can_start(2));
        assert!(!ApplyPhase::Done(counts).can_start(2));
    }

    #[test]
    fn status_says_done_only_when_done() {
        let counts = ApplyCounts {
            total: 2,
            deleted: 1,
            skipped: 0,
            failed: 0,
            ..ApplyCounts::default()
        };
        assert_eq!(ApplyPhase::Idle.status(false), None);
        assert_eq!(ApplyPhase::Confirming.counts(), None);
        let running = ApplyPhase::Running(counts).status(false).unwrap();
        assert!(!running.contains("done"), "{running}");
        assert!(
            ApplyPhase::Done(counts)
                .status(false)
                .unwrap()
                .contains("done")
        );
        assert_eq!(ApplyPhase::Done(counts).counts(), Some(counts));
    }

    fn outcome(repo: &str, bytes: &[u8], outcome: Outcome) -> EntryOutcome {
        EntryOutcome {
            repository: repo.parse().unwrap(),
            digest: Digest::sha256_of(bytes),
            tags: vec!["v1".parse().unwrap()],
            outcome,
        }
    }

    fn failed(why: &str) -> Outcome {
        Outcome::Failed { reason: why.into() }
    }

    #[test]
    fn the_count_must_be_typed_exactly() {
        assert!(count_matches("12", 12));
        assert!(count_matches(" 12 ", 12));
        assert!(!count_matches("", 0));
        assert!(!count_matches("11", 12));
        assert!(!count_matches("+12", 12));
        assert!(!count_matches("12.0", 12));
        assert!(!count_matches("1 2", 12));
        assert!(!count_matches("twelve", 12));
        assert!(!count_matches("99999999999999999999999", 12));
    }

    #[test]
    fn recovery_file_names_carry_host_port_and_utc_minute() {
        let at = datetime!(2026-03-04 23:05:59 -02:00);
        let url = RegistryUrl::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(
            recovery_file_name(&url, at),
            "cleanreg-recovery-127.0.0.1-5000-20260305-0105.json"
        );
        let url = RegistryUrl::parse("https://Registry.Example.com/mirror").unwrap();
        assert_eq!(
            recovery_file_name(&url, at),
            "cleanreg-recovery-registry.example.com-20260305-0105.json"
        );
        let url = RegistryUrl::parse("http://[::1]:5000").unwrap();
        let name = recovery_file_name(&url, at);
        assert!(!name.contains(':') && !name.contains('['), "{name}");
    }

    #[test]
    fn deleting_needs_the_count_and_a_recovery_file_or_the_explicit_skip() {
        let saved = RecoveryState::Saved {
            name: "f.json".into(),
            entries: 3,
            tags_only: 1,
        };
        assert_eq!(confirm_blocker(true, &saved, false), None);
        assert_eq!(confirm_blocker(true, &RecoveryState::NotMade, true), None);
        assert!(confirm_blocker(false, &saved, false).is_some());
        assert!(confirm_blocker(true, &RecoveryState::NotMade, false).is_some());
        assert!(confirm_blocker(true, &RecoveryState::Failed("x".into()), false).is_some());
        assert!(confirm_blocker(true, &RecoveryState::Reading, true).is_some());
        assert!(
            saved.message().unwrap().contains("f.json"),
            "the page says the file was downloaded, and under which name"
        );
        assert!(
            saved
                .message()
                .unwrap()
                .contains("(2 manifests and the tags of 1 image)"),
            "{:?}",
            saved.message()
        );
    }

    #[test]
    fn the_confirmation_names_what_goes_and_how_to_undo() {
        let totals = PlanTotals {
            kept_images: 1,
            deleted_images: 2,
            deleted_manifests: 5,
            deleted_tags: 4,
            deleted_bytes: 0,
            reclaimable_bytes: 0,
            ..PlanTotals::default()
        };
        let lines = confirm_lines(&totals, "http://r:5000");
        let [what, undo] = [&lines[0], &lines[1]];
        assert_eq!(lines.len(), 2);
        assert_eq!(
            what,
            "Delete 5 manifests from http://r:5000: 2 images plus 3 index children or \
             attachments, removing 4 tags."
        );
        assert!(undo.contains("recovery file") && undo.contains("garbage collection"));
        assert_eq!(
            count_label(&totals),
            "Type 5 (the number of manifests to delete) to confirm"
        );
        let one = PlanTotals {
            deleted_images: 1,
            deleted_manifests: 1,
            deleted_tags: 1,
            ..totals
        };
        assert_eq!(
            confirm_lines(&one, "http://r")[0],
            "Delete 1 manifest from http://r: 1 image, removing 1 tag."
        );
    }

    #[test]
    fn the_confirmation_names_untagged_deletes_and_tag_removals() {
        let totals = PlanTotals {
            deleted_manifests: 3,
            deleted_untagged: 2,
            deleted_images: 0,
            removed_tags: 2,
            ..PlanTotals::default()
        };
        let lines = confirm_lines(&totals, "http://r");
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(
            lines[0],
            "Delete 3 manifests from http://r: 2 untagged manifests plus 1 index child or \
             attachment."
        );
        assert_eq!(
            lines[1],
            "Remove 2 tags from kept images on http://r: the images and their other tags stay."
        );
        assert!(
            lines[2].contains("replacement manifest") && lines[2].contains("permission to push"),
            "{}",
            lines[2]
        );
        assert_eq!(
            count_label(&totals),
            "Type 5 (3 manifests to delete + 2 tags to remove) to confirm"
        );
        assert_eq!(totals.changes(), 5);
        assert_eq!(
            apply_label(&totals),
            "Apply: delete 2 untagged manifests (3 manifests) and remove 2 tags…"
        );
        assert_eq!(
            confirm_button(&totals),
            "Delete 3 manifests and remove 2 tags"
        );
        let only_tags = PlanTotals {
            removed_tags: 1,
            ..PlanTotals::default()
        };
        let lines = confirm_lines(&only_tags, "http://r");
        assert!(
            lines[0].starts_with("Remove 1 tag from kept images"),
            "{lines:?}"
        );
        assert_eq!(
            count_label(&only_tags),
            "Type 1 (the number of tags to remove) to confirm"
        );
        assert_eq!(confirm_button(&only_tags), "Remove 1 tag");
        assert_eq!(apply_label(&only_tags), "Apply: remove 1 tag…");
        assert_eq!(
            apply_label(&PlanTotals {
                deleted_images: 1,
                deleted_manifests: 3,
                ..PlanTotals::default()
            }),
            "Apply: delete 1 image (3 manifests)…"
        );
        let both = PlanTotals {
            deleted_images: 1,
            deleted_manifests: 2,
            deleted_untagged: 1,
            deleted_tags: 1,
            ..PlanTotals::default()
        };
        assert_eq!(
            confirm_lines(&both, "http://r")[0],
            "Delete 2 manifests from http://r: 1 image and 1 untagged manifest, removing 1 tag."
        );
    }

    #[test]
    fn only_the_finished_status_says_done() {
        let counts = ApplyCounts {
            total: 4,
            deleted: 2,
            skipped: 1,
            failed: 1,
            ..ApplyCounts::default()
        };
        assert!(!apply_running(&counts, false).contains("done"));
        assert!(apply_running(&counts, true).starts_with("Stopping"));
        assert_eq!(
            apply_done(&counts, false),
            "Apply done: 2 deleted, 1 skipped, 1 failed (of 4)."
        );
        let with_tags = ApplyCounts {
            total: 5,
            tags_removed: 1,
            ..counts
        };
        assert_eq!(
            apply_done(&with_tags, false),
            "Apply done: 2 deleted, 1 tag removed, 1 skipped, 1 failed (of 5)."
        );
        assert!(
            apply_next_steps(&with_tags)
                .join(" ")
                .contains("1 tag was removed from kept images")
        );
        assert!(apply_done(&counts, true).contains("done (stopped)"));
        let steps = apply_next_steps(&counts).join(" ");
        assert!(steps.contains("1 change failed") && steps.contains("garbage collection"));
        assert!(apply_next_steps(&ApplyCounts::default()).is_empty());
    }

    #[test]
    fn a_retry_replaces_the_earlier_outcome_of_the_same_manifest() {
        let mut all = vec![
            outcome("a", b"1", Outcome::Deleted),
            outcome("a", b"2", failed("HTTP 500")),
            outcome("b", b"2", failed("HTTP 500")),
        ];
        assert_eq!(counts_of(&all).failed, 2);
        assert!(merge_outcome(
            &mut all,
            outcome("a", b"2", Outcome::Deleted)
        ));
        assert_eq!(all[1].outcome, Outcome::Deleted);
        assert_eq!(
            all[2].outcome,
            failed("HTTP 500"),
            "same digest, other repository"
        );
        assert!(!merge_outcome(
            &mut all,
            outcome("c", b"9", Outcome::Deleted)
        ));
        let counts = counts_of(&all);
        assert_eq!((counts.total, counts.deleted, counts.failed), (3, 2, 1));
    }

    #[test]
    fn the_retry_and_the_replacement_blobs_are_named() {
        let one = PlanTotals {
            deleted_manifests: 1,
            ..PlanTotals::default()
        };
        assert_eq!(retry_label(&one), "Retry 1 failed delete");
        let both = PlanTotals {
            deleted_manifests: 2,
            removed_tags: 1,
            ..PlanTotals::default()
        };
        assert_eq!(
            retry_label(&both),
            "Retry 2 failed deletes and 1 failed tag removal"
        );
        assert_eq!(replacement_note(&BTreeMap::new()), None);
        let app: RepositoryName = "app".parse().unwrap();
        let blobs: Vec<Digest> = (0..12u8).map(|n| Digest::sha256_of(&[n])).collect();
        let mut left = BTreeMap::new();
        left.insert(&app, blobs.iter().take(2).collect::<BTreeSet<_>>());
        let note = replacement_note(&left).unwrap();
        let (a, b) = (blobs[0].to_string(), blobs[1].to_string());
        let (first, second) = if a < b { (a, b) } else { (b, a) };
        assert!(
            note.ends_with(&format!("app: {first}, {second}.")),
            "{note}"
        );
        left.insert(&app, blobs.iter().collect());
        assert!(replacement_note(&left).unwrap().ends_with("and 2 more."));
    }

    #[test]
    fn a_retried_tag_removal_replaces_only_its_own_row() {
        let tag = |name: &str, outcome: Outcome| EntryOutcome {
            tags: vec![name.parse().unwrap()],
            ..self::outcome("a", b"image", outcome)
        };
        let removed = Outcome::TagRemoved {
            by: cleanreg_core::RemovedBy::TagDelete,
        };
        let mut all = vec![
            tag("pr-1", removed.clone()),
            tag("pr-2", failed("HTTP 500")),
        ];
        assert!(merge_outcome(&mut all, tag("pr-2", removed.clone())));
        assert_eq!(all[0], tag("pr-1", removed.clone()));
        assert_eq!(all[1].outcome, removed);
        assert!(!merge_outcome(&mut all, tag("pr-3", removed.clone())));
        assert_eq!(counts_of(&all).tags_removed, 2);
        assert!(OutcomeFilter::TagRemoved.admits(&removed));
        assert_eq!(
            OutcomeFilter::from_key("tag removed"),
            OutcomeFilter::TagRemoved
        );
    }

    #[test]
    fn refusals_are_told_apart_from_other_failures() {
        let refused = cleanreg_core::RegistryError::from_response(
            "DELETE a@sha256:x".into(),
            405,
            None,
            br#"{"errors":[{"code":"UNSUPPORTED","message":"unsupported"}]}"#,
        );
        assert!(is_refusal(&failed(&refused.to_string())));
        assert!(!is_refusal(&failed("HTTP 500 UNKNOWN")));
        assert!(!is_refusal(&Outcome::Deleted));
    }

    #[test]
    fn the_outcome_filter_admits_its_kind() {
        assert!(OutcomeFilter::Failed.admits(&failed("x")));
        assert!(!OutcomeFilter::Failed.admits(&Outcome::Deleted));
        assert!(OutcomeFilter::All.admits(&Outcome::Deleted));
        assert_eq!(OutcomeFilter::from_key("skipped"), OutcomeFilter::Skipped);
        assert_eq!(OutcomeFilter::from_key("nonsense"), OutcomeFilter::All);
    }
}
