//! Writing a policy as a repository file, when the file can say it.

use time::OffsetDateTime;

use super::ReposfileFormat;
use crate::name::RepositoryName;
use crate::policy::{Policy, Rule};

/// Writes `policy` as a repository file of `format`, for the original
/// cleanreg (`-f FILE`, without `-cf`, `-k`, `-s`, `-re` or `-i`) and for
/// [`parse_reposfile`](super::parse_reposfile) with [`crate::reposfile_policy`].
///
/// Such a file can say only this: the repositories it names, by exact
/// name, each keeping its newest N images (text and YAML) and images
/// created since a date (YAML only); every other repository is left alone.
/// So the default rule must set nothing, and every repository rule must use
/// an exact name, set `keep_newest` and/or `keep_newer_than` (the latter
/// only in YAML) and nothing else. An exact-name rule that sets nothing
/// keeps everything, as the file does for a repository it leaves out, so it
/// is left out.
///
/// Otherwise the error lists, one sentence each, everything that cannot be
/// said.
pub fn write_reposfile(policy: &Policy, format: ReposfileFormat) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let format_name = match format {
        ReposfileFormat::Text => "the text repository file",
        ReposfileFormat::Yaml => "the YAML repository file",
    };
    let default_fields = extra_fields(&policy.default, false, true);
    if !default_fields.is_empty() {
        problems.push(format!(
            "the default rule sets {}: {format_name} cannot change repositories it does not \
             name (the original needs -cf and its flags for that); clear the default rule",
            default_fields.join(", ")
        ));
    }
    let mut out = String::new();
    match format {
        ReposfileFormat::Text => out.push_str("# repository  images-to-keep\n"),
        ReposfileFormat::Yaml => out.push_str("# repository: {keepimages: N, keepsince: DATE}\n"),
    }
    for (pattern, rule) in &policy.repositories {
        let name = match pattern.as_str().parse::<RepositoryName>() {
            Ok(name) if pattern.is_exact() => name,
            _ => {
                problems.push(format!(
                    "rule {pattern}: {format_name} names repositories exactly, not by glob"
                ));
                continue;
            }
        };
        let fields = extra_fields(rule, true, format == ReposfileFormat::Yaml);
        if !fields.is_empty() {
            problems.push(format!(
                "rule {pattern}: {format_name} cannot say {}",
                fields.join(", ")
            ));
            continue;
        }
        if !rule.has_limit() {
            continue;
        }
        match format {
            ReposfileFormat::Text => {
                let count = rule
                    .keep_newest
                    .expect("checked: the only field it can say");
                out.push_str(&format!("{name} {count}\n"));
            }
            ReposfileFormat::Yaml => {
                let mut settings = Vec::new();
                if let Some(count) = rule.keep_newest {
                    settings.push(format!("keepimages: {count}"));
                }
                if let Some(since) = &rule.keep_newer_than {
                    settings.push(format!("keepsince: {}", yaml_since(since.0)));
                }
                out.push_str(&format!(
                    "{}: {{{}}}\n",
                    yaml_name(&name),
                    settings.join(", ")
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The fields of `rule` a repository file cannot carry. `limits`: whether
/// `keep_newest` can be said; `since`: whether `keep_newer_than` can.
fn extra_fields(rule: &Rule, limits: bool, since: bool) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if rule.keep_newest.is_some() && !limits {
        fields.push("keep_newest");
    }
    if rule.keep_newest_per.is_some() {
        fields.push("keep_newest_per");
    }
    if rule.keep_younger_than_days.is_some() {
        fields.push("keep_younger_than_days");
    }
    if rule.keep_newer_than.is_some() && !(limits && since) {
        fields.push("keep_newer_than");
    }
    if !rule.keep_tags.is_empty() {
        fields.push("keep_tags");
    }
    if rule.only_tags.is_some() {
        fields.push("only_tags");
    }
    if rule.skip_shared_digests {
        fields.push("skip_shared_digests");
    }
    if rule.delete_unknown_age {
        fields.push("delete_unknown_age");
    }
    if rule.delete_untagged {
        fields.push("delete_untagged");
    }
    if rule.remove_tags.is_some() {
        fields.push("remove_tags");
    }
    fields
}

/// A repository name as a YAML key: plain, unless YAML readers other than
/// ours would take it for a number, a boolean or null.
fn yaml_name(name: &RepositoryName) -> String {
    let text = name.as_str();
    let keyword = matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    );
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if keyword || numeric {
        format!("\"{text}\"")
    } else {
        text.to_owned()
    }
}

/// A `keepsince` value in one of the original's forms when it has one
/// (`2026-01-31`, `2026-01-31T12:00:00`, read as UTC), else RFC 3339 quoted.
fn yaml_since(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&utc.year()) || utc.nanosecond() != 0 {
        return format!("\"{}\"", crate::since::format_since(utc));
    }
    let date = format!(
        "{:04}-{:02}-{:02}",
        utc.year(),
        u8::from(utc.month()),
        utc.day()
    );
    if (utc.hour(), utc.minute(), utc.second()) == (0, 0, 0) {
        date
    } else {
        format!(
            "{date}T{:02}:{:02}:{:02}",
            utc.hour(),
            utc.minute(),
            utc.second()
        )
    }
}
