//! What the CLI prints: the plan and the outcomes.

use std::io::{self, Write};

use cleanreg_core::{ApplyReport, EntryOutcome, Plan, PlanEntry, Tag, format};

fn tags(tags: &[Tag]) -> String {
    if tags.is_empty() {
        "-".into()
    } else {
        tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(",")
    }
}

fn created(entry: &PlanEntry, plan: &Plan) -> String {
    match entry.created {
        Some(when) => format!("{} ({})", format::date(when), format::age(when, plan.now)),
        None => "unknown".into(),
    }
}

/// One line per image: repository, digest, tags, created, decision, reason.
pub fn print_plan(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<[String; 5]> = plan
        .entries
        .iter()
        .map(|entry| {
            [
                entry.repository.to_string(),
                entry.digest.to_string(),
                tags(&entry.tags),
                created(entry, plan),
                entry.decision.label().to_uppercase(),
            ]
        })
        .collect();
    let header = ["REPOSITORY", "DIGEST", "TAGS", "CREATED", "DECISION"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: [&str; 5], reason: &str| {
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
    writeln!(
        out,
        "\n{} images kept, {} to delete ({} tags, {} of image data; blobs shared with kept images stay)",
        totals.kept_images,
        totals.deleted_images,
        totals.deleted_tags,
        format::bytes(totals.deleted_bytes)
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
