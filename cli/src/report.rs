//! What the CLI prints: the plan and the outcomes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use cleanreg_core::{
    ApplyReport, Digest, EntryOutcome, ImageKind, Plan, PlanEntry, PlanTotals, RepositoryName,
    Role, Tag, format,
};

fn tags(tags: &[Tag]) -> String {
    if tags.is_empty() {
        "-".into()
    } else {
        tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(",")
    }
}

fn created(entry: &PlanEntry, plan: &Plan) -> String {
    match (entry.created, entry.created_from) {
        (Some(when), Some(source)) => format!(
            "{} ({}, {source})",
            format::date(when),
            format::age(when, plan.now)
        ),
        (Some(when), None) => format!("{} ({})", format::date(when), format::age(when, plan.now)),
        _ => "unknown".into(),
    }
}

/// What the manifest is: `image`, `index linux/amd64,linux/arm64`,
/// `  child linux/arm64`, `  signature of 1a2b3c4d5e6f`,
/// `  referrer of 1a2b3c4d5e6f (application/spdx+json)`,
/// `untagged image (history, was main)`, or `  tag` for a tag entry.
fn kind(entry: &PlanEntry) -> String {
    match &entry.role {
        Role::Image => {
            let mut text = entry.kind.label().to_owned();
            if entry.kind == ImageKind::Index {
                text = "index".into();
            }
            if !entry.platforms.is_empty() {
                let platforms: Vec<String> =
                    entry.platforms.iter().map(ToString::to_string).collect();
                text.push(' ');
                text.push_str(&platforms.join(","));
            }
            text
        }
        Role::Child { platform, .. } => match platform {
            Some(platform) => format!("  child {platform}"),
            None => "  child".into(),
        },
        Role::Attachment {
            subject,
            kind,
            artifact_type,
        } => match artifact_type {
            Some(artifact_type) => format!("  {kind} of {} ({artifact_type})", subject.short()),
            None => format!("  {kind} of {}", subject.short()),
        },
        Role::Untagged(found) => {
            let kind = match entry.kind {
                ImageKind::Index => "index",
                other => other.label(),
            };
            let mut text = format!("untagged {kind}");
            if !entry.platforms.is_empty() {
                let platforms: Vec<String> =
                    entry.platforms.iter().map(ToString::to_string).collect();
                text.push(' ');
                text.push_str(&platforms.join(","));
            }
            text.push_str(&format!(" ({}", found.found_label()));
            if !found.last_tags.is_empty() {
                text.push_str(", was ");
                text.push_str(&tags(&found.last_tags));
            }
            text.push(')');
            text
        }
        Role::Tag { .. } => "  tag".into(),
    }
}

/// One line per manifest: repository, digest, kind, tags, created, decision,
/// reason. Children and attachments follow what they belong to, indented.
pub fn print_plan(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 7]> = plan
        .entries
        .iter()
        .map(|entry| {
            [
                entry.repository.to_string(),
                entry.digest.to_string(),
                kind(entry),
                tags(&entry.tags),
                created(entry, plan),
                if entry.decision.is_change() && entry.blocked.is_some() {
                    "BLOCKED".to_owned()
                } else {
                    entry.decision.label().to_uppercase()
                },
                entry
                    .rule
                    .as_ref()
                    .map_or_else(|| "default".to_owned(), ToString::to_string),
            ]
        })
        .collect();
    let header = [
        "REPOSITORY",
        "DIGEST",
        "KIND",
        "TAGS",
        "CREATED",
        "DECISION",
        "RULE",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: [&str; 7], reason: &str| {
        let mut text = String::new();
        for (cell, width) in cells.iter().zip(widths) {
            text.push_str(&format!("{cell:<width$}  "));
        }
        writeln!(out, "{text}{reason}")
    };
    line(out, header, "REASON")?;
    for (row, entry) in rows.iter().zip(&plan.entries) {
        let reason = match &entry.blocked {
            Some(blocked) if entry.decision.is_change() => format!(
                "{blocked} (the policy would {}: {})",
                entry.decision.label(),
                entry.decision.reason()
            ),
            _ => entry.decision.reason(),
        };
        line(out, row.each_ref().map(String::as_str), &reason)?;
    }
    let totals = plan.totals();
    let mut parts = vec![format!(
        "{} kept, {} to delete",
        count(totals.kept_images, "image"),
        totals.deleted_images
    )];
    if totals.deleted_untagged + totals.kept_untagged > 0 {
        parts.push(format!(
            "{} to delete, {} kept",
            count(totals.deleted_untagged, "untagged manifest"),
            totals.kept_untagged
        ));
    }
    parts.push(format!(
        "{} in all with children and attachments ({} with them)",
        count(totals.deleted_manifests, "manifest DELETE"),
        count(totals.deleted_tags, "tag")
    ));
    if plan.entries.iter().any(|entry| entry.role.is_tag()) {
        parts.push(format!(
            "{} to remove from kept images",
            count(totals.removed_tags, "tag")
        ));
    }
    let reclaim = if plan.reclaimable.whole_registry {
        format!(
            "garbage collection will free {}",
            format::bytes(totals.reclaimable_bytes)
        )
    } else {
        format!(
            "garbage collection will free up to {} (only these repositories were read; \
             other repositories may share some blobs)",
            format::bytes(totals.reclaimable_bytes)
        )
    };
    parts.push(reclaim);
    writeln!(out, "\n{}", parts.join("; "))?;
    if totals.blocked > 0 {
        let denied: BTreeSet<&RepositoryName> = plan.blocked().map(|e| &e.repository).collect();
        let names: Vec<&str> = denied.iter().map(|name| name.as_str()).collect();
        writeln!(
            out,
            "{} not sent: this account has no delete permission in {} (its token server grants \
             no `delete` there); an admin of those repositories can grant it, or run cleanreg \
             as a user who has it",
            count(totals.blocked, "change"),
            names.join(", ")
        )?;
    }
    Ok(())
}

/// `1 tag`, `2 tags`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The confirmation question without the registry and `? [y/N]`:
/// `Delete 3 manifests (and every tag on them) and remove 2 tags from kept
/// images on`.
pub fn question(totals: &PlanTotals) -> String {
    let deletes = totals.deleted_manifests;
    let removals = totals.removed_tags;
    let (deletes, removals) = (count(deletes, "manifest"), count(removals, "tag"));
    match (totals.deleted_manifests, totals.removed_tags) {
        (_, 0) => format!("Delete {deletes} (and every tag on them) from"),
        (0, _) => format!("Remove {removals} from kept images on"),
        _ => format!(
            "Delete {deletes} (and every tag on them) and remove {removals} from kept images on"
        ),
    }
}

/// One line as each delete ends.
pub fn print_outcome(entry: &EntryOutcome, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}@{} ({}): {}",
        entry.repository,
        entry.digest,
        tags(&entry.tags),
        entry.outcome
    )
}

/// Counts per outcome (tags removed when the plan removes any), then
/// every entry that was not deleted or untagged, with why.
pub fn print_summary(
    report: &ApplyReport,
    removes_tags: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let counts = report.counts();
    let removed = if removes_tags {
        format!("{} tags removed, ", counts.tags_removed)
    } else {
        String::new()
    };
    writeln!(
        out,
        "\nSummary: {} deleted, {removed}{} skipped, {} failed (of {})",
        counts.deleted, counts.skipped, counts.failed, counts.total
    )?;
    for label in ["skipped", "failed"] {
        let entries: Vec<_> = report
            .outcomes
            .iter()
            .filter(|e| e.outcome.label() == label)
            .collect();
        if !entries.is_empty() {
            writeln!(out, "{}:", label[..1].to_uppercase() + &label[1..])?;
            for entry in entries {
                write!(out, "  ")?;
                print_outcome(entry, out)?;
            }
        }
    }
    Ok(())
}

/// After tags were removed through replacements: the blobs those left in
/// each repository, which only garbage collection removes.
pub fn print_replacement_blobs(
    left: &BTreeMap<&RepositoryName, BTreeSet<&Digest>>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if left.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Tags were removed by pushing a replacement to each and deleting it; these blobs of \
         the replacements stay until garbage collection:"
    )?;
    for (repository, blobs) in left {
        let blobs: Vec<String> = blobs.iter().map(ToString::to_string).collect();
        writeln!(out, "  {repository}: {}", blobs.join(" "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::{Decision, DeleteReason, Found, MediaType, Untagged};

    fn untagged_entry(found: Vec<Found>, last_tags: &[&str]) -> PlanEntry {
        PlanEntry {
            repository: "app".parse().unwrap(),
            digest: Digest::sha256_of(b"old main"),
            tags: Vec::new(),
            media_type: MediaType::OciManifest,
            kind: ImageKind::Image,
            role: Role::Untagged(Untagged {
                found,
                last_tags: last_tags.iter().map(|t| t.parse().unwrap()).collect(),
                ..Untagged::default()
            }),
            created: None,
            created_from: None,
            size: 1,
            platforms: Vec::new(),
            rule: None,
            decision: Decision::Delete {
                reason: DeleteReason::Untagged,
            },
            blocked: None,
        }
    }

    #[test]
    fn an_untagged_manifest_says_where_it_was_found_and_what_it_was() {
        assert_eq!(
            kind(&untagged_entry(vec![Found::History], &["main"])),
            "untagged image (history, was main)"
        );
        assert_eq!(
            kind(&untagged_entry(
                vec![Found::History, Found::Storage],
                &["main", "v2"]
            )),
            "untagged image (history and storage, was main,v2)"
        );
        assert_eq!(
            kind(&untagged_entry(vec![Found::Storage], &[])),
            "untagged image (storage)"
        );
    }

    #[test]
    fn the_question_names_deletes_and_tag_removals() {
        let totals = |deleted_manifests, removed_tags| PlanTotals {
            deleted_manifests,
            removed_tags,
            ..PlanTotals::default()
        };
        assert_eq!(
            question(&totals(3, 2)),
            "Delete 3 manifests (and every tag on them) and remove 2 tags from kept images on"
        );
        assert_eq!(
            question(&totals(3, 0)),
            "Delete 3 manifests (and every tag on them) from"
        );
        assert_eq!(question(&totals(0, 2)), "Remove 2 tags from kept images on");
        assert_eq!(question(&totals(0, 1)), "Remove 1 tag from kept images on");
        assert_eq!(
            question(&totals(1, 0)),
            "Delete 1 manifest (and every tag on them) from"
        );
    }

    #[test]
    fn replacement_blobs_are_listed_per_repository() {
        let (app, tool): (RepositoryName, RepositoryName) =
            ("app".parse().unwrap(), "team/tool".parse().unwrap());
        let (a, b) = (Digest::sha256_of(b"a"), Digest::sha256_of(b"b"));
        let left = BTreeMap::from([
            (&app, BTreeSet::from([&a, &b])),
            (&tool, BTreeSet::from([&b])),
        ]);
        let mut out = Vec::new();
        print_replacement_blobs(&left, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let (first, second) = if a < b { (&a, &b) } else { (&b, &a) };
        assert!(
            text.contains(&format!("  app: {first} {second}\n")),
            "{text}"
        );
        assert!(text.contains(&format!("  team/tool: {b}\n")), "{text}");
        let mut none = Vec::new();
        print_replacement_blobs(&BTreeMap::new(), &mut none).unwrap();
        assert!(none.is_empty());
    }
}
