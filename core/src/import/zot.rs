//! zot's tag retention: the `retention` object of its configuration
//! (`storage.retention`, or given alone), with `policies` of `repositories`
//! globs, `keepTags` entries, `deleteUntagged` and `deleteReferrers`.
//!
//! What zot does (pkg/retention/retention.go and matcher.go): a repository
//! takes the first policy one of whose globs matches it (doublestar
//! globs); no policy, or no `keepTags`, keeps every tag. Each tag belongs
//! to the first `keepTags` entry whose `patterns` match it (Go regular
//! expressions matched anywhere in the tag; no patterns match every tag).
//! An entry without criteria keeps all its tags; otherwise it keeps those
//! any of its criteria keep, each counted within the entry's own tags:
//! `mostRecentlyPushedCount`, `pushedWithin`, and the pull-based
//! `mostRecentlyPulledCount` and `pulledWithin`. Tags no entry keeps are
//! removed; untagged manifests go after `delay` when `deleteUntagged`
//! (default true).
//!
//! Entries before the first one with a push criterion become
//! `exclude_tags` (kept, and out of the later entries' counts, as in zot);
//! that entry becomes the rule's count and age, scoped with `only_tags`
//! when it has patterns. Later entries only keep more here. Pull criteria
//! cannot map (the registry API has no pull times): their entry keeps every
//! tag it matches.

use std::cmp::Ordering;

use serde_json::Value;

use super::{
    ImportReport, PER_IMAGE, PUSH_AS_BUILD, count, days_covering, duration_hours, invalid, string,
    strings, unanchored,
};
use crate::policy::{Policy, PolicyError, RepositoryPattern, Rule};

/// The retention object and where it sits.
fn retention(value: &Value) -> Option<(&Value, &'static str)> {
    if let Some(r) = value.pointer("/storage/retention") {
        return Some((r, "storage.retention."));
    }
    if let Some(r) = value.get("retention") {
        return Some((r, "retention."));
    }
    let policies = value.get("policies")?.as_array()?;
    policies
        .iter()
        .any(|p| p.get("keepTags").is_some() || p.get("deleteUntagged").is_some())
        .then_some((value, ""))
}

pub(super) fn looks_like(value: &Value) -> bool {
    retention(value).is_some_and(|(r, _)| r.get("policies").is_some())
}

pub(super) fn import(value: &Value, report: &mut ImportReport) -> Result<Policy, PolicyError> {
    let (retention, at) = retention(value)
        .ok_or_else(|| invalid("storage.retention", "no zot retention configuration"))?;
    let field = |name: &str| format!("{at}{name}");
    if retention.get("dryRun") == Some(&Value::Bool(true)) {
        report.approximate(
            field("dryRun"),
            "true in zot; imported anyway, since cleanreg plans before it deletes",
        );
    }
    let delay = match retention.get("delay") {
        Some(v) => string(v, &field("delay"))?.to_owned(),
        None => "gcDelay (1h by default)".to_owned(),
    };
    if value.pointer("/storage/subPaths").is_some() {
        report.not_mapped(
            "storage.subPaths",
            "other storage roots have their own retention; import their retention objects one \
             by one",
        );
    }
    let policies = retention
        .get("policies")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(field("policies"), "expected a list of policies"))?;

    let mut policy = Policy::default();
    let mut taken: Vec<(usize, RepositoryPattern)> = Vec::new();
    for (i, entry) in policies.iter().enumerate() {
        let at = field(&format!("policies[{i}]"));
        let globs = strings(
            entry.get("repositories").unwrap_or(&Value::Null),
            &format!("{at}.repositories"),
        )?;
        if globs.is_empty() {
            report.not_mapped(
                format!("{at}.repositories"),
                "empty: zot matches a policy by its repositories list, so this policy takes no \
                 repository; those repositories keep everything",
            );
            continue;
        }
        let rule = keep_tags(entry, &at, report)?;
        let rule = untagged(entry, &at, &delay, rule, report)?;
        for glob in globs {
            let Ok(pattern) = glob.parse::<RepositoryPattern>() else {
                report.not_mapped(
                    format!("{at}.repositories {glob:?}"),
                    "a glob with characters cleanreg's globs do not take; those repositories \
                     keep everything",
                );
                continue;
            };
            if let Some((earlier, _)) = taken.iter().find(|(_, p)| *p == pattern) {
                report.exact(
                    format!("{at}.repositories {glob:?}"),
                    format!("policies[{earlier}] already takes it, as in zot"),
                );
                continue;
            }
            for (earlier, other) in &taken {
                if other.specificity(&pattern) == Ordering::Greater {
                    report.approximate(
                        format!("{at}.repositories {glob:?}"),
                        format!(
                            "a repository matching both {other} (policies[{earlier}]) and \
                             {glob} takes this more specific rule in cleanreg, the earlier \
                             policy in zot"
                        ),
                    );
                }
            }
            taken.push((i, pattern.clone()));
            policy.repositories.insert(pattern, rule.clone());
        }
    }
    report.exact(
        "repositories no policy matches",
        "the default rule sets no limit: they keep every tag, as in zot",
    );
    Ok(policy)
}

/// One policy's `keepTags` as a rule.
fn keep_tags(entry: &Value, at: &str, report: &mut ImportReport) -> Result<Rule, PolicyError> {
    let mut rule = Rule::default();
    let entries = match entry.get("keepTags") {
        None | Some(Value::Null) => {
            report.exact(
                format!("{at}.keepTags"),
                "not set: every tag is kept (no limit)",
            );
            return Ok(rule);
        }
        Some(Value::Array(entries)) if entries.is_empty() => {
            report.exact(format!("{at}.keepTags"), "empty: every tag is kept");
            return Ok(rule);
        }
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(invalid(
                format!("{at}.keepTags"),
                format!("expected a list, found {other}"),
            ));
        }
    };
    let mut limited = false;
    for (j, keep) in entries.iter().enumerate() {
        let at = format!("{at}.keepTags[{j}]");
        let patterns = strings(
            keep.get("patterns").unwrap_or(&Value::Null),
            &format!("{at}.patterns"),
        )?;
        let every = patterns.is_empty() || patterns.iter().any(|p| p == ".*");
        let regex = (!every).then(|| {
            patterns
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|")
        });
        let pushed_count = keep
            .get("mostRecentlyPushedCount")
            .filter(|v| !v.is_null())
            .map(|v| count(v, &format!("{at}.mostRecentlyPushedCount")))
            .transpose()?
            .filter(|n| *n > 0);
        let pushed_within = keep
            .get("pushedWithin")
            .filter(|v| !v.is_null())
            .map(|v| {
                let text = string(v, &format!("{at}.pushedWithin"))?;
                duration_hours(text).ok_or_else(|| {
                    invalid(
                        format!("{at}.pushedWithin"),
                        format!("{text:?} is not a duration such as 720h"),
                    )
                })
            })
            .transpose()?;
        let pulled = ["mostRecentlyPulledCount", "pulledWithin"]
            .into_iter()
            .filter(|k| {
                keep.get(*k)
                    .is_some_and(|v| !v.is_null() && v != &Value::from(0))
            })
            .collect::<Vec<_>>();

        if limited {
            if rule.only_tags.is_some() {
                report.approximate(
                    at,
                    "its tags fall outside the rule's only_tags, so their images are kept",
                );
            } else {
                report.exact(at, "never reached: an earlier entry takes every tag");
            }
            continue;
        }
        let has_push = pushed_count.is_some() || pushed_within.is_some();
        if !pulled.is_empty() || !has_push {
            // Keeps every tag it takes: zot's pattern-only entry, or a pull
            // criterion cleanreg cannot check.
            if !pulled.is_empty() {
                report.not_mapped(
                    format!("{at}.{}", pulled.join(", ")),
                    "pull-based (the registry API has no pull times): every tag this entry \
                     takes is kept",
                );
            }
            match regex {
                None => {
                    report.exact(
                        format!("{at}.patterns"),
                        "takes every remaining tag and keeps it: nothing is deleted",
                    );
                    return Ok(Rule {
                        exclude_tags: Vec::new(),
                        ..Rule::default()
                    });
                }
                Some(regex) => {
                    let pattern = unanchored(&format!("{at}.patterns"), &regex)?;
                    report.exact(
                        format!("{at}.patterns"),
                        format!(
                            "exclude_tags {:?}: kept, and out of later entries' counts",
                            pattern.as_str()
                        ),
                    );
                    rule.exclude_tags.push(pattern);
                }
            }
            continue;
        }
        limited = true;
        if let Some(regex) = regex {
            let pattern = unanchored(&format!("{at}.patterns"), &regex)?;
            report.approximate(
                format!("{at}.patterns"),
                format!(
                    "only_tags {:?}: images with a tag no entry takes are kept (zot removes \
                     such tags); {PER_IMAGE}",
                    pattern.as_str()
                ),
            );
            rule.only_tags = Some(pattern);
        }
        if let Some(n) = pushed_count {
            rule.keep_newest = Some(n);
            report.approximate(
                format!("{at}.mostRecentlyPushedCount"),
                format!("keep_newest = {n}: zot counts tags, cleanreg images; {PUSH_AS_BUILD}"),
            );
        }
        if let Some(hours) = pushed_within {
            match days_covering(hours) {
                Some(days) => {
                    rule.keep_younger_than_days = Some(days);
                    report.approximate(
                        format!("{at}.pushedWithin"),
                        format!(
                            "keep_younger_than_days = {days} (whole days, rounded up); \
                             {PUSH_AS_BUILD}"
                        ),
                    );
                }
                None => report.exact(
                    format!("{at}.pushedWithin"),
                    "zero: keeps no tag by its age",
                ),
            }
        }
        if rule.keep_newest.is_none() && rule.keep_younger_than_days.is_none() {
            rule.keep_newest = Some(0);
        }
    }
    if !limited {
        rule.keep_newest = Some(0);
        report.exact(
            format!("{at}.keepTags"),
            "tags no entry keeps are removed: keep_newest = 0 with the kept patterns",
        );
    }
    Ok(rule)
}

fn untagged(
    entry: &Value,
    at: &str,
    delay: &str,
    rule: Rule,
    report: &mut ImportReport,
) -> Result<Rule, PolicyError> {
    let delete = match entry.get("deleteUntagged") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(invalid(
                format!("{at}.deleteUntagged"),
                format!("expected true or false, found {other}"),
            ));
        }
    };
    if delete {
        report.not_mapped(
            format!("{at}.deleteUntagged"),
            format!(
                "zot deletes untagged manifests older than its delay ({delay}); cleanreg cannot \
                 date untagged manifests, so delete_untagged stays off: set it to delete them all"
            ),
        );
    } else {
        report.exact(
            format!("{at}.deleteUntagged"),
            "false: untagged manifests are kept",
        );
    }
    if entry.get("deleteReferrers") == Some(&Value::Bool(true)) {
        report.not_mapped(
            format!("{at}.deleteReferrers"),
            "cleanreg deletes attachments with their subject; one whose subject is already \
             gone is kept",
        );
    }
    Ok(rule)
}
