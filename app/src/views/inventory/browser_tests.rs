//! The inventory view in a real browser (wasm-bindgen-test, headless
//! Chromium): mounted on its own over a scanned inventory, paged, filtered,
//! sorted and opened through the DOM.

use std::collections::BTreeMap;

use cleanreg_core::{Digest, Image, Inventory, MediaType, Repository};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use super::InventoryView;
use crate::route::Route;
use crate::state::AppState;
use crate::test_dom::{all, by_id, click, mount, one, session, settle, type_into};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// `count` repositories `repo-000`…, repository i with i % 7 + 1 tags.
fn inventory(count: usize) -> Inventory {
    let mut repositories = BTreeMap::new();
    for i in 0..count {
        let mut repo = Repository::default();
        for t in 0..(i % 7 + 1) {
            let digest = Digest::sha256_of(format!("{i}-{t}").as_bytes());
            let created =
                time::macros::datetime!(2026-05-01 0:00 UTC) + time::Duration::days(t as i64);
            repo.images.insert(
                digest.clone(),
                Image::simple(MediaType::OciManifest, Some(created), 1_000),
            );
            repo.tags.insert(format!("v{t}").parse().unwrap(), digest);
        }
        repositories.insert(format!("repo-{i:03}").parse().unwrap(), repo);
    }
    Inventory {
        repositories,
        ..Inventory::default()
    }
}

#[wasm_bindgen_test]
async fn the_inventory_pages_filters_sorts_and_opens_a_repository() {
    let state = AppState::new(Route::default());
    state.session.set(Some(session(inventory(120))));
    let (root, _handle) = mount(state, || view! { <InventoryView /> });
    settle().await;
    let rows = all(&root, "[data-testid=\"repo-row\"]");
    assert_eq!(rows.len(), 50, "one page");
    assert_eq!(
        rows[0].get_attribute("data-repository").as_deref(),
        Some("repo-000")
    );
    assert_eq!(rows[0].get_attribute("data-tags").as_deref(), Some("1"));
    assert_eq!(rows[0].get_attribute("data-images").as_deref(), Some("1"));
    let next = by_id(&root, "repo-page-next");
    assert_eq!(next.text_content().as_deref(), Some("Next page"));
    assert!(
        by_id(&root, "repo-page")
            .text_content()
            .unwrap()
            .contains("Showing 1–50 of 120 (page 1 of 3)")
    );
    click(&next).await;
    let second = all(&root, "[data-testid=\"repo-row\"]");
    assert_eq!(
        second[0].get_attribute("data-repository").as_deref(),
        Some("repo-050")
    );

    type_into(&by_id(&root, "repo-filter"), "REPO-11").await;
    let filtered: Vec<String> = all(&root, "[data-testid=\"repo-row\"]")
        .iter()
        .filter_map(|r| r.get_attribute("data-repository"))
        .collect();
    assert_eq!(filtered.len(), 10, "{filtered:?}");

    let sort: web_sys::HtmlSelectElement = by_id(&root, "repo-sort").unchecked_into();
    sort.set_value("tags-desc");
    sort.dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    settle().await;
    let first = &all(&root, "[data-testid=\"repo-row\"]")[0];
    // repo-111 has 111 % 7 + 1 = 7 tags, the most among repo-110…119.
    assert_eq!(
        first.get_attribute("data-repository").as_deref(),
        Some("repo-111")
    );
    assert_eq!(first.get_attribute("data-tags").as_deref(), Some("7"));

    click(&one(first, "button")).await;
    assert_eq!(
        state.route.get_untracked().repository.as_deref(),
        Some("repo-111")
    );
    let images = all(&root, "[data-testid=\"image-row\"]");
    assert_eq!(images.len(), 7);
    assert_eq!(
        images[0].get_attribute("data-repository").as_deref(),
        Some("repo-111")
    );
    let digest = images[0].get_attribute("data-digest").unwrap();
    assert_eq!(
        digest,
        Digest::sha256_of(b"111-6").to_string(),
        "the newest image first"
    );
    assert!(
        images[0]
            .text_content()
            .unwrap()
            .contains("from the config"),
        "the date names its source"
    );
    let copy = by_id(&images[0], "copy-digest");
    assert_eq!(
        copy.get_attribute("title").as_deref(),
        Some(digest.as_str())
    );
}

/// `app` with `main` on one image and two manifests `main` left behind.
fn with_untagged() -> Inventory {
    use cleanreg_core::{Found, Untagged};
    let mut repo = Repository::default();
    for (n, day) in [(0_u8, 1), (1, 2), (2, 3)] {
        let digest = Digest::sha256_of(&[n]);
        let created = time::macros::datetime!(2026-05-01 0:00 UTC) + time::Duration::days(day);
        repo.images.insert(
            digest.clone(),
            Image::simple(MediaType::OciManifest, Some(created), 1_000),
        );
        if n == 2 {
            repo.tags.insert("main".parse().unwrap(), digest);
        } else {
            repo.untagged.insert(
                digest,
                Untagged {
                    found: vec![Found::History],
                    last_tags: vec!["main".parse().unwrap()],
                    ..Untagged::default()
                },
            );
        }
    }
    Inventory {
        repositories: BTreeMap::from([("app".parse().unwrap(), repo)]),
        ..Inventory::default()
    }
}

#[wasm_bindgen_test]
async fn untagged_manifests_are_counted_and_listed_apart_from_images() {
    let state = AppState::new(Route::default());
    state.session.set(Some(session(with_untagged())));
    let (root, _handle) = mount(state, || view! { <InventoryView /> });
    settle().await;
    assert!(
        by_id(&root, "inventory-summary")
            .text_content()
            .unwrap()
            .ends_with("1 image, 1 tag, 2 untagged manifests")
    );
    let row = by_id(&root, "repo-row");
    assert_eq!(row.get_attribute("data-images").as_deref(), Some("1"));
    assert_eq!(row.get_attribute("data-untagged").as_deref(), Some("2"));
    click(&by_id(&row, "repo-open")).await;
    assert_eq!(all(&root, "[data-testid=\"image-row\"]").len(), 1);
    let untagged = all(&root, "[data-testid=\"untagged-row\"]");
    let digests: Vec<String> = untagged
        .iter()
        .filter_map(|r| r.get_attribute("data-digest"))
        .collect();
    assert_eq!(
        digests,
        [
            Digest::sha256_of(&[1]).to_string(),
            Digest::sha256_of(&[0]).to_string()
        ],
        "newest first"
    );
    for row in &untagged {
        assert_eq!(row.get_attribute("data-found").as_deref(), Some("history"));
        assert_eq!(row.get_attribute("data-last-tags").as_deref(), Some("main"));
        assert!(row.text_content().unwrap().contains("main"));
    }
}
