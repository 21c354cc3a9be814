//! Tests of both formats, their error messages, and writing files back.

use super::yaml::TOO_DEEP;
use super::*;
use crate::policy::{Policy, Rule};
use crate::since::parse_since;
use time::macros::datetime;

const TEXT_EXAMPLE: &str = "# repository  images-to-keep\nmysql 5\nteam/app 10\n";

const YAML_EXAMPLE: &str = "\
consul:
  tag: OnlyThisTag
  keepimages: 20
  keepsince: 2000-12-24T12:31:59
elasticsearch:
  keepimages: 20
  keepsince: 20000101
dummybox:
  keepimages: 0
\"team/app\": {keepimages: 3, tag: '^ci-.*$'}
";

fn entry(repository: &str, line: usize) -> ReposfileEntry {
    ReposfileEntry {
        repository: repository.parse().unwrap(),
        line,
        tag: None,
        keep_images: None,
        keep_since: None,
    }
}

fn counted(repository: &str, line: usize, keep: usize) -> ReposfileEntry {
    ReposfileEntry {
        keep_images: Some(keep),
        ..entry(repository, line)
    }
}

fn parse(text: &str) -> Reposfile {
    parse_reposfile(text).unwrap_or_else(|e| panic!("{text:?} rejected: {e}"))
}

fn yaml(text: &str) -> Vec<ReposfileEntry> {
    let file = parse(text);
    assert_eq!(file.format, ReposfileFormat::Yaml, "{text:?}");
    file.entries
}

fn fails(text: &str) -> ReposfileError {
    match parse_reposfile(text) {
        Ok(file) => panic!("{text:?} accepted as {file:?}"),
        Err(e) => e,
    }
}

/// The error's line and message, for exact comparisons.
fn failure(text: &str) -> (usize, String) {
    let e = fails(text);
    (e.line, e.message)
}

// ------------------------------------------------------------ format

#[test]
fn an_empty_file_is_text_without_entries() {
    for text in [
        "",
        "\n\n",
        "   \n\t\n",
        "# only\n  # comments\n",
        "\u{feff}",
    ] {
        assert_eq!(
            parse(text),
            Reposfile {
                format: ReposfileFormat::Text,
                entries: vec![]
            },
            "{text:?}"
        );
    }
}

#[test]
fn a_colon_outside_comments_means_yaml() {
    assert_eq!(
        parse("mysql 5 # keep: five\n").format,
        ReposfileFormat::Text
    );
    assert_eq!(parse("# a: b\nmysql 5\n").format, ReposfileFormat::Text);
    assert_eq!(parse("mysql:\n").format, ReposfileFormat::Yaml);
    let (line, message) = failure("mysql 5\nconsul:\n");
    assert_eq!(line, 1);
    assert!(message.contains("\"REPOSITORY:\""), "{message}");
}

#[test]
fn a_lone_document_marker_is_empty_yaml() {
    for text in ["---\n", "--- # nothing yet\n", "# head\n---\n\n# tail\n"] {
        assert_eq!(
            parse(text),
            Reposfile {
                format: ReposfileFormat::Yaml,
                entries: vec![]
            },
            "{text:?}"
        );
    }
}

#[test]
fn the_error_display_is_prefixed_with_the_line() {
    let e = fails("mysql five\n");
    assert_eq!(
        e.to_string(),
        "line 1: expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"mysql five\""
    );
}

// ------------------------------------------------------------ text

#[test]
fn reads_the_text_example() {
    let file = parse(TEXT_EXAMPLE);
    assert_eq!(file.format, ReposfileFormat::Text);
    assert_eq!(
        file.entries,
        vec![counted("mysql", 2, 5), counted("team/app", 3, 10)]
    );
}

#[test]
fn text_allows_comments_blanks_and_tabs() {
    let text = "\n  # heading\nmysql\t5   # trailing comment\n\n \t redis  0\t\n# mysql 9\nteam/app 10#tight\n";
    assert_eq!(
        parse(text).entries,
        vec![
            counted("mysql", 3, 5),
            counted("redis", 5, 0),
            counted("team/app", 7, 10)
        ]
    );
}

#[test]
fn text_reports_a_missing_count() {
    assert_eq!(
        failure("mysql 5\n\nredis\n"),
        (
            3,
            "expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"redis\" without a count"
                .to_owned()
        )
    );
    assert_eq!(failure("redis # 5\n").0, 1);
}

#[test]
fn text_reports_extra_words() {
    assert_eq!(
            failure("# x\nmysql 5 6\n"),
            (
                2,
                "expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"mysql 5 6\" with more than two words"
                    .to_owned()
            )
        );
}

#[test]
fn text_reports_a_count_that_is_no_whole_number() {
    assert_eq!(
        failure("mysql 5\n\nteam/app five\n"),
        (
            3,
            "expected \"REPOSITORY COUNT\" (like \"team/app 5\"), found \"team/app five\""
                .to_owned()
        )
    );
    for count in [
        "-1",
        "+5",
        "2.5",
        "1e3",
        "0x10",
        "99999999999999999999999999",
    ] {
        let (line, message) = failure(&format!("mysql {count}\n"));
        assert_eq!(line, 1);
        assert!(message.contains(count), "{message}");
    }
}

#[test]
fn text_reports_an_invalid_repository_name() {
    let expected = "Team/App"
        .parse::<RepositoryName>()
        .unwrap_err()
        .to_string();
    assert_eq!(failure("mysql 5\nTeam/App 3\n"), (2, expected));
}

#[test]
fn text_reports_a_duplicate_with_both_lines() {
    assert_eq!(
        failure("mysql 1\nteam/app 2\n\n# again\n\n\nteam/app 3\n"),
        (7, "team/app is already listed on line 2".to_owned())
    );
}

#[test]
fn text_takes_crlf_and_a_bom() {
    let text = "\u{feff}# head\r\nmysql 5\r\n\r\nteam/app 10\r\n";
    let file = parse(text);
    assert_eq!(file.format, ReposfileFormat::Text);
    assert_eq!(
        file.entries,
        vec![counted("mysql", 2, 5), counted("team/app", 4, 10)]
    );
    assert_eq!(failure("\u{feff}mysql\r\n").0, 1);
}

// ------------------------------------------------------------ YAML

fn yaml_example_entries() -> Vec<ReposfileEntry> {
    vec![
        ReposfileEntry {
            tag: Some("OnlyThisTag".to_owned()),
            keep_images: Some(20),
            keep_since: Some(datetime!(2000-12-24 12:31:59 UTC)),
            ..entry("consul", 1)
        },
        ReposfileEntry {
            keep_images: Some(20),
            keep_since: Some(datetime!(2000-01-01 0:00 UTC)),
            ..entry("elasticsearch", 5)
        },
        counted("dummybox", 8, 0),
        ReposfileEntry {
            tag: Some("^ci-.*$".to_owned()),
            keep_images: Some(3),
            ..entry("team/app", 10)
        },
    ]
}

#[test]
fn reads_the_yaml_example() {
    assert_eq!(yaml(YAML_EXAMPLE), yaml_example_entries());
}

#[test]
fn yaml_takes_crlf_and_a_bom() {
    let text = format!("\u{feff}{}", YAML_EXAMPLE.replace('\n', "\r\n"));
    assert_eq!(yaml(&text), yaml_example_entries());
    let (line, _) = failure("\u{feff}a:\r\n  keepimages: x\r\n");
    assert_eq!(line, 2);
}

#[test]
fn yaml_allows_comments_blanks_and_a_document_marker() {
    let text = "\
# repositories to clean
--- # the document

consul:   # the service mesh
  # twenty is plenty
  keepimages: 20 # trailing

    # a comment indented anywhere
  tag: a#b   # '#' inside a plain value stays
redis: # nothing nested
";
    assert_eq!(
        yaml(text),
        vec![
            ReposfileEntry {
                tag: Some("a#b".to_owned()),
                keep_images: Some(20),
                ..entry("consul", 4)
            },
            entry("redis", 10),
        ]
    );
}

#[test]
fn yaml_repositories_without_settings() {
    assert_eq!(
        yaml("a:\nb: {}\nc: # none\n\"d\":\n"),
        vec![entry("a", 1), entry("b", 2), entry("c", 3), entry("d", 4)]
    );
}

#[test]
fn yaml_takes_any_consistent_indentation() {
    let text = "  a:\n      keepimages: 1\n      tag: x\n  b:\n   keepimages: 2\n";
    assert_eq!(
        yaml(text),
        vec![
            ReposfileEntry {
                tag: Some("x".to_owned()),
                ..counted("a", 1, 1)
            },
            counted("b", 4, 2)
        ]
    );
}

#[test]
fn yaml_reads_quoted_keys_and_values() {
    let text = r#"'team/app':
  "tag": 'it''s'
  'keepimages': "7"
  keepsince: '2026-01-02T03:04:05+02:00'
"x/y" : {"tag": "a\"b\\c\u00e9\x41\/"}
z: {'keepsince':"20260102"}
"#;
    assert_eq!(
        yaml(text),
        vec![
            ReposfileEntry {
                tag: Some("it's".to_owned()),
                keep_images: Some(7),
                keep_since: Some(datetime!(2026-01-02 1:04:05 UTC)),
                ..entry("team/app", 1)
            },
            ReposfileEntry {
                tag: Some("a\"b\\céA/".to_owned()),
                ..entry("x/y", 5)
            },
            ReposfileEntry {
                keep_since: Some(datetime!(2026-01-02 0:00 UTC)),
                ..entry("z", 6)
            },
        ]
    );
}

#[test]
fn yaml_quoted_values_keep_what_plain_ones_cannot() {
    let text = "a:\n  tag: ' spaced: #not a comment '\nb: {tag: \"x, {y}\"}\n";
    let entries = yaml(text);
    assert_eq!(entries[0].tag.as_deref(), Some(" spaced: #not a comment "));
    assert_eq!(entries[1].tag.as_deref(), Some("x, {y}"));
}

#[test]
fn yaml_plain_scalars_are_text() {
    let entries =
        yaml("a:\n  tag: 1.0\nb:\n  tag: true\nc: {tag: ~}\nd:\n  tag: ^v[0-9]+(-rc)?$\n");
    let tags: Vec<_> = entries.iter().map(|e| e.tag.as_deref()).collect();
    assert_eq!(
        tags,
        [
            Some("1.0"),
            Some("true"),
            Some("~"),
            Some("^v[0-9]+(-rc)?$")
        ]
    );
}

#[test]
fn yaml_flow_mappings() {
    let entries = yaml(
        "a: {  }\nb: {keepimages: 1,}\nc: { tag : x , keepimages : 2 } # done\nd: {keepsince: 2000-12-24T12:31:59, tag: a:b}\n",
    );
    assert_eq!(entries[0], entry("a", 1));
    assert_eq!(entries[1], counted("b", 2, 1));
    assert_eq!(
        entries[2],
        ReposfileEntry {
            tag: Some("x".to_owned()),
            ..counted("c", 3, 2)
        }
    );
    assert_eq!(
        entries[3],
        ReposfileEntry {
            tag: Some("a:b".to_owned()),
            keep_since: Some(datetime!(2000-12-24 12:31:59 UTC)),
            ..entry("d", 4)
        }
    );
}

#[test]
fn yaml_tabs_after_the_indentation_are_blanks() {
    assert_eq!(
        yaml("a:\t{keepimages:\t4}\t# c\n"),
        vec![counted("a", 1, 4)]
    );
    assert_eq!(yaml("a:\n  keepimages:\t4\t\n"), vec![counted("a", 1, 4)]);
}

#[test]
fn yaml_reports_tab_indentation() {
    assert_eq!(
        failure("consul:\n\tkeepimages: 3\n"),
        (2, "tabs cannot indent YAML; use spaces".to_owned())
    );
    assert_eq!(failure("consul:\n  \tkeepimages: 3\n").0, 2);
    // A blank or comment line may hold tabs.
    assert_eq!(
        yaml("a:\n\t\n\t# c\n  keepimages: 1\n"),
        vec![counted("a", 1, 1)]
    );
}

#[test]
fn yaml_reports_an_unknown_key() {
    assert_eq!(
        failure("consul:\n  tag: x\n\n\n  keepimage: 20\n"),
        (
            5,
            "unknown key \"keepimage\" for consul; expected tag, keepimages or keepsince"
                .to_owned()
        )
    );
    assert_eq!(failure("a: {Tag: x}\n").0, 1);
    let (line, message) = failure("a: {keepimages:3}\n");
    assert_eq!(line, 1);
    assert!(message.contains("space after"), "{message}");
}

#[test]
fn yaml_reports_a_duplicate_repository_with_both_lines() {
    assert_eq!(
        failure("team/app:\n  keepimages: 1\nother:\n\"team/app\": {}\n"),
        (4, "team/app is already listed on line 1".to_owned())
    );
}

#[test]
fn yaml_reports_a_duplicate_key_with_both_lines() {
    assert_eq!(
        failure("consul:\n  keepimages: 1\n  tag: x\n  keepimages: 2\n"),
        (
            4,
            "keepimages for consul is already set on line 2".to_owned()
        )
    );
    assert_eq!(
        failure("a:\n\nb: {tag: x, tag: y}\n"),
        (3, "tag is given twice for b".to_owned())
    );
}

#[test]
fn yaml_reports_a_bad_keepimages() {
    assert_eq!(
        failure("a:\n  tag: x\n\n  keepimages: many\n"),
        (
            4,
            "keepimages must be a whole number of images, found \"many\"".to_owned()
        )
    );
    for bad in ["-1", "1.5", "+3", "''", "\"\"", "1_000", "0x10", "null"] {
        let (line, message) = failure(&format!("a:\n  keepimages: {bad}\n"));
        assert_eq!(line, 2, "{bad}");
        assert!(message.starts_with("keepimages must be"), "{message}");
    }
}

#[test]
fn yaml_reports_a_bad_keepsince_with_its_text() {
    let since = parse_since("2026-13-01").unwrap_err();
    assert_eq!(
        failure("x:\n  keepsince: 2026-13-01\n"),
        (2, format!("keepsince {since}"))
    );
    assert_eq!(failure("a: {keepsince: yesterday}\n").0, 1);
}

#[test]
fn yaml_reports_an_empty_tag() {
    assert_eq!(
        failure("a:\n  tag: ''\n"),
        (
            2,
            "tag for a is empty; expected a tag or a regular expression".to_owned()
        )
    );
}

#[test]
fn yaml_reports_a_key_without_a_value() {
    assert_eq!(
        failure("a:\n  keepimages:\nb:\n"),
        (
            2,
            "keepimages for a has no value; expected a whole number of images".to_owned()
        )
    );
    assert_eq!(failure("a:\n  tag: # none\n").0, 2);
    assert_eq!(failure("a: {keepsince}\n").0, 1);
    assert_eq!(failure("a: {keepsince: , tag: x}\n").0, 1);
}

#[test]
fn yaml_reports_a_third_level() {
    assert_eq!(
        failure("a:\n  tag:\n    name: x\n"),
        (3, TOO_DEEP.to_owned())
    );
    assert_eq!(failure("a:\n  tag: x\n    more\n").0, 3);
    assert_eq!(failure("a:\n  tag: {x: y}\n").0, 2);
    assert_eq!(failure("a: {tag: {x: y}}\n").0, 1);
}

#[test]
fn yaml_reports_inconsistent_indentation() {
    assert_eq!(
        failure("a:\n    tag: x\n  keepimages: 1\n"),
        (
            3,
            "expected the settings of a indented by 4 spaces like line 2, found 2 spaces"
                .to_owned()
        )
    );
    assert_eq!(
        failure("  a:\nb:\n"),
        (
            2,
            "expected the repositories indented by 2 spaces like line 1, found 0 spaces".to_owned()
        )
    );
}

#[test]
fn yaml_reports_settings_below_a_flow_mapping() {
    assert_eq!(
        failure("a: {tag: x}\n  keepimages: 1\n"),
        (
            2,
            "the settings of a are given on line 1 as {...}; nothing can be nested below them"
                .to_owned()
        )
    );
}

#[test]
fn yaml_reports_a_repository_with_a_plain_value() {
    assert_eq!(
        failure("consul:\n  keepimages: 1\ndummybox: 5\n"),
        (
            3,
            "expected the settings of dummybox nested below it or as {keepimages: 3}, found \"5\""
                .to_owned()
        )
    );
    let (line, message) = failure("consul:\nkeepimages: 20\n");
    assert_eq!(line, 2);
    assert!(
        message.contains("not nested below a repository"),
        "{message}"
    );
}

#[test]
fn yaml_reports_an_invalid_repository_name() {
    let expected = "Consul".parse::<RepositoryName>().unwrap_err().to_string();
    assert_eq!(failure("a:\nConsul:\n"), (2, expected));
    assert_eq!(failure("\"\": {}\n").0, 1);
}

#[test]
fn yaml_reports_unsupported_features() {
    for (text, line, needle) in [
        ("a: &base\n", 1, "anchors"),
        ("a:\n  tag: &t x\n", 2, "anchors"),
        ("a:\n  tag: *t\n", 2, "aliases"),
        ("*a: {}\n", 1, "aliases"),
        ("a:\n  tag: |\n    x\n", 2, "multi-line"),
        ("a:\n  tag: >-\n", 2, "multi-line"),
        ("- a\n- b: {}\n", 1, "lists"),
        ("a:\n  - tag: x\n", 2, "lists"),
        ("a:\n  tag: [x, y]\n", 2, "mapping or list"),
        ("a:\n  tag: !!str x\n", 2, "YAML tags"),
        ("%YAML 1.2\n---\na:\n", 1, "directives"),
        ("? a\n: {}\n", 1, "complex keys"),
        ("a:\n  tag: @x\n", 2, "quotes"),
        ("{a: {}}\n", 1, "key cannot start"),
        ("a:\n  tag: \"open\n", 2, "does not close"),
        ("a:\n  tag: 'open\n  'x\n", 2, "does not close"),
        ("a: {tag: x\n", 1, "does not close"),
        ("a: {tag: x # c}\n", 1, "does not close"),
        ("a: {tag: x} y\n", 1, "after the {...} mapping"),
        ("a: {tag: x y: z}\n", 1, "put it in quotes"),
        ("a: {tag: \"x\" y}\n", 1, "expected \",\" or \"}\""),
        ("a:\n  tag: 'x' y\n", 2, "unexpected"),
        ("a:\n  tag: x: y\n", 2, "put it in quotes"),
        ("a:\n  tag: \"\\q\"\n", 2, "unknown escape"),
        ("a:\n  tag: \"\\u12\"\n", 2, "hexadecimal"),
        ("a:\n  tag: \"\\ud800\"\n", 2, "names no character"),
        ("a:\n---\nb:\n", 2, "one YAML document"),
        ("  ---\na:\n", 1, "one YAML document"),
        ("a:\n  keepimages:3\n", 2, "space after"),
        ("team/app:latest\nx:\n", 1, "space after"),
        ("a:\n  keepimages 3\n", 2, "\"KEY: VALUE\""),
        ("a:\nmysql 5\n", 2, "\"REPOSITORY:\""),
        (": x\n", 1, "no key"),
        ("a: {: x}\n", 1, "expected a key"),
    ] {
        let e = fails(text);
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn messages_shorten_long_input() {
    let long = "x".repeat(5000);
    for text in [
        format!("a:\n  keepimages: {long}\n"),
        format!("a:\n  keepsince: {long}\n"),
        format!("a:\n  {long}: 1\n"),
        format!("mysql {long}\n"),
    ] {
        let e = fails(&text);
        assert!(e.message.len() < 400, "{}", e.message.len());
    }
}

// ------------------------------------------------------------ robustness

/// A tiny deterministic generator (64-bit LCG, Knuth's constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap_or(0) % n.max(1)
    }
}

const INTERESTING: &[char] = &[
    ':', '#', '\'', '"', '\\', '{', '}', ',', '[', ']', '-', ' ', '\t', '\n', '\r', '&', '*', '|',
    '>', '!', '?', '%', '@', '`', '0', '9', 'T', 'x', 'é', '€', '\u{feff}', '\u{0}', '😀',
];

fn mutate(text: &str, rng: &mut Lcg) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(6) {
        let at = rng.below(chars.len() + 1);
        match rng.below(6) {
            0 | 1 => chars.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            2 if at < chars.len() => {
                chars.remove(at);
            }
            3 if at < chars.len() => {
                chars[at] =
                    char::from_u32(u32::try_from(rng.below(0x11_0000)).unwrap_or(0)).unwrap_or('?');
            }
            4 => {
                let end = (at + rng.below(20)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                let to = rng.below(chars.len() + 1);
                chars.splice(to..to, copy);
            }
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

fn check_no_panic(text: &str) {
    let lines = text.split('\n').count();
    match parse_reposfile(text) {
        Ok(file) => {
            for entry in file.entries {
                assert!((1..=lines).contains(&entry.line), "{text:?}");
            }
        }
        Err(e) => assert!((1..=lines).contains(&e.line), "{text:?}: {e}"),
    }
}

#[test]
fn mutated_files_never_panic() {
    let seeds = [
        TEXT_EXAMPLE,
        YAML_EXAMPLE,
        "---\n'a''b': {\"tag\": \"\\u00e9\\x41\", keepsince: 2026-01-02T03:04:05.5+02:00}\n",
        "a:\n  tag: ' x '  # c\n  keepsince: 20260102T030405\n",
    ];
    let mut rng = Lcg(0x5eed);
    for round in 0..400 {
        let seed = seeds[round % seeds.len()];
        let text = mutate(seed, &mut rng);
        check_no_panic(&text);
        check_no_panic(&text.replace('\n', "\r\n"));
        let _ = parse_since(&text);
    }
    // Raw bytes, read as text the way a caller would.
    for _ in 0..300 {
        let mut bytes = YAML_EXAMPLE.as_bytes().to_vec();
        for _ in 0..=rng.below(8) {
            let at = rng.below(bytes.len());
            bytes[at] = u8::try_from(rng.below(256)).unwrap_or(0);
        }
        check_no_panic(&String::from_utf8_lossy(&bytes));
    }
}

fn round_trip(policy: &Policy, format: ReposfileFormat) -> Policy {
    let text = write_reposfile(policy, format).unwrap();
    let file = parse_reposfile(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(file.format, format, "{text}");
    crate::reposfile_policy("written", &file, &Rule::default(), false).unwrap()
}

#[test]
fn a_written_file_reads_back_to_the_same_policy() {
    let policy = Policy::from_toml(
        "[repositories.mysql]\nkeep_newest = 5\n\
             [repositories.\"team/app\"]\nkeep_newest = 0\n\
             [repositories.\"2024\"]\nkeep_newest = 1\n",
    )
    .unwrap();
    assert_eq!(round_trip(&policy, ReposfileFormat::Text), policy);
    assert_eq!(round_trip(&policy, ReposfileFormat::Yaml), policy);
    assert_eq!(
        write_reposfile(&policy, ReposfileFormat::Text).unwrap(),
        "# repository  images-to-keep\n2024 1\nmysql 5\nteam/app 0\n"
    );

    let dated = Policy::from_toml(
        "[repositories.consul]\nkeep_newest = 20\nkeep_newer_than = \"2000-12-24T12:31:59\"\n\
             [repositories.\"a/b\"]\nkeep_newer_than = \"20000101\"\n\
             [repositories.c]\nkeep_newer_than = \"2026-01-02T03:04:05.5+02:00\"\n",
    )
    .unwrap();
    let yaml = write_reposfile(&dated, ReposfileFormat::Yaml).unwrap();
    assert!(
        yaml.contains("consul: {keepimages: 20, keepsince: 2000-12-24T12:31:59}\n"),
        "{yaml}"
    );
    assert!(yaml.contains("a/b: {keepsince: 2000-01-01}\n"), "{yaml}");
    assert_eq!(round_trip(&dated, ReposfileFormat::Yaml), dated);
    assert_eq!(
        write_reposfile(&dated, ReposfileFormat::Text).unwrap_err(),
        vec![
            "rule a/b: the text repository file cannot say keep_newer_than",
            "rule c: the text repository file cannot say keep_newer_than",
            "rule consul: the text repository file cannot say keep_newer_than",
        ]
    );
}

#[test]
fn what_a_repository_file_cannot_say_is_named() {
    let policy = Policy::from_toml(
        "[default]\nkeep_newest = 3\n\
             [repositories.\"ci/*\"]\nkeep_newest = 1\n\
             [repositories.web]\nkeep_newest = 2\nkeep_tags = ['v.*']\nonly_tags = 'ci-.*'\n\
             [repositories.keepall]\n",
    )
    .unwrap();
    let problems = write_reposfile(&policy, ReposfileFormat::Yaml).unwrap_err();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].starts_with("the default rule sets keep_newest: "),
        "{problems:?}"
    );
    assert_eq!(
        problems[1],
        "rule ci/*: the YAML repository file names repositories exactly, not by glob"
    );
    assert_eq!(
        problems[2],
        "rule web: the YAML repository file cannot say keep_tags, only_tags"
    );

    // A rule that keeps everything is what leaving the repository out says.
    let keep_all =
        Policy::from_toml("[repositories.keepall]\n[repositories.x]\nkeep_newest = 1\n").unwrap();
    let text = write_reposfile(&keep_all, ReposfileFormat::Text).unwrap();
    assert_eq!(text, "# repository  images-to-keep\nx 1\n");
    // An empty policy is an empty file: nothing named, nothing cleaned.
    let empty = write_reposfile(&Policy::default(), ReposfileFormat::Yaml).unwrap();
    assert!(parse_reposfile(&empty).unwrap().entries.is_empty());
}

#[test]
fn untagged_deletes_and_tag_removals_are_not_dropped_silently() {
    let policy = Policy::from_toml(
        "[repositories.web]\nkeep_newest = 2\ndelete_untagged = true\n\
             [repositories.api]\nkeep_newest = 2\nremove_tags = 'pr-.*'\n",
    )
    .unwrap();
    for format in [ReposfileFormat::Text, ReposfileFormat::Yaml] {
        let problems = write_reposfile(&policy, format).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].ends_with("cannot say remove_tags"),
            "{problems:?}"
        );
        assert!(
            problems[1].ends_with("cannot say delete_untagged"),
            "{problems:?}"
        );
    }
}
