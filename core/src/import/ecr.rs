//! An Amazon ECR lifecycle policy: `{"rules": [...]}`, each rule with a
//! `rulePriority`, a `selection` (`tagStatus` tagged, untagged or any;
//! `tagPrefixList` or `tagPatternList`; `countType` `imageCountMoreThan` or
//! `sinceImagePushed` with `countUnit` days and `countNumber`) and the
//! action `expire`.
//!
//! ECR's evaluation: rules go in priority order, lowest number first; an
//! image a rule selects by its tags is decided by that rule and by no later
//! one; `any` comes last. A prefix or pattern list with several entries
//! selects only images carrying a tag for each entry; `*` in a pattern
//! matches any characters. The policy is per repository: here it becomes
//! the default rule.
//!
//! cleanreg has one rule per repository, so the first rule by priority
//! that selects tagged images is mapped and later ones are reported and
//! not applied (their images are kept). That stays on the safe side: an
//! image that rule's own selection would not take is kept. Untagged rules
//! carry an age or count cleanreg cannot apply to untagged manifests, so
//! they are reported, not mapped.

use serde_json::Value;

use super::{
    ImportReport, PUSH_AS_BUILD, count, invalid, literal, pattern, string, strings, whole_days,
};
use crate::policy::{Policy, PolicyError, Rule};

pub(super) fn looks_like(value: &Value) -> bool {
    value
        .get("rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| rules.iter().any(|r| r.get("selection").is_some()))
}

pub(super) fn import(value: &Value, report: &mut ImportReport) -> Result<Policy, PolicyError> {
    let rules = value
        .get("rules")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("rules", "an ECR lifecycle policy has a list of rules"))?;
    let mut ordered = Vec::with_capacity(rules.len());
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        let priority = count(
            rule.get("rulePriority").unwrap_or(&Value::Null),
            &format!("{at}.rulePriority"),
        )?;
        if let Some(action) = rule.pointer("/action/type")
            && string(action, &format!("{at}.action.type"))? != "expire"
        {
            return Err(invalid(
                format!("{at}.action.type"),
                format!("{action} is not an ECR action; ECR rules expire"),
            ));
        }
        ordered.push((priority, i, rule));
    }
    ordered.sort_by_key(|(priority, i, _)| (*priority, *i));
    for pair in ordered.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(invalid(
                format!("rules[{}].rulePriority", pair[1].1),
                format!(
                    "priority {} is used twice; ECR wants them unique",
                    pair[1].0
                ),
            ));
        }
    }

    let mut policy_rule = Rule::default();
    let mut mapped = false;
    for (_, i, rule) in ordered {
        let at = format!("rules[{i}]");
        let selection = rule
            .get("selection")
            .ok_or_else(|| invalid(&at, "an ECR rule has a selection"))?;
        let status = selection
            .get("tagStatus")
            .map(|v| string(v, &format!("{at}.selection.tagStatus")))
            .transpose()?
            .unwrap_or("any");
        let limit = Limit::read(selection, &at)?;
        if status == "untagged" {
            report.not_mapped(
                format!("{at} (untagged, {})", limit.describe()),
                "cleanreg cannot date or count untagged manifests, so delete_untagged stays \
                 off; set it to delete every untagged manifest",
            );
            continue;
        }
        if mapped {
            report.not_mapped(
                format!("{at} ({status}, {})", limit.describe()),
                "a second rule for tagged images: cleanreg has one rule per repository, so the \
                 images only this rule would expire are kept",
            );
            continue;
        }
        let tags = match status {
            "any" => None,
            "tagged" => Some(selected_tags(selection, &at)?),
            other => {
                return Err(invalid(
                    format!("{at}.selection.tagStatus"),
                    format!("{other:?} is not tagged, untagged or any"),
                ));
            }
        };
        mapped = true;
        match tags {
            None => report.exact(format!("{at}.selection.tagStatus"), "any: every image"),
            Some(Selected::Every) => report.exact(
                format!("{at}.selection"),
                "every tagged image (the pattern matches any tag)",
            ),
            Some(Selected::Matching(source)) => {
                policy_rule.only_tags = Some(pattern(&format!("{at}.selection"), &source)?);
                report.approximate(
                    format!("{at}.selection"),
                    format!(
                        "only_tags = {source:?}: ECR takes an image when one of its tags \
                         matches, cleanreg only when all do, so images that also carry other \
                         tags are kept"
                    ),
                );
            }
            Some(Selected::Unmappable(why)) => {
                report.not_mapped(
                    format!("{at}.selection"),
                    format!("{why}; the rule is not applied and its images are kept"),
                );
                // What this rule selects is its own: no later rule may
                // decide those images here, so none is applied.
                continue;
            }
        }
        match limit {
            Limit::Count(n) => {
                policy_rule.keep_newest = Some(n);
                report.approximate(
                    format!("{at}.selection.countNumber"),
                    format!("keep_newest = {n}: images ranked by build date; {PUSH_AS_BUILD}"),
                );
            }
            Limit::Days(days) => {
                policy_rule.keep_younger_than_days = whole_days(days);
                if policy_rule.keep_younger_than_days.is_none() {
                    policy_rule.keep_newest = Some(0);
                }
                report.approximate(
                    format!("{at}.selection.countNumber"),
                    format!("keep_younger_than_days = {days}: {PUSH_AS_BUILD}"),
                );
            }
        }
    }
    if !mapped {
        report.exact(
            "rules",
            "no rule expires tagged images: every tagged image is kept",
        );
    }
    Ok(Policy {
        default: policy_rule,
        ..Policy::default()
    })
}

enum Limit {
    Count(usize),
    Days(usize),
}

impl Limit {
    fn read(selection: &Value, at: &str) -> Result<Limit, PolicyError> {
        let field = |name: &str| format!("{at}.selection.{name}");
        let kind = string(
            selection.get("countType").unwrap_or(&Value::Null),
            &field("countType"),
        )?;
        let number = count(
            selection.get("countNumber").unwrap_or(&Value::Null),
            &field("countNumber"),
        )?;
        match kind {
            "imageCountMoreThan" => Ok(Limit::Count(number)),
            "sinceImagePushed" => {
                let unit = selection
                    .get("countUnit")
                    .map(|v| string(v, &field("countUnit")))
                    .transpose()?
                    .unwrap_or("days");
                if unit != "days" {
                    return Err(invalid(
                        field("countUnit"),
                        format!("{unit:?}: ECR counts sinceImagePushed in days"),
                    ));
                }
                Ok(Limit::Days(number))
            }
            other => Err(invalid(
                field("countType"),
                format!("{other:?} is not imageCountMoreThan or sinceImagePushed"),
            )),
        }
    }

    fn describe(&self) -> String {
        match self {
            Limit::Count(n) => format!("more than {n} images"),
            Limit::Days(n) => format!("pushed more than {n} days ago"),
        }
    }
}

enum Selected {
    Every,
    Matching(String),
    Unmappable(String),
}

fn selected_tags(selection: &Value, at: &str) -> Result<Selected, PolicyError> {
    let prefixes = strings(
        selection.get("tagPrefixList").unwrap_or(&Value::Null),
        &format!("{at}.selection.tagPrefixList"),
    )?;
    let patterns = strings(
        selection.get("tagPatternList").unwrap_or(&Value::Null),
        &format!("{at}.selection.tagPatternList"),
    )?;
    let regex = match (prefixes.as_slice(), patterns.as_slice()) {
        ([], []) => {
            return Err(invalid(
                format!("{at}.selection"),
                "tagStatus tagged needs a tagPrefixList or a tagPatternList",
            ));
        }
        ([prefix], []) => format!("{}.*", literal(prefix)),
        ([], [wildcard]) => wildcard
            .split('*')
            .map(literal)
            .collect::<Vec<_>>()
            .join(".*"),
        _ => {
            return Ok(Selected::Unmappable(format!(
                "the rule takes only images carrying a tag for each of {} entries, which \
                 cleanreg's tag patterns cannot say",
                prefixes.len() + patterns.len()
            )));
        }
    };
    Ok(if regex == ".*" {
        Selected::Every
    } else {
        Selected::Matching(regex)
    })
}
