//! An `acr purge` command line, as given to `az acr run --cmd` or an ACR
//! task: `acr purge --filter 'repo:regex' --ago 30d --keep 3 --untagged`.
//!
//! What acr-cli's purge does (cmd/acr/purge.go and
//! cmd/common/image_functions.go): each `--filter` is a repository regular
//! expression, anchored (`^…$`), and a tag regular expression matched
//! anywhere in the tag; filters for the same repository are joined with
//! `|`. A tag goes when it matches, was last updated before `--ago` (Go
//! duration with a leading day count; `0d` is every age) and is not among
//! the newest `--keep` of those old matching tags. Without `--untagged`
//! only tags are removed; with it, manifests left without a tag go too.
//! `--keep` counts only tags older than `--ago`, which is cleanreg's
//! `keep_newest_beyond_age`.

use std::collections::BTreeMap;

use super::{ImportReport, PER_IMAGE, days_covering, duration_hours, invalid};
use crate::policy::{Policy, PolicyError, RepositoryPattern, Rule, TagPattern};

pub(super) fn looks_like(text: &str) -> bool {
    let words = purge_words(text).unwrap_or_default();
    words.iter().any(|w| w == "purge") && words.iter().any(|w| w.starts_with("--filter"))
}

/// The words of the command; a quoted `--cmd "… purge …"` (az acr run, an
/// ACR task) is split again.
fn purge_words(text: &str) -> Result<Vec<String>, String> {
    let words = split(text)?;
    if words.iter().any(|w| w == "purge") {
        return Ok(words);
    }
    match words
        .iter()
        .find(|w| w.split_whitespace().any(|part| part == "purge"))
    {
        Some(inner) => split(inner),
        None => Ok(words),
    }
}

pub(super) fn import(text: &str, report: &mut ImportReport) -> Result<Policy, PolicyError> {
    let words = purge_words(text).map_err(|e| invalid("(command)", e))?;
    let start = words
        .iter()
        .position(|w| w == "purge")
        .ok_or_else(|| invalid("(command)", "no `purge` in the command"))?;
    let mut filters = Vec::new();
    let mut ago = None;
    let mut keep = None;
    let mut untagged = false;
    let mut args = words[start + 1..].iter();
    while let Some(word) = args.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (word.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| invalid(flag, "needs a value"))
        };
        match flag {
            "--filter" | "-f" => filters.push(value()?),
            "--ago" => ago = Some(value()?),
            "--keep" => {
                let text = value()?;
                keep =
                    Some(text.parse::<usize>().map_err(|_| {
                        invalid("--keep", format!("{text:?} is not a whole number"))
                    })?);
            }
            "--untagged" => untagged = true,
            "--untagged-only" => {
                return Err(invalid(
                    "--untagged-only",
                    "deletes only untagged manifests; in cleanreg that is a policy with \
                     delete_untagged and no limit, written by hand",
                ));
            }
            "--dry-run" => report.exact("--dry-run", "cleanreg plans first; apply is your choice"),
            "--registry"
            | "-r"
            | "--username"
            | "-u"
            | "--password"
            | "-p"
            | "--concurrency"
            | "--repository-page-size"
            | "--config"
            | "-c" => {
                let _ = value()?;
                report.exact(flag, "a connection setting, not part of the policy");
            }
            "--include-locked" => report.not_mapped(
                "--include-locked",
                "this registry has no locked tags; nothing to map",
            ),
            other if other.starts_with('-') => report.not_mapped(
                other,
                "not an acr purge flag cleanreg knows; ignored (it keeps nothing more)",
            ),
            other => report.not_mapped(
                format!("{other:?}"),
                "a word no flag takes (the value of an unknown flag?): not read",
            ),
        }
    }
    if filters.is_empty() {
        return Err(invalid("--filter", "acr purge needs at least one --filter"));
    }

    if ago.is_none() {
        report.exact("(no --ago)", "acr purge's default, 1d");
    }
    let ago_text = ago.unwrap_or_else(|| "1d".to_owned());
    let hours = duration_hours(&ago_text).ok_or_else(|| {
        invalid(
            "--ago",
            format!("{ago_text:?} is not a duration such as 30d or 1d3h6m"),
        )
    })?;
    let days = days_covering(hours);
    let keep = keep.unwrap_or(0);

    // Tag patterns by repository pattern, joined as acr-cli joins them.
    let mut by_repository: BTreeMap<RepositoryPattern, Vec<String>> = BTreeMap::new();
    for (i, filter) in filters.iter().enumerate() {
        let at = format!("--filter {filter}");
        let Some((repository, tags)) = split_filter(filter) else {
            return Err(invalid(
                at,
                "a filter is <repository regex>:<tag regex>, such as hello-world:.*",
            ));
        };
        match repository_glob(repository) {
            Some(glob) => {
                let glob: RepositoryPattern = glob.parse().map_err(|e: String| invalid(&at, e))?;
                let source = format!("filters[{i}] repository {repository:?}");
                if repository.contains('.') && !repository.ends_with(".*") {
                    report.approximate(
                        source,
                        format!(
                            "rule for {glob}: a '.' there matches any character, the glob only \
                             a '.', so other repositories it matched keep everything"
                        ),
                    );
                } else {
                    report.exact(source, format!("rule for {glob}"));
                }
                by_repository.entry(glob).or_default().push(tags.to_owned());
            }
            None => report.not_mapped(
                format!("filters[{i}] repository {repository:?}"),
                "a repository regular expression beyond a name or a name followed by .* has no \
                 glob; those repositories keep everything",
            ),
        }
    }

    let mut policy = Policy::default();
    for (glob, tags) in by_repository {
        let joined = tags
            .iter()
            .map(|t| format!("(?:{t})"))
            .collect::<Vec<_>>()
            .join("|");
        let mut rule = Rule::default();
        let at = format!("--filter {glob}:…");
        if !tags.iter().any(|t| t == ".*") {
            let regex = format!(".*(?:{joined}).*");
            rule.only_tags = Some(TagPattern::new(&regex).map_err(|e| invalid(&at, e))?);
            report.approximate(
                format!("{at} tags"),
                format!("only_tags = {regex:?} (matched anywhere in the tag); {PER_IMAGE}"),
            );
        }
        match (days, keep) {
            (None, 0) => rule.keep_newest = Some(0),
            (None, n) => rule.keep_newest = Some(n),
            (Some(days), 0) => rule.keep_younger_than_days = Some(days),
            (Some(days), n) => {
                rule.keep_younger_than_days = Some(days);
                rule.keep_newest = Some(n);
                rule.keep_newest_beyond_age = true;
            }
        }
        rule.delete_untagged = untagged;
        policy.repositories.insert(glob, rule);
    }
    match days {
        Some(days) => report.approximate(
            format!("--ago {ago_text}"),
            format!(
                "keep_younger_than_days = {days} (whole days, rounded up); the image's build \
                 date stands for the tag's last update, which the registry API does not give"
            ),
        ),
        None => report.exact(format!("--ago {ago_text}"), "every age: no age limit"),
    }
    if keep > 0 {
        report.exact(
            format!("--keep {keep}"),
            format!(
                "keep_newest = {keep}{}",
                if days.is_some() {
                    ", counted beyond the age limit (keep_newest_beyond_age), as acr purge counts"
                } else {
                    ""
                }
            ),
        );
    }
    if untagged {
        report.approximate(
            "--untagged",
            "delete_untagged = true: untagged manifests go, except those pushed in the last 5 \
             minutes",
        );
    } else {
        report.approximate(
            "(no --untagged)",
            "acr purge removes the tags and leaves the manifests; cleanreg deletes an image \
             whose every tag goes, manifest and tags together",
        );
    }
    report.exact(
        "repositories without a filter",
        "the default rule sets no limit: they keep everything",
    );
    Ok(policy)
}

/// Splits a filter at its first colon outside `(?…:` groups and brackets.
fn split_filter(filter: &str) -> Option<(&str, &str)> {
    let bytes = filter.as_bytes();
    let mut depth_bracket = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'[' => depth_bracket += 1,
            b']' => depth_bracket = depth_bracket.saturating_sub(1),
            b':' if depth_bracket == 0 => {
                let before = &filter[..i];
                let in_group_flag = before
                    .rfind("(?")
                    .is_some_and(|open| before[open + 2..].chars().all(|c| "imsU-".contains(c)));
                if in_group_flag {
                    continue;
                }
                let (repository, tags) = (&filter[..i], &filter[i + 1..]);
                return (!repository.is_empty() && !tags.is_empty()).then_some((repository, tags));
            }
            _ => {}
        }
    }
    None
}

/// A glob matching what the anchored repository expression matches, when
/// it is a plain name or a name followed by `.*`. A `.` in a name stands
/// for itself here: the glob matches no more than the expression.
fn repository_glob(regex: &str) -> Option<String> {
    let plain = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
    };
    let regex = regex.strip_prefix('^').unwrap_or(regex);
    let regex = regex.strip_suffix('$').unwrap_or(regex);
    if regex == ".*" {
        return Some("**".into());
    }
    if let Some(prefix) = regex.strip_suffix(".*")
        && plain(prefix)
    {
        return Some(format!("{prefix}**"));
    }
    plain(regex).then(|| regex.to_owned())
}

/// Splits a command line into words as a POSIX shell would for quotes,
/// backslashes and comments (no expansions); line continuations join
/// lines.
fn split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a ' quote is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a \" quote is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a \" quote is not closed".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
            },
            '#' if !in_word => {
                // A comment runs to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}
