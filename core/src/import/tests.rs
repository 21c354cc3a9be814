//! Each format with an example policy shaped like its documentation's
//! (values and names our own): the policy it gives and its report.

use super::*;
use crate::policy::{Rule, TagPattern};

/// GitLab: keep 5, delete after 30 days, everything but release tags.
pub const GITLAB: &str = include_str!("../../../docs/import-examples/gitlab.json");

/// ECR: untagged after 14 days; `prod` images beyond the newest 3.
pub const ECR: &str = include_str!("../../../docs/import-examples/ecr.json");

/// Harbor: the 4 most recently pushed everywhere, release tags always in
/// `web`, pull-based rule for `api`.
pub const HARBOR: &str = include_str!("../../../docs/import-examples/harbor.json");

/// zot: `infra/*` keeps its `-stable` tags and the 2 newest others; every
/// other repository keeps tags pushed within 10 days.
pub const ZOT: &str = include_str!("../../../docs/import-examples/zot.json");

/// ACR: a scheduled task keeping 2 beyond a week in two repositories.
pub const ACR: &str = include_str!("../../../docs/import-examples/acr.sh");

fn mappings(report: &ImportReport) -> Vec<(Mapping, String)> {
    report
        .items
        .iter()
        .map(|i| (i.mapping, i.source.clone()))
        .collect()
}

fn has(report: &ImportReport, mapping: Mapping, source: &str) -> bool {
    mappings(report)
        .iter()
        .any(|(m, s)| *m == mapping && s.contains(source))
}

#[test]
fn each_example_is_detected_as_its_format() {
    assert_eq!(detect_format(GITLAB), Some(ImportFormat::Gitlab));
    assert_eq!(detect_format(ECR), Some(ImportFormat::Ecr));
    assert_eq!(detect_format(HARBOR), Some(ImportFormat::Harbor));
    assert_eq!(detect_format(ZOT), Some(ImportFormat::Zot));
    assert_eq!(detect_format(ACR), Some(ImportFormat::Acr));
    assert_eq!(detect_format("[default]\nkeep_newest = 3\n"), None);
    assert_eq!(detect_format(r#"{"default": {"keep_newest": 3}}"#), None);
}

#[test]
fn gitlab_keeps_latest_and_the_keep_regex_out_of_the_count() {
    let imported = import_policy(GITLAB, ImportFormat::Gitlab).unwrap();
    let rule = &imported.policy.default;
    assert_eq!(rule.keep_newest, Some(5));
    assert_eq!(rule.keep_younger_than_days.map(|d| d.get()), Some(30));
    assert_eq!(rule.only_tags, None);
    let excluded: Vec<&str> = rule.exclude_tags.iter().map(TagPattern::as_str).collect();
    assert_eq!(excluded, ["latest", "release-.*"]);
    assert!(imported.policy.repositories.is_empty());
    let report = &imported.report;
    assert!(has(report, Mapping::Exact, "name_regex_keep"));
    assert!(has(report, Mapping::Approximate, "keep_n"));
    assert!(has(report, Mapping::Approximate, "older_than"));
    assert!(has(report, Mapping::NotMapped, "cadence"));
    assert!(
        report
            .to_string()
            .starts_with("imported (GitLab cleanup policy): ")
    );
}

#[test]
fn gitlab_without_name_regex_deletes_nothing_and_without_limits_deletes_every_match() {
    let none = import_policy(r#"{"keep_n": 5, "older_than": "7d"}"#, ImportFormat::Gitlab).unwrap();
    assert!(!none.policy.default.has_limit());
    let all = import_policy(
        r#"{"name_regex_delete": "dev-.*", "name_regex_keep": null, "cadence": "7d"}"#,
        ImportFormat::Gitlab,
    )
    .unwrap();
    assert_eq!(all.policy.default.keep_newest, Some(0));
    assert_eq!(
        all.policy
            .default
            .only_tags
            .as_ref()
            .map(TagPattern::as_str),
        Some("dev-.*")
    );
    let bad = import_policy(
        r#"{"name_regex": ".*", "older_than": "soon"}"#,
        ImportFormat::Gitlab,
    )
    .unwrap_err();
    assert_eq!(bad.field, "older_than");
}

#[test]
fn ecr_maps_the_first_tagged_rule_by_priority_and_reports_the_untagged_one() {
    let imported = import_policy(ECR, ImportFormat::Ecr).unwrap();
    let rule = &imported.policy.default;
    assert_eq!(rule.keep_newest, Some(3));
    assert_eq!(
        rule.only_tags.as_ref().map(TagPattern::as_str),
        Some("prod.*")
    );
    assert!(!rule.delete_untagged);
    let report = &imported.report;
    // Priority 1 (the untagged rule, listed second) comes first.
    assert_eq!(
        report.items[0].source,
        "rules[1] (untagged, pushed more than 14 days ago)"
    );
    assert_eq!(report.items[0].mapping, Mapping::NotMapped);
    assert!(has(report, Mapping::Approximate, "rules[0].selection"));
}

#[test]
fn ecr_reports_a_second_tagged_rule_and_maps_wildcards() {
    let text = r#"{"rules": [
      {"rulePriority": 10, "selection": {"tagStatus": "tagged", "tagPatternList": ["*-rc*"],
       "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 9},
       "action": {"type": "expire"}},
      {"rulePriority": 20, "selection": {"tagStatus": "any",
       "countType": "imageCountMoreThan", "countNumber": 50}, "action": {"type": "expire"}}
    ]}"#;
    let imported = import_policy(text, ImportFormat::Ecr).unwrap();
    let rule = &imported.policy.default;
    assert_eq!(
        rule.only_tags.as_ref().map(TagPattern::as_str),
        Some(".*-rc.*")
    );
    assert_eq!(rule.keep_younger_than_days.map(|d| d.get()), Some(9));
    assert_eq!(rule.keep_newest, None);
    assert!(has(&imported.report, Mapping::NotMapped, "rules[1] (any"));
    let twice = text.replace("\"rulePriority\": 20", "\"rulePriority\": 10");
    assert!(
        import_policy(&twice, ImportFormat::Ecr)
            .unwrap_err()
            .field
            .contains("rulePriority")
    );
}

#[test]
fn harbor_unions_rules_per_repository_and_keeps_what_a_pull_rule_selects() {
    let imported = import_policy(HARBOR, ImportFormat::Harbor).unwrap();
    let policy = &imported.policy;
    assert_eq!(policy.default.keep_newest, Some(4));
    assert!(policy.default.delete_untagged);
    let web = &policy.repositories[&"*/web".parse().unwrap()];
    assert_eq!(web.keep_newest, Some(4));
    let kept: Vec<&str> = web.keep_tags.iter().map(TagPattern::as_str).collect();
    assert_eq!(kept, ["v(?:1|2)\\..*"]);
    assert_eq!(policy.repositories[&"web".parse().unwrap()], *web);
    // The pull-based rule keeps everything in api.
    let api = &policy.repositories[&"api".parse().unwrap()];
    assert_eq!(*api, Rule::default());
    assert!(has(
        &imported.report,
        Mapping::NotMapped,
        "rules[2].template"
    ));
    assert!(has(&imported.report, Mapping::NotMapped, "trigger"));
}

#[test]
fn zot_turns_pattern_entries_into_exclusions_and_keeps_what_pull_criteria_take() {
    let imported = import_policy(ZOT, ImportFormat::Zot).unwrap();
    let policy = &imported.policy;
    let infra = &policy.repositories[&"infra/*".parse().unwrap()];
    let excluded: Vec<&str> = infra.exclude_tags.iter().map(TagPattern::as_str).collect();
    assert_eq!(excluded, [".*(?:(?:-stable$)).*"]);
    assert_eq!(infra.keep_newest, Some(2));
    assert!(!infra.delete_untagged);
    // pulledWithin cannot map: the entry keeps every tag it takes.
    let rest = &policy.repositories[&"**".parse().unwrap()];
    assert!(!rest.has_limit());
    let report = &imported.report;
    assert!(has(report, Mapping::NotMapped, "pulledWithin"));
    assert!(has(
        report,
        Mapping::NotMapped,
        "policies[0].deleteUntagged"
    ));
    assert!(has(report, Mapping::Exact, "policies[1].deleteUntagged"));
}

#[test]
fn zot_push_only_entries_map_to_count_and_age() {
    let text = r#"{"retention": {"policies": [{"repositories": ["**"],
        "keepTags": [{"patterns": ["^v"], "mostRecentlyPushedCount": 3, "pushedWithin": "36h"}]}]}}"#;
    let imported = import_policy(text, ImportFormat::Zot).unwrap();
    let rule = &imported.policy.repositories[&"**".parse().unwrap()];
    assert_eq!(rule.keep_newest, Some(3));
    assert_eq!(rule.keep_younger_than_days.map(|d| d.get()), Some(2));
    assert_eq!(
        rule.only_tags.as_ref().map(TagPattern::as_str),
        Some(".*(?:(?:^v)).*")
    );
}

#[test]
fn acr_filters_become_repository_rules_counting_beyond_the_age() {
    let imported = import_policy(ACR, ImportFormat::Acr).unwrap();
    let policy = &imported.policy;
    assert!(!policy.default.has_limit());
    let web = &policy.repositories[&"shop/web".parse().unwrap()];
    assert_eq!(
        web.only_tags.as_ref().map(TagPattern::as_str),
        Some(".*(?:(?:^build-)).*")
    );
    assert_eq!(web.keep_newest, Some(2));
    assert_eq!(web.keep_younger_than_days.map(|d| d.get()), Some(7));
    assert!(web.keep_newest_beyond_age);
    assert!(web.delete_untagged);
    let api = &policy.repositories[&"shop/api".parse().unwrap()];
    assert_eq!(api.only_tags, None);
    assert!(has(&imported.report, Mapping::Approximate, "--untagged"));
}

#[test]
fn acr_reads_regex_repositories_it_can_and_reports_the_others() {
    let imported = import_policy(
        "acr purge --filter 'team/.*:.*' --filter '(a|b):x' --ago 0d",
        ImportFormat::Acr,
    )
    .unwrap();
    let team = &imported.policy.repositories[&"team/**".parse().unwrap()];
    assert_eq!(team.keep_newest, Some(0));
    assert_eq!(imported.policy.repositories.len(), 1);
    assert!(has(&imported.report, Mapping::NotMapped, "(a|b)"));
    assert_eq!(
        import_policy("acr purge --ago 1d", ImportFormat::Acr)
            .unwrap_err()
            .field,
        "--filter"
    );
}

#[test]
fn read_policy_detects_takes_a_named_format_and_names_unknown_ones() {
    let (policy, report) = read_policy(GITLAB, "gitlab.json", None).unwrap();
    assert_eq!(policy.default.keep_newest, Some(5));
    assert_eq!(report.unwrap().format, ImportFormat::Gitlab);
    let (own, report) = read_policy("[default]\nkeep_newest = 2\n", "p.toml", None).unwrap();
    assert_eq!(own.default.keep_newest, Some(2));
    assert!(report.is_none());
    let (_, report) = read_policy(ECR, "x", Some("ecr")).unwrap();
    assert!(report.is_some());
    // A named format that does not fit is an error, not a guess.
    assert!(read_policy(ECR, "x", Some("toml")).is_err());
    let unknown = read_policy(ECR, "x", Some("quay")).unwrap_err();
    assert!(
        unknown.message.contains("gitlab, ecr, harbor, zot, acr"),
        "{unknown}"
    );
}

#[test]
fn durations_read_as_go_writes_them() {
    assert_eq!(duration_hours("720h"), Some(720.0));
    assert_eq!(duration_hours("1d3h"), Some(27.0));
    assert_eq!(duration_hours("90m"), Some(1.5));
    assert_eq!(duration_hours("0"), Some(0.0));
    assert_eq!(duration_hours("7"), None);
    assert_eq!(duration_hours("soon"), None);
    assert_eq!(days_covering(25.0).map(|d| d.get()), Some(2));
    assert_eq!(days_covering(0.0), None);
}

/// docs/policy.md shows what each example imports as; it must be what the
/// import gives.
#[test]
fn the_documented_imports_are_what_the_examples_give() {
    let docs = include_str!("../../../docs/policy.md");
    for (file, text) in [
        ("gitlab.json", GITLAB),
        ("ecr.json", ECR),
        ("harbor.json", HARBOR),
        ("zot.json", ZOT),
        ("acr.sh", ACR),
    ] {
        let marker = format!("`docs/import-examples/{file}` imports as:");
        let after = docs
            .split_once(&marker)
            .unwrap_or_else(|| panic!("docs/policy.md shows no import of {file}"))
            .1;
        let block = after
            .split_once("```toml\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(block, _)| block)
            .unwrap();
        let documented = crate::policy::Policy::from_toml(block).unwrap();
        let imported = read_policy(text, file, None).unwrap().0;
        assert_eq!(
            imported, documented,
            "{file}: the import and docs/policy.md differ"
        );
    }
}

#[test]
fn harbor_rules_it_cannot_scope_keep_everything_everywhere() {
    let text = r#"{"rules": [
      {"action": "retain", "template": "latestPushedK", "params": {"latestPushedK": 3},
       "tag_selectors": [{"decoration": "matches", "pattern": "**"}],
       "scope_selectors": {"repository": [{"decoration": "repoExcludes", "pattern": "db"}]}},
      {"action": "retain", "template": "latestPushedK", "params": {"latestPushedK": 1},
       "tag_selectors": [{"decoration": "matches", "pattern": "**"},
                         {"decoration": "excludes", "pattern": "tmp-*"}],
       "scope_selectors": {"repository": [{"decoration": "repoMatches", "pattern": "web"}]}}
    ]}"#;
    let imported = import_policy(text, ImportFormat::Harbor).unwrap();
    // The excluded-repository rule could cover any repository, so none
    // loses anything; web's rule with two tag selectors keeps everything.
    assert!(!imported.policy.default.has_limit());
    for rule in imported.policy.repositories.values() {
        assert!(!rule.has_limit(), "{rule:?}");
    }
    assert!(has(
        &imported.report,
        Mapping::NotMapped,
        "rules[0].scope_selectors"
    ));
    assert!(has(
        &imported.report,
        Mapping::NotMapped,
        "rules[1].tag_selectors"
    ));
}
