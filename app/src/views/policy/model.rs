//! The policy as the editor holds it: text per field, checked field by
//! field, so one bad field names itself while the plan keeps the last valid
//! policy. Also importing a policy from text (TOML, JSON, or the original
//! cleanreg's repository file) and exporting it.
//!
//! Imports and exports go through core (`Policy::parse`, `parse_reposfile`
//! with `reposfile_policy`; `to_toml`, `to_json_pretty`, `write_reposfile`),
//! so the page reads and writes exactly what the CLI does.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use cleanreg_core::ImportFormat as Foreign;
use cleanreg_core::{
    ImportReport, Mapping, Policy, PolicyError, PolicyFormat, ReleaseLine, ReposfileFormat,
    RepositoryPattern, Rule, Since, TagPattern, detect_format, import_policy, parse_reposfile,
    reposfile_policy, write_reposfile,
};

/// A field of a rule, as the editor shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Pattern,
    KeepNewest,
    KeepNewestPer,
    KeepYoungerThanDays,
    KeepNewerThan,
    KeepTags,
    ExcludeTags,
    OnlyTags,
    SkipSharedDigests,
    KeepNewestBeyondAge,
    DeleteUnknownAge,
    DeleteUntagged,
    RemoveTags,
}

impl Field {
    /// The policy file's name for it, also in `data-testid="rule-…"`.
    pub fn key(self) -> &'static str {
        match self {
            Field::Pattern => "pattern",
            Field::KeepNewest => "keep_newest",
            Field::KeepNewestPer => "keep_newest_per",
            Field::KeepYoungerThanDays => "keep_younger_than_days",
            Field::KeepNewerThan => "keep_newer_than",
            Field::KeepTags => "keep_tags",
            Field::ExcludeTags => "exclude_tags",
            Field::KeepNewestBeyondAge => "keep_newest_beyond_age",
            Field::OnlyTags => "only_tags",
            Field::SkipSharedDigests => "skip_shared_digests",
            Field::DeleteUnknownAge => "delete_unknown_age",
            Field::DeleteUntagged => "delete_untagged",
            Field::RemoveTags => "remove_tags",
        }
    }
}

/// One rule as typed. `id` tells rules apart while their patterns change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleDraft {
    pub id: u64,
    /// Unused for the default rule.
    pub pattern: String,
    pub keep_newest: String,
    /// Empty (the whole repository), `major` or `major.minor`.
    pub keep_newest_per: String,
    pub keep_younger_than_days: String,
    pub keep_newer_than: String,
    /// One regular expression per line.
    pub keep_tags: String,
    /// One regular expression per line.
    pub exclude_tags: String,
    pub only_tags: String,
    pub skip_shared_digests: bool,
    pub keep_newest_beyond_age: bool,
    pub delete_unknown_age: bool,
    pub delete_untagged: bool,
    /// One regular expression over whole tags.
    pub remove_tags: String,
}

impl RuleDraft {
    pub fn from_rule(id: u64, pattern: &str, rule: &Rule) -> RuleDraft {
        RuleDraft {
            id,
            pattern: pattern.to_owned(),
            keep_newest: rule.keep_newest.map(|n| n.to_string()).unwrap_or_default(),
            keep_newest_per: rule
                .keep_newest_per
                .map(|per| per.to_string())
                .unwrap_or_default(),
            keep_younger_than_days: rule
                .keep_younger_than_days
                .map(|n| n.to_string())
                .unwrap_or_default(),
            keep_newer_than: rule
                .keep_newer_than
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            keep_tags: rule
                .keep_tags
                .iter()
                .map(TagPattern::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            exclude_tags: rule
                .exclude_tags
                .iter()
                .map(TagPattern::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
            keep_newest_beyond_age: rule.keep_newest_beyond_age,
            only_tags: rule
                .only_tags
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            skip_shared_digests: rule.skip_shared_digests,
            delete_unknown_age: rule.delete_unknown_age,
            delete_untagged: rule.delete_untagged,
            remove_tags: rule
                .remove_tags
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    /// The text of a text field.
    pub fn text(&self, field: Field) -> &str {
        match field {
            Field::Pattern => &self.pattern,
            Field::KeepNewest => &self.keep_newest,
            Field::KeepNewestPer => &self.keep_newest_per,
            Field::KeepYoungerThanDays => &self.keep_younger_than_days,
            Field::KeepNewerThan => &self.keep_newer_than,
            Field::KeepTags => &self.keep_tags,
            Field::ExcludeTags => &self.exclude_tags,
            Field::OnlyTags => &self.only_tags,
            Field::RemoveTags => &self.remove_tags,
            Field::SkipSharedDigests
            | Field::DeleteUnknownAge
            | Field::DeleteUntagged
            | Field::KeepNewestBeyondAge => "",
        }
    }

    pub fn set_text(&mut self, field: Field, value: String) {
        match field {
            Field::Pattern => self.pattern = value,
            Field::KeepNewest => self.keep_newest = value,
            Field::KeepNewestPer => self.keep_newest_per = value,
            Field::KeepYoungerThanDays => self.keep_younger_than_days = value,
            Field::KeepNewerThan => self.keep_newer_than = value,
            Field::KeepTags => self.keep_tags = value,
            Field::ExcludeTags => self.exclude_tags = value,
            Field::OnlyTags => self.only_tags = value,
            Field::RemoveTags => self.remove_tags = value,
            Field::SkipSharedDigests => self.skip_shared_digests = !value.is_empty(),
            Field::DeleteUnknownAge => self.delete_unknown_age = !value.is_empty(),
            Field::DeleteUntagged => self.delete_untagged = !value.is_empty(),
            Field::KeepNewestBeyondAge => self.keep_newest_beyond_age = !value.is_empty(),
        }
    }

    pub fn flag(&self, field: Field) -> bool {
        match field {
            Field::SkipSharedDigests => self.skip_shared_digests,
            Field::DeleteUnknownAge => self.delete_unknown_age,
            Field::DeleteUntagged => self.delete_untagged,
            Field::KeepNewestBeyondAge => self.keep_newest_beyond_age,
            _ => false,
        }
    }

    pub fn set_flag(&mut self, field: Field, on: bool) {
        match field {
            Field::SkipSharedDigests => self.skip_shared_digests = on,
            Field::DeleteUnknownAge => self.delete_unknown_age = on,
            Field::DeleteUntagged => self.delete_untagged = on,
            Field::KeepNewestBeyondAge => self.keep_newest_beyond_age = on,
            _ => {}
        }
    }

    /// The rule, or each field's problem.
    pub fn rule(&self) -> Result<Rule, Vec<(Field, String)>> {
        let mut errors = Vec::new();
        let mut note = |field: Field, result: Result<(), String>| {
            if let Err(message) = result {
                errors.push((field, message));
            }
        };
        let mut rule = Rule {
            skip_shared_digests: self.skip_shared_digests,
            delete_unknown_age: self.delete_unknown_age,
            delete_untagged: self.delete_untagged,
            keep_newest_beyond_age: self.keep_newest_beyond_age,
            ..Rule::default()
        };
        note(
            Field::KeepNewest,
            optional(&self.keep_newest, |text| {
                parse_keep(text)
                    .ok_or_else(|| "enter a whole number, 0 or more, or leave it empty".into())
            })
            .map(|value| rule.keep_newest = value),
        );
        note(
            Field::KeepNewestPer,
            optional(&self.keep_newest_per, |text| match text {
                "major" => Ok(ReleaseLine::Major),
                "major.minor" => Ok(ReleaseLine::MajorMinor),
                _ => Err("choose major or major.minor, or leave it empty".into()),
            })
            .and_then(|per| {
                if per.is_some() && self.keep_newest.trim().is_empty() {
                    Err("counts \"Keep the newest\" per release line: set that too".into())
                } else {
                    Ok(per)
                }
            })
            .map(|value| rule.keep_newest_per = value),
        );
        note(
            Field::KeepYoungerThanDays,
            optional(&self.keep_younger_than_days, |text| {
                text.parse::<NonZeroU32>().map_err(|_| {
                    "enter a whole number of days, 1 or more, or leave it empty".into()
                })
            })
            .map(|value| rule.keep_younger_than_days = value),
        );
        note(
            Field::KeepNewerThan,
            optional(&self.keep_newer_than, |text| text.parse::<Since>())
                .map(|value| rule.keep_newer_than = value),
        );
        note(
            Field::KeepTags,
            keep_tags(&self.keep_tags).map(|value| rule.keep_tags = value),
        );
        note(
            Field::ExcludeTags,
            keep_tags(&self.exclude_tags).map(|value| rule.exclude_tags = value),
        );
        note(
            Field::OnlyTags,
            optional(&self.only_tags, TagPattern::new).map(|value| rule.only_tags = value),
        );
        note(
            Field::RemoveTags,
            optional(&self.remove_tags, TagPattern::new).map(|value| rule.remove_tags = value),
        );
        if errors.is_empty() {
            Ok(rule)
        } else {
            Err(errors)
        }
    }
}

/// An empty (or blank) field is unset; otherwise `parse` decides.
fn optional<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        parse(text).map(Some)
    }
}

/// One regular expression per line; blank lines are skipped. Tags hold no
/// blanks, so blanks around a line are dropped.
fn keep_tags(text: &str) -> Result<Vec<TagPattern>, String> {
    let mut patterns = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let pattern = TagPattern::new(line).map_err(|e| format!("line {}: {e}", index + 1))?;
        patterns.push(pattern);
    }
    Ok(patterns)
}

/// The whole policy as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyDraft {
    pub default: RuleDraft,
    pub rules: Vec<RuleDraft>,
    /// The next id to hand out.
    pub next_id: u64,
}

/// A problem in the draft: which rule (`None`: the default rule), which
/// field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftError {
    pub rule: Option<u64>,
    pub field: Field,
    pub message: String,
}

impl PolicyDraft {
    pub fn from_policy(policy: &Policy) -> PolicyDraft {
        let mut draft = PolicyDraft {
            default: RuleDraft::from_rule(0, "", &policy.default),
            rules: Vec::new(),
            next_id: 1,
        };
        for (pattern, rule) in &policy.repositories {
            let id = draft.take_id();
            draft
                .rules
                .push(RuleDraft::from_rule(id, pattern.as_str(), rule));
        }
        draft
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        id
    }

    /// Adds an empty rule at the end and returns its id.
    pub fn add_rule(&mut self) -> u64 {
        let id = self.take_id();
        self.rules.push(RuleDraft {
            id,
            ..RuleDraft::default()
        });
        id
    }

    pub fn remove_rule(&mut self, id: u64) {
        self.rules.retain(|rule| rule.id != id);
    }

    /// The rule with `id`; `None` is the default rule.
    pub fn rule_mut(&mut self, id: Option<u64>) -> Option<&mut RuleDraft> {
        match id {
            None => Some(&mut self.default),
            Some(id) => self.rules.iter_mut().find(|rule| rule.id == id),
        }
    }

    pub fn rule(&self, id: Option<u64>) -> Option<&RuleDraft> {
        match id {
            None => Some(&self.default),
            Some(id) => self.rules.iter().find(|rule| rule.id == id),
        }
    }

    /// The policy, or every problem, in the order shown.
    pub fn policy(&self) -> Result<Policy, Vec<DraftError>> {
        let mut errors = Vec::new();
        let mut policy = Policy::default();
        match self.default.rule() {
            Ok(rule) => policy.default = rule,
            Err(found) => errors.extend(found.into_iter().map(|(field, message)| DraftError {
                rule: None,
                field,
                message,
            })),
        }
        let mut seen: BTreeMap<RepositoryPattern, usize> = BTreeMap::new();
        for (index, draft) in self.rules.iter().enumerate() {
            let mut fail = |field, message: String| {
                errors.push(DraftError {
                    rule: Some(draft.id),
                    field,
                    message,
                })
            };
            let pattern = match draft.pattern.trim() {
                "" => {
                    fail(
                        Field::Pattern,
                        "enter a repository name or a glob such as team/*".into(),
                    );
                    None
                }
                text => match text.parse::<RepositoryPattern>() {
                    Ok(pattern) => match seen.get(&pattern) {
                        Some(first) => {
                            fail(
                                Field::Pattern,
                                format!("rule {} has the same pattern", first + 1),
                            );
                            None
                        }
                        None => {
                            seen.insert(pattern.clone(), index);
                            Some(pattern)
                        }
                    },
                    Err(e) => {
                        fail(Field::Pattern, e);
                        None
                    }
                },
            };
            let rule = match draft.rule() {
                Ok(rule) => Some(rule),
                Err(found) => {
                    for (field, message) in found {
                        fail(field, message);
                    }
                    None
                }
            };
            if let (Some(pattern), Some(rule)) = (pattern, rule) {
                policy.repositories.insert(pattern, rule);
            }
        }
        if errors.is_empty() {
            Ok(policy)
        } else {
            Err(errors)
        }
    }
}

/// The line above the editor: whether the plan follows what is shown.
pub fn status(problems: usize, locked: bool) -> String {
    match problems {
        0 if locked => "The policy is frozen while the plan is confirmed or applied.".to_owned(),
        0 => "The plan follows this policy.".to_owned(),
        1 => "1 field needs fixing; the plan still uses the last valid policy.".to_owned(),
        n => format!("{n} fields need fixing; the plan still uses the last valid policy."),
    }
}

// ------------------------------------------------------------------ import

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

/// The format chosen in the import form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Auto,
    Toml,
    Json,
    /// The original cleanreg's repository file, text or YAML.
    Reposfile,
    /// Another registry's or tool's policy, imported with a report.
    Foreign(Foreign),
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 9] = [
        ImportFormat::Auto,
        ImportFormat::Toml,
        ImportFormat::Json,
        ImportFormat::Reposfile,
        ImportFormat::Foreign(Foreign::Gitlab),
        ImportFormat::Foreign(Foreign::Ecr),
        ImportFormat::Foreign(Foreign::Harbor),
        ImportFormat::Foreign(Foreign::Zot),
        ImportFormat::Foreign(Foreign::Acr),
    ];

    pub fn key(self) -> &'static str {
        match self {
            ImportFormat::Auto => "auto",
            ImportFormat::Toml => "toml",
            ImportFormat::Json => "json",
            ImportFormat::Reposfile => "reposfile",
            ImportFormat::Foreign(format) => format.name(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportFormat::Auto => "Detect",
            ImportFormat::Toml => "cleanreg policy, TOML",
            ImportFormat::Json => "cleanreg policy, JSON",
            ImportFormat::Reposfile => "original cleanreg repository file (text or YAML)",
            ImportFormat::Foreign(format) => format.title(),
        }
    }

    pub fn from_key(key: &str) -> ImportFormat {
        ImportFormat::ALL
            .into_iter()
            .find(|format| format.key() == key)
            .unwrap_or(ImportFormat::Auto)
    }

    /// The format to read `text` in: the chosen one, else by the file's
    /// extension, else by the content: `{` starts JSON, a `[table]` or
    /// `key = value` line is TOML, anything else a repository file.
    pub fn resolve(self, file_name: Option<&str>, text: &str) -> ImportFormat {
        if self != ImportFormat::Auto {
            return self;
        }
        if let Some(format) = detect_format(text) {
            return ImportFormat::Foreign(format);
        }
        let extension = file_name
            .and_then(|name| name.rsplit_once('.'))
            .map(|(_, ext)| ext.to_ascii_lowercase());
        match extension.as_deref() {
            Some("toml") => return ImportFormat::Toml,
            Some("json") => return ImportFormat::Json,
            Some("yaml" | "yml" | "txt" | "list" | "repos") => return ImportFormat::Reposfile,
            _ => {}
        }
        let content = text.trim_start_matches('\u{feff}').trim_start();
        if content.starts_with('{') {
            return ImportFormat::Json;
        }
        let toml_like = content.lines().any(|line| {
            let line = line.split('#').next().unwrap_or("").trim();
            line.starts_with('[') || line.contains('=')
        });
        if toml_like {
            ImportFormat::Toml
        } else {
            ImportFormat::Reposfile
        }
    }
}

/// A successful import: the policy and a sentence saying what came in;
/// from another tool's format, the report of how each part maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub policy: Policy,
    pub message: String,
    pub report: Option<ImportReport>,
}

/// Reads `text` as `format` (resolved first). `source` names it in
/// messages (the file name, or "the pasted text"). `tags_are_regex` is the
/// original's `-re` for a repository file's `tag:`. The error names the
/// line where the format tells it.
pub fn import(
    text: &str,
    format: ImportFormat,
    file_name: Option<&str>,
    tags_are_regex: bool,
) -> Result<Imported, String> {
    let source = file_name.unwrap_or("the pasted text");
    let format = format.resolve(file_name, text);
    let read_as = match format {
        ImportFormat::Foreign(format) => format.title(),
        ImportFormat::Json => "a JSON policy",
        ImportFormat::Reposfile => "an original cleanreg repository file",
        _ => "a TOML policy",
    };
    let failed = |why: String| format!("Not imported: {source}, read as {read_as}: {why}");
    match format {
        ImportFormat::Foreign(format) => {
            let imported = import_policy(text, format).map_err(|e| failed(policy_error(e)))?;
            let report = imported.report;
            Ok(Imported {
                message: format!(
                    "Imported {source} ({}): {} exact, {} approximate, {} not mapped. Read \
                     the report below before you plan.",
                    format.title(),
                    report.count(Mapping::Exact),
                    report.count(Mapping::Approximate),
                    report.count(Mapping::NotMapped)
                ),
                policy: imported.policy,
                report: Some(report),
            })
        }
        ImportFormat::Toml | ImportFormat::Json | ImportFormat::Auto => {
            let syntax = if format == ImportFormat::Json {
                PolicyFormat::Json
            } else {
                PolicyFormat::Toml
            };
            let policy = Policy::parse(text, syntax).map_err(|e| failed(policy_error(e)))?;
            let count = policy.repositories.len();
            Ok(Imported {
                message: format!(
                    "Imported {source}: the default rule and {count} repository {}.",
                    plural(count, "rule", "rules")
                ),
                policy,
                report: None,
            })
        }
        ImportFormat::Reposfile => {
            let file = parse_reposfile(text).map_err(|e| failed(e.to_string()))?;
            let policy = reposfile_policy(source, &file, &Rule::default(), tags_are_regex)
                .map_err(|e| {
                    failed(
                        e.strip_prefix(&format!("{source}: "))
                            .unwrap_or(&e)
                            .to_owned(),
                    )
                })?;
            let count = policy.repositories.len();
            let kind = match file.format {
                ReposfileFormat::Text => "text",
                ReposfileFormat::Yaml => "YAML",
            };
            Ok(Imported {
                message: format!(
                    "Imported {source} ({kind} repository file): {count} repository {}. \
                     Repositories it does not name are kept, as the original cleans only \
                     what it names.",
                    plural(count, "rule", "rules")
                ),
                policy,
                report: None,
            })
        }
    }
}

/// A policy error as the import message ends: the field, unless it is the
/// file as a whole.
fn policy_error(e: PolicyError) -> String {
    if e.field == "(file)" || e.field.is_empty() {
        e.message
    } else {
        format!("{}: {}", e.field, e.message)
    }
}

/// The policy as the original's repository file, or one sentence saying
/// what it cannot express.
pub fn export_reposfile(policy: &Policy, format: ReposfileFormat) -> Result<String, String> {
    write_reposfile(policy, format).map_err(|problems| {
        let name = match format {
            ReposfileFormat::Text => "text",
            ReposfileFormat::Yaml => "YAML",
        };
        format!(
            "Not expressible as the original's {name} repository file: {}.",
            problems.join("; ")
        )
    })
}

/// The draft checked: the policy it makes, or what is wrong with it.
pub type Checked = Result<Policy, Vec<DraftError>>;

/// The count typed in the field; `None` while it is not a whole number >= 0.
pub fn parse_keep(text: &str) -> Option<usize> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_non_negative_numbers_count() {
        assert_eq!(parse_keep(" 2 "), Some(2));
        assert_eq!(parse_keep("0"), Some(0));
        assert_eq!(parse_keep("-1"), None);
        assert_eq!(parse_keep("1.5"), None);
        assert_eq!(parse_keep(""), None);
    }

    fn draft(toml: &str) -> PolicyDraft {
        PolicyDraft::from_policy(&Policy::from_toml(toml).unwrap())
    }

    #[test]
    fn a_policy_survives_the_draft() {
        let policy = Policy::from_toml(
            "[default]\nkeep_newest = 10\nkeep_younger_than_days = 30\n\
             keep_tags = ['^v?\\d+\\.\\d+$', 'latest']\n\
             [repositories.\"ci/*\"]\nkeep_newest = 0\nonly_tags = 'ci-.*'\n\
             skip_shared_digests = true\ndelete_unknown_age = true\n\
             keep_newer_than = '2026-01-31'\ndelete_untagged = true\n\
             remove_tags = 'pr-\\d+|sha-[0-9a-f]+'\n\
             [repositories.\"team/archive\"]\n",
        )
        .unwrap();
        let draft = PolicyDraft::from_policy(&policy);
        assert_eq!(draft.default.keep_tags, "^v?\\d+\\.\\d+$\nlatest");
        assert_eq!(draft.rules[0].keep_newer_than, "2026-01-31");
        assert!(draft.rules[0].delete_untagged && !draft.default.delete_untagged);
        assert_eq!(draft.rules[0].remove_tags, "pr-\\d+|sha-[0-9a-f]+");
        assert_eq!(draft.policy().unwrap(), policy);
    }

    #[test]
    fn untagged_and_tag_removal_fields_are_checked_like_the_others() {
        let mut d = draft("[default]\nkeep_newest = 3\n");
        d.default.set_flag(Field::DeleteUntagged, true);
        d.default.set_text(Field::RemoveTags, " pr-.* ".into());
        let policy = d.policy().unwrap();
        assert!(policy.default.delete_untagged);
        let pattern = policy.default.remove_tags.as_ref().unwrap();
        assert!(pattern.matches("pr-12") && !pattern.matches("v1.0.0"));
        d.default.set_text(Field::RemoveTags, "pr-(".into());
        let errors = d.policy().unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].rule, errors[0].field), (None, Field::RemoveTags));
        assert!(
            errors[0].message.starts_with("invalid regular expression"),
            "{errors:?}"
        );
        d.default.set_text(Field::RemoveTags, String::new());
        assert_eq!(d.policy().unwrap().default.remove_tags, None);
        // Both travel through TOML and JSON.
        let id = d.add_rule();
        let rule = d.rule_mut(Some(id)).unwrap();
        rule.pattern = "ci/*".into();
        rule.delete_untagged = true;
        rule.remove_tags = "sha-.*".into();
        let policy = d.policy().unwrap();
        assert_eq!(Policy::from_toml(&policy.to_toml()).unwrap(), policy);
        assert_eq!(Policy::from_json(&policy.to_json_pretty()).unwrap(), policy);
        assert!(policy.to_toml().contains("remove_tags = \"sha-.*\""));
    }

    #[test]
    fn the_release_line_choice_needs_a_count_and_survives_the_draft() {
        let mut d = draft("[default]\nkeep_newest = 2\nkeep_newest_per = \"major.minor\"\n");
        assert_eq!(d.default.keep_newest_per, "major.minor");
        assert_eq!(
            d.policy().unwrap().default.keep_newest_per,
            Some(ReleaseLine::MajorMinor)
        );
        d.default.set_text(Field::KeepNewestPer, "major".into());
        assert_eq!(
            d.policy().unwrap().default.keep_newest_per,
            Some(ReleaseLine::Major)
        );
        d.default.set_text(Field::KeepNewest, String::new());
        let errors = d.policy().unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, Field::KeepNewestPer);
        assert!(errors[0].message.contains("Keep the newest"), "{errors:?}");
        d.default.set_text(Field::KeepNewestPer, String::new());
        assert_eq!(d.policy().unwrap().default.keep_newest_per, None);
        d.default.set_text(Field::KeepNewestPer, "patch".into());
        assert_eq!(d.policy().unwrap_err()[0].field, Field::KeepNewestPer);
    }

    #[test]
    fn each_bad_field_names_itself() {
        let mut d = draft("[default]\nkeep_newest = 3\n");
        d.default.keep_newest = "-1".into();
        d.default.keep_younger_than_days = "0".into();
        d.default.keep_newer_than = "yesterday".into();
        d.default.keep_tags = "ok\n\nci-(".into();
        d.default.only_tags = "  ".into();
        let errors = d.policy().unwrap_err();
        let fields: Vec<Field> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                Field::KeepNewest,
                Field::KeepYoungerThanDays,
                Field::KeepNewerThan,
                Field::KeepTags
            ]
        );
        assert!(errors.iter().all(|e| e.rule.is_none()));
        assert!(errors[2].message.contains("is not a date"), "{errors:?}");
        assert!(
            errors[3]
                .message
                .starts_with("line 3: invalid regular expression"),
            "{errors:?}"
        );
    }

    #[test]
    fn patterns_are_checked_and_unique() {
        let mut d = PolicyDraft::default();
        let a = d.add_rule();
        let b = d.add_rule();
        let c = d.add_rule();
        d.rule_mut(Some(a)).unwrap().pattern = "team/*".into();
        d.rule_mut(Some(b)).unwrap().pattern = " team/* ".into();
        d.rule_mut(Some(c)).unwrap().pattern = "Team/App".into();
        let errors = d.policy().unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].rule, errors[0].field), (Some(b), Field::Pattern));
        assert_eq!(errors[0].message, "rule 1 has the same pattern");
        assert_eq!(errors[1].rule, Some(c));
        d.remove_rule(b);
        d.rule_mut(Some(c)).unwrap().pattern = "team/app".into();
        d.rule_mut(Some(c)).unwrap().keep_newest = "2".into();
        let policy = d.policy().unwrap();
        assert_eq!(policy.repositories.len(), 2);
        assert!(!policy.repositories[&"team/*".parse().unwrap()].has_limit());
        let empty = PolicyDraft {
            rules: vec![RuleDraft::default()],
            ..PolicyDraft::default()
        };
        assert_eq!(empty.policy().unwrap_err()[0].field, Field::Pattern);
    }

    #[test]
    fn the_status_says_which_policy_the_plan_uses() {
        assert_eq!(status(0, false), "The plan follows this policy.");
        assert!(status(0, true).contains("frozen"));
        assert!(
            status(2, true).starts_with("2 fields need fixing; the plan still uses the last valid")
        );
    }

    #[test]
    fn import_detects_the_format() {
        use ImportFormat::*;
        assert_eq!(Auto.resolve(Some("p.JSON"), "[default]"), Json);
        assert_eq!(Auto.resolve(Some("repos.yml"), "{}"), Reposfile);
        assert_eq!(Auto.resolve(Some("p.toml"), "mysql 5"), Toml);
        assert_eq!(Auto.resolve(None, "\n  {\"default\": {}}"), Json);
        assert_eq!(Auto.resolve(Some("policy"), "# x\n[default]\n"), Toml);
        assert_eq!(Auto.resolve(None, "keep_newest = 1"), Toml);
        assert_eq!(Auto.resolve(None, "# repo keep\nmysql 5\n"), Reposfile);
        assert_eq!(Auto.resolve(None, "consul:\n  keepimages: 2\n"), Reposfile);
        assert_eq!(
            Json.resolve(Some("p.toml"), "x"),
            Json,
            "a chosen format wins"
        );
        assert_eq!(ImportFormat::from_key("reposfile"), Reposfile);
        assert_eq!(ImportFormat::from_key("nonsense"), Auto);
        assert_eq!(ImportFormat::from_key("zot"), Foreign(super::Foreign::Zot));
    }

    #[test]
    fn another_registrys_policy_imports_with_its_report() {
        let gitlab = r#"{"container_expiration_policy": {"keep_n": 2, "older_than": "7d",
            "name_regex": "ci-.*", "cadence": "7d"}}"#;
        // The content decides before the extension: it is JSON, but GitLab's.
        let imported = import(gitlab, ImportFormat::Auto, Some("gitlab.json"), false).unwrap();
        assert_eq!(imported.policy.default.keep_newest, Some(2));
        assert!(
            imported
                .message
                .starts_with("Imported gitlab.json (GitLab cleanup policy): "),
            "{}",
            imported.message
        );
        let report = imported.report.expect("a report");
        assert!(report.items.iter().any(|i| i.source.ends_with("cadence")));
        // The editor keeps what the import set, the new fields included.
        let draft = PolicyDraft::from_policy(&imported.policy);
        assert_eq!(draft.policy().unwrap(), imported.policy);
        let bad = import(
            r#"{"rules": [{"selection": {}}]}"#,
            ImportFormat::Auto,
            None,
            false,
        )
        .unwrap_err();
        assert!(
            bad.starts_with("Not imported: the pasted text, read as ECR lifecycle policy: "),
            "{bad}"
        );
    }

    #[test]
    fn imports_every_format_and_names_the_line() {
        let toml = import(
            "[default]\nkeep_newest = 4\n",
            ImportFormat::Auto,
            None,
            false,
        )
        .unwrap();
        assert_eq!(toml.policy, Policy::keep_newest(4));
        let json = import(
            "{\"default\": {\"keep_newest\": 4}}",
            ImportFormat::Auto,
            Some("p.json"),
            false,
        )
        .unwrap();
        assert_eq!(json.policy, Policy::keep_newest(4));

        let text = import(
            "# repo keep\nmysql 5\nteam/app 0\n",
            ImportFormat::Auto,
            Some("repos.txt"),
            false,
        )
        .unwrap();
        assert_eq!(text.policy.repositories.len(), 2);
        assert!(
            !text.policy.default.has_limit(),
            "unnamed repositories are kept"
        );
        assert!(
            text.message.contains("text repository file"),
            "{}",
            text.message
        );

        let yaml = import(
            "consul:\n  tag: ci-.*\n  keepimages: 2\n",
            ImportFormat::Reposfile,
            None,
            true,
        )
        .unwrap();
        let rule = &yaml.policy.repositories[&"consul".parse().unwrap()];
        assert!(rule.only_tags.as_ref().unwrap().matches("ci-9"));

        let bad = import("mysql 5\nteam/app five\n", ImportFormat::Auto, None, false).unwrap_err();
        assert!(
            bad.starts_with("Not imported: the pasted text, read as an original cleanreg repository file: line 2: "),
            "{bad}"
        );
        let bad = import(
            "[default]\nkeep_newest = 1\nkeep_last = 2\n",
            ImportFormat::Auto,
            None,
            false,
        )
        .unwrap_err();
        assert!(bad.contains("line 3: unknown field"), "{bad}");
        let bad = import(
            "a:\n  keepimages: 1\nb:\n  tag: x\n",
            ImportFormat::Auto,
            Some("r.yaml"),
            false,
        )
        .unwrap_err();
        assert!(
            bad.contains("line 3: b sets neither keepimages nor keepsince"),
            "{bad}"
        );
        let bad = import(
            "{\"default\": {\n\"keep_newest\": -1}}",
            ImportFormat::Json,
            None,
            false,
        )
        .unwrap_err();
        assert!(bad.contains("line 2"), "{bad}");
    }

    #[test]
    fn export_names_what_the_repository_file_cannot_say() {
        assert!(
            export_reposfile(&Policy::keep_newest(3), ReposfileFormat::Text)
                .unwrap_err()
                .starts_with("Not expressible as the original's text repository file: the default rule sets keep_newest")
        );
        let policy = Policy::from_toml("[repositories.a]\nkeep_newest = 2\n").unwrap();
        assert_eq!(
            export_reposfile(&policy, ReposfileFormat::Yaml).unwrap(),
            "# repository: {keepimages: N, keepsince: DATE}\na: {keepimages: 2}\n"
        );
        let untagged = Policy::from_toml(
            "[repositories.a]\nkeep_newest = 2\ndelete_untagged = true\nremove_tags = 'pr-.*'\n",
        )
        .unwrap();
        for format in [ReposfileFormat::Text, ReposfileFormat::Yaml] {
            let why = export_reposfile(&untagged, format).unwrap_err();
            assert!(
                why.ends_with(
                    "rule a: the text repository file cannot say delete_untagged, remove_tags."
                ) || why.ends_with(
                    "rule a: the YAML repository file cannot say delete_untagged, remove_tags."
                ),
                "{why}"
            );
        }
    }
}
