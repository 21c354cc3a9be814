//! The `cleanreg` binary against Distribution 3's behaviour, given by
//! testkit's front over the real registry (`v3_front.rs`): tag lists in
//! pages that end with an empty one, schema1 manifests refused on read and
//! on push. (Its tag delete is exercised by `remove_tags.rs`.)

use std::collections::BTreeMap;

use crate::common::cleanreg;
use cleanreg_testkit::{
    Distribution3, Fixture, ImageSpec, Seeder, TagDeleteFront, store_schema1_manifest,
};
use serde_json::Value;
use time::OffsetDateTime;

/// Pushes one image per entry of `tags`, oldest first, a day apart.
fn seed(seeder: &Seeder, name: &str, tags: &[&[&str]]) -> Vec<String> {
    let now = OffsetDateTime::now_utc();
    let count = tags.len() as i64;
    tags.iter()
        .enumerate()
        .map(|(index, tags)| {
            let created = now - time::Duration::days(count - index as i64);
            let spec =
                ImageSpec::new(format!("{name}#{index}"), Some(created)).with_layers(vec![256]);
            seeder.push_image(name, &spec, tags).expect("push").digest
        })
        .collect()
}

/// 2.8 lists tags in directory order.
fn sorted(mut tags: Vec<String>) -> Vec<String> {
    tags.sort_unstable();
    tags
}

/// Every tag of every plan entry (`--json`), with how often it appears.
fn planned_tags(plan: &Value, repository: &str) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for entry in plan["plan"]["entries"].as_array().unwrap() {
        if entry["repository"] != repository {
            continue;
        }
        for tag in entry["tags"].as_array().unwrap() {
            *seen.entry(tag.as_str().unwrap().to_owned()).or_insert(0) += 1;
        }
    }
    seen
}

#[test]
fn paged_tag_lists_ending_in_an_empty_page_are_read_whole_and_cleaned() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::open().start();
    // Six tags: pages of two end with an empty page; three: with a short one.
    let even = seed(
        &seeder,
        "v3/even",
        &[&["v1"], &["v2"], &["v3"], &["v4"], &["v5", "latest"]],
    );
    let odd = seed(&seeder, "v3/odd", &[&["a1"], &["a2"], &["a3"]]);
    let front = TagDeleteFront::start_distribution3(&registry, Distribution3 { max_tags: 2 })
        .expect("start the front");
    let url = front.url();
    let cli = cleanreg();

    let dry = cli
        .run(&[
            "-r",
            &url,
            "-n",
            "v3/even",
            "-n",
            "v3/odd",
            "-k",
            "2",
            "--dry-run",
            "--json",
        ])
        .exits(0);
    let plan = dry.json();
    let expected = |tags: &[&str]| -> BTreeMap<String, usize> {
        tags.iter().map(|tag| ((*tag).to_owned(), 1)).collect()
    };
    assert_eq!(
        planned_tags(&plan, "v3/even"),
        expected(&["latest", "v1", "v2", "v3", "v4", "v5"]),
        "every tag seen exactly once"
    );
    assert_eq!(planned_tags(&plan, "v3/odd"), expected(&["a1", "a2", "a3"]));

    // What the front served: cleanreg asked for 1000, got pages of two
    // with Links, and stopped at the empty (null) page or the short one.
    let pages = front.tag_pages();
    let of = |repository: &str| -> Vec<(Option<String>, Option<Vec<String>>, bool)> {
        pages
            .iter()
            .filter(|page| page.repository == repository)
            .map(|page| (page.query.clone(), page.tags.clone(), page.link.is_some()))
            .collect()
    };
    let strings = |tags: &[&str]| Some(tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>());
    assert_eq!(
        of("v3/even"),
        [
            (Some("n=1000".to_owned()), strings(&["latest", "v1"]), true),
            (Some("last=v1&n=2".to_owned()), strings(&["v2", "v3"]), true),
            (Some("last=v3&n=2".to_owned()), strings(&["v4", "v5"]), true),
            (Some("last=v5&n=2".to_owned()), None, false),
        ]
    );
    assert_eq!(
        of("v3/odd"),
        [
            (Some("n=1000".to_owned()), strings(&["a1", "a2"]), true),
            (Some("last=a2&n=2".to_owned()), strings(&["a3"]), false),
        ]
    );

    // Apply through the same pages: the three oldest of v3/even and the
    // oldest of v3/odd go, nothing else.
    let applied = cli
        .run(&[
            "-r", &url, "-n", "v3/even", "-n", "v3/odd", "-k", "2", "-y", "--json",
        ])
        .exits(0);
    let report = applied.json();
    let deleted: Vec<&str> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == "deleted")
        .map(|o| o["digest"].as_str().unwrap())
        .collect();
    let mut expected_deleted: Vec<&str> = even[..3]
        .iter()
        .chain(&odd[..1])
        .map(String::as_str)
        .collect();
    let mut deleted_sorted = deleted.clone();
    deleted_sorted.sort_unstable();
    expected_deleted.sort_unstable();
    assert_eq!(deleted_sorted, expected_deleted, "{}", applied.shown());
    assert_eq!(
        sorted(seeder.tags("v3/even").unwrap()),
        ["latest", "v4", "v5"]
    );
    assert_eq!(sorted(seeder.tags("v3/odd").unwrap()), ["a2", "a3"]);
}

#[test]
fn a_schema1_manifest_stops_the_scan_with_the_reason_and_its_push_is_refused() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::open().start();
    seed(&seeder, "v3/legacy", &[&["new"]]);
    let schema1 = store_schema1_manifest(&registry, "v3/legacy", "old").expect("store schema1");
    let front = TagDeleteFront::start_distribution3(&registry, Distribution3::default())
        .expect("start the front");
    let url = front.url();
    let cli = cleanreg();

    let refused = cli
        .run(&["-r", &url, "-n", "v3/legacy", "-k", "1", "-y"])
        .exits(1);
    let text = refused.text();
    assert!(text.contains("scan failed, nothing was deleted"), "{text}");
    assert!(
        text.contains("HTTP 500 UNKNOWN (unknown error: unrecognized manifest schema version 1)"),
        "{text}"
    );
    assert!(
        text.contains("schema1") && text.contains("tag delete"),
        "{text}"
    );
    assert!(text.contains("/v2/v3/legacy/manifests/old"), "{text}");
    let direct = Seeder::new(&registry.url(), None);
    assert_eq!(sorted(direct.tags("v3/legacy").unwrap()), ["new", "old"]);

    // Removing the tag with Distribution 3's tag delete makes the
    // repository plannable again; the manifest itself stays stored.
    let removed = ureq::delete(&format!("{url}/v2/v3/legacy/manifests/old"))
        .call()
        .expect("tag delete");
    assert_eq!(removed.status(), 202);
    cli.run(&["-r", &url, "-n", "v3/legacy", "-k", "1", "--dry-run"])
        .exits(0);

    // A schema1 push is refused as Distribution 3 refuses it.
    let manifest =
        br#"{"schemaVersion":1,"name":"v3/legacy","tag":"again","fsLayers":[],"history":[]}"#;
    let error = Seeder::new(&url, None)
        .push_manifest(
            "v3/legacy",
            "again",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            manifest,
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("unexpected status 400"), "{error}");
    assert!(
        error.contains(r#""code":"MANIFEST_INVALID""#)
            && error.contains(
                "unsupported manifest media type and no default available: \
                 application/vnd.docker.distribution.manifest.v1+prettyjws"
            ),
        "{error}"
    );
    assert_eq!(direct.tags("v3/legacy").unwrap(), ["new"]);

    // A recovery file from 2.x days that holds the schema1 manifest: the
    // restore reports it cannot come back, and why.
    let bytes = manifest.as_slice();
    let recovery = serde_json::json!({
        "format": 1,
        "registry": url,
        "created": "2026-05-04T10:20:30Z",
        "entries": [{
            "repository": "v3/legacy",
            "digest": cleanreg_testkit::sha256_digest(bytes),
            "media_type": "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "tags": ["again"],
            "manifest": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
        }]
    });
    let path = cli.work().join("legacy-recovery.json");
    std::fs::write(&path, recovery.to_string()).unwrap();
    let restored = cli
        .run(&["restore", crate::common::arg(&path), "--json"])
        .exits(3);
    let report = restored.json();
    let reason = report["outcomes"][0]["result"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        restored
            .text()
            .contains("no longer accepts manifests of the old schema1 format"),
        "{reason}\n{}",
        restored.shown()
    );
    assert_eq!(direct.tags("v3/legacy").unwrap(), ["new"]);
    assert!(!schema1.is_empty());
}
