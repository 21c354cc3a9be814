//! Untagged manifests and tag removal through the client, against the real
//! registry: a moving tag leaves manifests that history finds, and
//! `remove_tags` takes single tags off kept images.

use crate::common::client;
use cleanreg::cache::DirCache;
use cleanreg_core::{
    Decision, DeleteReason, Found, NoCache, NoStorage, Outcome, Policy, RemovedBy, Role, ScanScope,
    ScanSources, plan,
};
use cleanreg_testkit::{Fixture, ImageSpec};
use futures_executor::block_on;
use time::OffsetDateTime;

fn days_ago(days: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc() - time::Duration::days(days))
}

#[test]
fn a_moved_tag_leaves_manifests_that_history_finds_and_delete_untagged_removes() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::open().start();
    let history_dir = tempfile::tempdir().unwrap();
    let history = DirCache::new(history_dir.path().to_path_buf(), u64::MAX);
    let client = client(&registry.url(), None);
    let scope = ScanScope::Repositories(vec!["app".parse().unwrap()]);
    let sources = ScanSources {
        cache: &NoCache,
        history: &history,
        storage: &NoStorage,
        previous: None,
    };
    let mut pushed = Vec::new();
    for build in 0..4 {
        let image = seeder
            .push_image(
                "app",
                &ImageSpec::new(format!("main-{build}"), days_ago(10 - build)),
                &["main"],
            )
            .unwrap();
        pushed.push(image.digest);
        let (inventory, reuse) = block_on(client.scan_with(&scope, &sources, &mut |_| {})).unwrap();
        assert_eq!(
            reuse.history_unknown,
            usize::from(build == 0),
            "after push {build}"
        );
        let repository = &inventory.repositories[&"app".parse().unwrap()];
        assert_eq!(
            repository.untagged.len(),
            build as usize,
            "after push {build}"
        );
        for found in repository.untagged.values() {
            assert_eq!(found.found, [Found::History]);
            assert_eq!(found.last_tags, ["main".parse().unwrap()]);
        }
    }
    let (inventory, reuse) = block_on(client.scan_with(&scope, &sources, &mut |_| {})).unwrap();
    assert_eq!(reuse.untagged_checked, 3);

    let kept = plan(
        &inventory,
        &Policy::from_toml("[default]\nkeep_newest = 10\n").unwrap(),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(kept.deletes().count(), 0);
    let policy =
        Policy::from_toml("[default]\nkeep_newest = 10\ndelete_untagged = true\n").unwrap();
    let made = plan(&inventory, &policy, OffsetDateTime::now_utc());
    let deletes: Vec<String> = made.deletes().map(|e| e.digest.to_string()).collect();
    let mut old = pushed[..3].to_vec();
    old.sort();
    let mut sorted = deletes.clone();
    sorted.sort();
    assert_eq!(sorted, old);
    for entry in made.deletes() {
        assert!(matches!(entry.role, Role::Untagged(_)));
        assert_eq!(
            entry.decision,
            Decision::Delete {
                reason: DeleteReason::Untagged
            }
        );
    }
    let report = block_on(client.apply(&made, &mut |_, _| {}));
    assert_eq!(report.counts().deleted, 3, "{report:#?}");
    for digest in &pushed[..3] {
        assert!(!seeder.manifest_exists("app", digest).unwrap());
    }
    assert_eq!(
        seeder.tag_digest("app", "main").unwrap().as_deref(),
        Some(pushed[3].as_str())
    );
    // The next scan finds them gone and forgets them.
    let (again, reuse) = block_on(client.scan_with(&scope, &sources, &mut |_| {})).unwrap();
    assert_eq!(again.untagged_count(), 0);
    assert_eq!((reuse.untagged_checked, reuse.untagged_gone), (3, 3));
    let (_, reuse) = block_on(client.scan_with(&scope, &sources, &mut |_| {})).unwrap();
    assert_eq!(reuse.untagged_checked, 0);
}

#[test]
fn remove_tags_on_distribution_2_pushes_a_replacement_and_keeps_everything_else() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::open().start();
    let release = seeder
        .push_image(
            "app",
            &ImageSpec::new("release", days_ago(2)),
            &["v1.4.0", "sha-1a2b3c", "pr-123", "latest"],
        )
        .unwrap();
    let lonely = seeder
        .push_image("app", &ImageSpec::new("lonely", days_ago(1)), &["pr-124"])
        .unwrap();
    let client = client(&registry.url(), None);
    let scope = ScanScope::Repositories(vec!["app".parse().unwrap()]);
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let policy = Policy::from_toml(
        "[default]\nkeep_newest = 5\nkeep_tags = ['latest']\nremove_tags = 'sha-.*|pr-.*|latest'\n",
    )
    .unwrap();
    let made = plan(&inventory, &policy, OffsetDateTime::now_utc());
    let untags: Vec<String> = made.untags().map(|e| e.tags[0].to_string()).collect();
    assert_eq!(untags, ["pr-123", "sha-1a2b3c"]);
    let report = block_on(client.apply(&made, &mut |_, _| {}));
    assert_eq!(report.counts().tags_removed, 2, "{report:#?}");
    for outcome in &report.outcomes {
        assert!(
            matches!(
                &outcome.outcome,
                Outcome::TagRemoved {
                    by: RemovedBy::Replacement { .. }
                }
            ),
            "{outcome:?}"
        );
    }
    let mut tags = seeder.tags("app").unwrap();
    tags.sort();
    assert_eq!(tags, ["latest", "pr-124", "v1.4.0"]);
    for tag in ["latest", "v1.4.0"] {
        assert_eq!(
            seeder.tag_digest("app", tag).unwrap().as_deref(),
            Some(release.digest.as_str())
        );
    }
    assert_eq!(
        seeder.tag_digest("app", "pr-124").unwrap().as_deref(),
        Some(lonely.digest.as_str())
    );
    assert_eq!(
        report
            .replacement_blobs()
            .values()
            .map(|b| b.len())
            .sum::<usize>(),
        3
    );
}
