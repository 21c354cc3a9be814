//! Harbor's tag retention policy as its API returns it (`GET
//! /api/v2.0/retentions/{id}`): `rules`, each with a `template` and its
//! `params`, `tag_selectors` and `scope_selectors.repository`, all
//! `retain`, OR'ed (`algorithm: "or"`).
//!
//! What Harbor does: a repository some rule's scope matches keeps the
//! artifacts any of its rules retains and loses the others, untagged ones
//! included unless a rule's tag selector includes them; repositories no
//! rule matches are untouched. Selectors are doublestar globs (`**`, `*`,
//! `?`, `{a,b}`) with `matches`/`excludes` (`repoMatches`/`repoExcludes`);
//! repository patterns are written without the project name. Templates:
//! `latestPushedK`, `nDaysSinceLastPush`, `always`, and the pull-based
//! `latestPulledN`, `nDaysSinceLastPull` and `latestActiveK`. Harbor counts
//! artifacts (digests), as cleanreg counts images.
//!
//! Each rule is a retain set; a repository's rule here is their union,
//! written so that it keeps at least what each keeps: a count or age over
//! every tag maps exactly (up to push time); one scoped to a tag pattern
//! becomes `only_tags` when it is the only limited rule, otherwise a kept
//! tag pattern (it keeps all of that pattern); a rule that cannot map keeps
//! everything its selectors take.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ImportReport, PUSH_AS_BUILD, count, invalid, literal, pattern, string, whole_days};
use crate::policy::{Policy, PolicyError, RepositoryPattern, Rule};

pub(super) fn looks_like(value: &Value) -> bool {
    value
        .get("rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| {
            rules
                .iter()
                .any(|r| r.get("template").is_some() || r.get("tag_selectors").is_some())
        })
}

/// What one rule keeps, over which tags.
#[derive(Clone)]
struct Retain {
    source: String,
    /// `None`: every tag.
    tags: Option<String>,
    keeps: Keeps,
    untagged: bool,
}

#[derive(Clone, Copy)]
enum Keeps {
    All,
    Newest(usize),
    Days(usize),
}

pub(super) fn import(value: &Value, report: &mut ImportReport) -> Result<Policy, PolicyError> {
    if let Some(algorithm) = value.get("algorithm")
        && string(algorithm, "algorithm")? != "or"
    {
        return Err(invalid(
            "algorithm",
            "Harbor's retention rules are OR'ed; no other algorithm exists",
        ));
    }
    if let Some(trigger) = value.get("trigger") {
        let cron = trigger
            .pointer("/settings/cron")
            .and_then(Value::as_str)
            .unwrap_or("manual");
        report.not_mapped(
            "trigger",
            format!("the schedule ({cron}) is not a policy: run cleanreg from cron"),
        );
    }
    if value.get("scope").is_some() {
        report.exact(
            "scope",
            "the project the rules belong to: here, the repositories scanned",
        );
    }
    let rules = value
        .get("rules")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("rules", "Harbor retention has a list of rules"))?;

    // Retain sets by repository pattern; "**" is every repository.
    let mut scoped: BTreeMap<String, Vec<Retain>> = BTreeMap::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        if rule.get("disabled") == Some(&Value::Bool(true)) {
            report.exact(&at, "disabled in Harbor: not imported");
            continue;
        }
        if let Some(action) = rule.get("action")
            && string(action, &format!("{at}.action"))? != "retain"
        {
            return Err(invalid(
                format!("{at}.action"),
                "Harbor's retention rules retain",
            ));
        }
        let retain = read_rule(rule, &at, report)?;
        match scope(rule, &at, report)? {
            Some(scopes) => {
                for scope in scopes {
                    scoped.entry(scope).or_default().push(retain.clone());
                }
            }
            // Which repositories it covers cannot be said: every
            // repository keeps everything, so none loses what it retains.
            None => scoped.entry("**".into()).or_default().push(Retain {
                source: at.clone(),
                tags: None,
                keeps: Keeps::All,
                untagged: true,
            }),
        }
    }

    let everywhere = scoped.remove("**").unwrap_or_default();
    let mut policy = Policy::default();
    if !everywhere.is_empty() {
        policy.default = union(&everywhere, "repositories matching **", report)?;
    } else {
        report.exact(
            "repositories no rule matches",
            "the default rule sets no limit: they keep everything, as in Harbor",
        );
    }
    let wildcards = scoped
        .keys()
        .filter(|glob| !glob.starts_with("*/") && glob.contains(['*', '?']))
        .count();
    if scoped.len() > 2 && wildcards > 0 {
        report.approximate(
            "scope_selectors",
            "a repository that several rules' patterns match takes the most specific pattern's \
             rules here (with those for every repository); in Harbor it takes all of them",
        );
    }
    for (glob, mut retains) in scoped {
        retains.extend(everywhere.iter().cloned());
        let rule = union(&retains, &format!("repositories matching {glob}"), report)?;
        let pattern: RepositoryPattern = glob
            .parse()
            .map_err(|e: String| invalid("scope_selectors", e))?;
        policy.repositories.insert(pattern, rule);
    }
    Ok(policy)
}

fn read_rule(rule: &Value, at: &str, report: &mut ImportReport) -> Result<Retain, PolicyError> {
    let template = string(
        rule.get("template").unwrap_or(&Value::Null),
        &format!("{at}.template"),
    )?;
    let param = |name: &str| {
        count(
            rule.pointer(&format!("/params/{name}"))
                .unwrap_or(&Value::Null),
            &format!("{at}.params.{name}"),
        )
    };
    let mut keeps = match template {
        "latestPushedK" => {
            let k = param("latestPushedK")?;
            report.approximate(
                format!("{at}.template"),
                format!("latestPushedK {k}: keep_newest = {k}; {PUSH_AS_BUILD}"),
            );
            Keeps::Newest(k)
        }
        "nDaysSinceLastPush" => {
            let n = param("nDaysSinceLastPush")?;
            report.approximate(
                format!("{at}.template"),
                format!("nDaysSinceLastPush {n}: keep_younger_than_days = {n}; {PUSH_AS_BUILD}"),
            );
            Keeps::Days(n)
        }
        "always" => {
            report.exact(
                format!("{at}.template"),
                "always: every selected image is kept",
            );
            Keeps::All
        }
        "latestPulledN" | "nDaysSinceLastPull" | "latestActiveK" => {
            report.not_mapped(
                format!("{at}.template"),
                format!(
                    "{template} is pull-based (the registry API has no pull times): every image \
                     the rule selects is kept"
                ),
            );
            Keeps::All
        }
        other => {
            report.not_mapped(
                format!("{at}.template"),
                format!(
                    "{other:?} is not a template cleanreg knows: every image it selects is kept"
                ),
            );
            Keeps::All
        }
    };

    let selectors = rule
        .get("tag_selectors")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if selectors.len() > 1 {
        // Harbor's own pages write one; how several combine is not said.
        report.not_mapped(
            format!("{at}.tag_selectors"),
            format!(
                "{} tag selectors: the rule keeps every image in its repositories",
                selectors.len()
            ),
        );
        keeps = Keeps::All;
    }
    let selector = selectors.first().filter(|_| selectors.len() == 1);
    let mut untagged = false;
    let tags = match selector {
        None => None,
        Some(selector) => {
            let decoration = selector
                .get("decoration")
                .and_then(Value::as_str)
                .unwrap_or("matches");
            let glob = string(
                selector.get("pattern").unwrap_or(&Value::Null),
                &format!("{at}.tag_selectors[0].pattern"),
            )?;
            untagged = selector
                .get("extras")
                .and_then(Value::as_str)
                .and_then(|extras| serde_json::from_str::<Value>(extras).ok())
                .and_then(|extras| extras.get("untagged").and_then(Value::as_bool))
                .unwrap_or(false);
            let regex = tag_regex(glob);
            match (decoration, regex) {
                ("matches", Some(regex)) if regex == ".*" => {
                    report.exact(
                        format!("{at}.tag_selectors[0]"),
                        format!("{glob}: every tag"),
                    );
                    None
                }
                ("matches", Some(regex)) => {
                    pattern(&format!("{at}.tag_selectors[0].pattern"), &regex)?;
                    report.exact(
                        format!("{at}.tag_selectors[0]"),
                        format!("tags matching {glob}: {regex:?}"),
                    );
                    Some(regex)
                }
                (decoration, _) => {
                    report.not_mapped(
                        format!("{at}.tag_selectors[0]"),
                        format!(
                            "{decoration} {glob:?} cannot be said with cleanreg's tag patterns: \
                             the rule keeps every image in its repositories"
                        ),
                    );
                    keeps = Keeps::All;
                    None
                }
            }
        }
    };
    Ok(Retain {
        source: at.to_owned(),
        tags,
        keeps,
        untagged,
    })
}

/// The repository patterns a rule covers; `None` when no glob says it.
/// Harbor's patterns leave out the project, so `nginx` is read as `nginx`
/// and `*/nginx`.
fn scope(
    rule: &Value,
    at: &str,
    report: &mut ImportReport,
) -> Result<Option<Vec<String>>, PolicyError> {
    let selectors = rule
        .pointer("/scope_selectors/repository")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if selectors.len() > 1 {
        report.not_mapped(
            format!("{at}.scope_selectors.repository"),
            format!(
                "{} repository selectors: every repository keeps everything instead",
                selectors.len()
            ),
        );
        return Ok(None);
    }
    let Some(selector) = selectors.first() else {
        return Ok(Some(vec!["**".into()]));
    };
    let glob = string(
        selector.get("pattern").unwrap_or(&Value::Null),
        &format!("{at}.scope_selectors.repository[0].pattern"),
    )?;
    let decoration = selector
        .get("decoration")
        .and_then(Value::as_str)
        .unwrap_or("repoMatches");
    let source = format!("{at}.scope_selectors.repository[0]");
    if decoration != "repoMatches" {
        report.not_mapped(
            source,
            format!("{decoration} {glob:?} has no glob: every repository keeps everything instead"),
        );
        return Ok(None);
    }
    let mut patterns = Vec::new();
    for expanded in expand_braces(glob) {
        if expanded == "**" || expanded == "*" {
            return Ok(Some(vec!["**".into()]));
        }
        let both = [expanded.clone(), format!("*/{expanded}")];
        if both.iter().any(|p| p.parse::<RepositoryPattern>().is_err()) {
            report.not_mapped(
                &source,
                format!("{glob:?} is not a glob cleanreg takes: every repository keeps everything"),
            );
            return Ok(None);
        }
        patterns.extend(both);
    }
    report.approximate(
        source,
        format!(
            "{glob:?} is matched as {} (Harbor leaves the project out of the name)",
            patterns.join(", ")
        ),
    );
    Ok(Some(patterns))
}

/// The union of retain sets as one rule that keeps at least each of them.
fn union(retains: &[Retain], at: &str, report: &mut ImportReport) -> Result<Rule, PolicyError> {
    let mut rule = Rule {
        delete_untagged: !retains.iter().any(|r| r.untagged),
        ..Rule::default()
    };
    if retains
        .iter()
        .any(|r| r.tags.is_none() && matches!(r.keeps, Keeps::All))
    {
        report.exact(at, "a rule keeps every image: nothing is deleted");
        return Ok(Rule::default());
    }
    let limited: Vec<&Retain> = retains
        .iter()
        .filter(|r| !matches!(r.keeps, Keeps::All))
        .collect();
    let scoped_only: Option<&String> = match limited.first().and_then(|r| r.tags.as_ref()) {
        Some(first) if limited.iter().all(|r| r.tags.as_ref() == Some(first)) => Some(first),
        _ => None,
    };
    for retain in retains {
        let field = |source: &str| format!("{source}.tag_selectors[0]");
        match (&retain.tags, retain.keeps) {
            (Some(regex), Keeps::All) => {
                rule.keep_tags.push(pattern(&field(&retain.source), regex)?)
            }
            (Some(regex), _) if scoped_only != Some(regex) => {
                rule.keep_tags.push(pattern(&field(&retain.source), regex)?);
                report.approximate(
                    format!("{} in {at}", retain.source),
                    format!(
                        "keep_tags {regex:?}: every image with such a tag is kept, not only the \
                         newest or recent ones (cleanreg counts over one set of tags per rule)"
                    ),
                );
            }
            // Over every tag, or over the one pattern all limits share:
            // the rule's own count and age (the larger of each).
            (tags, keeps) => {
                if let Some(regex) = tags {
                    rule.only_tags = Some(pattern(&field(&retain.source), regex)?);
                }
                match keeps {
                    Keeps::Newest(k) => rule.keep_newest = rule.keep_newest.max(Some(k)),
                    Keeps::Days(n) => {
                        rule.keep_younger_than_days =
                            rule.keep_younger_than_days.max(whole_days(n));
                    }
                    Keeps::All => unreachable!("a rule keeping every tag returned above"),
                }
            }
        }
    }
    if let Some(regex) = scoped_only {
        report.approximate(
            at,
            format!(
                "only_tags {regex:?}: images with a tag outside it are kept (Harbor deletes \
                 what no rule retains)"
            ),
        );
    }
    if rule.keep_newest.is_none() && rule.keep_younger_than_days.is_none() {
        rule.keep_newest = Some(0);
        report.exact(
            at,
            "no count or age: what no rule retains is deleted (keep_newest = 0)",
        );
    }
    if rule.delete_untagged {
        report.exact(
            at,
            "no rule includes untagged artifacts, so they are deleted (delete_untagged)",
        );
    } else {
        report.approximate(
            at,
            "a rule includes untagged artifacts: delete_untagged stays off and they are all kept",
        );
    }
    Ok(rule)
}

/// A tag glob as a regular expression over the whole tag; `None` for
/// character classes.
fn tag_regex(glob: &str) -> Option<String> {
    if glob.contains(['[', ']']) {
        return None;
    }
    let mut out = String::new();
    let mut chars = glob.chars().peekable();
    let mut depth = 0;
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                out.push_str(".*");
            }
            '?' => out.push('.'),
            '{' => {
                depth += 1;
                out.push_str("(?:");
            }
            '}' if depth > 0 => {
                depth -= 1;
                out.push(')');
            }
            ',' if depth > 0 => out.push('|'),
            c => out.push_str(&literal(&c.to_string())),
        }
    }
    (depth == 0).then_some(out)
}

/// `{a,b}` alternatives written out (one level, any number of groups).
fn expand_braces(glob: &str) -> Vec<String> {
    let Some(open) = glob.find('{') else {
        return vec![glob.to_owned()];
    };
    let Some(close) = glob[open..].find('}').map(|c| open + c) else {
        return vec![glob.to_owned()];
    };
    let (head, body, tail) = (&glob[..open], &glob[open + 1..close], &glob[close + 1..]);
    body.split(',')
        .flat_map(|alt| expand_braces(&format!("{head}{alt}{tail}")))
        .collect()
}
