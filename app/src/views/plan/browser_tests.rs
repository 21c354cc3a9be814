//! The plan view in a real browser (wasm-bindgen-test, headless Chromium):
//! rows for untagged manifests and for the tags of a kept image, which
//! share the image's digest.

use cleanreg_core::{
    Decision, DeleteReason, Digest, Found, ImageKind, KeepReason, MediaType, Plan, PlanEntry,
    Policy, Reclaimable, Role, UntagReason, Untagged,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use super::PlanView;
use crate::route::Route;
use crate::state::{AppState, Planned};

wasm_bindgen_test_configure!(run_in_browser);

fn entry(digest: &Digest, tags: &[&str], role: Role, decision: Decision) -> PlanEntry {
    PlanEntry {
        repository: "app".parse().unwrap(),
        digest: digest.clone(),
        tags: tags.iter().map(|t| t.parse().unwrap()).collect(),
        media_type: MediaType::OciManifest,
        kind: ImageKind::Image,
        role,
        created: None,
        created_from: None,
        size: 1_000,
        platforms: Vec::new(),
        rule: None,
        decision,
        blocked: None,
    }
}

fn rows(root: &web_sys::Element, selector: &str) -> Vec<web_sys::Element> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|node| node.unchecked_into())
        .collect()
}

async fn settle() {
    for _ in 0..3 {
        crate::platform::timer::yield_now().await;
    }
}

#[wasm_bindgen_test]
async fn tag_and_untagged_rows_are_told_apart_and_filtered() {
    let (image, old) = (Digest::sha256_of(b"image"), Digest::sha256_of(b"old"));
    let kept = KeepReason::NoLimit;
    let untag = Decision::Untag {
        reason: UntagReason::RemoveTags {
            pattern: "pr-.*".into(),
        },
    };
    let plan = Plan {
        now: time::OffsetDateTime::UNIX_EPOCH,
        policy: Policy::keep_newest(1),
        entries: vec![
            entry(
                &image,
                &["latest", "pr-1", "pr-2"],
                Role::Image,
                Decision::Keep {
                    reason: kept.clone(),
                },
            ),
            entry(
                &image,
                &["pr-1"],
                Role::Tag {
                    remaining: vec!["latest".parse().unwrap()],
                },
                untag.clone(),
            ),
            entry(
                &image,
                &["pr-2"],
                Role::Tag {
                    remaining: vec!["latest".parse().unwrap()],
                },
                untag,
            ),
            entry(
                &old,
                &[],
                Role::Untagged(Untagged {
                    found: vec![Found::History],
                    last_tags: vec!["main".parse().unwrap()],
                    ..Untagged::default()
                }),
                Decision::Delete {
                    reason: DeleteReason::Untagged,
                },
            ),
        ],
        reclaimable: Reclaimable::default(),
    };
    let state = AppState::new(Route::default());
    state.plan.set(Some(Planned::new(plan, Vec::new())));
    let document = web_sys::window().unwrap().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let root: web_sys::Element = host.clone().into();
    let mounted = leptos::mount::mount_to(host, move || {
        provide_context(state);
        view! { <PlanView /> }
    });
    settle().await;

    let all = rows(&root, "[data-testid=\"plan-row\"]");
    assert_eq!(all.len(), 4);
    let keyed: Vec<(String, String, Option<String>)> = all
        .iter()
        .map(|row| {
            (
                row.get_attribute("data-digest").unwrap(),
                row.get_attribute("data-role").unwrap(),
                row.get_attribute("data-tag"),
            )
        })
        .collect();
    let mut unique = keyed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{keyed:?}");
    assert_eq!(
        keyed
            .iter()
            .filter(|(digest, ..)| *digest == image.to_string())
            .count(),
        3
    );
    assert_eq!(keyed[1].2.as_deref(), Some("pr-1"));
    let untagged = &all[3];
    assert_eq!(
        untagged.get_attribute("data-role").as_deref(),
        Some("untagged")
    );
    assert!(untagged.text_content().unwrap().contains("was main"));
    assert!(
        all[1]
            .text_content()
            .unwrap()
            .contains("the image keeps latest")
    );

    let totals = root
        .query_selector("[data-testid=\"plan-totals\"]")
        .unwrap()
        .unwrap();
    for (attribute, value) in [
        ("data-removed-tags", "2"),
        ("data-deleted-untagged", "1"),
        ("data-changes", "3"),
        ("data-deleted-manifests", "1"),
    ] {
        assert_eq!(
            totals.get_attribute(attribute).as_deref(),
            Some(value),
            "{attribute}"
        );
    }

    let filter: web_sys::HtmlSelectElement = root
        .query_selector("[data-testid=\"plan-decision\"]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    filter.set_value("untag");
    filter
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    settle().await;
    let shown = rows(&root, "[data-testid=\"plan-row\"]");
    assert_eq!(shown.len(), 2);
    assert!(
        shown
            .iter()
            .all(|row| row.get_attribute("data-decision").as_deref() == Some("untag"))
    );
    filter.set_value("keep");
    filter
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    settle().await;
    assert_eq!(rows(&root, "[data-testid=\"plan-row\"]").len(), 1);
    drop(mounted);
}
