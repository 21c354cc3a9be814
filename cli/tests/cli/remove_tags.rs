//! `remove_tags` through the `cleanreg` binary and a `--policy` file: on
//! Distribution 2.8 by a replacement pushed and deleted, on a registry with
//! Distribution 3's tag delete (testkit's front over the real registry) by
//! that. Only the named tags go, every other tag stays where it pointed, a
//! tag moved between plan and apply is skipped, and `cleanreg restore` puts
//! the removed tags back. Checked through the registry API and its garbage
//! collection.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{Cleanreg, Ran, arg, cleanreg};
use cleanreg_testkit::{
    CosignKind, Fixture, GcOptions, ImageSpec, RegistryOptions, Seeder, TagDelete, TagDeleteFront,
    garbage_collect,
};
use serde_json::Value;
use time::OffsetDateTime;

const POLICY: &str = "[default]\n\
    keep_newest = 10\n\
    keep_tags = ['latest']\n\
    remove_tags = 'sha-.*|pr-.*|latest'\n";

fn days_ago(days: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc() - time::Duration::days(days))
}

/// Every tag of `repository` and where it points.
fn tag_map(seeder: &Seeder, repository: &str) -> BTreeMap<String, String> {
    seeder
        .tags(repository)
        .unwrap()
        .into_iter()
        .map(|tag| {
            let digest = seeder.tag_digest(repository, &tag).unwrap().unwrap();
            (tag, digest)
        })
        .collect()
}

/// The tag of each `--json` outcome that ended as `outcome`.
fn outcome_tags(json: &Value, outcome: &str) -> BTreeSet<String> {
    json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["outcome"] == outcome)
        .map(|entry| entry["tags"][0].as_str().unwrap().to_owned())
        .collect()
}

/// The printed plan's row for `tag` as a tag entry.
fn tag_row(ran: &Ran, tag: &str) -> String {
    ran.stdout
        .lines()
        .find(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            cells.get(2) == Some(&"tag") && cells.get(3) == Some(&tag)
        })
        .unwrap_or_else(|| panic!("no tag row for {tag}:\n{}", ran.shown()))
        .to_owned()
}

/// How the tags were removed, as the outcomes say.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Way {
    Replacement,
    TagDelete,
}

/// Plans `remove_tags` for `repository` through `url`, moves one planned
/// tag, applies the saved plan and restores; returns the blobs the
/// replacements left.
fn remove_then_restore(
    cli: &Cleanreg,
    url: &str,
    seeder: &Seeder,
    repository: &str,
    way: Way,
) -> BTreeSet<String> {
    let release = seeder
        .push_image(
            repository,
            &ImageSpec::new(format!("{repository} release"), days_ago(3)),
            &["v1.4.0", "sha-1a2b3c", "pr-123", "latest"],
        )
        .unwrap();
    let older = seeder
        .push_image(
            repository,
            &ImageSpec::new(format!("{repository} older"), days_ago(5)),
            &["v1.3.0", "sha-9f8e7d"],
        )
        .unwrap();
    let lonely = seeder
        .push_image(
            repository,
            &ImageSpec::new(format!("{repository} lonely"), days_ago(1)),
            &["pr-124"],
        )
        .unwrap();
    seeder
        .push_cosign(repository, &release.digest, CosignKind::Signature)
        .unwrap();
    let before = tag_map(seeder, repository);

    let policy = cli.work().join(format!("{repository}-policy.toml"));
    std::fs::write(&policy, POLICY).unwrap();
    let plan_file = cli.work().join(format!("{repository}-plan.json"));
    let planned = cli
        .run(&[
            "-r",
            url,
            "-n",
            repository,
            "--policy",
            arg(&policy),
            "--dry-run",
            "--plan-out",
            arg(&plan_file),
        ])
        .exits(0);
    for tag in ["pr-123", "sha-1a2b3c", "sha-9f8e7d"] {
        let row = tag_row(&planned, tag);
        assert!(row.contains("UNTAG"), "{row}");
        assert!(row.contains("matches remove_tags"), "{row}");
    }
    let latest = tag_row(&planned, "latest");
    assert!(
        latest.contains("KEEP") && latest.contains("also keep_tags"),
        "{latest}"
    );
    let last = tag_row(&planned, "pr-124");
    assert!(
        last.contains("KEEP") && last.contains("it is the image's last tag"),
        "{last}"
    );
    assert!(
        planned.stdout.contains("3 tags to remove from kept images"),
        "{}",
        planned.shown()
    );

    // Between plan and apply someone moves sha-9f8e7d onto another image.
    seeder.tag(repository, "sha-9f8e7d", &lonely).unwrap();
    let recovery = cli.work().join(format!("{repository}-recovery.json"));
    let applied = cli
        .run(&[
            "-r",
            url,
            "--apply-plan",
            arg(&plan_file),
            "-y",
            "--json",
            "--recovery-file",
            arg(&recovery),
        ])
        .exits(0);
    let report = applied.json();
    // Written before the first change: one entry per image, its tags only.
    let saved: Value = serde_json::from_slice(&std::fs::read(&recovery).unwrap()).unwrap();
    let entries: Vec<(&str, bool, Vec<&str>)> = saved["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["digest"].as_str().unwrap(),
                entry["tags_only"] == true,
                entry["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|tag| tag.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (release.digest.as_str(), true, vec!["pr-123", "sha-1a2b3c"]),
            (older.digest.as_str(), true, vec!["sha-9f8e7d"]),
        ]
    );
    assert_eq!(
        outcome_tags(&report, "tag_removed"),
        BTreeSet::from(["pr-123".to_owned(), "sha-1a2b3c".to_owned()]),
        "{}",
        applied.shown()
    );
    assert_eq!(
        outcome_tags(&report, "skipped"),
        BTreeSet::from(["sha-9f8e7d".to_owned()])
    );
    assert_eq!(report["counts"]["tags_removed"], 2);
    assert!(
        applied
            .stderr
            .contains("Summary: 0 deleted, 2 tags removed, 1 skipped, 0 failed (of 3)"),
        "{}",
        applied.shown()
    );
    assert!(
        applied.stderr.contains("moved to"),
        "the skip says why: {}",
        applied.shown()
    );

    let mut expected = before.clone();
    expected.remove("pr-123");
    expected.remove("sha-1a2b3c");
    expected.insert("sha-9f8e7d".into(), lonely.digest.clone());
    assert_eq!(tag_map(seeder, repository), expected);
    assert_eq!(expected["v1.4.0"], release.digest);
    assert_eq!(expected["v1.3.0"], older.digest);

    let mut left = BTreeSet::new();
    for outcome in report["outcomes"].as_array().unwrap() {
        if outcome["outcome"] != "tag_removed" {
            continue;
        }
        match way {
            Way::TagDelete => assert_eq!(outcome["by"]["method"], "tag_delete", "{outcome}"),
            Way::Replacement => {
                assert_eq!(outcome["by"]["method"], "replacement", "{outcome}");
                for blob in outcome["by"]["blobs"].as_array().unwrap() {
                    left.insert(blob.as_str().unwrap().to_owned());
                }
            }
        }
    }
    match way {
        Way::TagDelete => {
            assert!(
                applied
                    .stderr
                    .contains("tag removed (the registry's tag delete)"),
                "{}",
                applied.shown()
            );
            assert!(
                !applied.stderr.contains("replacement"),
                "{}",
                applied.shown()
            );
        }
        Way::Replacement => {
            assert_eq!(left.len(), 3, "two configs and the empty blob: {left:?}");
            let hint = applied
                .stderr
                .split_once("stay until garbage collection:")
                .unwrap_or_else(|| panic!("no blob list in the hint:\n{}", applied.shown()))
                .1;
            let line = hint
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("{repository}:")))
                .unwrap_or_else(|| panic!("no line for {repository}:\n{hint}"));
            for blob in &left {
                assert!(line.contains(blob.as_str()), "{blob} in {line}");
            }
        }
    }

    let restored = cli.run(&["restore", arg(&recovery), "-r", url]).exits(0);
    assert!(restored.stdout.contains("Summary:"), "{}", restored.shown());
    let mut back = before;
    back.insert("sha-9f8e7d".into(), lonely.digest);
    assert_eq!(
        tag_map(seeder, repository),
        back,
        "removed tags are back; the moved one is left where it was moved"
    );
    left
}

#[test]
fn remove_tags_takes_only_the_named_tags_on_2_8_and_through_the_tag_delete() {
    let Fixture { registry, .. } = Fixture::open().start();
    let front = TagDeleteFront::start(&registry).expect("start the tag delete front");
    let seeder = Seeder::new(&registry.url(), None);
    let cli = cleanreg();

    let left = remove_then_restore(&cli, &registry.url(), &seeder, "direct", Way::Replacement);
    assert!(front.tag_deletes().is_empty());
    remove_then_restore(&cli, &front.url(), &seeder, "front", Way::TagDelete);
    assert_eq!(
        front.tag_deletes(),
        ["pr-123", "sha-1a2b3c"].map(|tag| TagDelete {
            repository: "front".into(),
            tag: tag.into(),
            status: 202,
        })
    );

    // The replacements' blobs are garbage; the images are all kept.
    let gc = garbage_collect(
        registry.config_path(),
        GcOptions {
            dry_run: true,
            delete_untagged: false,
        },
    )
    .unwrap();
    for blob in &left {
        assert!(gc.eligible_blobs.contains(blob), "{blob}: {gc:?}");
    }
    for repository in ["direct", "front"] {
        let tagged: BTreeSet<String> = tag_map(&seeder, repository).into_values().collect();
        assert_eq!(gc.marked(repository), tagged, "{repository}");
    }
}

#[test]
fn a_registry_that_refuses_deletes_fails_the_tag_removal_with_the_fix() {
    let Fixture { registry, .. } = Fixture::with(RegistryOptions {
        delete_enabled: false,
        ..RegistryOptions::default()
    })
    .start();
    let front = TagDeleteFront::start(&registry).expect("start the tag delete front");
    let seeder = Seeder::new(&registry.url(), None);
    let image = seeder
        .push_image("app", &ImageSpec::new("app", days_ago(1)), &["v1", "pr-1"])
        .unwrap();
    let cli = cleanreg();
    let policy = cli.work().join("policy.toml");
    std::fs::write(
        &policy,
        "[default]\nkeep_newest = 5\nremove_tags = 'pr-.*'\n",
    )
    .unwrap();
    let declined = cli
        .run_with_stdin(&["-r", &front.url(), "--policy", arg(&policy)], "n\n")
        .exits(0);
    assert!(
        declined.stdout.contains(&format!(
            "Remove 1 tag from kept images on {}? [y/N]",
            front.url()
        )) && declined.stdout.contains("Nothing deleted."),
        "{}",
        declined.shown()
    );
    assert!(front.tag_deletes().is_empty());
    let ran = cli
        .run(&["-r", &front.url(), "--policy", arg(&policy), "-y"])
        .exits(3);
    assert!(
        ran.stdout.contains("delete: {enabled: true}"),
        "the fix: {}",
        ran.shown()
    );
    assert!(
        ran.stdout
            .contains("Summary: 0 deleted, 0 tags removed, 0 skipped, 1 failed (of 1)"),
        "{}",
        ran.shown()
    );
    assert_eq!(
        front.tag_deletes(),
        [TagDelete {
            repository: "app".into(),
            tag: "pr-1".into(),
            status: 405,
        }]
    );
    for tag in ["v1", "pr-1"] {
        assert_eq!(
            seeder.tag_digest("app", tag).unwrap().as_deref(),
            Some(image.digest.as_str())
        );
    }
}
