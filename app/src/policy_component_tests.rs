//! Component tests in a real browser (wasm-bindgen-test, headless Chromium):
//! the policy editor and the inventory view mounted on their own, driven
//! through the DOM, checked through the DOM and the shared state.

use std::collections::BTreeMap;
use std::sync::Arc;

use cleanreg_core::{Client, Digest, Image, Inventory, MediaType, Policy, RegistryUrl, Repository};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};

use crate::browser::yield_now;
use crate::connect::Session;
use crate::fetch::FetchTransport;
use crate::route::Route;
use crate::state::AppState;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Mounts `view` in a fresh element with `state` as its context.
fn mount<V: IntoView + 'static>(
    state: AppState,
    view: impl FnOnce() -> V + 'static,
) -> (HtmlElement, impl Drop) {
    let document = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(state);
        view()
    });
    (root, handle)
}

fn all(root: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|node| node.unchecked_into())
        .collect()
}

fn one(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
        .unchecked_into()
}

fn by_id(root: &HtmlElement, id: &str) -> HtmlElement {
    one(root, &format!("[data-testid=\"{id}\"]"))
}

/// Types `text` into an input or textarea, as the user would.
async fn type_into(element: &HtmlElement, text: &str) {
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        input.set_value(text);
    } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(text);
    }
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    element.dispatch_event(&event).unwrap();
    settle().await;
}

async fn click(element: &HtmlElement) {
    element.click();
    settle().await;
}

/// Lets effects run.
async fn settle() {
    for _ in 0..3 {
        yield_now().await;
    }
}

#[wasm_bindgen_test]
async fn an_invalid_field_keeps_the_last_valid_policy() {
    let state = AppState::new(Route::default());
    let (root, _handle) = mount(state, || view! { <crate::policy_editor::PolicyEditor /> });
    settle().await;
    let keep = by_id(&root, "keep-count");
    type_into(&keep, "5").await;
    assert_eq!(state.policy.get_untracked(), Policy::keep_newest(5));

    let days = by_id(&root, "default-keep_younger_than_days");
    type_into(&days, "0").await;
    assert_eq!(days.get_attribute("aria-invalid").as_deref(), Some("true"));
    let described = days.get_attribute("aria-describedby").unwrap();
    let error = described
        .split(' ')
        .nth(1)
        .expect("the error is referenced");
    let message = one(&root, &format!("#{error}"));
    assert!(!message.hidden());
    assert!(
        message
            .text_content()
            .unwrap()
            .contains("the plan still uses the last valid policy"),
        "{:?}",
        message.text_content()
    );
    assert!(
        by_id(&root, "policy-status")
            .text_content()
            .unwrap()
            .contains("1 field needs fixing")
    );
    // A later valid edit elsewhere does not sneak past the invalid field.
    type_into(&keep, "7").await;
    assert_eq!(state.policy.get_untracked(), Policy::keep_newest(5));
    type_into(&days, "30").await;
    let policy = state.policy.get_untracked();
    assert_eq!(policy.default.keep_newest, Some(7));
    assert_eq!(
        policy.default.keep_younger_than_days.map(|d| d.get()),
        Some(30)
    );
    assert_eq!(days.get_attribute("aria-invalid").as_deref(), Some("false"));
}

#[wasm_bindgen_test]
async fn rules_are_added_edited_and_removed() {
    let state = AppState::new(Route::default());
    let (root, _handle) = mount(state, || view! { <crate::policy_editor::PolicyEditor /> });
    settle().await;
    click(&by_id(&root, "add-rule")).await;
    let rules = all(&root, "[data-testid=\"rule\"]");
    assert_eq!(rules.len(), 1);
    // An empty pattern is an error; the plan keeps the starting policy.
    assert_eq!(state.policy.get_untracked(), Policy::keep_newest(3));
    type_into(&by_id(&rules[0], "rule-pattern"), "team/*").await;
    type_into(&by_id(&rules[0], "rule-keep_newest"), "1").await;
    type_into(&by_id(&rules[0], "rule-keep_tags"), "v.*\nlatest").await;
    click(&by_id(&rules[0], "rule-skip_shared_digests")).await;
    assert_eq!(
        rules[0].get_attribute("data-pattern").as_deref(),
        Some("team/*")
    );
    let policy = state.policy.get_untracked();
    let rule = &policy.repositories[&"team/*".parse().unwrap()];
    assert_eq!(rule.keep_newest, Some(1));
    assert_eq!(rule.keep_tags.len(), 2);
    assert!(rule.skip_shared_digests);

    click(&by_id(&rules[0], "remove-rule")).await;
    assert!(all(&root, "[data-testid=\"rule\"]").is_empty());
    assert!(state.policy.get_untracked().repositories.is_empty());
}

#[wasm_bindgen_test]
async fn a_pasted_repository_file_is_imported_or_its_line_named() {
    let state = AppState::new(Route::default());
    let (root, _handle) = mount(state, || view! { <crate::policy_editor::PolicyEditor /> });
    settle().await;
    let paste = by_id(&root, "policy-paste");
    type_into(&paste, "mysql 5\nteam/app five\n").await;
    click(&by_id(&root, "policy-import")).await;
    let error = by_id(&root, "policy-error");
    assert!(!error.hidden());
    assert!(
        error.text_content().unwrap().contains("line 2: "),
        "{:?}",
        error.text_content()
    );
    assert_eq!(state.policy.get_untracked(), Policy::keep_newest(3));

    type_into(
        &paste,
        "consul:\n  keepimages: 2\nteam/app: {keepsince: 2026-01-02}\n",
    )
    .await;
    click(&by_id(&root, "policy-import")).await;
    assert!(by_id(&root, "policy-error").hidden());
    let patterns: Vec<String> = all(&root, "[data-testid=\"rule\"]")
        .iter()
        .filter_map(|rule| rule.get_attribute("data-pattern"))
        .collect();
    assert_eq!(patterns, ["consul", "team/app"]);
    let policy = state.policy.get_untracked();
    assert!(!policy.default.has_limit());
    assert_eq!(
        policy.repositories[&"consul".parse().unwrap()].keep_newest,
        Some(2)
    );
    // The default rule's count is empty now, and the export can be YAML.
    let keep: HtmlInputElement = by_id(&root, "keep-count").unchecked_into();
    assert_eq!(keep.value(), "");
    let yaml = by_id(&root, "policy-export-reposfile-yaml");
    assert!(
        !yaml
            .unchecked_ref::<web_sys::HtmlButtonElement>()
            .disabled()
    );
    let text = by_id(&root, "policy-export-reposfile-text");
    assert!(
        text.unchecked_ref::<web_sys::HtmlButtonElement>()
            .disabled()
    );
    assert!(
        by_id(&root, "policy-export-text-note")
            .text_content()
            .unwrap()
            .contains("keep_newer_than")
    );
}

#[wasm_bindgen_test]
async fn a_locked_policy_cannot_be_edited() {
    let state = AppState::new(Route::default());
    state.busy.set(true);
    let (root, _handle) = mount(state, || view! { <crate::policy_editor::PolicyEditor /> });
    settle().await;
    let keep = by_id(&root, "keep-count");
    let fieldset: web_sys::HtmlFieldSetElement = one(&root, "fieldset").unchecked_into();
    assert!(fieldset.disabled(), "{:?}", keep.outer_html());
    let add: web_sys::HtmlButtonElement = by_id(&root, "add-rule").unchecked_into();
    assert!(add.disabled());
    let import: web_sys::HtmlButtonElement = by_id(&root, "policy-import").unchecked_into();
    assert!(import.disabled());
}

fn session(inventory: Inventory) -> Session {
    let registry = RegistryUrl::parse("http://127.0.0.1:5000").unwrap();
    Session {
        client: Arc::new(Client::new(FetchTransport, registry, None)),
        inventory: Arc::new(inventory),
        scanned_at: time::macros::datetime!(2026-06-01 0:00 UTC),
        scope: cleanreg_core::ScanScope::Catalog,
        permissions: Arc::new(cleanreg_core::DeletePermissions::none_denied()),
    }
}

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
    let (root, _handle) = mount(state, || view! { <crate::inventory_view::InventoryView /> });
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

#[wasm_bindgen_test]
async fn untagged_deletes_and_tag_removals_are_rule_fields() {
    let state = AppState::new(Route::default());
    let (root, _handle) = mount(state, || view! { <crate::policy_editor::PolicyEditor /> });
    settle().await;
    click(&by_id(&root, "default-delete_untagged")).await;
    assert!(state.policy.get_untracked().default.delete_untagged);

    let remove = by_id(&root, "default-remove_tags");
    type_into(&remove, "pr-(").await;
    assert_eq!(
        remove.get_attribute("aria-invalid").as_deref(),
        Some("true")
    );
    let described = remove.get_attribute("aria-describedby").unwrap();
    let error = one(&root, &format!("#{}", described.split(' ').nth(1).unwrap()));
    let message = error.text_content().unwrap();
    assert!(
        message.starts_with("remove_tags: invalid regular expression"),
        "{message}"
    );
    assert_eq!(
        state.policy.get_untracked().default.remove_tags,
        None,
        "the plan keeps the last valid policy"
    );
    type_into(&remove, "pr-.*|sha-.*").await;
    let policy = state.policy.get_untracked();
    let pattern = policy.default.remove_tags.as_ref().unwrap();
    assert!(pattern.matches("sha-abc") && !pattern.matches("latest"));

    // A policy the original's repository file can say, until a rule
    // deletes untagged manifests.
    click(&by_id(&root, "default-delete_untagged")).await;
    type_into(&remove, "").await;
    type_into(&by_id(&root, "keep-count"), "").await;
    click(&by_id(&root, "add-rule")).await;
    let rule = all(&root, "[data-testid=\"rule\"]").remove(0);
    type_into(&by_id(&rule, "rule-pattern"), "app").await;
    type_into(&by_id(&rule, "rule-keep_newest"), "2").await;
    let yaml = || -> web_sys::HtmlButtonElement {
        by_id(&root, "policy-export-reposfile-yaml").unchecked_into()
    };
    assert!(!yaml().disabled());
    click(&by_id(&rule, "rule-delete_untagged")).await;
    assert!(state.policy.get_untracked().repositories[&"app".parse().unwrap()].delete_untagged);
    assert!(yaml().disabled());
    let note = by_id(&root, "policy-export-yaml-note")
        .text_content()
        .unwrap();
    assert!(note.contains("cannot say delete_untagged"), "{note}");
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
    let (root, _handle) = mount(state, || view! { <crate::inventory_view::InventoryView /> });
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
