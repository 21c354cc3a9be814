//! GitLab's cleanup policy for a project's container registry, as its API
//! shows it (`container_expiration_policy` of `GET /projects/:id`), as it
//! is set (`container_expiration_policy_attributes`), or the bare object.
//!
//! GitLab's order, per repository: take every tag, leave out `latest`,
//! keep only the tags `name_regex` (or `name_regex_delete`) matches, leave
//! out those `name_regex_keep` matches, leave out the newest `keep_n`, leave
//! out those younger than `older_than`, delete the rest. Both regular
//! expressions are RE2 matched against the whole tag; without `name_regex`
//! nothing is deleted. One rule for every repository (a GitLab policy is
//! per project): the default rule.

use serde_json::{Map, Value};

use std::num::NonZeroU32;

use super::{ImportReport, PER_IMAGE, count, invalid, pattern, string};
use crate::policy::{Policy, PolicyError, Rule, TagPattern};

const WRAPPERS: [&str; 2] = [
    "container_expiration_policy",
    "container_expiration_policy_attributes",
];
/// The fields read; any other is reported as not read.
const KNOWN: [&str; 8] = [
    "keep_n",
    "older_than",
    "name_regex",
    "name_regex_delete",
    "name_regex_keep",
    "enabled",
    "cadence",
    "next_run_at",
];
const FIELDS: [&str; 5] = [
    "keep_n",
    "older_than",
    "name_regex",
    "name_regex_delete",
    "name_regex_keep",
];

pub(super) fn looks_like(value: &Value) -> bool {
    policy_object(value).is_some()
}

/// The policy object and the path it sits at.
fn policy_object(value: &Value) -> Option<(&Map<String, Value>, String)> {
    let object = value.as_object()?;
    for wrapper in WRAPPERS {
        if let Some(inner) = object.get(wrapper).and_then(Value::as_object) {
            return Some((inner, format!("{wrapper}.")));
        }
    }
    let fields = object
        .keys()
        .filter(|k| FIELDS.contains(&k.as_str()))
        .count();
    // `cadence` with one of the fields, or two of them: a bare policy.
    (fields >= 2 || (fields == 1 && object.contains_key("cadence")))
        .then(|| (object, String::new()))
}

pub(super) fn import(value: &Value, report: &mut ImportReport) -> Result<Policy, PolicyError> {
    let (object, at) = policy_object(value)
        .ok_or_else(|| invalid("(file)", "no GitLab cleanup policy (keep_n, name_regex, …)"))?;
    let field = |name: &str| format!("{at}{name}");
    let get = |name: &str| object.get(name).filter(|v| !v.is_null());
    let mut rule = Rule::default();

    if let Some(enabled) = get("enabled")
        && enabled == &Value::Bool(false)
    {
        report.approximate(
            field("enabled"),
            "false in GitLab; imported anyway, since cleanreg runs when you run it",
        );
    }
    if get("next_run_at").is_some() {
        report.exact(field("next_run_at"), "GitLab's schedule state, not a rule");
    }
    if let Some(cadence) = get("cadence") {
        report.not_mapped(
            field("cadence"),
            format!(
                "the schedule ({}) is not a policy: run cleanreg from cron at that cadence",
                cadence.as_str().unwrap_or("?")
            ),
        );
    }

    for (key, _) in object.iter().filter(|(_, v)| !v.is_null()) {
        if !KNOWN.contains(&key.as_str()) {
            report.not_mapped(field(key), "not part of the retention rules: not read");
        }
    }
    let delete_field = if get("name_regex_delete").is_some() {
        if get("name_regex").is_some() {
            report.exact(
                field("name_regex"),
                "GitLab reads name_regex_delete when both are set",
            );
        }
        "name_regex_delete"
    } else {
        "name_regex"
    };
    let delete = get(delete_field)
        .map(|v| string(v, &field(delete_field)))
        .transpose()?
        .unwrap_or("");
    if delete.is_empty() {
        report.exact(
            field(delete_field),
            "not set or empty: GitLab deletes no tag, so the rule sets no limit and keeps \
             everything",
        );
        for other in ["keep_n", "older_than", "name_regex_keep"] {
            if get(other).is_some() {
                report.exact(field(other), "nothing is deleted, so it changes nothing");
            }
        }
        return Ok(Policy {
            default: rule,
            ..Policy::default()
        });
    }
    if delete != ".*" {
        rule.only_tags = Some(pattern(&field(delete_field), delete)?);
        report.approximate(
            field(delete_field),
            format!("only_tags = {delete:?}: {PER_IMAGE} (GitLab would remove the matching tags)"),
        );
    } else {
        report.exact(field(delete_field), "every tag may go: no only_tags");
    }

    rule.exclude_tags.push(TagPattern::exact("latest"));
    report.exact(
        "latest",
        "GitLab never deletes the tag latest: exclude_tags has \"latest\"",
    );
    if let Some(keep) = get("name_regex_keep") {
        let keep = string(keep, &field("name_regex_keep"))?;
        if !keep.is_empty() {
            rule.exclude_tags
                .push(pattern(&field("name_regex_keep"), keep)?);
            report.exact(
                field("name_regex_keep"),
                format!(
                    "exclude_tags {keep:?}: images with such a tag are kept and, as in GitLab, \
                     not counted in keep_n"
                ),
            );
        }
    }

    if let Some(keep_n) = get("keep_n") {
        let n = count(keep_n, &field("keep_n"))?;
        rule.keep_newest = Some(n);
        report.approximate(
            field("keep_n"),
            format!(
                "keep_newest = {n}: GitLab counts tags, cleanreg images, so an image with \
                 several tags takes one place and more images are kept"
            ),
        );
    }
    if let Some(older) = get("older_than") {
        let text = string(older, &field("older_than"))?;
        let days = older_than_days(text).ok_or_else(|| {
            invalid(
                field("older_than"),
                format!("{text:?} is not a GitLab age such as 7d, 14d, 30d, 60d or 90d"),
            )
        })?;
        rule.keep_younger_than_days = NonZeroU32::new(days);
        report.approximate(
            field("older_than"),
            format!(
                "keep_younger_than_days = {days}: by the image's build date, which GitLab's own \
                 created_at is too, unless its registry has the metadata database (then it is \
                 the push time)"
            ),
        );
    }
    if rule.keep_newest.is_none() && rule.keep_younger_than_days.is_none() {
        rule.keep_newest = Some(0);
        report.exact(
            "keep_n, older_than",
            "neither is set: GitLab deletes every matching tag, so keep_newest = 0",
        );
    }
    report.not_mapped(
        "untagged manifests",
        "GitLab's cleanup removes tags and leaves the rest to garbage collection; \
         delete_untagged stays off",
    );
    Ok(Policy {
        default: rule,
        ..Policy::default()
    })
}

/// Days in GitLab's `older_than` (`7d`, `14d`, `30d`, `60d`, `90d`; also
/// the `1month` and hour forms its API accepts), rounded up.
fn older_than_days(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let n: u32 = text[..digits].parse().ok()?;
    match &text[digits..] {
        "d" | "day" | "days" => Some(n),
        "h" | "hour" | "hours" => Some(n.div_ceil(24)),
        "w" | "week" | "weeks" => n.checked_mul(7),
        "month" | "months" => n.checked_mul(30),
        _ => None,
    }
    .filter(|days| *days > 0)
}
