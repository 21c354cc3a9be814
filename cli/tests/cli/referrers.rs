//! Untagged referrers found through the OCI 1.1 referrers API: the real
//! registry behind testkit's `ReferrersFront`, which adds the API as
//! distribution-spec 1.1 defines it. Referrers are pushed by digest (no
//! tag, no fallback index), so the API is the only way to find them; the
//! `cleanreg` binary's keep-N must delete those of deleted images and keep
//! those of kept ones. The same pushes straight to the registry (no API)
//! behave as before: the untagged referrers stay unseen.
//! Every outcome is checked by digest against the registry itself.

use std::collections::BTreeSet;

use crate::common::{arg, cleanreg, outcomes, planned};
use cleanreg_testkit::{
    ArtifactBlob, ArtifactSpec, Fixture, ImageSpec, PushedArtifact, PushedImage, ReferrersFront,
    Seeder,
};
use serde_json::Value;
use time::OffsetDateTime;

const SIGNATURE: &str = "application/vnd.cncf.notary.signature";
const SBOM: &str = "application/spdx+json";
const ATTESTATION: &str = "application/vnd.in-toto+json";

fn days_ago(days: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(days)
}

/// An untagged referrer of `subject` with `artifact_type` and one layer.
fn referrer(
    seeder: &Seeder,
    subject: &cleanreg_testkit::Descriptor,
    artifact_type: &str,
    seed: &str,
) -> PushedArtifact {
    let spec = ArtifactSpec::typed(artifact_type)
        .with_blob(ArtifactBlob::new(artifact_type, seed.as_bytes().to_vec()))
        .with_annotation("org.example.seed", seed)
        .with_subject(subject.clone());
    seeder.push_artifact("app", &spec).expect("push a referrer")
}

/// What was pushed: three images, newest last, and their referrers.
struct Pushed {
    images: Vec<PushedImage>,
    /// Per image: its untagged referrers (signature, SBOM, and for the
    /// oldest an attestation too), plus for the oldest a signature of its
    /// SBOM (a referrer of a referrer).
    referrers: Vec<Vec<PushedArtifact>>,
}

fn push(seeder: &Seeder) -> Pushed {
    let mut images = Vec::new();
    let mut referrers = Vec::new();
    for (n, days) in [30, 20, 10].into_iter().enumerate() {
        let image = seeder
            .push_image(
                "app",
                &ImageSpec::new(format!("image-{n}"), Some(days_ago(days))),
                &[&format!("v{n}")],
            )
            .expect("push an image");
        let subject = image.descriptor();
        let mut attached = vec![
            referrer(seeder, &subject, SIGNATURE, &format!("signature-{n}")),
            referrer(seeder, &subject, SBOM, &format!("sbom-{n}")),
        ];
        if n == 0 {
            // Three referrers: more than the front's page of two.
            attached.push(referrer(seeder, &subject, ATTESTATION, "attestation-0"));
            let sbom = attached[1].descriptor();
            attached.push(referrer(seeder, &sbom, SIGNATURE, "sbom-signature-0"));
        }
        images.push(image);
        referrers.push(attached);
    }
    Pushed { images, referrers }
}

fn digests<'a>(artifacts: impl IntoIterator<Item = &'a PushedArtifact>) -> BTreeSet<String> {
    artifacts.into_iter().map(|a| a.digest.clone()).collect()
}

/// The plan entry (`--json`) of `digest`.
fn entry<'a>(json: &'a Value, digest: &str) -> Vec<&'a Value> {
    json["plan"]["entries"]
        .as_array()
        .expect("plan entries")
        .iter()
        .filter(|entry| entry["digest"] == digest)
        .collect()
}

#[test]
fn keep_n_deletes_the_untagged_referrers_of_deleted_images_through_the_api() {
    let Fixture { registry, .. } = Fixture::open().start();
    let front = ReferrersFront::start(&registry, 2).expect("start the referrers front");
    let seeder = Seeder::new(&front.url(), None);
    let pushed = push(&seeder);
    let direct = Seeder::new(&registry.url(), None);

    // The front answers as the spec says: a page of two with a Link, the
    // filter applied, and nothing under a tag.
    let oldest = &pushed.images[0].digest;
    let first = seeder
        .get(&format!("/v2/app/referrers/{oldest}"), None)
        .unwrap();
    assert_eq!(first.status, 200);
    let index: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    let filtered = seeder
        .get(
            &format!("/v2/app/referrers/{oldest}?artifactType=application%2Fspdx%2Bjson"),
            None,
        )
        .unwrap();
    let index: Value = serde_json::from_slice(&filtered.body).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(index["manifests"][0]["artifactType"], SBOM);
    assert_eq!(
        index["manifests"][0]["annotations"]["org.example.seed"],
        "sbom-0"
    );
    let mut tags = direct.tags("app").unwrap();
    tags.sort();
    assert_eq!(tags, ["v0", "v1", "v2"], "the referrers have no tags");

    let cli = cleanreg();
    let url = front.url();
    let dry = cli
        .run(&["-r", &url, "-n", "app", "-k", "1", "--dry-run", "--json"])
        .exits(0);
    let json = dry.json();
    let doomed: BTreeSet<String> = digests(pushed.referrers[..2].iter().flatten());
    let kept: BTreeSet<String> = digests(&pushed.referrers[2]);
    let delete: BTreeSet<String> = planned(&json, "delete")
        .into_iter()
        .map(|(_, digest)| digest)
        .collect();
    for digest in &doomed {
        assert!(delete.contains(digest), "{digest} is planned for deletion");
    }
    for digest in &kept {
        assert!(!delete.contains(digest), "{digest} stays with its image");
        let entries = entry(&json, digest);
        assert_eq!(entries.len(), 1, "{digest} is in the plan once");
        assert_eq!(entries[0]["role"]["role"], "attachment");
    }
    let sbom = &pushed.referrers[2][1];
    assert_eq!(entry(&json, &sbom.digest)[0]["role"]["artifact_type"], SBOM);
    assert!(
        dry.stderr
            .contains("The registry serves the OCI referrers API"),
        "{}",
        dry.shown()
    );
    assert!(
        front
            .referrers_requests()
            .iter()
            .any(|request| request.target.contains("last=")),
        "the scan followed a Link to a second page"
    );
    // The human plan names each referrer's artifact type.
    let human = cli
        .run(&["-r", &url, "-n", "app", "-k", "1", "--dry-run"])
        .exits(0);
    let row = human
        .plan_row(&sbom.digest, "referrer of")
        .unwrap_or_else(|| panic!("a row for the kept SBOM:\n{}", human.shown()));
    assert!(row.contains(SBOM), "{row}");

    let applied = cli
        .run(&["-r", &url, "-n", "app", "-k", "1", "-y", "--json"])
        .exits(0);
    for digest in &doomed {
        assert!(
            !direct.manifest_exists("app", digest).unwrap(),
            "{digest} is gone:\n{}",
            applied.shown()
        );
    }
    for image in &pushed.images[..2] {
        assert!(!direct.manifest_exists("app", &image.digest).unwrap());
    }
    for digest in kept.iter().chain([&pushed.images[2].digest]) {
        assert!(
            direct.manifest_exists("app", digest).unwrap(),
            "{digest} stays"
        );
    }
    assert_eq!(
        front
            .referrers_of("app", &pushed.images[2].digest)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        kept
    );

    // A second run finds nothing more to do.
    let again = cli
        .run(&["-r", &url, "-n", "app", "-k", "1", "--dry-run", "--json"])
        .exits(0);
    assert!(planned(&again.json(), "delete").is_empty());
}

#[test]
fn a_referrer_under_a_fallback_tag_and_in_the_api_is_one_manifest() {
    let Fixture { registry, .. } = Fixture::open().start();
    let front = ReferrersFront::start(&registry, 10).expect("start the referrers front");
    let seeder = Seeder::new(&front.url(), None);
    let old = seeder
        .push_image("app", &ImageSpec::new("old", Some(days_ago(20))), &["old"])
        .unwrap();
    let new = seeder
        .push_image("app", &ImageSpec::new("new", Some(days_ago(10))), &["new"])
        .unwrap();
    let old_sbom = referrer(&seeder, &old.descriptor(), SBOM, "old-sbom");
    let new_sbom = referrer(&seeder, &new.descriptor(), SBOM, "new-sbom");
    // Both also listed in a fallback index, as a client unsure of the API
    // would push.
    let old_fallback = seeder
        .push_referrers_index("app", &old.digest, &[old_sbom.descriptor()])
        .unwrap();
    seeder
        .push_referrers_index("app", &new.digest, &[new_sbom.descriptor()])
        .unwrap();

    let cli = cleanreg();
    let url = front.url();
    let dry = cli
        .run(&["-r", &url, "-n", "app", "-k", "1", "--dry-run", "--json"])
        .exits(0);
    let json = dry.json();
    for digest in [&old_sbom.digest, &new_sbom.digest] {
        assert_eq!(
            entry(&json, digest).len(),
            1,
            "{digest} once:\n{}",
            dry.shown()
        );
    }
    assert_eq!(json["totals"]["deleted_images"], 1);
    assert!(
        dry.stderr.contains("0 found only through it"),
        "every referrer was reached through its fallback index first:\n{}",
        dry.shown()
    );
    let delete: BTreeSet<String> = planned(&json, "delete")
        .into_iter()
        .map(|(_, digest)| digest)
        .collect();
    let expected: BTreeSet<String> = [&old.digest, &old_sbom.digest, &old_fallback.digest]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(delete, expected);

    cli.run(&["-r", &url, "-n", "app", "-k", "1", "-y"])
        .exits(0);
    let direct = Seeder::new(&registry.url(), None);
    for digest in &expected {
        assert!(
            !direct.manifest_exists("app", digest).unwrap(),
            "{digest} is gone"
        );
    }
    for digest in [&new.digest, &new_sbom.digest] {
        assert!(
            direct.manifest_exists("app", digest).unwrap(),
            "{digest} stays"
        );
    }
}

/// An image a moving tag left untagged, found through history, takes the
/// referrers only the API lists with it; a referrer the API lists for a
/// tagged image costs history no `HEAD`.
#[test]
fn the_referrers_of_an_untagged_image_found_through_history_go_with_it() {
    let Fixture { registry, .. } = Fixture::open().start();
    let front = ReferrersFront::start(&registry, 10).expect("start the referrers front");
    let seeder = Seeder::new(&front.url(), None);
    let cli = cleanreg();
    let url = front.url();
    let scan = |extra: &[&str]| {
        let mut args = vec!["-r", url.as_str(), "-n", "app", "-k", "10", "-v"];
        args.extend_from_slice(extra);
        cli.run(&args)
    };

    let first = seeder
        .push_image(
            "app",
            &ImageSpec::new("main-1", Some(days_ago(20))),
            &["main"],
        )
        .unwrap();
    let seen = referrer(&seeder, &first.descriptor(), SIGNATURE, "main-1-signature");
    scan(&["--dry-run"]).exits(0);
    // After that scan: main moves on, and main-1 gets an SBOM only the API
    // knows; main-2 is signed.
    let second = seeder
        .push_image(
            "app",
            &ImageSpec::new("main-2", Some(days_ago(10))),
            &["main"],
        )
        .unwrap();
    let unseen = referrer(&seeder, &first.descriptor(), SBOM, "main-1-sbom");
    let current = referrer(&seeder, &second.descriptor(), SIGNATURE, "main-2-signature");

    let dry = scan(&["--dry-run", "--delete-untagged", "--json"]).exits(0);
    let json = dry.json();
    let delete: BTreeSet<String> = planned(&json, "delete")
        .into_iter()
        .map(|(_, digest)| digest)
        .collect();
    let doomed = BTreeSet::from([
        first.digest.clone(),
        seen.digest.clone(),
        unseen.digest.clone(),
    ]);
    assert_eq!(delete, doomed, "{}", dry.shown());
    assert_eq!(
        entry(&json, &unseen.digest)[0]["role"]["subject"],
        first.digest.as_str()
    );
    // History knew main-1 and its signature; nothing reached them.
    assert!(
        dry.stderr
            .contains(": 2 manifests no tag reaches asked about"),
        "{}",
        dry.shown()
    );
    // Now history knows main-2's signature too, but the API lists it first.
    let again = scan(&["--dry-run", "--delete-untagged"]).exits(0);
    assert!(
        again
            .stderr
            .contains(": 3 manifests no tag reaches asked about"),
        "main-1, its signature and its SBOM, not main-2's signature:\n{}",
        again.shown()
    );

    scan(&["--delete-untagged", "-y"]).exits(0);
    let direct = Seeder::new(&registry.url(), None);
    for digest in &doomed {
        assert!(
            !direct.manifest_exists("app", digest).unwrap(),
            "{digest} is gone"
        );
    }
    for digest in [&second.digest, &current.digest] {
        assert!(
            direct.manifest_exists("app", digest).unwrap(),
            "{digest} stays"
        );
    }
}

/// A referrer the plan deletes with its image, tagged between the plan and
/// the apply: apply re-checks it as any attachment and skips it.
#[test]
fn a_referrer_tagged_after_the_plan_is_skipped_and_stays() {
    let Fixture { registry, .. } = Fixture::open().start();
    let front = ReferrersFront::start(&registry, 10).expect("start the referrers front");
    let seeder = Seeder::new(&front.url(), None);
    let old = seeder
        .push_image("app", &ImageSpec::new("old", Some(days_ago(20))), &["old"])
        .unwrap();
    seeder
        .push_image("app", &ImageSpec::new("new", Some(days_ago(10))), &["new"])
        .unwrap();
    let signature = referrer(&seeder, &old.descriptor(), SIGNATURE, "old-signature");
    let sbom = referrer(&seeder, &old.descriptor(), SBOM, "old-sbom");

    let cli = cleanreg();
    let url = front.url();
    let plan_file = cli.work().join("plan.json");
    cli.run(&[
        "-r",
        &url,
        "-n",
        "app",
        "-k",
        "1",
        "--dry-run",
        "--plan-out",
        arg(&plan_file),
    ])
    .exits(0);
    seeder
        .push_manifest(
            "app",
            "keep-signature",
            &signature.media_type,
            &signature.manifest,
        )
        .unwrap();
    let applied = cli
        .run(&["--apply-plan", arg(&plan_file), "-r", &url, "-y", "--json"])
        .exits(0);
    let json = applied.json();
    let deleted: BTreeSet<String> = outcomes(&json, "deleted")
        .into_iter()
        .map(|(_, digest)| digest)
        .collect();
    assert_eq!(
        deleted,
        BTreeSet::from([old.digest.clone(), sbom.digest.clone()]),
        "{}",
        applied.shown()
    );
    let skipped = json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|outcome| outcome["digest"] == signature.digest.as_str())
        .expect("an outcome for the signature");
    assert_eq!(skipped["outcome"], "skipped");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("keep-signature"),
        "{skipped}"
    );
    let direct = Seeder::new(&registry.url(), None);
    assert!(direct.manifest_exists("app", &signature.digest).unwrap());
    assert!(!direct.manifest_exists("app", &sbom.digest).unwrap());
}

#[test]
fn without_the_api_untagged_referrers_stay_unseen_as_before() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::open().start();
    let pushed = push(&seeder);
    // Distribution 2.8 has no referrers API.
    let answer = seeder
        .get(
            &format!("/v2/app/referrers/{}", pushed.images[0].digest),
            None,
        )
        .unwrap();
    assert_eq!(answer.status, 404);

    let cli = cleanreg();
    let url = registry.url();
    let applied = cli
        .run(&["-r", &url, "-n", "app", "-k", "1", "-y", "--json", "-v"])
        .exits(0);
    let json = applied.json();
    let all = digests(pushed.referrers.iter().flatten());
    for digest in &all {
        assert!(entry(&json, digest).is_empty(), "{digest} is not seen");
        assert!(
            seeder.manifest_exists("app", digest).unwrap(),
            "{digest} stays"
        );
    }
    assert!(
        applied.stderr.contains("has no OCI referrers API"),
        "{}",
        applied.shown()
    );
    for image in &pushed.images[..2] {
        assert!(!seeder.manifest_exists("app", &image.digest).unwrap());
    }
}
