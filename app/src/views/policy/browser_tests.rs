//! The policy editor in a real browser (wasm-bindgen-test, headless
//! Chromium): mounted on its own, driven through the DOM, checked through
//! the DOM and the shared state.

use cleanreg_core::Policy;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlInputElement;

use super::PolicyEditor;
use crate::route::Route;
use crate::state::AppState;
use crate::test_dom::{all, by_id, click, mount, one, settle, type_into};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn an_invalid_field_keeps_the_last_valid_policy() {
    let state = AppState::new(Route::default());
    let (root, _handle) = mount(state, || view! { <PolicyEditor /> });
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
    let (root, _handle) = mount(state, || view! { <PolicyEditor /> });
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
    let (root, _handle) = mount(state, || view! { <PolicyEditor /> });
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
    let (root, _handle) = mount(state, || view! { <PolicyEditor /> });
    settle().await;
    let keep = by_id(&root, "keep-count");
    let fieldset: web_sys::HtmlFieldSetElement = one(&root, "fieldset").unchecked_into();
    assert!(fieldset.disabled(), "{:?}", keep.outer_html());
    let add: web_sys::HtmlButtonElement = by_id(&root, "add-rule").unchecked_into();
    assert!(add.disabled());
    let import: web_sys::HtmlButtonElement = by_id(&root, "policy-import").unchecked_into();
    assert!(import.disabled());
}

#[wasm_bindgen_test]
async fn untagged_deletes_and_tag_removals_are_rule_fields() {
    let state = AppState::new(Route::default());
    let (root, _handle) = mount(state, || view! { <PolicyEditor /> });
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
