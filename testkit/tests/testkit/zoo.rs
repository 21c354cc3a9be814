//! The protocol zoo against Debian's Distribution 2.8.2: it seeds, every
//! manifest reads back byte for byte, and its expectations say what the
//! rules in `Zoo`'s docs say.

use std::collections::BTreeSet;

use cleanreg_testkit::{
    CosignKind, Registry, RegistryOptions, Seeder, Zoo, ZooExpectation, cosign_tag, protocol_zoo,
    referrers_tag, sha256_digest,
};
use time::macros::datetime;

fn set<'a>(digests: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    digests.into_iter().cloned().collect()
}

fn tags(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|tag| (*tag).to_owned()).collect()
}

fn by_repo<'a>(expectations: &'a [ZooExpectation], repo: &str) -> &'a ZooExpectation {
    expectations
        .iter()
        .find(|expectation| expectation.repo == repo)
        .unwrap()
}

#[test]
fn zoo_seeds_and_reads_back() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let now = datetime!(2026-03-10 12:00 UTC);
    let zoo = protocol_zoo(&seeder, now).unwrap();

    let mut catalog = seeder.catalog().unwrap();
    catalog.sort();
    assert_eq!(catalog, Zoo::REPOSITORIES);

    for keep in [1, 2, 3] {
        let expectations = zoo.expected(keep);
        let repos: Vec<&str> = expectations.iter().map(|e| e.repo.as_str()).collect();
        assert_eq!(repos, Zoo::REPOSITORIES);
        for expectation in &expectations {
            let repo = expectation.repo.as_str();
            // Keep, delete and leftovers are disjoint.
            assert!(expectation.keep.is_disjoint(&expectation.delete), "{repo}");
            assert!(
                expectation
                    .keep
                    .is_disjoint(&expectation.children_of_deleted),
                "{repo}"
            );
            assert!(
                expectation
                    .delete
                    .is_disjoint(&expectation.children_of_deleted),
                "{repo}"
            );
            // Every tag in the registry is accounted for, pointing where seeded.
            let mut registry_tags = seeder.tags(repo).unwrap();
            registry_tags.sort();
            let seeded: Vec<&String> = expectation.seeded_tags.keys().collect();
            assert_eq!(registry_tags.iter().collect::<Vec<_>>(), seeded, "{repo}");
            for (tag, digest) in &expectation.seeded_tags {
                assert_eq!(
                    seeder.tag_digest(repo, tag).unwrap().as_ref(),
                    Some(digest),
                    "{repo}:{tag}"
                );
            }
            assert!(
                expectation
                    .remaining_tags
                    .iter()
                    .all(|tag| { expectation.keep.contains(&expectation.seeded_tags[tag]) })
            );
            // Every manifest exists and reads back with its digest.
            let all = expectation
                .keep
                .iter()
                .chain(&expectation.delete)
                .chain(&expectation.children_of_deleted);
            for digest in all {
                let fetched = seeder
                    .fetch_manifest(repo, digest)
                    .unwrap()
                    .unwrap_or_else(|| panic!("{repo}@{digest} missing"));
                assert_eq!(&sha256_digest(&fetched.body), digest);
                assert_eq!(fetched.docker_content_digest.as_ref(), Some(digest));
            }
        }
    }

    // The same `now` gives the same zoo in another registry.
    let other = Registry::start(RegistryOptions::default()).unwrap();
    let again = protocol_zoo(&Seeder::new(&other.url(), None), now).unwrap();
    assert_eq!(again, zoo);
    // Seeding twice into one registry changes nothing.
    assert_eq!(protocol_zoo(&seeder, now).unwrap(), zoo);
}

/// The expectations spelled out, as the docs of `Zoo` and its parts say.
#[test]
fn zoo_expectations_match_the_documented_tables() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    let zoo = protocol_zoo(&seeder, datetime!(2026-03-10 12:00 UTC)).unwrap();
    let keep1 = zoo.expected(1);
    let keep2 = zoo.expected(2);

    // zoo/multiarch
    let m = &zoo.multiarch;
    assert_eq!(m.v2.children[1].digest, m.shared_arm64);
    assert_eq!(m.v3.children[1].digest, m.shared_arm64);
    assert_eq!(
        m.v3.newest_child_created(),
        Some(datetime!(2026-02-28 12:00 UTC))
    );
    let e = by_repo(&keep1, "zoo/multiarch");
    assert_eq!(
        e.keep,
        set([&m.v3.digest, &m.v3.children[0].digest, &m.shared_arm64])
    );
    assert_eq!(e.delete, set([&m.v2.digest, &m.v1.digest]));
    assert_eq!(
        e.children_of_deleted,
        set([
            &m.v2.children[0].digest,
            &m.v1.children[0].digest,
            &m.v1.children[1].digest
        ])
    );
    assert_eq!(e.remaining_tags, tags(&["v3", "latest"]));
    let e = by_repo(&keep2, "zoo/multiarch");
    assert_eq!(
        e.keep,
        set([
            &m.v3.digest,
            &m.v2.digest,
            &m.v3.children[0].digest,
            &m.v2.children[0].digest,
            &m.shared_arm64
        ])
    );
    assert_eq!(e.delete, set([&m.v1.digest]));
    assert_eq!(e.children_of_deleted, set(&m.v1.child_digests()));

    // zoo/dockerlist
    let d = &zoo.dockerlist;
    let e = by_repo(&keep1, "zoo/dockerlist");
    let mut kept = set(&d.new.child_digests());
    kept.insert(d.new.digest.clone());
    assert_eq!(e.keep, kept);
    assert_eq!(e.delete, set([&d.old.digest]));
    assert_eq!(e.children_of_deleted, set(&d.old.child_digests()));
    assert_eq!(e.remaining_tags, tags(&["2.0", "latest"]));
    let e = by_repo(&keep2, "zoo/dockerlist");
    assert!(e.delete.is_empty() && e.children_of_deleted.is_empty());
    assert_eq!(e.keep.len(), 6);

    // zoo/dates
    let t = &zoo.dates;
    let unknown = [&t.epoch.digest, &t.unparsable.digest, &t.undated.digest];
    let e = by_repo(&keep1, "zoo/dates");
    assert_eq!(e.keep, set(unknown.into_iter().chain([&t.newest.digest])));
    assert_eq!(
        e.delete,
        set([&t.middle.digest, &t.annotated.digest, &t.oldest.digest])
    );
    assert_eq!(
        e.remaining_tags,
        tags(&["new", "epoch", "bad-date", "undated"])
    );
    let e = by_repo(&keep2, "zoo/dates");
    assert_eq!(
        e.keep,
        set(unknown
            .into_iter()
            .chain([&t.newest.digest, &t.middle.digest]))
    );
    assert_eq!(e.delete, set([&t.annotated.digest, &t.oldest.digest]));
    assert_eq!(t.epoch.created, Some(time::OffsetDateTime::UNIX_EPOCH));
    assert_eq!(t.unparsable.created, None);
    assert_eq!(t.annotated.created, None);

    // zoo/signed
    let s = &zoo.signed;
    let images: Vec<&String> = s.images.iter().map(|image| &image.digest).collect();
    let oldest_attachments = [
        &s.oldest_sig.digest,
        &s.oldest_referrer.digest,
        &s.oldest_referrers_index.digest,
    ];
    let e = by_repo(&keep1, "zoo/signed");
    assert_eq!(
        e.keep,
        set([images[3], &s.newest_sig.digest, &s.newest_att.digest])
    );
    assert_eq!(
        e.delete,
        set(images[..3]
            .iter()
            .copied()
            .chain(oldest_attachments)
            .chain([&s.orphan_sig.digest]))
    );
    let newest_hex = &s.images[3].digest;
    assert_eq!(
        e.remaining_tags,
        [
            "v4".to_owned(),
            "latest".to_owned(),
            cosign_tag(newest_hex, CosignKind::Signature),
            cosign_tag(newest_hex, CosignKind::Attestation),
        ]
        .into_iter()
        .collect()
    );
    let e = by_repo(&keep2, "zoo/signed");
    assert_eq!(
        e.keep,
        set([
            images[3],
            images[2],
            &s.newest_sig.digest,
            &s.newest_att.digest
        ])
    );
    assert_eq!(
        e.delete,
        set(images[..2]
            .iter()
            .copied()
            .chain(oldest_attachments)
            .chain([&s.orphan_sig.digest]))
    );
    assert_eq!(
        s.oldest_referrers_index.tag,
        referrers_tag(&s.images[0].digest)
    );
    assert_eq!(
        s.oldest_referrer.subject.as_ref(),
        Some(&s.images[0].digest)
    );
    assert!(
        !seeder
            .manifest_exists("zoo/signed", &s.orphan_subject)
            .unwrap()
    );

    // zoo/artifacts
    let a = &zoo.artifacts;
    for expectations in [&keep1, &keep2] {
        let e = by_repo(expectations, "zoo/artifacts");
        assert_eq!(e.keep, set([&a.chart.digest, &a.typed.digest]));
        assert!(e.delete.is_empty());
        assert_eq!(e.remaining_tags, tags(&["chart-1.0.0", "config-1"]));
    }
}
