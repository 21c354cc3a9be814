//! Retention policies written for other registries, read into a cleanreg
//! [`Policy`] with a report of how each part maps.
//!
//! Five sources: GitLab's cleanup policy (`gitlab.rs`), an ECR lifecycle
//! policy (`ecr.rs`), Harbor's tag retention rules (`harbor.rs`), zot's
//! `retention` configuration (`zot.rs`) and an `acr purge` command line
//! (`acr.rs`). [`detect_format`] tells them apart by content; [`read_policy`] is
//! what the CLI's `--policy`, the dashboard's import box and the plugin's
//! `validatePolicy` call, so all three read the same files the same way.
//!
//! Every part of the source ends in the report as exact, approximate (and
//! how), or not mapped (and what cleanreg does instead), so nothing is
//! dropped silently. Where cleanreg's rules cannot say what the source
//! says, the import keeps more, never less: a count that cannot be scoped
//! the same way becomes a kept tag pattern, a rule that cannot be read
//! keeps every image it could cover. Two differences are everywhere and
//! reported where they apply: the registry API has no push or pull times,
//! so push time is read as the image's build date (its config's `created`)
//! and pull-based rules cannot map; and cleanreg judges an image (a digest
//! with all its tags) where GitLab, zot and `acr purge` judge each tag, so
//! an image is deleted only when every tag on it would go.

mod acr;
mod ecr;
mod gitlab;
mod harbor;
mod zot;

#[cfg(test)]
mod tests;

use std::fmt;
use std::num::NonZeroU32;

use serde::Serialize;
use serde_json::Value;

use crate::policy::{Policy, PolicyError, PolicyFormat, TagPattern};

/// A policy format another registry or tool writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    Gitlab,
    Ecr,
    Harbor,
    Zot,
    Acr,
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 5] = [
        ImportFormat::Gitlab,
        ImportFormat::Ecr,
        ImportFormat::Harbor,
        ImportFormat::Zot,
        ImportFormat::Acr,
    ];

    /// The name `--policy-format` takes.
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Gitlab => "gitlab",
            ImportFormat::Ecr => "ecr",
            ImportFormat::Harbor => "harbor",
            ImportFormat::Zot => "zot",
            ImportFormat::Acr => "acr",
        }
    }

    /// What the source is, for people.
    pub fn title(self) -> &'static str {
        match self {
            ImportFormat::Gitlab => "GitLab cleanup policy",
            ImportFormat::Ecr => "ECR lifecycle policy",
            ImportFormat::Harbor => "Harbor tag retention rules",
            ImportFormat::Zot => "zot retention policies",
            ImportFormat::Acr => "acr purge command",
        }
    }

    pub fn from_name(name: &str) -> Option<ImportFormat> {
        ImportFormat::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How one part of the source maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mapping {
    /// cleanreg decides as the source would.
    Exact,
    /// cleanreg decides nearly so; the note says how it differs.
    Approximate,
    /// cleanreg cannot say it; the note says what it does instead.
    NotMapped,
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mapping::Exact => "exact",
            Mapping::Approximate => "approximate",
            Mapping::NotMapped => "not mapped",
        })
    }
}

/// One part of the source and how it maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportItem {
    /// Where in the source, such as `rules[1].selection.countNumber`.
    pub source: String,
    pub mapping: Mapping,
    pub note: String,
}

/// How an imported policy maps, part by part, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub format: ImportFormat,
    pub items: Vec<ReportItem>,
}

impl ImportReport {
    fn new(format: ImportFormat) -> ImportReport {
        ImportReport {
            format,
            items: Vec::new(),
        }
    }

    pub fn count(&self, mapping: Mapping) -> usize {
        self.items.iter().filter(|i| i.mapping == mapping).count()
    }

    fn add(&mut self, source: impl Into<String>, mapping: Mapping, note: impl Into<String>) {
        self.items.push(ReportItem {
            source: source.into(),
            mapping,
            note: note.into(),
        });
    }

    fn exact(&mut self, source: impl Into<String>, note: impl Into<String>) {
        self.add(source, Mapping::Exact, note);
    }

    fn approximate(&mut self, source: impl Into<String>, note: impl Into<String>) {
        self.add(source, Mapping::Approximate, note);
    }

    fn not_mapped(&mut self, source: impl Into<String>, note: impl Into<String>) {
        self.add(source, Mapping::NotMapped, note);
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "imported ({}): {} exact, {} approximate, {} not mapped",
            self.format.title(),
            self.count(Mapping::Exact),
            self.count(Mapping::Approximate),
            self.count(Mapping::NotMapped)
        )?;
        for item in &self.items {
            writeln!(f, "  {}: {}: {}", item.mapping, item.source, item.note)?;
        }
        Ok(())
    }
}

/// An imported policy and how it maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub policy: Policy,
    pub report: ImportReport,
}

/// Which other tool's format `text` is in, if any. cleanreg's own TOML and
/// JSON are not detected here: they are what is left.
pub fn detect_format(text: &str) -> Option<ImportFormat> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return acr::looks_like(text).then_some(ImportFormat::Acr);
    }
    let value: Value = serde_json::from_str(text).ok()?;
    if gitlab::looks_like(&value) {
        Some(ImportFormat::Gitlab)
    } else if ecr::looks_like(&value) {
        Some(ImportFormat::Ecr)
    } else if harbor::looks_like(&value) {
        Some(ImportFormat::Harbor)
    } else if zot::looks_like(&value) {
        Some(ImportFormat::Zot)
    } else {
        None
    }
}

/// Reads `text` as a policy of `format`.
pub fn import_policy(text: &str, format: ImportFormat) -> Result<Imported, PolicyError> {
    let mut report = ImportReport::new(format);
    let policy = match format {
        ImportFormat::Acr => acr::import(text, &mut report)?,
        _ => {
            let value: Value = serde_json::from_str(text).map_err(|e| PolicyError {
                field: "(file)".into(),
                message: format!("a {} is JSON: {e}", format.title()),
            })?;
            match format {
                ImportFormat::Gitlab => gitlab::import(&value, &mut report)?,
                ImportFormat::Ecr => ecr::import(&value, &mut report)?,
                ImportFormat::Harbor => harbor::import(&value, &mut report)?,
                ImportFormat::Zot => zot::import(&value, &mut report)?,
                ImportFormat::Acr => unreachable!("handled above"),
            }
        }
    };
    Ok(Imported { policy, report })
}

/// The names `--policy-format` accepts.
pub const POLICY_FORMAT_NAMES: [&str; 7] =
    ["toml", "json", "gitlab", "ecr", "harbor", "zot", "acr"];

/// A policy file as the CLI, the dashboard and the plugin read it: in
/// `format` when given (one of [`POLICY_FORMAT_NAMES`]), otherwise another
/// tool's format when [`detect_format`] recognises one, otherwise cleanreg's own
/// TOML or JSON (by `path`'s extension, or JSON when the text is an object).
/// The report is there for an imported policy.
pub fn read_policy(
    text: &str,
    path: &str,
    format: Option<&str>,
) -> Result<(Policy, Option<ImportReport>), PolicyError> {
    let own = |format: PolicyFormat| Policy::parse(text, format).map(|p| (p, None));
    let import =
        |format: ImportFormat| import_policy(text, format).map(|i| (i.policy, Some(i.report)));
    match format {
        Some("toml") => own(PolicyFormat::Toml),
        Some("json") => own(PolicyFormat::Json),
        Some(name) => match ImportFormat::from_name(name) {
            Some(format) => import(format),
            None => Err(PolicyError {
                field: "(format)".into(),
                message: format!(
                    "unknown policy format {name:?}; use one of {}",
                    POLICY_FORMAT_NAMES.join(", ")
                ),
            }),
        },
        None => match detect_format(text) {
            Some(format) => import(format),
            None if path.to_ascii_lowercase().ends_with(".toml") => own(PolicyFormat::Toml),
            None if text.trim_start().starts_with('{') => own(PolicyFormat::Json),
            None => own(PolicyFormat::of_path(path)),
        },
    }
}

// ---------------------------------------------------------------------------
// Shared pieces.

fn invalid(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError {
        field: field.into(),
        message: message.into(),
    }
}

fn pattern(field: &str, source: &str) -> Result<TagPattern, PolicyError> {
    TagPattern::new(source).map_err(|e| invalid(field, e))
}

/// A regular expression that matches anywhere in the tag (Go's
/// `MatchString`), as a pattern over the whole tag.
fn unanchored(field: &str, regex: &str) -> Result<TagPattern, PolicyError> {
    if regex == ".*" {
        return pattern(field, ".*");
    }
    pattern(field, &format!(".*(?:{regex}).*"))
}

/// Escapes `text` so a regular expression matches it literally.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whole days covering `hours`, rounded up so an age limit keeps at least
/// what the source keeps; `None` for zero.
fn days_covering(hours: f64) -> Option<NonZeroU32> {
    NonZeroU32::new((hours / 24.0).ceil().min(u32::MAX as f64) as u32)
}

/// A count of days as an age limit; `None` for zero.
fn whole_days(days: usize) -> Option<NonZeroU32> {
    NonZeroU32::new(u32::try_from(days).unwrap_or(u32::MAX))
}

/// Hours in a Go duration, with days (`d`) as acr purge also takes them
/// (`720h`, `1h30m`, `7d`, `1d3h6m`); `None` when it is not one (Go's `us`
/// and `ns` are not taken: no retention is that short).
fn duration_hours(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut hours = 0.0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let value: f64 = number.parse().ok()?;
        number.clear();
        hours += value
            * match unit.as_str() {
                "d" => 24.0,
                "h" => 1.0,
                "m" => 1.0 / 60.0,
                "s" => 1.0 / 3600.0,
                "ms" => 1.0 / 3_600_000.0,
                _ => return None,
            };
        any = true;
    }
    if !number.is_empty() {
        // A bare 0 is a Go duration; any other bare number is not.
        if number.parse::<f64>().ok()? != 0.0 {
            return None;
        }
        any = true;
    }
    any.then_some(hours)
}

/// The non-negative integer at `value`, named by `field` in errors.
fn count(value: &Value, field: &str) -> Result<usize, PolicyError> {
    value
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| invalid(field, format!("expected a whole number, found {value}")))
}

fn string<'v>(value: &'v Value, field: &str) -> Result<&'v str, PolicyError> {
    value
        .as_str()
        .ok_or_else(|| invalid(field, format!("expected a string, found {value}")))
}

fn strings(value: &Value, field: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| string(item, &format!("{field}[{i}]")).map(str::to_owned))
            .collect(),
        other => Err(invalid(field, format!("expected a list, found {other}"))),
    }
}

const PUSH_AS_BUILD: &str =
    "the registry API has no push time, so the image's build date stands for it";

const PER_IMAGE: &str = "judged per image: an image goes only when every tag on it would go, \
                         and an image that keeps one tag keeps all of them";
