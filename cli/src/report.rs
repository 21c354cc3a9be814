//! What the CLI prints: the plan and the outcomes.

use std::io::{self, Write};

use cleanreg_core::{ApplyReport, EntryOutcome, ImageKind, Plan, PlanEntry, Role, Tag, format};

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
/// `  child linux/arm64`, `  signature of 1a2b3c4d5e6f`.
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
        Role::Attachment { subject, kind } => format!("  {kind} of {}", subject.short()),
        Role::Untagged(found) => {
            format!("untagged {} ({})", entry.kind.label(), found.found_label())
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
                entry.decision.label().to_uppercase(),
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
        let reason = entry.decision.reason();
        line(out, row.each_ref().map(String::as_str), &reason)?;
    }
    let totals = plan.totals();
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
    writeln!(
        out,
        "\n{} images kept, {} to delete ({} manifests with children and attachments, {} tags); {reclaim}",
        totals.kept_images, totals.deleted_images, totals.deleted_manifests, totals.deleted_tags,
    )
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

/// Counts per outcome, then every entry that was not deleted, with why.
pub fn print_summary(report: &ApplyReport, out: &mut dyn Write) -> io::Result<()> {
    let counts = report.counts();
    writeln!(
        out,
        "\nSummary: {} deleted, {} skipped, {} failed (of {})",
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
