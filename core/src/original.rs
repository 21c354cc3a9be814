//! The original cleanreg's selection flags (`-n`, `-f`, `-cf`, `-k`, `-s`,
//! `-re`, `-i`) turned into a [`Policy`] and the repositories to scan.
//!
//! `-i` (keep digests that several tags share) is decided per repository
//! from its tag list, where the original counted references across the
//! whole registry.

use std::collections::BTreeMap;

use crate::name::{RepositoryName, Tag};
use crate::policy::{Policy, RepositoryPattern, Rule, Since, TagPattern};
use crate::reposfile::Reposfile;

/// The flags as given.
#[derive(Debug, Clone, Default)]
pub struct OriginalSettings {
    /// `-k N`: images (not tags) to keep per repository.
    pub keep_images: Option<usize>,
    /// `-s DATE`: keep images created since DATE.
    pub since: Option<Since>,
    /// `-re`: a tag given with `-n REPO:TAG` or a file's `tag:` is a regular
    /// expression; otherwise it is one exact tag.
    pub regex: bool,
    /// `-i`: keep any digest that more than one tag of its repository uses.
    pub ignore_ref_tags: bool,
    /// `-cf`: clean every repository of the catalog.
    pub full_catalog: bool,
    /// `-n REPO[:TAG]`, in the order given.
    pub repositories: Vec<String>,
    /// `-f FILE`: the file's name (for messages) and its entries.
    pub reposfile: Option<(String, Reposfile)>,
}

/// What to scan and how to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub policy: Policy,
    /// The repositories to scan; `None`: the whole catalog.
    pub repositories: Option<Vec<RepositoryName>>,
}

impl OriginalSettings {
    /// The rule `-k`, `-s` and `-i` describe.
    pub fn base_rule(&self) -> Rule {
        Rule {
            keep_newest: self.keep_images,
            keep_newer_than: self.since.clone(),
            skip_shared_digests: self.ignore_ref_tags,
            ..Rule::default()
        }
    }

    /// The policy: with `-cf` the base rule is the default; `-n` and `-f`
    /// add one rule per repository named. Without `-cf` only the named
    /// repositories are scanned and the default rule keeps everything.
    pub fn selection(&self) -> Result<Selection, String> {
        let base = self.base_rule();
        if self.repositories.is_empty() && self.reposfile.is_none() && !self.full_catalog {
            return Err(
                "name the repositories to clean with -n REPO or -f FILE, or clean the whole \
                 catalog with -cf"
                    .into(),
            );
        }
        let mut rules: BTreeMap<RepositoryName, (String, Rule)> = BTreeMap::new();
        for given in &self.repositories {
            let (name, tag) = match given.split_once(':') {
                Some((name, tag)) => (name, Some(tag)),
                None => (given.as_str(), None),
            };
            let name: RepositoryName = name.parse().map_err(|e| format!("-n {given}: {e}"))?;
            if !base.has_limit() {
                return Err(format!(
                    "-n {given}: say what to keep with -k N (images) or -s DATE"
                ));
            }
            let only_tags = tag
                .map(|tag| self.tag_pattern(tag))
                .transpose()
                .map_err(|e| format!("-n {given}: {e}"))?;
            let rule = Rule {
                only_tags,
                ..base.clone()
            };
            if let Some((first, _)) = rules.insert(name.clone(), (format!("-n {given}"), rule)) {
                return Err(format!("{name} is named twice: {first} and -n {given}"));
            }
        }
        if let Some((file, reposfile)) = &self.reposfile {
            for entry in &reposfile.entries {
                let at = format!("{file}: line {}", entry.line);
                let only_tags = entry
                    .tag
                    .as_deref()
                    .map(|tag| self.tag_pattern(tag))
                    .transpose()
                    .map_err(|e| format!("{at}: tag: {e}"))?;
                let rule = Rule {
                    keep_newest: entry.keep_images.or(base.keep_newest),
                    keep_newer_than: entry.keep_since.map(Since).or(base.keep_newer_than.clone()),
                    only_tags,
                    ..base.clone()
                };
                if !rule.has_limit() {
                    return Err(format!(
                        "{at}: {} sets neither keepimages nor keepsince, and neither -k nor -s \
                         is given",
                        entry.repository
                    ));
                }
                if let Some((first, _)) = rules.insert(entry.repository.clone(), (at.clone(), rule))
                {
                    return Err(format!(
                        "{} is named twice: {first} and {at}",
                        entry.repository
                    ));
                }
            }
        }
        let default = if self.full_catalog {
            if !base.has_limit() {
                return Err("-cf: say what to keep with -k N (images) or -s DATE".into());
            }
            base
        } else {
            Rule::default()
        };
        let repositories = (!self.full_catalog).then(|| rules.keys().cloned().collect());
        let policy = Policy {
            default,
            repositories: rules
                .into_iter()
                .map(|(name, (_, rule))| (exact_pattern(&name), rule))
                .collect(),
        };
        Ok(Selection {
            policy,
            repositories,
        })
    }

    fn tag_pattern(&self, tag: &str) -> Result<TagPattern, String> {
        if self.regex {
            TagPattern::new(tag)
        } else if tag.is_empty() {
            Err("empty tag".into())
        } else {
            // A text no tag can be would match nothing and delete nothing,
            // silently: most likely a pattern given without -re.
            tag.parse::<Tag>()
                .map_err(|e| format!("{e}; to match tags by a regular expression, add -re"))?;
            Ok(TagPattern::exact(tag))
        }
    }
}

fn exact_pattern(name: &RepositoryName) -> RepositoryPattern {
    name.as_str()
        .parse()
        .expect("a repository name is a valid exact pattern")
}

/// A repository file read on its own (as the dashboard imports it): each
/// entry becomes a rule for its repository, with `defaults` filling what
/// an entry leaves out.
pub fn reposfile_policy(
    file: &str,
    reposfile: &Reposfile,
    defaults: &Rule,
    tags_are_regex: bool,
) -> Result<Policy, String> {
    let settings = OriginalSettings {
        keep_images: defaults.keep_newest,
        since: defaults.keep_newer_than.clone(),
        regex: tags_are_regex,
        ignore_ref_tags: defaults.skip_shared_digests,
        full_catalog: false,
        repositories: Vec::new(),
        reposfile: Some((file.to_owned(), reposfile.clone())),
    };
    settings.selection().map(|selection| selection.policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reposfile::parse_reposfile;

    fn settings() -> OriginalSettings {
        OriginalSettings::default()
    }

    #[test]
    fn n_with_a_tag_limits_the_rule_to_that_tag() {
        let selection = OriginalSettings {
            keep_images: Some(2),
            repositories: vec!["team/app:ci-1".into(), "web".into()],
            ..settings()
        }
        .selection()
        .unwrap();
        assert_eq!(
            selection.repositories,
            Some(vec!["team/app".parse().unwrap(), "web".parse().unwrap()])
        );
        let rule = &selection.policy.repositories[&"team/app".parse().unwrap()];
        assert_eq!(rule.keep_newest, Some(2));
        let only = rule.only_tags.as_ref().unwrap();
        assert!(only.matches("ci-1") && !only.matches("ci-10"));
        assert!(!selection.policy.default.has_limit());
    }

    #[test]
    fn regex_makes_the_tag_a_pattern() {
        let selection = OriginalSettings {
            keep_images: Some(1),
            regex: true,
            repositories: vec!["a:ci-.*".into()],
            ..settings()
        }
        .selection()
        .unwrap();
        let rule = &selection.policy.repositories[&"a".parse().unwrap()];
        assert!(rule.only_tags.as_ref().unwrap().matches("ci-10"));
        let bad = OriginalSettings {
            keep_images: Some(1),
            regex: true,
            repositories: vec!["a:(".into()],
            ..settings()
        }
        .selection()
        .unwrap_err();
        assert!(
            bad.starts_with("-n a:(: invalid regular expression"),
            "{bad}"
        );
    }

    #[test]
    fn a_pattern_without_regex_is_refused_as_a_tag() {
        let error = OriginalSettings {
            keep_images: Some(1),
            repositories: vec!["a:ci-.*".into()],
            ..settings()
        }
        .selection()
        .unwrap_err();
        assert!(
            error.starts_with("-n a:ci-.*: invalid tag \"ci-.*\"") && error.ends_with("add -re"),
            "{error}"
        );
    }

    #[test]
    fn a_file_entry_overrides_k_and_names_its_line_when_it_cannot() {
        let file = parse_reposfile("# repo keep\nmysql 5\nteam/app 0\n").unwrap();
        let selection = OriginalSettings {
            keep_images: Some(9),
            ignore_ref_tags: true,
            full_catalog: true,
            reposfile: Some(("repos.txt".into(), file)),
            ..settings()
        }
        .selection()
        .unwrap();
        assert_eq!(selection.repositories, None);
        assert_eq!(selection.policy.default.keep_newest, Some(9));
        let mysql = &selection.policy.repositories[&"mysql".parse().unwrap()];
        assert_eq!(mysql.keep_newest, Some(5));
        assert!(mysql.skip_shared_digests);

        let twice = OriginalSettings {
            keep_images: Some(1),
            repositories: vec!["mysql".into()],
            reposfile: Some(("repos.txt".into(), parse_reposfile("mysql 5\n").unwrap())),
            ..settings()
        }
        .selection()
        .unwrap_err();
        assert_eq!(
            twice,
            "mysql is named twice: -n mysql and repos.txt: line 1"
        );
    }

    #[test]
    fn nothing_named_or_nothing_to_keep_is_a_usage_error() {
        assert!(settings().selection().unwrap_err().contains("-cf"));
        let no_limit = OriginalSettings {
            repositories: vec!["a".into()],
            ..settings()
        }
        .selection()
        .unwrap_err();
        assert!(no_limit.contains("-k N"), "{no_limit}");
        let no_limit = OriginalSettings {
            full_catalog: true,
            ..settings()
        }
        .selection()
        .unwrap_err();
        assert!(no_limit.starts_with("-cf"), "{no_limit}");
    }
}
