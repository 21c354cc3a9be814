//! Helpers of the component tests in a real browser (wasm-bindgen-test,
//! headless Chromium): mount a view with a state, find elements, type and
//! click as the user would, and let effects run.

use std::sync::Arc;

use cleanreg_core::{Client, Inventory, RegistryUrl};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};

use crate::platform::fetch::FetchTransport;
use crate::platform::timer::yield_now;
use crate::state::{AppState, Session};

/// Mounts `view` in a fresh element with `state` as its context.
pub fn mount<V: IntoView + 'static>(
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

pub fn all(root: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|node| node.unchecked_into())
        .collect()
}

pub fn one(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
        .unchecked_into()
}

pub fn by_id(root: &HtmlElement, id: &str) -> HtmlElement {
    one(root, &format!("[data-testid=\"{id}\"]"))
}

/// Types `text` into an input or textarea, as the user would.
pub async fn type_into(element: &HtmlElement, text: &str) {
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

pub async fn click(element: &HtmlElement) {
    element.click();
    settle().await;
}

/// Lets effects run.
pub async fn settle() {
    for _ in 0..3 {
        yield_now().await;
    }
}

/// A session over `inventory`, as if just scanned from a local registry.
pub fn session(inventory: Inventory) -> Session {
    let registry = RegistryUrl::parse("http://127.0.0.1:5000").unwrap();
    Session {
        client: Arc::new(Client::new(FetchTransport, registry, None)),
        inventory: Arc::new(inventory),
        scanned_at: time::macros::datetime!(2026-06-01 0:00 UTC),
        scope: cleanreg_core::ScanScope::Catalog,
        permissions: Arc::new(cleanreg_core::DeletePermissions::none_denied()),
    }
}
