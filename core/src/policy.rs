//! What the admin wants kept: a default rule and rules for repositories
//! chosen by exact name or glob.
//!
//! A rule deletes only when it sets a limit (`keep_newest`,
//! `keep_younger_than_days` or `keep_newer_than`); every keep clause adds to
//! what is kept, so a rule can only keep more by saying more. The schema is
//! documented in `docs/policy.md`; TOML and JSON carry the same fields.
//!
//! The most specific repository rule applies whole: nothing is inherited
//! from the default rule, and each plan entry names the rule that decided it.
//! Repository globs take `*` and `?` within a path component and `**` across
//! `/`.
//!
//! Tag patterns are regular expressions matched against the whole tag, in
//! Rust `regex` syntax. They are compiled with `regex-lite`, which keeps the
//! wasm small; natively they also run on `regex`'s faster engines, but
//! `regex-lite` still validates every pattern, so the CLI and the browser
//! accept exactly the same ones.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::name::RepositoryName;
use crate::since::{format_since, parse_since};
use crate::version::ReleaseLine;

/// A validated retention policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Applies to every repository no other rule names.
    #[serde(default)]
    pub default: Rule,
    /// Rules by repository name or glob; the most specific match wins.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "unique_patterns"
    )]
    pub repositories: BTreeMap<RepositoryPattern, Rule>,
}

/// What one rule keeps. Unset fields keep nothing by themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Keep the newest N images (distinct manifests, not tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_newest: Option<usize>,
    /// Count `keep_newest` in each release line its version tags name
    /// (`major`: 1.x, 2.x; `major.minor`: 1.4.x, 1.5.x), highest version
    /// first, instead of over the whole repository; see `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_newest_per: Option<ReleaseLine>,
    /// Keep images created less than this many days before the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_younger_than_days: Option<NonZeroU32>,
    /// Keep images created at or after this moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_newer_than: Option<Since>,
    /// Keep every image one of whose tags matches one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_tags: Vec<TagPattern>,
    /// Consider only images whose every tag matches this; the others are
    /// kept and take no place among the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_tags: Option<TagPattern>,
    /// Keep every image one of whose tags matches one of these, and leave
    /// it out of the count: it takes no place among the newest (GitLab's
    /// `name_regex_keep`, zot's earlier `keepTags` entries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_tags: Vec<TagPattern>,
    /// Count `keep_newest` only among the images no age limit keeps: the
    /// recent images are kept and the newest N older ones too
    /// (`acr purge --ago … --keep N`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub keep_newest_beyond_age: bool,
    /// Keep any digest that more than one tag of the repository points at.
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_shared_digests: bool,
    /// Let a limit delete images whose build date is unknown.
    #[serde(default, skip_serializing_if = "is_false")]
    pub delete_unknown_age: bool,
    /// Delete manifests no tag points at (found through scan history or the
    /// registry's storage), with what belongs to them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub delete_untagged: bool,
    /// Remove the tags matching this from the images the rule keeps, without
    /// touching the images: never a tag that also matches `keep_tags` or
    /// `exclude_tags`, never an image's last tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_tags: Option<TagPattern>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// A validation failure, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PolicyError {
    /// Path of the field, such as `repositories."team/*".only_tags`.
    pub field: String,
    pub message: String,
}

/// The syntax a policy file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFormat {
    Toml,
    Json,
}

impl PolicyFormat {
    /// By file extension: `.json` is JSON, anything else TOML.
    pub fn of_path(path: &str) -> PolicyFormat {
        if path.to_ascii_lowercase().ends_with(".json") {
            PolicyFormat::Json
        } else {
            PolicyFormat::Toml
        }
    }
}

impl Policy {
    /// The original cleanreg's `-k N` over every repository.
    pub fn keep_newest(count: usize) -> Policy {
        Policy {
            default: Rule::keep_newest(count),
            repositories: BTreeMap::new(),
        }
    }

    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let deserializer = toml::Deserializer::parse(text).map_err(|e| PolicyError {
            field: "(file)".into(),
            message: one_line(&e.to_string()),
        })?;
        let policy: Policy = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let line = e
                .inner()
                .span()
                .map(|span| text.get(..span.start).unwrap_or(text).matches('\n').count() + 1);
            let message = one_line(e.inner().message());
            PolicyError {
                field: field_path(e.path()),
                message: match line {
                    Some(line) => format!("line {line}: {message}"),
                    None => message,
                },
            }
        })?;
        policy.check()
    }

    pub fn from_json(text: &str) -> Result<Policy, PolicyError> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        let policy: Policy =
            serde_path_to_error::deserialize(deserializer).map_err(|e| PolicyError {
                field: field_path(e.path()),
                message: e.inner().to_string(),
            })?;
        policy.check()
    }

    /// What the fields cannot say one by one: a `keep_newest_per` needs
    /// the `keep_newest` it divides.
    fn check(self) -> Result<Policy, PolicyError> {
        let rules = std::iter::once(("default".to_owned(), &self.default)).chain(
            self.repositories
                .iter()
                .map(|(pattern, rule)| (format!("repositories.{:?}", pattern.as_str()), rule)),
        );
        for (at, rule) in rules {
            if let Some(per) = rule.keep_newest_per
                && rule.keep_newest.is_none()
            {
                return Err(PolicyError {
                    field: format!("{at}.keep_newest_per"),
                    message: format!(
                        "keep_newest_per = \"{per}\" counts keep_newest per release line; \
                         set keep_newest too"
                    ),
                });
            }
        }
        Ok(self)
    }

    pub fn parse(text: &str, format: PolicyFormat) -> Result<Policy, PolicyError> {
        match format {
            PolicyFormat::Toml => Policy::from_toml(text),
            PolicyFormat::Json => Policy::from_json(text),
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a policy is always representable in TOML")
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a policy is always representable in JSON")
    }

    /// The rule for `repository` and the pattern that chose it (`None`: the
    /// default rule). The most specific matching pattern wins: an exact name,
    /// then the glob with the most literal characters, then the one with the
    /// fewest `**`, then the first in name order.
    pub fn rule_for(&self, repository: &RepositoryName) -> (Option<&RepositoryPattern>, &Rule) {
        self.repositories
            .iter()
            .filter(|(pattern, _)| pattern.matches(repository))
            .min_by_key(|(pattern, _)| pattern.rank())
            .map_or((None, &self.default), |(pattern, rule)| {
                (Some(pattern), rule)
            })
    }
}

impl Rule {
    pub fn keep_newest(count: usize) -> Rule {
        Rule {
            keep_newest: Some(count),
            ..Rule::default()
        }
    }

    /// The patterns whose tags `remove_tags` never removes: `keep_tags`
    /// and `exclude_tags`.
    pub fn kept_tag_patterns(&self) -> std::borrow::Cow<'_, [TagPattern]> {
        if self.exclude_tags.is_empty() {
            std::borrow::Cow::Borrowed(&self.keep_tags)
        } else {
            std::borrow::Cow::Owned(
                self.keep_tags
                    .iter()
                    .chain(&self.exclude_tags)
                    .cloned()
                    .collect(),
            )
        }
    }

    /// Whether the rule can delete tagged images: it needs a count or an age.
    pub fn has_limit(&self) -> bool {
        self.keep_newest.is_some()
            || self.keep_younger_than_days.is_some()
            || self.keep_newer_than.is_some()
    }

    /// The age limits of the rule, resolved against `now`.
    pub fn age_limits(&self, now: OffsetDateTime) -> Vec<(AgeLimit, OffsetDateTime)> {
        let mut limits = Vec::new();
        if let Some(days) = self.keep_younger_than_days {
            limits.push((
                AgeLimit::YoungerThanDays { days: days.get() },
                now - time::Duration::days(days.get().into()),
            ));
        }
        if let Some(since) = &self.keep_newer_than {
            limits.push((
                AgeLimit::NewerThan {
                    since: since.clone(),
                },
                since.0,
            ));
        }
        limits
    }
}

/// An age below which images are kept, as the admin wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "limit", rename_all = "snake_case")]
pub enum AgeLimit {
    YoungerThanDays { days: u32 },
    NewerThan { since: Since },
}

impl fmt::Display for AgeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgeLimit::YoungerThanDays { days: 1 } => f.write_str("1 day"),
            AgeLimit::YoungerThanDays { days } => write!(f, "{days} days"),
            AgeLimit::NewerThan { since } => write!(f, "{since}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Field types that validate themselves.

/// A moment given as a date (`2026-01-31`, `20260131`, with an optional
/// `Thh:mm:ss`, UTC) or RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Since(pub OffsetDateTime);

impl fmt::Display for Since {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format_since(self.0);
        f.write_str(text.strip_suffix("T00:00:00Z").unwrap_or(&text))
    }
}

impl FromStr for Since {
    type Err = String;

    fn from_str(text: &str) -> Result<Since, String> {
        parse_since(text).map(Since).map_err(|e| e.to_string())
    }
}

impl Serialize for Since {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_since(self.0))
    }
}

impl<'de> Deserialize<'de> for Since {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Since, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A regular expression over tags, matched against the whole tag (as if
/// written `^(?:…)$`).
#[derive(Clone)]
pub struct TagPattern {
    source: String,
    regex: regex_lite::Regex,
    /// The same pattern on a faster engine, natively.
    #[cfg(not(target_arch = "wasm32"))]
    fast: Option<regex::Regex>,
}

/// Longest pattern accepted; tags are at most 128 characters.
const MAX_PATTERN_LEN: usize = 1024;

impl TagPattern {
    pub fn new(source: &str) -> Result<TagPattern, String> {
        if source.is_empty() {
            return Err("empty pattern; leave the field out instead".into());
        }
        if source.len() > MAX_PATTERN_LEN {
            return Err(format!("pattern longer than {MAX_PATTERN_LEN} characters"));
        }
        let anchored = format!("^(?:{source})$");
        let regex = regex_lite::Regex::new(&anchored).map_err(|e| {
            format!(
                "invalid regular expression {source:?}: {}",
                one_line(&e.to_string())
            )
        })?;
        Ok(TagPattern {
            source: source.to_owned(),
            regex,
            #[cfg(not(target_arch = "wasm32"))]
            fast: regex::Regex::new(&anchored).ok(),
        })
    }

    /// A pattern matching exactly `tag`.
    pub fn exact(tag: &str) -> TagPattern {
        let mut escaped = String::with_capacity(tag.len() + 4);
        for c in tag.chars() {
            if "\\.+*?()|[]{}^$".contains(c) {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        TagPattern::new(&escaped).expect("an escaped literal is a valid pattern")
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, tag: &str) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(fast) = &self.fast {
            return fast.is_match(tag);
        }
        self.regex.is_match(tag)
    }
}

impl fmt::Debug for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TagPattern({:?})", self.source)
    }
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for TagPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for TagPattern {}

impl Serialize for TagPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for TagPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TagPattern, D::Error> {
        let text = String::deserialize(deserializer)?;
        TagPattern::new(&text).map_err(serde::de::Error::custom)
    }
}

/// A repository name, or a glob over names: `*` and `?` stay within one
/// path component, `**` crosses `/`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepositoryPattern(Arc<str>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobToken {
    Byte(u8),
    AnyByte,
    Star,
    DoubleStar,
}

impl RepositoryPattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_exact(&self) -> bool {
        !self.0.contains(['*', '?'])
    }

    fn tokens(&self) -> Vec<GlobToken> {
        let bytes = self.0.as_bytes();
        let mut tokens = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'*' if bytes.get(i + 1) == Some(&b'*') => {
                    tokens.push(GlobToken::DoubleStar);
                    i += 2;
                    continue;
                }
                b'*' => tokens.push(GlobToken::Star),
                b'?' => tokens.push(GlobToken::AnyByte),
                b => tokens.push(GlobToken::Byte(b)),
            }
            i += 1;
        }
        tokens
    }

    pub fn matches(&self, name: &RepositoryName) -> bool {
        if self.is_exact() {
            return *self.0 == *name.as_str();
        }
        glob_matches(&self.tokens(), name.as_str().as_bytes())
    }

    /// `Less` when `self` is the more specific of the two, as
    /// [`Policy::rule_for`] ranks them.
    pub(crate) fn specificity(&self, other: &RepositoryPattern) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }

    /// Sort key: smaller is more specific.
    fn rank(&self) -> (bool, std::cmp::Reverse<usize>, usize, &str) {
        let tokens = self.tokens();
        let literals = tokens
            .iter()
            .filter(|t| matches!(t, GlobToken::Byte(_)))
            .count();
        let double = tokens
            .iter()
            .filter(|t| **t == GlobToken::DoubleStar)
            .count();
        (
            !self.is_exact(),
            std::cmp::Reverse(literals),
            double,
            &self.0,
        )
    }
}

/// Matches a glob against a name by dynamic programming (no backtracking
/// blow-up on patterns like `*a*a*a*`).
fn glob_matches(tokens: &[GlobToken], name: &[u8]) -> bool {
    // reachable[j]: the tokens so far can consume exactly name[..j].
    let mut reachable = vec![false; name.len() + 1];
    reachable[0] = true;
    for token in tokens {
        let mut next = vec![false; name.len() + 1];
        match token {
            GlobToken::Byte(b) => {
                for j in 0..name.len() {
                    next[j + 1] = reachable[j] && name[j] == *b;
                }
            }
            GlobToken::AnyByte => {
                for j in 0..name.len() {
                    next[j + 1] = reachable[j] && name[j] != b'/';
                }
            }
            GlobToken::Star | GlobToken::DoubleStar => {
                let crosses = *token == GlobToken::DoubleStar;
                for j in 0..=name.len() {
                    next[j] =
                        reachable[j] || (j > 0 && next[j - 1] && (crosses || name[j - 1] != b'/'));
                }
            }
        }
        reachable = next;
    }
    reachable[name.len()]
}

impl FromStr for RepositoryPattern {
    type Err = String;

    fn from_str(text: &str) -> Result<RepositoryPattern, String> {
        let allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/*?".contains(c);
        if text.is_empty() {
            return Err("empty repository name or glob".into());
        }
        if text.len() > 255 {
            return Err("repository name or glob longer than 255 characters".into());
        }
        if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "{text:?} has {bad:?}; a repository name or glob uses lowercase letters, digits, \
                 '.', '_', '-', '/', '*' and '?'"
            ));
        }
        if text.contains("***") {
            return Err(format!("{text:?}: use * or **, not ***"));
        }
        let pattern = RepositoryPattern(Arc::from(text));
        if pattern.is_exact() {
            text.parse::<RepositoryName>().map_err(|e| e.to_string())?;
        }
        Ok(pattern)
    }
}

impl fmt::Debug for RepositoryPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepositoryPattern({:?})", self.0)
    }
}

impl fmt::Display for RepositoryPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RepositoryPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RepositoryPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RepositoryPattern, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Reads the `repositories` table, refusing a name given twice (JSON
/// would otherwise keep the last silently).
fn unique_patterns<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<RepositoryPattern, Rule>, D::Error> {
    struct Patterns;

    impl<'de> Visitor<'de> for Patterns {
        type Value = BTreeMap<RepositoryPattern, Rule>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a table of rules keyed by repository name or glob")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut rules = BTreeMap::new();
            while let Some(pattern) = map.next_key::<RepositoryPattern>()? {
                let rule: Rule = map.next_value()?;
                if rules.contains_key(&pattern) {
                    return Err(serde::de::Error::custom(format!(
                        "{pattern} has two rules; give each repository or glob one rule"
                    )));
                }
                rules.insert(pattern, rule);
            }
            Ok(rules)
        }
    }

    deserializer.deserialize_map(Patterns)
}

fn field_path(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { "(policy)".into() } else { text }
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn name(text: &str) -> RepositoryName {
        text.parse().unwrap()
    }

    fn pattern(text: &str) -> RepositoryPattern {
        text.parse().unwrap()
    }

    #[test]
    fn globs_stay_within_a_component_unless_doubled() {
        assert!(pattern("team/*").matches(&name("team/app")));
        assert!(!pattern("team/*").matches(&name("team/app/x")));
        assert!(pattern("team/**").matches(&name("team/app/x")));
        assert!(pattern("**").matches(&name("a/b/c")));
        assert!(pattern("*/app").matches(&name("team/app")));
        assert!(!pattern("*/app").matches(&name("app")));
        assert!(pattern("app-?").matches(&name("app-1")));
        assert!(!pattern("app-?").matches(&name("app-12")));
        assert!(pattern("team/app").matches(&name("team/app")));
        assert!(!pattern("team/app").matches(&name("team/app2")));
        assert!(pattern("*a*a*a*a*").matches(&name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")));
        assert!(!pattern("*a*a*a*a*b").matches(&name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")));
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let policy = Policy::from_toml(
            r#"
            [default]
            keep_newest = 10
            [repositories."team/*"]
            keep_newest = 5
            [repositories."team/app"]
            keep_newest = 2
            [repositories."**"]
            keep_newest = 7
            [repositories."team/ap*"]
            keep_newest = 3
            "#,
        )
        .unwrap();
        let chosen = |repo: &str| {
            let (pattern, rule) = policy.rule_for(&name(repo));
            (pattern.map(|p| p.to_string()), rule.keep_newest.unwrap())
        };
        assert_eq!(chosen("team/app"), (Some("team/app".into()), 2));
        assert_eq!(chosen("team/apple"), (Some("team/ap*".into()), 3));
        assert_eq!(chosen("team/web"), (Some("team/*".into()), 5));
        assert_eq!(chosen("other/x"), (Some("**".into()), 7));
        let no_glob = Policy::keep_newest(4);
        assert_eq!(no_glob.rule_for(&name("x")).0, None);
    }

    #[test]
    fn toml_and_json_carry_the_same_policy() {
        let toml = r#"
            [default]
            keep_newest = 10
            keep_younger_than_days = 30
            keep_tags = ['^v?\d+\.\d+\.\d+$', "latest"]

            [repositories."ci/*"]
            keep_newest = 3
            only_tags = "ci-.*"
            skip_shared_digests = true
            delete_unknown_age = true
            keep_newer_than = "2026-01-31"
            delete_untagged = true
            remove_tags = 'sha-[0-9a-f]+|pr-\d+'
        "#;
        let policy = Policy::from_toml(toml).unwrap();
        let rule = &policy.repositories[&pattern("ci/*")];
        assert_eq!(
            rule.keep_newer_than,
            Some(Since(datetime!(2026-01-31 0:00 UTC)))
        );
        assert!(rule.only_tags.as_ref().unwrap().matches("ci-42"));
        assert!(!rule.only_tags.as_ref().unwrap().matches("xci-42"));
        assert!(rule.delete_untagged);
        assert!(rule.remove_tags.as_ref().unwrap().matches("pr-12"));
        assert!(!rule.remove_tags.as_ref().unwrap().matches("v1.4.0"));
        assert!(!policy.default.delete_untagged);
        assert!(policy.default.keep_tags[0].matches("1.2.3"));
        assert!(!policy.default.keep_tags[1].matches("latest-rc"));
        let json = policy.to_json_pretty();
        assert_eq!(Policy::from_json(&json).unwrap(), policy);
        assert_eq!(Policy::from_toml(&policy.to_toml()).unwrap(), policy);
    }

    #[test]
    fn validation_errors_name_the_field() {
        let error =
            Policy::from_json(r#"{"repositories": {"team/*": {"only_tags": "("}}}"#).unwrap_err();
        assert_eq!(error.field, "repositories.team/*.only_tags");
        assert!(
            error.message.contains("invalid regular expression"),
            "{error}"
        );

        let error = Policy::from_json(r#"{"default": {"keep_newest": -1}}"#).unwrap_err();
        assert_eq!(error.field, "default.keep_newest");

        let error = Policy::from_json(r#"{"default": {"keep_last": 3}}"#).unwrap_err();
        assert!(
            error.message.contains("unknown field `keep_last`"),
            "{error}"
        );

        let error = Policy::from_toml("[default]\nkeep_younger_than_days = 0\n").unwrap_err();
        assert_eq!(error.field, "default.keep_younger_than_days");

        let error = Policy::from_toml("[default]\nkeep_newer_than = \"yesterday\"\n").unwrap_err();
        assert_eq!(error.field, "default.keep_newer_than");

        let error = Policy::from_json(r#"{"repositories": {"Team/App": {}}}"#).unwrap_err();
        assert!(error.message.contains("'T'"), "{error}");

        let error = Policy::from_json(
            r#"{"repositories": {"a": {"keep_newest": 1}, "a": {"keep_newest": 2}}}"#,
        )
        .unwrap_err();
        assert!(error.message.contains("two rules"), "{error}");

        let error = Policy::from_toml("[default\n").unwrap_err();
        assert_eq!(error.field, "(file)");
    }

    #[test]
    fn an_empty_rule_has_no_limit() {
        assert!(!Rule::default().has_limit());
        assert!(Rule::keep_newest(0).has_limit());
        assert_eq!(Policy::from_toml("").unwrap(), Policy::default());
    }

    #[test]
    fn exact_tag_patterns_escape_their_text() {
        let exact = TagPattern::exact("v1.0-rc");
        assert_eq!(exact.as_str(), "v1\\.0-rc");
        assert!(exact.matches("v1.0-rc"));
        assert!(!exact.matches("v1x0-rc"));
        let odd = TagPattern::exact("a(b)*[c]{2}^$|+?\\");
        assert!(odd.matches("a(b)*[c]{2}^$|+?\\"));
    }

    /// Every TOML and JSON example in the policy documentation parses, and
    /// the TOML and JSON of the first pair say the same.
    #[test]
    fn the_documented_examples_parse() {
        let doc = include_str!("../../docs/policy.md");
        let blocks = |fence: &str| -> Vec<String> {
            doc.split(fence)
                .skip(1)
                .map(|rest| rest.split("```").next().unwrap_or_default().to_owned())
                .collect()
        };
        let tomls = blocks("```toml\n");
        let jsons = blocks("```json\n");
        assert!(!tomls.is_empty() && !jsons.is_empty());
        let toml: Vec<Policy> = tomls
            .iter()
            .map(|t| Policy::from_toml(t).unwrap())
            .collect();
        let json: Vec<Policy> = jsons
            .iter()
            .map(|j| Policy::from_json(j).unwrap())
            .collect();
        assert_eq!(toml[0], json[0]);
        assert_eq!(toml[0].repositories.len(), 2);
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../plugin/schema/policy.schema.json")).unwrap();
        assert_eq!(schema["$defs"]["rule"]["additionalProperties"], false);
    }
}
