//! The confirmation in a real browser (wasm-bindgen-test, headless
//! Chromium): the panel mounted over a plan, driven through the DOM.

use cleanreg_core::{
    Decision, DeleteReason, Digest, ImageKind, KeepReason, MediaType, Plan, PlanEntry, Policy,
    Reclaimable, Role,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use crate::platform::timer::yield_now;
use crate::route::Route;
use crate::state::{AppState, Planned};

use super::ApplyPanel;

wasm_bindgen_test_configure!(run_in_browser);

fn entry(n: u8, delete: bool) -> PlanEntry {
    PlanEntry {
        repository: "team/app".parse().unwrap(),
        digest: Digest::sha256_of(&[n]),
        tags: vec![format!("v{n}").parse().unwrap()],
        media_type: MediaType::OciManifest,
        kind: ImageKind::Image,
        role: Role::Image,
        created: None,
        created_from: None,
        size: 1000,
        platforms: Vec::new(),
        rule: None,
        decision: if delete {
            Decision::Delete {
                reason: DeleteReason::UnknownAge,
            }
        } else {
            Decision::Keep {
                reason: KeepReason::NoLimit,
            }
        },
        blocked: None,
    }
}

fn find(id: &str) -> Option<web_sys::HtmlElement> {
    web_sys::window()?
        .document()?
        .query_selector(&format!("[data-testid=\"{id}\"]"))
        .ok()
        .flatten()
        .map(|e| e.unchecked_into())
}

fn get(id: &str) -> web_sys::HtmlElement {
    find(id).unwrap_or_else(|| panic!("no element with data-testid {id}"))
}

fn disabled(id: &str) -> bool {
    get(id).has_attribute("disabled")
}

fn type_into(id: &str, text: &str) {
    let input: web_sys::HtmlInputElement = get(id).unchecked_into();
    input.set_value(text);
    let event = web_sys::Event::new("input").unwrap();
    input.dispatch_event(&event).unwrap();
}

async fn settle() {
    for _ in 0..3 {
        yield_now().await;
    }
}

#[wasm_bindgen_test]
async fn deleting_waits_for_the_typed_count_and_a_recovery_choice() {
    let state = AppState::new(Route::default());
    state.plan.set(Some(Planned::new(
        Plan {
            now: time::OffsetDateTime::UNIX_EPOCH,
            policy: Policy::keep_newest(1),
            entries: vec![entry(1, false), entry(2, true), entry(3, true)],
            reclaimable: Reclaimable::default(),
        },
        Vec::new(),
    )));
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let mounted = leptos::mount::mount_to(host, move || {
        provide_context(state);
        view! { <ApplyPanel /> }
    });
    settle().await;

    assert!(!disabled("apply"));
    assert!(find("confirm-panel").is_none());
    get("apply").click();
    settle().await;
    let panel = get("confirm-panel").text_content().unwrap();
    assert!(panel.contains("Delete 2 manifests"), "{panel}");
    assert!(
        state.plan_held.get_untracked(),
        "the plan is held from here"
    );
    assert!(disabled("confirm-apply"));

    type_into("confirm-count", "3");
    settle().await;
    assert!(disabled("confirm-apply"), "a wrong count");
    type_into("confirm-count", "2");
    settle().await;
    assert!(disabled("confirm-apply"), "no recovery file yet, no skip");

    // Not connected: the recovery file cannot be read, and says so.
    get("recovery-download").click();
    settle().await;
    assert_eq!(
        get("recovery-status")
            .get_attribute("data-state")
            .as_deref(),
        Some("failed")
    );
    assert!(disabled("confirm-apply"));

    get("recovery-skip").click();
    settle().await;
    assert!(!disabled("confirm-apply"), "count typed and skip ticked");
    type_into("confirm-count", "");
    settle().await;
    assert!(disabled("confirm-apply"));

    get("cancel-apply").click();
    settle().await;
    assert!(find("confirm-panel").is_none());
    assert!(!state.plan_held.get_untracked());
    assert!(
        find("apply-status")
            .unwrap()
            .text_content()
            .unwrap()
            .is_empty()
    );
    drop(mounted);
}

/// A tag entry of `image`'s kept entry: same digest, one tag.
fn untag(image: &PlanEntry, tag: &str) -> PlanEntry {
    PlanEntry {
        tags: vec![tag.parse().unwrap()],
        role: Role::Tag {
            remaining: image.tags.clone(),
        },
        decision: Decision::Untag {
            reason: cleanreg_core::UntagReason::RemoveTags {
                pattern: "pr-.*".into(),
            },
        },
        ..image.clone()
    }
}

#[wasm_bindgen_test]
async fn the_typed_number_counts_deletes_and_tag_removals() {
    let state = AppState::new(Route::default());
    let kept = entry(1, false);
    state.plan.set(Some(Planned::new(
        Plan {
            now: time::OffsetDateTime::UNIX_EPOCH,
            policy: Policy::keep_newest(1),
            entries: vec![
                kept.clone(),
                untag(&kept, "pr-1"),
                untag(&kept, "pr-2"),
                entry(2, true),
            ],
            reclaimable: Reclaimable::default(),
        },
        Vec::new(),
    )));
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let mounted = leptos::mount::mount_to(host, move || {
        provide_context(state);
        view! { <ApplyPanel /> }
    });
    settle().await;

    let label = get("apply").text_content().unwrap();
    assert!(label.contains("and remove 2 tags"), "{label}");
    get("apply").click();
    settle().await;
    let panel = get("confirm-panel").text_content().unwrap();
    assert!(panel.contains("Delete 1 manifest"), "{panel}");
    assert!(panel.contains("Remove 2 tags from kept images"), "{panel}");
    assert!(panel.contains("permission to push"), "{panel}");
    assert!(
        panel.contains("Type 3 (1 manifest to delete + 2 tags to remove)"),
        "{panel}"
    );
    get("recovery-skip").click();
    type_into("confirm-count", "1");
    settle().await;
    assert!(
        disabled("confirm-apply"),
        "the deletes alone are not the count"
    );
    type_into("confirm-count", "3");
    settle().await;
    assert!(!disabled("confirm-apply"));
    assert_eq!(
        get("confirm-apply").text_content().as_deref(),
        Some("Delete 1 manifest and remove 2 tags")
    );
    get("cancel-apply").click();
    settle().await;
    drop(mounted);
}
