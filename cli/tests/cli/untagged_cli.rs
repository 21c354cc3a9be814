//! Manifests a moving tag left behind, found and deleted by the `cleanreg`
//! binary: once through the scan history kept by earlier runs, once
//! through the registry's storage on the same registry state. Every outcome
//! is checked through the registry API, and the storage through the
//! registry's own garbage collection.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::{Cleanreg, Ran, arg, cleanreg, outcomes, planned};
use cleanreg_testkit::{
    CosignKind, Fixture, GcOptions, ImageFormat, ImageSpec, IndexSpec, OciImage, Registry,
    RegistryOptions, Seeder, TreeSnapshot, backdate_revision_links, copy_tree, cosign_tag,
    garbage_collect, skopeo_push,
};
use time::OffsetDateTime;

fn days_ago(days: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(days)
}

/// What was pushed, and what `--delete-untagged` must delete and keep.
struct Pushed {
    /// `app:main`, oldest push first; the last is the current image.
    main: Vec<String>,
    /// The cosign signature of each `main` push, in the same order.
    main_signatures: Vec<String>,
    v1: String,
    v1_signature: String,
    /// `multi:main`, first and second push.
    old_index: String,
    new_index: String,
    /// The amd64 child only the old index lists, the new index's amd64
    /// child, and the arm64 child both list.
    old_amd64: String,
    new_amd64: String,
    shared_arm64: String,
}

type Keys = BTreeSet<(String, String)>;

fn keys(repository: &str, digests: &[&String]) -> Keys {
    digests
        .iter()
        .map(|digest| (repository.to_owned(), (*digest).clone()))
        .collect()
}

impl Pushed {
    fn deleted(&self) -> Keys {
        let mut gone: Vec<&String> = self.main[..self.main.len() - 1].iter().collect();
        gone.extend(&self.main_signatures[..self.main.len() - 1]);
        let mut all = keys("app", &gone);
        all.extend(keys("multi", &[&self.old_index, &self.old_amd64]));
        all
    }

    fn kept(&self) -> Keys {
        let current = self.main.len() - 1;
        let mut all = keys(
            "app",
            &[
                &self.main[current],
                &self.main_signatures[current],
                &self.v1,
                &self.v1_signature,
            ],
        );
        all.extend(keys(
            "multi",
            &[&self.new_index, &self.new_amd64, &self.shared_arm64],
        ));
        all
    }

    /// The tags each repository must still have, with their digests.
    fn tags(&self) -> Vec<(&'static str, String, &String)> {
        let current = self.main.len() - 1;
        vec![
            ("app", "main".into(), &self.main[current]),
            ("app", "v1".into(), &self.v1),
            (
                "app",
                cosign_tag(&self.main[current], CosignKind::Signature),
                &self.main_signatures[current],
            ),
            (
                "app",
                cosign_tag(&self.v1, CosignKind::Signature),
                &self.v1_signature,
            ),
            ("multi", "main".into(), &self.new_index),
        ]
    }
}

/// The scan every dry run between pushes makes: it records history.
fn scan_args(url: &str) -> Vec<&str> {
    vec!["-r", url, "-n", "app", "-n", "multi", "-k", "10"]
}

/// Pushes `app:main` four times (the third by skopeo), each signed, and
/// `multi:main` twice as an index; `cli` scans after every push.
fn push_moving_tags(registry: &Registry, cli: &Cleanreg) -> Pushed {
    let url = registry.url();
    let seeder = Seeder::new(&url, None);
    let v1 = seeder
        .push_image("app", &ImageSpec::new("v1", Some(days_ago(30))), &["v1"])
        .unwrap()
        .digest;
    let v1_signature = seeder
        .push_cosign("app", &v1, CosignKind::Signature)
        .unwrap()
        .digest;
    // One date for both pushes: the same bytes, the same child.
    let arm64_created = days_ago(20);
    let arm64 =
        || ImageSpec::new("multi-arm64", Some(arm64_created)).with_platform("arm64", "linux");
    let index = |amd64: &str, days: i64| {
        IndexSpec::new(
            ImageFormat::Oci,
            [
                ImageSpec::new(amd64, Some(days_ago(days))).with_platform("amd64", "linux"),
                arm64(),
            ],
        )
        .with_tag("main")
    };
    let (mut main, mut main_signatures, mut indexes) = (Vec::new(), Vec::new(), Vec::new());
    for build in 0..4i64 {
        let digest = if build == 2 {
            skopeo_push(
                &url,
                None,
                "app",
                "main",
                &OciImage::new("main by skopeo", days_ago(10 - build)),
            )
            .expect("push with skopeo")
        } else {
            seeder
                .push_image(
                    "app",
                    &ImageSpec::new(format!("main-{build}"), Some(days_ago(10 - build))),
                    &["main"],
                )
                .unwrap()
                .digest
        };
        assert_eq!(
            seeder.tag_digest("app", "main").unwrap().as_deref(),
            Some(digest.as_str())
        );
        main_signatures.push(
            seeder
                .push_cosign("app", &digest, CosignKind::Signature)
                .unwrap()
                .digest,
        );
        main.push(digest);
        if build == 0 || build == 2 {
            let amd64 = format!("multi-amd64-{build}");
            indexes.push(
                seeder
                    .push_index("multi", &index(&amd64, 10 - build))
                    .unwrap(),
            );
        }
        cli.run(&[&scan_args(&url)[..], &["--dry-run"]].concat())
            .exits(0);
    }
    let (old, new) = (&indexes[0], &indexes[1]);
    assert_eq!(old.children[1].digest, new.children[1].digest);
    Pushed {
        main,
        main_signatures,
        v1,
        v1_signature,
        old_index: old.digest.clone(),
        new_index: new.digest.clone(),
        old_amd64: old.children[0].digest.clone(),
        new_amd64: new.children[0].digest.clone(),
        shared_arm64: new.children[1].digest.clone(),
    }
}

/// Through the API: the deleted manifests are gone, everything else and
/// every tag is as pushed.
fn assert_registry_after(seeder: &Seeder, pushed: &Pushed) {
    for (repository, digest) in pushed.deleted() {
        assert!(
            !seeder.manifest_exists(&repository, &digest).unwrap(),
            "{repository}@{digest} should be gone"
        );
    }
    for (repository, digest) in pushed.kept() {
        assert!(
            seeder.manifest_exists(&repository, &digest).unwrap(),
            "{repository}@{digest} should be there"
        );
    }
    for (repository, tag, digest) in pushed.tags() {
        assert_eq!(
            seeder.tag_digest(repository, &tag).unwrap().as_deref(),
            Some(digest.as_str()),
            "{repository}:{tag}"
        );
    }
    let app: BTreeSet<String> = seeder.tags("app").unwrap().into_iter().collect();
    let expected: BTreeSet<String> = pushed
        .tags()
        .into_iter()
        .filter(|(repository, _, _)| *repository == "app")
        .map(|(_, tag, _)| tag)
        .collect();
    assert_eq!(app, expected);
    assert_eq!(seeder.tags("multi").unwrap(), ["main"]);
}

/// The untagged entries of a `--json` plan, with the rule of their decision.
fn untagged_entries(ran: &Ran) -> Vec<(String, String, String)> {
    ran.json()["plan"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["role"]["role"] == "untagged")
        .map(|entry| {
            (
                entry["digest"].as_str().unwrap().to_owned(),
                entry["decision"]["decision"].as_str().unwrap().to_owned(),
                entry["decision"]["reason"]["rule"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn history_and_storage_each_find_what_a_moving_tag_left_and_delete_untagged_removes_it() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::open().start();
    let url = registry.url();
    let cli = cleanreg();
    let pushed = push_moving_tags(&registry, &cli);
    let old_mains = &pushed.main[..3];

    // The same registry state, served a second time from a copy.
    let copy = tempfile::tempdir().unwrap();
    let copied_root = copy.path().join("storage");
    copy_tree(registry.storage_root(), &copied_root).unwrap();
    let Fixture { registry: twin, .. } = Fixture::with(RegistryOptions {
        storage_root: Some(copied_root.clone()),
        access_log: true,
        ..RegistryOptions::default()
    })
    .start();

    // --- history: a history directory of its own starts empty.
    let elsewhere = cli.work().join("elsewhere");
    let alone = cli
        .run(
            &[
                &scan_args(&url)[..],
                &["--dry-run", "--json", "--history-dir", arg(&elsewhere)],
            ]
            .concat(),
        )
        .exits(0);
    assert!(untagged_entries(&alone).is_empty(), "{}", alone.shown());
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        2,
        "a record per repository"
    );
    assert_eq!(
        std::fs::read_dir(cli.state().join("cleanreg/history"))
            .unwrap()
            .count(),
        2
    );

    // --- history: without --delete-untagged the plan keeps them and says why.
    let kept = cli
        .run(&[&scan_args(&url)[..], &["--dry-run"]].concat())
        .exits(0);
    for digest in old_mains {
        let row = kept
            .plan_row(digest, "untagged image (history, was main)")
            .unwrap_or_else(|| panic!("no untagged row for {digest}:\n{}", kept.shown()));
        assert!(row.contains("KEEP"), "{row}");
        assert!(
            row.contains("no tag points at it, and its rule does not delete untagged manifests"),
            "{row}"
        );
    }
    assert!(
        kept.stdout
            .contains("0 untagged manifests to delete, 4 kept"),
        "three old mains and the old index: {}",
        kept.shown()
    );
    assert!(
        kept.stdout.contains("Nothing to delete."),
        "{}",
        kept.shown()
    );
    let kept_json = cli
        .run(&[&scan_args(&url)[..], &["--dry-run", "--json"]].concat())
        .exits(0);
    let untagged = untagged_entries(&kept_json);
    assert_eq!(untagged.len(), 4, "{untagged:?}");
    assert!(
        untagged
            .iter()
            .all(|(_, decision, rule)| decision == "keep" && rule == "untagged_kept"),
        "{untagged:?}"
    );

    // --- history: --delete-untagged deletes exactly what the moves left.
    let cleaned = cli
        .run(&[&scan_args(&url)[..], &["--delete-untagged", "-y", "--json"]].concat())
        .exits(0);
    let report = cleaned.json();
    assert_eq!(
        planned(&report, "delete"),
        pushed.deleted(),
        "{}",
        cleaned.shown()
    );
    assert_eq!(
        outcomes(&report, "deleted"),
        pushed.deleted(),
        "{}",
        cleaned.shown()
    );
    assert_eq!(report["counts"]["total"], 8, "{}", cleaned.shown());
    assert_eq!(report["totals"]["deleted_untagged"], 4);
    assert!(
        cleaned
            .stderr
            .contains("Summary: 8 deleted, 0 skipped, 0 failed (of 8)"),
        "{}",
        cleaned.shown()
    );
    assert!(
        cleaned.stderr.contains("garbage-collect"),
        "{}",
        cleaned.shown()
    );
    let recovery = report["recovery_file"].as_str().unwrap();
    // Written before the first delete, in the working directory.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.work().join(recovery)).unwrap()).unwrap();
    let saved: Keys = saved["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["repository"].as_str().unwrap().to_owned(),
                entry["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(saved, pushed.deleted());
    assert_registry_after(&seeder, &pushed);
    // The next scan finds nothing left to delete.
    let again = cli
        .run(&[&scan_args(&url)[..], &["--delete-untagged", "--dry-run"]].concat())
        .exits(0);
    assert!(
        again.stdout.contains("Nothing to delete."),
        "{}",
        again.shown()
    );

    // --- storage, on the twin, without history.
    let twin_url = twin.url();
    let fresh = cleanreg();
    let storage_args = |extra: &[&'static str]| -> Vec<String> {
        let mut all: Vec<String> = scan_args(&twin_url).into_iter().map(String::from).collect();
        all.extend(
            [
                "--no-history",
                "--delete-untagged",
                "--storage",
                arg(&copied_root),
            ]
            .into_iter()
            .map(String::from),
        );
        all.extend(extra.iter().map(|s| (*s).to_owned()));
        all
    };
    let run = |cli: &Cleanreg, extra: &[&'static str]| {
        let owned = storage_args(extra);
        let words: Vec<&str> = owned.iter().map(String::as_str).collect();
        cli.run(&words)
    };
    // Just pushed (the copy's links are new): kept, a push may be under way.
    let recent = run(&fresh, &["--dry-run", "--json"]).exits(0);
    let untagged = untagged_entries(&recent);
    assert_eq!(untagged.len(), 4, "{}", recent.shown());
    assert!(
        untagged
            .iter()
            .all(|(_, decision, rule)| decision == "keep" && rule == "pushed_recently"),
        "{untagged:?}"
    );
    assert_eq!(recent.json()["totals"]["deleted_manifests"], 0);

    backdate_revision_links(&copied_root, Duration::from_secs(3600)).unwrap();
    let before = TreeSnapshot::take(&copied_root).unwrap();
    let dry = run(&fresh, &["--dry-run"]).exits(0);
    let dry_json = run(&fresh, &["--dry-run", "--json"]).exits(0);
    let after = TreeSnapshot::take(&copied_root).unwrap();
    assert_eq!(
        before.differences(&after),
        Vec::<String>::new(),
        "a dry run writes nothing under --storage"
    );
    assert!(!fresh.state().join("cleanreg").exists(), "--no-history");
    for digest in old_mains {
        assert!(
            dry.plan_row(digest, "untagged image (storage)").is_some(),
            "{digest}:\n{}",
            dry.shown()
        );
    }
    assert_eq!(planned(&dry_json.json(), "delete"), pushed.deleted());

    let cleaned = run(&fresh, &["-y", "--json"]).exits(0);
    assert_eq!(
        outcomes(&cleaned.json(), "deleted"),
        pushed.deleted(),
        "{}",
        cleaned.shown()
    );
    assert_registry_after(&Seeder::new(&twin_url, None), &pushed);
    // Scans and the recovery file took the untagged manifests from storage.
    let log = std::fs::read_to_string(twin.log_path()).unwrap();
    for (repository, digest) in pushed.deleted() {
        let read = format!("\"GET /v2/{repository}/manifests/{digest} ");
        assert!(!log.contains(&read), "{read} was asked of the registry");
    }

    // The registry's own garbage collection keeps exactly the rest.
    let gc = garbage_collect(
        twin.config_path(),
        GcOptions {
            dry_run: true,
            delete_untagged: false,
        },
    )
    .unwrap();
    for repository in ["app", "multi"] {
        let expected: BTreeSet<String> = pushed
            .kept()
            .into_iter()
            .filter(|(r, _)| r == repository)
            .map(|(_, digest)| digest)
            .collect();
        assert_eq!(gc.marked(repository), expected, "{repository}");
    }
    for (_, digest) in pushed.deleted() {
        assert!(gc.eligible_blobs.contains(&digest), "{digest} is freed");
    }

    // A storage of another registry is refused before anything is planned.
    let Fixture {
        registry: other, ..
    } = Fixture::open().start();
    Seeder::new(&other.url(), None)
        .push_image(
            "app",
            &ImageSpec::new("elsewhere", Some(days_ago(1))),
            &["main"],
        )
        .unwrap();
    let foreign = fresh
        .run(&[
            "-r",
            &twin_url,
            "-n",
            "app",
            "-k",
            "10",
            "--delete-untagged",
            "--no-history",
            "--storage",
            arg(other.storage_root()),
            "--dry-run",
        ])
        .exits(1);
    assert!(
        foreign.stderr.contains("storage") && foreign.stderr.contains("rootdirectory"),
        "{}",
        foreign.shown()
    );
}

#[test]
fn wrong_storage_and_history_flags_are_usage_errors() {
    let cli = cleanreg();
    let missing = cli.work().join("no-such-storage");
    let ran = cli
        .run(&[
            "-r",
            "http://127.0.0.1:9",
            "-n",
            "app",
            "-k",
            "1",
            "--storage",
            arg(&missing),
        ])
        .exits(2);
    assert!(ran.stderr.contains("no-such-storage"), "{}", ran.shown());
    let empty = cli.work();
    let ran = cli
        .run(&[
            "-r",
            "http://127.0.0.1:9",
            "-n",
            "app",
            "-k",
            "1",
            "--storage",
            arg(&empty),
        ])
        .exits(2);
    assert!(
        ran.stderr.contains("docker/registry/v2") && ran.stderr.contains("rootdirectory"),
        "{}",
        ran.shown()
    );
    let policy = cli.work().join("policy.toml");
    std::fs::write(&policy, "[default]\nkeep_newest = 1\n").unwrap();
    let ran = cli
        .run(&[
            "-r",
            "http://127.0.0.1:9",
            "--policy",
            arg(&policy),
            "--delete-untagged",
        ])
        .exits(2);
    assert!(
        ran.stderr.contains("delete_untagged = true"),
        "{}",
        ran.shown()
    );
    cli.run(&[
        "-r",
        "http://127.0.0.1:9",
        "-n",
        "a",
        "-k",
        "1",
        "--no-history",
        "--history-dir",
        "h",
    ])
    .exits(2);
}
