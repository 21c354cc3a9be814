//! `keep_newest_per`: the newest N of each release line.

use std::collections::BTreeMap;

use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::inventory::{Image, Repository};
use crate::policy::Rule;
use crate::version::{self, ReleaseLine};

const NOW: OffsetDateTime = datetime!(2026-06-01 0:00 UTC);

/// One repository; image i carries `tags[i]` and is created i days after
/// the base, so later images are newer.
fn repository(tags: &[&[&str]]) -> Inventory {
    let mut repository = Repository::default();
    for (i, tags) in tags.iter().enumerate() {
        let digest = Digest::sha256_of(&i.to_le_bytes());
        let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(i as i64);
        repository.images.insert(
            digest.clone(),
            Image::simple(MediaType::DockerManifest, Some(created), 10),
        );
        for tag in *tags {
            repository.tags.insert(tag.parse().unwrap(), digest.clone());
        }
    }
    let mut inventory = Inventory::default();
    inventory
        .repositories
        .insert("team/app".parse().unwrap(), repository);
    inventory
}

/// Each entry's tags and its decision as one sentence.
fn outcome(plan: &Plan) -> Vec<(String, String)> {
    plan.entries
        .iter()
        .map(|entry| {
            let tags = entry.tags.iter().map(Tag::to_string).collect::<Vec<_>>();
            (tags.join(","), entry.decision.to_string())
        })
        .collect()
}

const RELEASES: &[&[&str]] = &[
    &["nightly"],
    &["1.4.0"],
    &["v1.4.1"],
    &["1.5.0-rc.1"],
    // A fix to the older line after the newer one's first candidate.
    &["1.4.2", "1.4"],
    &["1.5.0"],
    &["1.5.1", "1.5", "1"],
    &["latest", "main"],
    &["2.0.0"],
];

#[test]
fn keeps_the_newest_of_each_minor_line_and_names_the_line() {
    let policy =
        Policy::from_toml("[default]\nkeep_newest = 2\nkeep_newest_per = \"major.minor\"\n")
            .unwrap();
    let plan = plan(&repository(RELEASES), &policy, NOW);
    let got = outcome(&plan);
    let of = |tag: &str| {
        got.iter()
            .find(|(tags, _)| tags.split(',').any(|t| t == tag))
            .map(|(_, decision)| decision.as_str())
            .unwrap()
    };
    assert_eq!(of("2.0.0"), "kept: newest 2 of 2.0.x, this is #1");
    assert_eq!(of("1.5.1"), "kept: newest 2 of 1.5.x, this is #1");
    assert_eq!(of("1.5.0"), "kept: newest 2 of 1.5.x, this is #2");
    // Pre-releases rank below their release, whatever their date.
    assert_eq!(
        of("1.5.0-rc.1"),
        "deleted: 3rd newest of 1.5.x, only the newest 2 are kept"
    );
    // Version order, not push order: 1.4.2 came after 1.5.0-rc.1.
    assert_eq!(of("1.4.2"), "kept: newest 2 of 1.4.x, this is #1");
    assert_eq!(of("v1.4.1"), "kept: newest 2 of 1.4.x, this is #2");
    assert_eq!(
        of("1.4.0"),
        "deleted: 3rd newest of 1.4.x, only the newest 2 are kept"
    );
    // The images without a version tag are a group of their own.
    assert_eq!(
        of("latest"),
        "kept: newest 2 of the images without a version tag, this is #1"
    );
    assert_eq!(
        of("nightly"),
        "kept: newest 2 of the images without a version tag, this is #2"
    );
    // Plan order stays newest first by date.
    assert_eq!(got[0].0, "2.0.0");
    assert_eq!(got.last().unwrap().0, "nightly");
}

#[test]
fn per_major_line_and_other_clauses_still_keep() {
    let policy = Policy::from_toml(
        "[default]\nkeep_newest = 1\nkeep_newest_per = \"major\"\nkeep_tags = ['1\\.4\\.0']\n",
    )
    .unwrap();
    let plan = plan(&repository(RELEASES), &policy, NOW);
    let decided: Vec<(String, &str)> = plan
        .entries
        .iter()
        .map(|entry| (entry.tags[0].to_string(), entry.decision.label()))
        .collect();
    let kept: Vec<&str> = decided
        .iter()
        .filter(|(_, label)| *label == "keep")
        .map(|(tag, _)| tag.as_str())
        .collect();
    // 1.x keeps 1.5.1 only; 1.4.0 by its keep_tags pattern; 2.x and the
    // images without a version keep their newest.
    assert_eq!(kept, ["2.0.0", "latest", "1", "1.4.0"]);
}

#[test]
fn keep_newest_per_needs_keep_newest() {
    let error = Policy::from_toml("[default]\nkeep_newest_per = \"major\"\n").unwrap_err();
    assert_eq!(error.field, "default.keep_newest_per");
    assert!(error.message.contains("set keep_newest too"), "{error}");
    let error = Policy::from_json(
        r#"{"repositories": {"team/*": {"keep_younger_than_days": 3, "keep_newest_per": "major.minor"}}}"#,
    )
    .unwrap_err();
    assert_eq!(error.field, r#"repositories."team/*".keep_newest_per"#);
    let error =
        Policy::from_toml("[default]\nkeep_newest = 1\nkeep_newest_per = \"minor\"\n").unwrap_err();
    assert!(error.message.contains("major.minor"), "{error}");
    // It round-trips through both formats.
    let policy =
        Policy::from_toml("[default]\nkeep_newest = 1\nkeep_newest_per = \"major.minor\"\n")
            .unwrap();
    assert_eq!(Policy::from_toml(&policy.to_toml()).unwrap(), policy);
    assert_eq!(Policy::from_json(&policy.to_json_pretty()).unwrap(), policy);
}

/// Major, minor and maybe a pre-release number; `None`: no version tag.
type Drawn = Option<(u8, u8, Option<u8>)>;

/// Per image: its version as drawn (the patch is the image's index, so tags
/// stay unique) and its age in days.
fn images() -> impl Strategy<Value = Vec<(Drawn, i64)>> {
    prop::collection::vec(
        (
            prop::option::weighted(0.85, (0u8..3, 0u8..3, prop::option::of(0u8..3))),
            0i64..40,
        ),
        1..40,
    )
}

proptest! {
    /// Whatever the versions and dates, each line with at least
    /// `keep_newest` images keeps at least that many, and those it keeps
    /// by count are its highest versions.
    #[test]
    fn every_line_keeps_at_least_keep_newest(
        images in images(),
        keep in 0usize..4,
        per_major in any::<bool>(),
    ) {
        let per = if per_major { ReleaseLine::Major } else { ReleaseLine::MajorMinor };
        let mut repository = Repository::default();
        let mut tag_of = BTreeMap::new();
        for (i, (version, day)) in images.iter().enumerate() {
            let digest = Digest::sha256_of(&i.to_le_bytes());
            let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(*day);
            repository.images.insert(
                digest.clone(),
                Image::simple(MediaType::DockerManifest, Some(created), 10),
            );
            let tag = match version {
                Some((major, minor, None)) => format!("{major}.{minor}.{i}"),
                Some((major, minor, Some(rc))) => format!("v{major}.{minor}.{i}-rc.{rc}"),
                None => format!("build-{i}"),
            };
            repository.tags.insert(tag.parse().unwrap(), digest.clone());
            tag_of.insert(digest, tag);
        }
        let mut inventory = Inventory::default();
        inventory.repositories.insert("r".parse().unwrap(), repository);
        let policy = Policy {
            default: Rule {
                keep_newest: Some(keep),
                keep_newest_per: Some(per),
                ..Rule::default()
            },
            ..Policy::default()
        };
        let plan = plan(&inventory, &policy, NOW);
        // Per line (None: no version): the versions and whether kept.
        let mut lines: BTreeMap<Option<version::Line>, Vec<(version::Version, bool)>> =
            BTreeMap::new();
        for entry in &plan.entries {
            let tag = &tag_of[&entry.digest];
            let parsed = version::Version::parse(tag);
            let line = parsed.as_ref().map(|v| v.line(per));
            let kept = !entry.decision.is_change();
            lines
                .entry(line)
                .or_default()
                .push((parsed.unwrap_or_else(|| version::Version::parse("0.0.0").unwrap()), kept));
        }
        for (line, mut members) in lines {
            let kept = members.iter().filter(|(_, kept)| *kept).count();
            prop_assert!(kept >= keep.min(members.len()), "{line:?}: {kept} kept of {}", members.len());
            if line.is_some() {
                // With no other clause, exactly the highest `keep` stay.
                members.sort_by(|a, b| b.0.cmp(&a.0));
                for (rank, (version, kept)) in members.iter().enumerate() {
                    prop_assert_eq!(*kept, rank < keep, "{:?} #{}", version, rank + 1);
                }
            }
        }
    }
}
