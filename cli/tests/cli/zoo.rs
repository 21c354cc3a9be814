//! Every manifest kind on the real registry: the protocol zoo is scanned,
//! planned and cleaned, anonymously and with htpasswd, and the registry's
//! final state is checked through its API.

use crate::common::block_on;
use std::collections::BTreeSet;

use crate::common::{PASSWORD, USER, with_auth};
use cleanreg::NativeTransport;
use cleanreg_core::{
    Client, Credentials, DateSource, Digest, ImageKind, Inventory, Plan, Policy, Role, ScanScope,
    plan,
};
use cleanreg_testkit::{Fixture, Registry, RegistryOptions, Seeder, Zoo};
use time::OffsetDateTime;

struct Setup {
    registry: Registry,
    seeder: Seeder,
    zoo: Zoo,
    client: Client<NativeTransport>,
}

fn setup(options: RegistryOptions) -> Setup {
    let Fixture {
        registry,
        seeder,
        zoo,
        ..
    } = Fixture::with(options).zoo().start();
    let zoo = zoo.expect("the zoo");
    let credentials = registry
        .credentials()
        .map(|(user, password)| Credentials::new(user, password));
    let client = crate::common::client(&registry.url(), credentials);
    Setup {
        registry,
        seeder,
        zoo,
        client,
    }
}

fn scan(client: &Client<NativeTransport>) -> Inventory {
    block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).expect("scan the zoo")
}

fn digest(text: &str) -> Digest {
    text.parse().unwrap()
}

fn deletes_in(plan: &Plan, repo: &str) -> BTreeSet<String> {
    plan.deletes()
        .filter(|e| e.repository.as_str() == repo)
        .map(|e| e.digest.to_string())
        .collect()
}

/// Plans keep-N, checks it against the zoo's expectations, applies it and
/// checks the registry through its API.
fn clean_and_check(setup: &Setup, keep: usize) {
    let inventory = scan(&setup.client);
    let plan = plan(
        &inventory,
        &Policy::keep_newest(keep),
        OffsetDateTime::now_utc(),
    );
    for expected in setup.zoo.expected(keep) {
        let deletes = deletes_in(&plan, &expected.repo);
        let must_go: BTreeSet<String> = expected
            .delete
            .union(&expected.children_of_deleted)
            .cloned()
            .collect();
        assert_eq!(deletes, must_go, "deletes in {}", expected.repo);
        assert!(
            expected.keep.is_disjoint(&deletes),
            "{} deletes something it must keep",
            expected.repo
        );
    }
    assert!(plan.reclaimable.whole_registry);
    assert!(plan.reclaimable.bytes > 0);

    let report = block_on(setup.client.apply(&plan, &mut |_, _| {}));
    let counts = report.counts();
    assert_eq!(
        (counts.deleted, counts.skipped, counts.failed),
        (plan.deletes().count(), 0, 0),
        "{report:#?}"
    );
    for expected in setup.zoo.expected(keep) {
        for kept in &expected.keep {
            assert!(
                setup.seeder.manifest_exists(&expected.repo, kept).unwrap(),
                "{}@{kept} must remain",
                expected.repo
            );
        }
        for gone in expected.delete.iter().chain(&expected.children_of_deleted) {
            assert!(
                !setup.seeder.manifest_exists(&expected.repo, gone).unwrap(),
                "{}@{gone} must be gone",
                expected.repo
            );
        }
        let tags: BTreeSet<String> = setup
            .seeder
            .tags(&expected.repo)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(tags, expected.remaining_tags, "tags of {}", expected.repo);
    }

    // Planning again with the same policy deletes nothing more.
    let again = scan(&setup.client);
    let replan = plan_again(&again, keep);
    assert_eq!(
        replan.deletes().count(),
        0,
        "{:#?}",
        replan.deletes().collect::<Vec<_>>()
    );
}

fn plan_again(inventory: &Inventory, keep: usize) -> Plan {
    plan(
        inventory,
        &Policy::keep_newest(keep),
        OffsetDateTime::now_utc(),
    )
}

#[test]
fn the_zoo_is_read_as_it_is() {
    let setup = setup(RegistryOptions::default());
    let inventory = scan(&setup.client);
    let concurrent_again = scan(&setup.client);
    let sequential = block_on(
        crate::common::client(&setup.registry.url(), None)
            .with_concurrency(1)
            .scan(&ScanScope::Catalog, &mut |_| {}),
    )
    .unwrap();
    assert_eq!(inventory, sequential, "any concurrency, same inventory");
    assert_eq!(inventory, concurrent_again);
    assert!(inventory.whole_registry);

    let repo = |name: &str| &inventory.repositories[&name.parse().unwrap()];
    let multiarch = repo("zoo/multiarch");
    let v3 = &multiarch.images[&digest(&setup.zoo.multiarch.v3.digest)];
    assert_eq!(v3.kind, ImageKind::Index);
    assert_eq!(v3.created_from, Some(DateSource::NewestChild));
    assert_eq!(v3.created, setup.zoo.multiarch.v3.newest_child_created());
    assert_eq!(v3.size, setup.zoo.multiarch.v3.size);
    let platforms: Vec<String> = v3.platforms().iter().map(|p| p.to_string()).collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
    let shared = digest(&setup.zoo.multiarch.shared_arm64);
    assert_eq!(multiarch.parents_of(&shared).len(), 2);

    let list = repo("zoo/dockerlist");
    let new = &list.images[&digest(&setup.zoo.dockerlist.new.digest)];
    assert_eq!(new.kind, ImageKind::Index);
    assert_eq!(new.children.len(), 2);

    let dates = repo("zoo/dates");
    let annotated = &dates.images[&digest(&setup.zoo.dates.annotated.digest)];
    assert_eq!(annotated.created_from, Some(DateSource::Annotation));
    for unknown in [
        &setup.zoo.dates.epoch,
        &setup.zoo.dates.unparsable,
        &setup.zoo.dates.undated,
    ] {
        let image = &dates.images[&digest(&unknown.digest)];
        assert_eq!((image.created, image.created_from), (None, None));
    }
    let new = &dates.images[&digest(&setup.zoo.dates.newest.digest)];
    assert_eq!(new.created_from, Some(DateSource::Config));
    assert_eq!(new.size, setup.zoo.dates.newest.size);

    let artifacts = repo("zoo/artifacts");
    let chart = &artifacts.images[&digest(&setup.zoo.artifacts.chart.digest)];
    assert_eq!(chart.kind, ImageKind::Artifact);

    // Attachments do not count as images; the orphan's subject is absent.
    let signed = repo("zoo/signed");
    assert_eq!(
        signed
            .subjects
            .values()
            .filter(|present| !**present)
            .count(),
        1
    );
    let plan = plan(
        &inventory,
        &Policy::keep_newest(10),
        OffsetDateTime::now_utc(),
    );
    let roles = |role: fn(&Role) -> bool| {
        plan.entries
            .iter()
            .filter(|e| e.repository.as_str() == "zoo/signed" && role(&e.role))
            .count()
    };
    assert_eq!(roles(|r| *r == Role::Image), 4);
    assert_eq!(roles(|r| matches!(r, Role::Attachment { .. })), 6);
    assert_eq!(
        plan.deletes().count(),
        1,
        "only the orphan goes when all are kept"
    );
}

#[test]
fn keep_one_on_an_open_registry() {
    clean_and_check(&setup(RegistryOptions::default()), 1);
}

#[test]
fn keep_two_with_htpasswd() {
    let setup = setup(with_auth());
    assert_eq!(
        setup.registry.credentials(),
        Some((USER.to_owned(), PASSWORD.to_owned()))
    );
    clean_and_check(&setup, 2);
}
