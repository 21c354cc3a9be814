//! The OCI referrers API in the dashboard, in Chromium: the real registry
//! behind testkit's `ReferrersFront` (distribution-spec 1.1 "Listing
//! Referrers"), served same-origin through `deploy/same-origin.conf`.
//! Signatures and SBOMs pushed by digest with no tag are found only through
//! the API; the inventory shows each with its artifact type, and keep 1
//! deletes the two old images with their referrers. The registry, asked
//! directly by digest, must hold exactly the rest. See `e2e/referrers.mjs`.

use std::collections::BTreeSet;

use cleanreg_core::Digest;
use cleanreg_e2e::{run_script, same_origin_nginx};
use cleanreg_testkit::{
    ArtifactBlob, ArtifactSpec, Fixture, ImageSpec, PushedArtifact, ReferrersFront, Seeder,
};
use time::OffsetDateTime;

const APP: &str = "app";

fn days_ago(days: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc() - time::Duration::days(days))
}

fn short(digest: &str) -> String {
    digest
        .parse::<Digest>()
        .expect("a digest")
        .short()
        .to_owned()
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn the_dashboard_shows_and_deletes_referrers_only_the_api_lists() {
    let Fixture {
        registry,
        seeder: direct,
        ..
    } = Fixture::open().start();
    let front = ReferrersFront::start(&registry, 2).expect("start the referrers front");
    let seeder = Seeder::new(&front.url(), None);
    let mut images = Vec::new();
    let mut referrers: Vec<Vec<PushedArtifact>> = Vec::new();
    for (n, days) in [30, 20, 10].into_iter().enumerate() {
        let image = seeder
            .push_image(
                APP,
                &ImageSpec::new(format!("image-{n}"), days_ago(days)),
                &[&format!("v{n}")],
            )
            .expect("push an image");
        let attached: Vec<PushedArtifact> = [
            "application/vnd.cncf.notary.signature",
            "application/spdx+json",
        ]
        .into_iter()
        .map(|artifact_type| {
            let spec = ArtifactSpec::typed(artifact_type)
                .with_blob(ArtifactBlob::new(
                    artifact_type,
                    format!("{artifact_type}-{n}").into_bytes(),
                ))
                .with_subject(image.descriptor());
            seeder.push_artifact(APP, &spec).expect("push a referrer")
        })
        .collect();
        images.push(image);
        referrers.push(attached);
    }
    let nginx = same_origin_nginx(&front.url());
    let doomed: BTreeSet<String> = images[..2]
        .iter()
        .map(|image| image.digest.clone())
        .chain(referrers[..2].iter().flatten().map(|r| r.digest.clone()))
        .collect();

    let printed = run_script(
        "referrers.mjs",
        &[
            ("CLEANREG_URL", format!("{}/cleanreg/", nginx.url())),
            ("CLEANREG_REPOSITORY", APP.to_owned()),
            ("CLEANREG_KEEP", "1".to_owned()),
            ("CLEANREG_EXPECT_DELETE", doomed.len().to_string()),
        ],
    );

    let inventory = printed.json("INVENTORY");
    for (image, attached) in images.iter().zip(&referrers) {
        let row = inventory["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["digest"] == image.digest.as_str())
            .unwrap_or_else(|| panic!("no image row for {}: {inventory}", image.digest));
        let text = row["attached"].as_str().unwrap();
        for referrer in attached {
            let shown = format!(
                "referrer {} ({})",
                short(&referrer.digest),
                referrer.artifact_type.as_deref().unwrap()
            );
            assert!(text.contains(&shown), "{shown} in {text:?}");
        }
    }
    let untagged: BTreeSet<(String, String)> = inventory["untagged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["digest"].as_str().unwrap().to_owned(),
                row["found"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = referrers
        .iter()
        .flatten()
        .map(|r| (r.digest.clone(), "referrers API".to_owned()))
        .collect();
    assert_eq!(untagged, expected);

    let outcomes = printed.json("OUTCOMES");
    let deleted: BTreeSet<String> = outcomes
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == "deleted")
        .map(|o| o["digest"].as_str().unwrap().to_owned())
        .collect::<BTreeSet<_>>();
    assert_eq!(deleted, doomed, "{outcomes}");
    for digest in &doomed {
        assert!(
            !direct.manifest_exists(APP, digest).unwrap(),
            "{digest} is gone"
        );
    }
    for digest in std::iter::once(&images[2].digest).chain(referrers[2].iter().map(|r| &r.digest)) {
        assert!(
            direct.manifest_exists(APP, digest).unwrap(),
            "{digest} stays"
        );
    }
}
