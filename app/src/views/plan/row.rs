//! A plan entry as a table row, every cell already text: what it is (an
//! image, a child, an attachment, an untagged manifest, one tag of a kept
//! image), its age and size, the decision, why, and the rule that decided.

use cleanreg_core::format;
use cleanreg_core::{Plan, PlanEntry, Role};
use time::OffsetDateTime;

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
                        line: None,
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
