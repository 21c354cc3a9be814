//! Stopping an apply half way, and retrying only what failed, against a
//! real registry.

use crate::common::block_on;
use std::cell::Cell;
use std::time::Duration;

use crate::common::seeded;
use cleanreg::NativeTransport;
use cleanreg_core::{
    CANCELLED, Outcome, Policy, ScanScope, Transport, TransportError, plan as make_plan, retry_plan,
};
use cleanreg_testkit::{ImageFormat, ImageSpec, IndexSpec, RegistryOptions};
use http::{Method, Request, Response};
use time::OffsetDateTime;

/// The real transport, except that the DELETE of one digest answers 500
/// (without reaching the registry) as many times as `failures` says.
struct FailDelete {
    inner: NativeTransport,
    digest: String,
    failures: Cell<usize>,
}

impl Transport for FailDelete {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let hit = request.method() == Method::DELETE
            && request.uri().path().ends_with(&self.digest)
            && self.failures.get() > 0;
        if hit {
            self.failures.set(self.failures.get() - 1);
            return Ok(Response::builder()
                .status(500)
                .header("Content-Type", "application/json")
                .body(br#"{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}"#.to_vec())
                .unwrap());
        }
        self.inner.send(request).await
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }
}

#[test]
fn a_stopped_apply_sends_no_further_delete_and_reports_the_rest_as_cancelled() {
    let seeded = seeded(RegistryOptions::default());
    let client = crate::common::client(&seeded.registry.url(), None);
    let scope = ScanScope::Repositories(vec!["team/app".parse().unwrap()]);
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let plan = make_plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(plan.deletes().count(), 3);

    // The user presses stop while the first delete runs.
    let stopped = Cell::new(false);
    let asked = Cell::new(0);
    let report = block_on(client.apply_until(
        &plan,
        &|| {
            asked.set(asked.get() + 1);
            stopped.get()
        },
        &mut |_, _| stopped.set(true),
    ));
    assert!(asked.get() >= 3, "stop is asked before every entry");
    let outcomes: Vec<&Outcome> = report.outcomes.iter().map(|o| &o.outcome).collect();
    assert_eq!(outcomes[0], &Outcome::Deleted, "{report:#?}");
    for later in &outcomes[1..] {
        assert_eq!(
            *later,
            &Outcome::Skipped {
                reason: CANCELLED.into()
            }
        );
    }
    let counts = report.counts();
    assert_eq!((counts.deleted, counts.skipped, counts.failed), (1, 2, 0));
    let exists = |digest: &str| seeded.seeder.manifest_exists("team/app", digest).unwrap();
    assert!(!exists(&report.outcomes[0].digest.to_string()));
    assert!(exists(&report.outcomes[1].digest.to_string()));
    assert!(exists(&report.outcomes[2].digest.to_string()));
}

#[test]
fn a_retry_deletes_only_what_failed_including_a_child_whose_index_went_first() {
    let seeded = seeded(RegistryOptions::default());
    let day = time::Duration::days(1);
    let now = OffsetDateTime::now_utc();
    let seeder = &seeded.seeder;
    let index = seeder
        .push_index(
            "multi",
            &IndexSpec::new(
                ImageFormat::Oci,
                [
                    ImageSpec::new("old-amd64", Some(now - 10 * day)),
                    ImageSpec::new("old-arm64", Some(now - 10 * day))
                        .with_platform("arm64", "linux"),
                ],
            )
            .with_tag("old"),
        )
        .unwrap();
    let older = seeder
        .push_image(
            "multi",
            &ImageSpec::new("older", Some(now - 20 * day)),
            &["older"],
        )
        .unwrap();
    seeder
        .push_image("multi", &ImageSpec::new("new", Some(now - day)), &["new"])
        .unwrap();
    let failing_child = index.children[0].digest.clone();

    let client = crate::common::client_over(
        FailDelete {
            inner: NativeTransport::new(false),
            digest: failing_child.clone(),
            failures: Cell::new(1),
        },
        &seeded.registry.url(),
        None,
    );
    let scope = ScanScope::Repositories(vec!["multi".parse().unwrap()]);
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let plan = make_plan(&inventory, &Policy::keep_newest(1), now);
    // The index, its two children, and the older image.
    assert_eq!(plan.deletes().count(), 4, "{plan:#?}");

    let first = block_on(client.apply(&plan, &mut |_, _| {}));
    let counts = first.counts();
    assert_eq!(
        (counts.deleted, counts.skipped, counts.failed),
        (3, 0, 1),
        "{first:#?}"
    );
    let failed = first
        .outcomes
        .iter()
        .find(|o| matches!(o.outcome, Outcome::Failed { .. }))
        .unwrap();
    assert_eq!(failed.digest.to_string(), failing_child);
    assert!(seeder.manifest_exists("multi", &failing_child).unwrap());

    let retry = retry_plan(&plan, &first);
    let retried: Vec<String> = retry.deletes().map(|e| e.digest.to_string()).collect();
    assert_eq!(retried, vec![failing_child.clone()]);
    assert_eq!(retry.entries.len(), 1, "kept entries are left out");

    // The index went in the first run: the retry finds it gone and deletes
    // the child.
    let second = block_on(client.apply(&retry, &mut |_, _| {}));
    assert_eq!(second.outcomes.len(), 1);
    assert_eq!(second.outcomes[0].outcome, Outcome::Deleted, "{second:#?}");
    assert!(!seeder.manifest_exists("multi", &failing_child).unwrap());
    assert!(!seeder.manifest_exists("multi", &older.digest).unwrap());
    assert!(seeder.tag_digest("multi", "new").unwrap().is_some());
}

#[test]
fn a_retried_child_whose_index_is_back_is_skipped() {
    let seeded = seeded(RegistryOptions::default());
    let day = time::Duration::days(1);
    let now = OffsetDateTime::now_utc();
    let seeder = &seeded.seeder;
    let spec = || {
        IndexSpec::new(
            ImageFormat::Oci,
            [
                ImageSpec::new("old-amd64", Some(now - 10 * day)),
                ImageSpec::new("old-arm64", Some(now - 10 * day)).with_platform("arm64", "linux"),
            ],
        )
    };
    let index = seeder.push_index("multi", &spec().with_tag("old")).unwrap();
    seeder
        .push_image("multi", &ImageSpec::new("new", Some(now - day)), &["new"])
        .unwrap();
    let failing_child = index.children[1].digest.clone();
    let client = crate::common::client_over(
        FailDelete {
            inner: NativeTransport::new(false),
            digest: failing_child.clone(),
            failures: Cell::new(1),
        },
        &seeded.registry.url(),
        None,
    );
    let scope = ScanScope::Repositories(vec!["multi".parse().unwrap()]);
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let plan = make_plan(&inventory, &Policy::keep_newest(1), now);
    let first = block_on(client.apply(&plan, &mut |_, _| {}));
    assert_eq!(first.counts().failed, 1, "{first:#?}");

    // Someone pushes the index again, untagged: the child still belongs to it.
    let pushed = seeder.push_index("multi", &spec()).unwrap();
    assert_eq!(pushed.digest, index.digest);
    assert!(seeder.tag_digest("multi", "old").unwrap().is_none());

    let second = block_on(client.apply(&retry_plan(&plan, &first), &mut |_, _| {}));
    let Outcome::Skipped { reason } = &second.outcomes[0].outcome else {
        panic!("the child of an index that exists again stays: {second:#?}");
    };
    assert!(reason.contains("its index"), "{reason}");
    assert!(seeder.manifest_exists("multi", &failing_child).unwrap());
}

/// The real transport, holding every DELETE for a moment and recording
/// when each starts and ends, and how many were in flight at once.
struct WatchDeletes {
    inner: NativeTransport,
    seen: std::rc::Rc<Watched>,
}

#[derive(Default)]
struct Watched {
    /// (started, digest) in the order DELETEs started and ended.
    events: std::cell::RefCell<Vec<(bool, String)>>,
    in_flight: Cell<usize>,
    most: Cell<usize>,
}

impl Transport for WatchDeletes {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        if request.method() != Method::DELETE {
            return self.inner.send(request).await;
        }
        let seen = &self.seen;
        let digest = request.uri().path().rsplit('/').next().unwrap().to_owned();
        seen.events.borrow_mut().push((true, digest.clone()));
        seen.in_flight.set(seen.in_flight.get() + 1);
        seen.most.set(seen.most.get().max(seen.in_flight.get()));
        self.inner.sleep(Duration::from_millis(150)).await;
        let answer = self.inner.send(request).await;
        seen.in_flight.set(seen.in_flight.get() - 1);
        seen.events.borrow_mut().push((false, digest));
        answer
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }
}

#[test]
fn a_repository_s_deletes_go_side_by_side_after_a_first_one_alone_children_after_their_index() {
    let seeded = seeded(RegistryOptions::default());
    let day = time::Duration::days(1);
    let now = OffsetDateTime::now_utc();
    let seeder = &seeded.seeder;
    for n in 1..=6 {
        seeder
            .push_image(
                "waves",
                &ImageSpec::new(format!("waves-{n}"), Some(now - n * day)),
                &[&format!("v{n}")],
            )
            .unwrap();
    }
    let index = seeder
        .push_index(
            "waves",
            &IndexSpec::new(
                ImageFormat::Oci,
                [
                    ImageSpec::new("waves-old-amd64", Some(now - 10 * day)),
                    ImageSpec::new("waves-old-arm64", Some(now - 10 * day))
                        .with_platform("arm64", "linux"),
                ],
            )
            .with_tag("old"),
        )
        .unwrap();
    let seen = std::rc::Rc::new(Watched::default());
    let watch = WatchDeletes {
        inner: NativeTransport::new(false),
        seen: seen.clone(),
    };
    let client = crate::common::client_over(watch, &seeded.registry.url(), None);
    let scope = ScanScope::Repositories(vec!["waves".parse().unwrap()]);
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let plan = make_plan(&inventory, &Policy::keep_newest(1), now);
    // Five images, the index and its two children.
    assert_eq!(plan.deletes().count(), 8, "{plan:#?}");
    let report = block_on(client.apply(&plan, &mut |_, _| {}));
    assert_eq!(report.counts().deleted, 8, "{report:#?}");
    for entry in plan.deletes() {
        let digest = entry.digest.to_string();
        assert!(
            !seeder.manifest_exists("waves", &digest).unwrap(),
            "{digest}"
        );
    }
    assert!(seeder.tag_digest("waves", "v1").unwrap().is_some());

    let events = seen.events.borrow();
    // The first DELETE went alone: it ended before the next one started.
    assert!(
        events[0].0 && !events[1].0 && events[0].1 == events[1].1,
        "{events:?}"
    );
    assert!(
        seen.most.get() > 1,
        "deletes went one at a time: {events:?}"
    );
    let at = |start: bool, digest: &str| {
        events
            .iter()
            .position(|(s, d)| *s == start && d == digest)
            .unwrap()
    };
    let index_ended = at(false, &index.digest);
    for child in index.child_digests() {
        assert!(
            at(true, &child) > index_ended,
            "{child} before its index: {events:?}"
        );
    }
}
