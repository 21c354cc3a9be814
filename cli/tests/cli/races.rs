//! Races between the plan and the apply, each tried many times against the
//! real registry (`CLEANREG_RACE_RUNS`, default 10 of each; the figures are
//! printed with `-- --nocapture`):
//!
//! - a tag of a planned delete is pushed again to a new image: the new image
//!   and the moved tag survive (the old digest may go; apply skips it);
//! - a new tag is put on a digest the plan deletes (a rollback retag): the
//!   digest and both tags survive, skipped with the reason;
//! - someone else deletes a planned image first: reported as already gone,
//!   not as a failure;
//! - a new tag is put on a planned digest while the apply runs (after its
//!   repository was re-read): the digest survives, skipped with the reason.
//!
//! Every run also checks that nothing outside the plan was deleted.

use crate::common::block_on;
use std::collections::BTreeSet;

use cleanreg::NativeTransport;
use cleanreg_core::{
    ALREADY_GONE, Client, Digest, Outcome, Plan, Policy, RepositoryName, ScanScope, Tag, plan,
};
use cleanreg_testkit::{Fixture, ImageSpec, Registry, Seeder};
use time::{Duration, OffsetDateTime};

const IMAGES: usize = 4;
const KEEP: usize = 1;

struct Race {
    seeder: Seeder,
    client: Client<NativeTransport>,
    repository: RepositoryName,
    plan: Plan,
    now: OffsetDateTime,
}

impl Race {
    /// A repository `race/<name>-<n>` of four images tagged `v1..v4`, and
    /// the keep-1 plan of it.
    fn new(registry: &Registry, name: &str, n: usize) -> Race {
        let seeder = Seeder::new(&registry.url(), registry.credentials());
        let repository = format!("race/{name}-{n}");
        let now = OffsetDateTime::now_utc();
        for i in 1..=IMAGES {
            let created = now - Duration::days((IMAGES - i) as i64 + 1);
            seeder
                .push_image(
                    &repository,
                    &ImageSpec::new(format!("{repository}-{i}"), Some(created)),
                    &[&format!("v{i}")],
                )
                .expect("push");
        }
        let client = crate::common::client(&registry.url(), None);
        let repository: RepositoryName = repository.parse().unwrap();
        let scope = ScanScope::Repositories(vec![repository.clone()]);
        let inventory = block_on(client.scan(&scope, &mut |_| {})).expect("scan");
        let plan = plan(&inventory, &Policy::keep_newest(KEEP), now);
        assert_eq!(plan.deletes().count(), IMAGES - KEEP);
        Race {
            seeder,
            client,
            repository,
            plan,
            now,
        }
    }

    /// The planned deletes, `(digest, tag)`.
    fn deletes(&self) -> Vec<(Digest, Tag)> {
        self.plan
            .deletes()
            .map(|e| (e.digest.clone(), e.tags[0].clone()))
            .collect()
    }

    fn tag_points_at(&self, tag: &str) -> Option<Digest> {
        block_on(
            self.client
                .resolve_tag(&self.repository, &tag.parse().unwrap()),
        )
        .expect("resolve a tag")
    }

    fn exists(&self, digest: &Digest) -> bool {
        block_on(self.client.manifest_exists(&self.repository, digest)).expect("HEAD")
    }

    /// Applies, and checks every manifest the plan keeps is still there.
    fn apply(&self) -> Vec<(Digest, Outcome)> {
        let report = block_on(self.client.apply(&self.plan, &mut |_, _| {}));
        let deleted: BTreeSet<&Digest> = self.plan.deletes().map(|e| &e.digest).collect();
        for entry in self
            .plan
            .entries
            .iter()
            .filter(|e| !deleted.contains(&e.digest))
        {
            assert!(
                self.exists(&entry.digest),
                "a kept image went: {}",
                entry.digest
            );
        }
        report
            .outcomes
            .into_iter()
            .map(|o| (o.digest, o.outcome))
            .collect()
    }
}

fn runs() -> usize {
    std::env::var("CLEANREG_RACE_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
}

/// Which planned delete a run disturbs: each in turn.
fn pick(n: usize) -> usize {
    n % (IMAGES - KEEP)
}

#[test]
fn a_tag_pushed_again_before_apply_survives() {
    let Fixture { registry, .. } = Fixture::open().start();
    let runs = runs();
    for n in 0..runs {
        let race = Race::new(&registry, "repushed", n);
        let (old, tag) = race.deletes()[pick(n)].clone();
        let new = race
            .seeder
            .push_image(
                race.repository.as_str(),
                &ImageSpec::new(format!("{}-again", race.repository), Some(race.now)),
                &[tag.as_str()],
            )
            .expect("push the tag again");
        let outcomes = race.apply();
        assert_eq!(
            race.tag_points_at(tag.as_str()).map(|d| d.to_string()),
            Some(new.digest.clone()),
            "run {n}: the moved tag {tag} must survive on the new image"
        );
        let old_outcome = &outcomes.iter().find(|(d, _)| d == &old).unwrap().1;
        assert!(
            matches!(old_outcome, Outcome::Skipped { reason } if reason.contains(&format!("tag {tag}"))),
            "run {n}: {old_outcome:?}"
        );
        for (digest, outcome) in &outcomes {
            if digest != &old {
                assert_eq!(outcome, &Outcome::Deleted, "run {n}: {digest}");
            }
        }
    }
    eprintln!("race a (tag pushed again): {runs} runs, 0 wrong");
}

#[test]
fn a_rollback_tag_on_a_planned_digest_keeps_it() {
    let Fixture { registry, .. } = Fixture::open().start();
    let runs = runs();
    for n in 0..runs {
        let race = Race::new(&registry, "rollback", n);
        let (digest, tag) = race.deletes()[pick(n)].clone();
        let image = race
            .seeder
            .fetch_manifest(race.repository.as_str(), &digest.to_string())
            .expect("read the planned image")
            .expect("the planned image exists");
        race.seeder
            .push_manifest(
                race.repository.as_str(),
                "rollback",
                image.content_type.as_deref().expect("a content type"),
                &image.body,
            )
            .expect("tag it");
        let outcomes = race.apply();
        assert!(
            race.exists(&digest),
            "run {n}: the retagged digest must stay"
        );
        assert_eq!(race.tag_points_at("rollback").as_ref(), Some(&digest));
        assert_eq!(race.tag_points_at(tag.as_str()).as_ref(), Some(&digest));
        let outcome = &outcomes.iter().find(|(d, _)| d == &digest).unwrap().1;
        assert!(
            matches!(outcome, Outcome::Skipped { reason } if reason.contains("tag rollback points at it")),
            "run {n}: {outcome:?}"
        );
    }
    eprintln!("race b (rollback retag): {runs} runs, 0 wrong");
}

#[test]
fn an_image_someone_else_deleted_is_reported_as_already_gone() {
    let Fixture { registry, .. } = Fixture::open().start();
    let runs = runs();
    for n in 0..runs {
        let race = Race::new(&registry, "gone", n);
        let (digest, _) = race.deletes()[pick(n)].clone();
        block_on(race.client.delete_manifest(&race.repository, &digest)).expect("delete it first");
        let outcomes = race.apply();
        for (d, outcome) in &outcomes {
            if d == &digest {
                assert_eq!(
                    outcome,
                    &Outcome::Skipped {
                        reason: ALREADY_GONE.into()
                    },
                    "run {n}"
                );
            } else {
                assert_eq!(outcome, &Outcome::Deleted, "run {n}: {d}");
            }
        }
    }
    eprintln!("race c (deleted by someone else): {runs} runs, 0 wrong");
}

/// The real transport; on the first DELETE it first puts a `live` tag on
/// another planned digest, as a rollback made while the apply runs.
struct RetagOnFirstDelete {
    inner: NativeTransport,
    seeder: Seeder,
    repository: String,
    target: String,
    done: std::cell::Cell<bool>,
}

impl cleanreg_core::Transport for RetagOnFirstDelete {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, cleanreg_core::TransportError> {
        if request.method() == http::Method::DELETE && !self.done.replace(true) {
            let image = self
                .seeder
                .fetch_manifest(&self.repository, &self.target)
                .expect("read the target")
                .expect("the target exists");
            self.seeder
                .push_manifest(
                    &self.repository,
                    "live",
                    image.content_type.as_deref().expect("a content type"),
                    &image.body,
                )
                .expect("tag it");
        }
        self.inner.send(request).await
    }

    async fn sleep(&self, duration: std::time::Duration) {
        self.inner.sleep(duration).await
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.now()
    }
}

#[test]
fn a_rollback_tag_made_during_the_apply_keeps_its_digest() {
    let Fixture { registry, .. } = Fixture::open().start();
    let runs = runs();
    for n in 0..runs {
        let race = Race::new(&registry, "live", n);
        // Deletes go newest first; the target is a later one.
        let deletes = race.deletes();
        let (target, tag) = deletes[1 + n % (deletes.len() - 1)].clone();
        let client = crate::common::client_over(
            RetagOnFirstDelete {
                inner: NativeTransport::new(false),
                seeder: Seeder::new(&registry.url(), None),
                repository: race.repository.to_string(),
                target: target.to_string(),
                done: std::cell::Cell::new(false),
            },
            &registry.url(),
            None,
        );
        let report = block_on(client.apply(&race.plan, &mut |_, _| {}));
        assert!(
            race.exists(&target),
            "run {n}: the digest retagged mid-apply went"
        );
        assert_eq!(race.tag_points_at("live").as_ref(), Some(&target));
        assert_eq!(race.tag_points_at(tag.as_str()).as_ref(), Some(&target));
        let outcome = &report
            .outcomes
            .iter()
            .find(|o| o.digest == target)
            .unwrap()
            .outcome;
        assert!(
            matches!(outcome, Outcome::Skipped { reason } if reason.contains("tag live points at it")),
            "run {n}: {outcome:?}"
        );
    }
    eprintln!("race d (rollback retag during the apply): {runs} runs, 0 wrong");
}
