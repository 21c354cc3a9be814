//! Untagged manifests and tag removal in the dashboard's release build, in
//! Chromium, same-origin with a basic-auth registry behind
//! `deploy/same-origin.conf`. `app:main` is pushed again while the page is
//! open; its scan history (IndexedDB, across a reload) finds the manifests
//! `main` left; the policy deletes them and removes `pr-*`/`sha-*` tags
//! from the kept release image (by replacement: Distribution 2.8 has no tag
//! delete). The registry, asked directly, must then hold exactly the rest,
//! every other tag where it was; the recovery file puts it all back. See
//! `e2e/untagged.mjs`.

use std::collections::BTreeMap;

use cleanreg_core::HistoryRecord;
use cleanreg_e2e::{run_script_steps, same_origin};
use cleanreg_testkit::{Fixture, ImageSpec, PushedImage, RegistryOptions, Seeder};
use serde_json::{Value, json};
use time::OffsetDateTime;

const USER: &str = "admin";
const PASSWORD: &str = "e2e-untagged-password";
const APP: &str = "app";
const REMOVE_TAGS: &str = "pr-.*|sha-.*";

fn days_ago(days: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc() - time::Duration::days(days))
}

/// Every tag of `repository` and the digest it points at.
fn tags_of(seeder: &Seeder, repository: &str) -> BTreeMap<String, String> {
    seeder
        .tags(repository)
        .expect("list tags")
        .into_iter()
        .map(|tag| {
            let digest = seeder
                .tag_digest(repository, &tag)
                .expect("resolve a tag")
                .unwrap_or_else(|| panic!("{repository}:{tag} is listed but does not resolve"));
            (tag, digest)
        })
        .collect()
}

fn present(seeder: &Seeder, digest: &str) -> bool {
    seeder
        .manifest_exists(APP, digest)
        .expect("HEAD a manifest")
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn history_finds_what_main_left_and_remove_tags_takes_only_its_tags() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .page(same_origin())
    .start();
    let seeder = &fixture.seeder;
    let push = |repository: &str, seed: &str, days: i64, tags: &[&str]| -> PushedImage {
        seeder
            .push_image(repository, &ImageSpec::new(seed, days_ago(days)), tags)
            .expect("push an image")
    };
    let release = push(APP, "release", 5, &["v1.0.0", "latest", "pr-1", "sha-abc"]);
    let review = push(APP, "review", 4, &["pr-2"]);
    let first_main = push(APP, "main-1", 3, &["main"]);
    let web = push("web", "web", 2, &["stable"]);
    let known: Vec<String> = [&release, &review, &first_main, &web]
        .iter()
        .map(|image| image.digest.clone())
        .collect();

    let mut pushed_main = Vec::new();
    let mut before_apply = BTreeMap::new();
    let printed = run_script_steps(
        "untagged.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", USER.to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_REPOSITORY", APP.to_owned()),
            ("CLEANREG_RELEASE", release.digest.clone()),
            ("CLEANREG_KNOWN", known.join(",")),
            ("CLEANREG_REMOVE_TAGS", REMOVE_TAGS.to_owned()),
        ],
        |step, value| match step {
            "scanned" | "rescanned" => {
                let build = pushed_main.len() + 2;
                let image = push(APP, &format!("main-{build}"), 4 - build as i64, &["main"]);
                pushed_main.push(image.digest.clone());
                // Every main before the one just pushed, as far as the
                // page's scans saw them: the last one it saw is untagged
                // now, and so is each earlier one.
                let seen = pushed_main.len();
                let untagged: Vec<&String> = std::iter::once(&first_main.digest)
                    .chain(&pushed_main[..seen - 1])
                    .collect();
                before_apply = tags_of(seeder, APP);
                json!({ "untagged": untagged, "pushed": image.digest })
            }
            "applied" => {
                check_applied(
                    seeder,
                    &before_apply,
                    value,
                    &release,
                    &pushed_main,
                    &first_main,
                );
                json!({})
            }
            other => panic!("unexpected step {other}: {value}"),
        },
    );

    // The recovery file put everything back: the untagged manifests (by
    // digest, untagged as they were) and the two tags on the release image.
    let restored = printed.json("RESTORED");
    let restored = restored.as_array().expect("restore rows");
    assert_eq!(restored.len(), 3, "{restored:?}");
    for row in restored {
        let expected = if row["tagsOnly"] == "true" {
            "already present"
        } else {
            "restored"
        };
        assert_eq!(row["result"], expected, "{row}");
    }
    assert!(present(seeder, &first_main.digest));
    assert!(present(seeder, &pushed_main[0]));
    assert_eq!(tags_of(seeder, APP), before_apply, "every tag as before");
    assert_eq!(
        tags_of(seeder, "web"),
        BTreeMap::from([("stable".to_owned(), web.digest.clone())])
    );

    // One history record per repository, for this registry, naming what
    // the scans saw: the manifests main left with the tag they had.
    let history = printed.json("HISTORY");
    let records: Vec<HistoryRecord> = history
        .as_array()
        .expect("history records")
        .iter()
        .map(|r| serde_json::from_str(r["text"].as_str().unwrap()).expect("a history record"))
        .collect();
    let mut names: Vec<String> = records.iter().map(|r| r.repository.to_string()).collect();
    names.sort();
    assert_eq!(names, [APP, "web"]);
    let app = records
        .iter()
        .find(|r| r.repository.as_str() == APP)
        .unwrap();
    assert!(
        app.registry.starts_with(&fixture.origin()),
        "{}",
        app.registry
    );
    for digest in [&first_main.digest, &pushed_main[0]] {
        let seen = &app.manifests[&digest.parse().unwrap()];
        assert_eq!(seen.tags, ["main".parse().unwrap()], "{digest}");
    }

    let scans = printed.json("SCANS");
    for scan in ["again", "reloaded"] {
        assert!(
            scans[scan].as_str().unwrap().contains("untagged manifest"),
            "{scans}"
        );
    }
}

/// After apply: exactly the untagged manifests are gone, exactly the
/// removed tags are gone, and every other tag resolves as before.
fn check_applied(
    seeder: &Seeder,
    before: &BTreeMap<String, String>,
    value: &Value,
    release: &PushedImage,
    pushed_main: &[String],
    first_main: &PushedImage,
) {
    let untagged = [&first_main.digest, &pushed_main[0]];
    for digest in untagged {
        assert!(!present(seeder, digest), "untagged {digest} is still there");
    }
    let mut expected = before.clone();
    for tag in ["pr-1", "sha-abc"] {
        assert_eq!(
            expected.remove(tag).as_deref(),
            Some(release.digest.as_str())
        );
    }
    let now = tags_of(seeder, APP);
    assert_eq!(now, expected, "only pr-1 and sha-abc went");
    assert_eq!(now["main"], pushed_main[1]);
    assert_eq!(
        now["pr-2"], before["pr-2"],
        "the last tag of its image stays"
    );
    for digest in now.values() {
        assert!(present(seeder, digest));
    }

    let outcomes = value["outcomes"].as_array().expect("outcome rows");
    let mut seen: Vec<(String, String, String)> = outcomes
        .iter()
        .map(|row| {
            (
                row["outcome"].as_str().unwrap().to_owned(),
                row["digest"].as_str().unwrap().to_owned(),
                row["tags"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut wanted = vec![
        (
            "deleted".to_owned(),
            first_main.digest.clone(),
            String::new(),
        ),
        ("deleted".to_owned(), pushed_main[0].clone(), String::new()),
        (
            "tag removed".to_owned(),
            release.digest.clone(),
            "pr-1".to_owned(),
        ),
        (
            "tag removed".to_owned(),
            release.digest.clone(),
            "sha-abc".to_owned(),
        ),
    ];
    wanted.sort();
    assert_eq!(seen, wanted);
    for row in outcomes.iter().filter(|r| r["outcome"] == "tag removed") {
        assert!(
            row["detail"].as_str().unwrap().contains("replacement"),
            "{row}"
        );
    }

    // The recovery file: the two manifests as deleted, the release image
    // with its two removed tags only.
    let recovery = &value["recovery"];
    let entries = recovery["entries"].as_array().expect("recovery entries");
    assert_eq!(entries.len(), 3, "{recovery}");
    let only: Vec<&Value> = entries.iter().filter(|e| e["tags_only"] == true).collect();
    assert_eq!(only.len(), 1, "{recovery}");
    assert_eq!(only[0]["digest"], release.digest.as_str());
    let mut tags: Vec<&str> = only[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["pr-1", "sha-abc"]);
    let mut deleted: Vec<&str> = entries
        .iter()
        .filter(|e| e["tags_only"] != true)
        .map(|e| e["digest"].as_str().unwrap())
        .collect();
    deleted.sort();
    let mut gone = untagged.map(String::as_str).to_vec();
    gone.sort();
    assert_eq!(deleted, gone);
}
