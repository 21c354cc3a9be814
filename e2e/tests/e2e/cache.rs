//! The dashboard's scan cache (IndexedDB) in Chromium, same-origin with a
//! basic-auth registry behind `deploy/same-origin.conf`: after a reload, a
//! scan of the unchanged registry sends one manifest `HEAD` per tag and no
//! manifest or blob `GET`, and plans the same; once the cache is forgotten
//! the `GET`s are back. See `e2e/cache.mjs`.

use cleanreg_e2e::{assert_plan, deletes, digests, run_script, same_origin};
use cleanreg_testkit::{Fixture, RegistryOptions};
use serde_json::Value;

const KEEP: usize = 2;
const USER: &str = "admin";
const PASSWORD: &str = "e2e-cache-password";

/// `requests["METHOD kind"]` of one scan, 0 when absent.
fn sent(scan: &Value, what: &str) -> u64 {
    scan["requests"][what].as_u64().unwrap_or(0)
}

/// The sorted `repository:tag` keys of a per-tag count, each checked to be 1.
fn once_each(counts: &Value, what: &str) -> Vec<String> {
    let counts = counts
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {counts}"));
    for (tag, n) in counts {
        assert_eq!(n.as_u64(), Some(1), "{what}: {tag} asked for {n} times");
    }
    let mut tags: Vec<String> = counts.keys().cloned().collect();
    tags.sort();
    tags
}

/// The scan status without the parenthesised cache note.
fn scan_done(scan: &Value) -> &str {
    let status = scan["status"].as_str().expect("a status");
    status.split(" (").next().unwrap_or(status)
}

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_reload_scans_from_the_cache_until_it_is_forgotten() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(same_origin())
    .start();
    let repos = &fixture.repos;
    let printed = run_script(
        "cache.mjs",
        &[
            ("CLEANREG_URL", fixture.page_url()),
            ("CLEANREG_USER", USER.to_owned()),
            ("CLEANREG_PASSWORD", PASSWORD.to_owned()),
            ("CLEANREG_KEEP", KEEP.to_string()),
            ("CLEANREG_EXPECT_DELETE", deletes(repos, KEEP).to_string()),
        ],
    );
    assert_plan(&printed, repos, KEEP);
    let cache = printed.json("CACHE");
    let scans = cache["scans"].as_array().expect("three scans");
    assert_eq!(scans.len(), 3, "{cache}");
    let (first, second, third) = (&scans[0], &scans[1], &scans[2]);

    let mut tags: Vec<String> = repos
        .iter()
        .flat_map(|repo| {
            repo.images.iter().flat_map(move |image| {
                image
                    .tags
                    .iter()
                    .map(move |tag| format!("{}:{tag}", repo.name))
            })
        })
        .collect();
    tags.sort();
    let images: usize = repos.iter().map(|repo| repo.images.len()).sum();
    let tag_count = tags.len() as u64;

    // A fresh browser: one GET per tag and per config, no HEAD.
    assert_eq!(once_each(&first["getTags"], "first GETs"), tags);
    assert_eq!(sent(first, "GET manifest"), tag_count, "{first}");
    assert_eq!(sent(first, "HEAD manifest"), 0, "{first}");
    assert_eq!(sent(first, "GET blob"), images as u64, "{first}");
    assert!(
        first["status"].as_str().unwrap().contains(&format!(
            "0 of {tag_count} manifests and 0 of {images} configs from the cache"
        )),
        "{first}"
    );

    // After a reload: a HEAD per tag, everything else from the cache.
    assert_eq!(once_each(&second["headTags"], "second HEADs"), tags);
    assert_eq!(sent(second, "HEAD manifest"), tag_count, "{second}");
    assert_eq!(sent(second, "GET manifest"), 0, "{second}");
    assert_eq!(sent(second, "GET blob"), 0, "{second}");
    assert_eq!(sent(second, "HEAD blob"), 0, "{second}");
    assert_eq!(
        sent(second, "GET catalog"),
        sent(first, "GET catalog"),
        "{second}"
    );
    assert_eq!(
        sent(second, "GET tags"),
        sent(first, "GET tags"),
        "{second}"
    );
    assert_eq!(sent(second, "GET tags"), repos.len() as u64, "{second}");
    assert!(
        second["status"].as_str().unwrap().contains(&format!(
            "{tag_count} of {tag_count} manifests and {images} of {images} configs from the cache"
        )),
        "{second}"
    );
    // The same inventory and the same plan.
    assert_eq!(scan_done(second), scan_done(first));
    assert_eq!(second["totals"], first["totals"]);
    for decision in ["keep", "delete"] {
        assert_eq!(
            digests(&second["plan"][decision]),
            digests(&first["plan"][decision]),
            "{decision}"
        );
    }

    // Forgotten: the next scan reads everything again.
    assert!(
        cache["forgotten"].as_str().unwrap().contains("deleted"),
        "{cache}"
    );
    assert_eq!(once_each(&third["getTags"], "third GETs"), tags);
    assert_eq!(sent(third, "HEAD manifest"), 0, "{third}");
    assert_eq!(sent(third, "GET blob"), images as u64, "{third}");
    assert_eq!(scan_done(third), scan_done(first));
    assert_eq!(third["totals"], first["totals"]);
}
