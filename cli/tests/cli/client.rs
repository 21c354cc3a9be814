//! The core client over the native transport, against a real registry.

use crate::common::{PASSWORD, USER, seeded, with_auth};
use crate::common::{block_on, client};
use cleanreg_core::{Credentials, Outcome, Policy, ScanScope, plan as make_plan};
use cleanreg_testkit::RegistryOptions;
use time::OffsetDateTime;

#[test]
fn scan_plan_and_apply_keep_exactly_the_newest_two() {
    let seeded = seeded(with_auth());
    let client = client(
        &seeded.registry.url(),
        Some(Credentials::new(USER, PASSWORD)),
    );
    block_on(client.ping()).unwrap();

    let mut updates = 0;
    let inventory = block_on(client.scan(&ScanScope::Catalog, &mut |_| updates += 1)).unwrap();
    assert!(updates > 10, "progress is reported while scanning");
    assert_eq!(inventory.repositories.len(), 2);
    assert_eq!(inventory.image_count(), 10);
    assert_eq!(inventory.tag_count(), 12);
    let app = &inventory.repositories[&"team/app".parse().unwrap()];
    let newest = &seeded.repo("team/app").images[0];
    let newest_digest = newest.image.digest.parse().unwrap();
    assert_eq!(
        app.tags_of(&newest_digest).len(),
        2,
        "latest and v5 share one digest"
    );
    assert_eq!(app.images[&newest_digest].created, newest.image.created);

    let plan = make_plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(plan.totals().deleted_images, 6);
    let report = block_on(client.apply(&plan, &mut |_, _| {}));
    let counts = report.counts();
    assert_eq!(
        (counts.deleted, counts.skipped, counts.failed),
        (6, 0, 0),
        "{report:#?}"
    );
    seeded.assert_newest_remain(2);

    // Planning again with the same policy deletes nothing more.
    let again = block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).unwrap();
    assert_eq!(again.image_count(), 4);
    let replan = make_plan(&again, &Policy::keep_newest(2), OffsetDateTime::now_utc());
    assert_eq!(replan.deletes().count(), 0);
}

#[test]
fn a_tag_that_moves_or_appears_after_the_scan_stops_that_delete() {
    let seeded = seeded(RegistryOptions::default());
    let client = client(&seeded.registry.url(), None);
    let scope = ScanScope::Repositories(vec!["team/app".parse().unwrap()]);
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let plan = make_plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(plan.deletes().count(), 3);

    let app = seeded.repo("team/app");
    let (v3, v2, v1) = (&app.images[2], &app.images[3], &app.images[4]);
    // v3 now also carries a new tag: deleting its digest would remove it.
    seeded.seeder.tag("team/app", "hotfix", &v3.image).unwrap();
    // v2's tag moves to the newest image: its old digest is no longer "v2".
    seeded
        .seeder
        .tag("team/app", "v2", &app.images[0].image)
        .unwrap();

    let report = block_on(client.apply(&plan, &mut |_, _| {}));
    let outcome = |digest: &str| {
        report
            .outcomes
            .iter()
            .find(|o| o.digest.to_string() == digest)
            .map(|o| o.outcome.clone())
            .unwrap()
    };
    assert!(
        matches!(outcome(&v3.image.digest), Outcome::Skipped { ref reason } if reason.contains("hotfix")),
        "{report:#?}"
    );
    assert!(
        matches!(outcome(&v2.image.digest), Outcome::Skipped { ref reason } if reason.contains("v2")),
        "{report:#?}"
    );
    assert_eq!(outcome(&v1.image.digest), Outcome::Deleted);
    let exists = |d: &str| seeded.seeder.manifest_exists("team/app", d).unwrap();
    assert!(exists(&v3.image.digest) && exists(&v2.image.digest) && !exists(&v1.image.digest));
    assert_eq!(
        seeded
            .seeder
            .tag_digest("team/app", "hotfix")
            .unwrap()
            .as_deref(),
        Some(v3.image.digest.as_str())
    );
}

#[test]
fn a_registry_without_delete_stops_after_the_first_refusal_and_reports_every_entry() {
    let seeded = seeded(RegistryOptions {
        delete_enabled: false,
        ..RegistryOptions::default()
    });
    let client = client(&seeded.registry.url(), None);
    let inventory = block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).unwrap();
    let plan = make_plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    let mut seen = 0;
    let report = block_on(client.apply(&plan, &mut |_, _| seen += 1));
    assert_eq!(seen, 6);
    let counts = report.counts();
    // Repositories are applied side by side: each one's first DELETE may
    // already be on its way when another's 405 arrives; no later one is sent.
    let repositories = inventory.repositories.len();
    assert_eq!(counts.deleted, 0);
    assert!(
        (1..=repositories).contains(&counts.failed),
        "{counts:?} {report:#?}"
    );
    assert_eq!(counts.skipped + counts.failed, 6);
    let Outcome::Failed { reason } = &report.outcomes[0].outcome else {
        panic!("first delete should fail: {report:#?}");
    };
    for entry in &report.outcomes {
        match &entry.outcome {
            Outcome::Failed { reason } => assert!(
                reason.contains("405") && reason.contains("UNSUPPORTED"),
                "{reason}"
            ),
            Outcome::Skipped { reason } => {
                assert!(reason.starts_with("not attempted: "), "{reason}");
            }
            Outcome::Deleted | Outcome::TagRemoved { .. } => panic!("{report:#?}"),
        }
    }
    assert!(reason.contains("delete: {enabled: true}"), "{reason}");
    seeded.assert_newest_remain(5);
}

#[test]
fn wrong_credentials_and_unknown_repositories_are_named_with_their_fix() {
    let seeded = seeded(with_auth());
    let url = seeded.registry.url();
    let error = block_on(client(&url, Some(Credentials::new(USER, "wrong"))).ping()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("401") && text.contains("UNAUTHORIZED"),
        "{text}"
    );
    assert!(text.contains("username and password"), "{text}");
    assert!(!text.contains("wrong"), "the password never shows: {text}");

    let good = client(&url, Some(Credentials::new(USER, PASSWORD)));
    let scope = ScanScope::Repositories(vec!["team/none".parse().unwrap()]);
    let error = block_on(good.scan(&scope, &mut |_| {}))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("NAME_UNKNOWN") && error.contains("repository name"),
        "{error}"
    );

    let nothing = client("http://127.0.0.1:9", None);
    let error = block_on(nothing.ping()).unwrap_err().to_string();
    assert!(error.contains("no answer"), "{error}");
}

#[test]
fn the_scan_follows_catalog_pages_past_the_first_hundred() {
    use cleanreg_testkit::{Fixture, many_repositories};
    let Fixture {
        registry, seeder, ..
    } = Fixture::open().start();
    let names = many_repositories(&seeder, 105).unwrap();
    let client = client(&registry.url(), None);
    let catalog = block_on(client.catalog()).unwrap();
    let found: Vec<String> = catalog.iter().map(|n| n.to_string()).collect();
    assert_eq!(found, names, "every repository, in order, across pages");
    let inventory = block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).unwrap();
    assert_eq!(inventory.repositories.len(), 105);
    // These images have no build date: keep 0 still deletes none of them.
    let plan = make_plan(
        &inventory,
        &Policy::keep_newest(0),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(plan.deletes().count(), 0);
}
