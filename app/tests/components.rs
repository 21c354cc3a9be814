//! Component tests in headless Chromium: the dashboard mounted into a real
//! document, checked through the DOM and the URL it rewrites.
//!
//! Run with `cargo test -p cleanreg-app --target wasm32-unknown-unknown`
//! (`.cargo/config.toml` names `wasm-bindgen-test-runner`; it needs
//! `CHROMEDRIVER=/usr/bin/chromedriver`, which `cargo xtask test` sets).
#![cfg(target_arch = "wasm32")]

use cleanreg_app::App;
use leptos::mount::mount_to;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

const VIEWS: [&str; 4] = ["inventory", "policy", "plan", "restore"];

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Sets the fragment the page starts from, without a history entry.
fn start_at(fragment: &str) {
    let window = web_sys::window().unwrap();
    let url = if fragment.is_empty() {
        window.location().pathname().unwrap()
    } else {
        fragment.to_owned()
    };
    window
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
        .unwrap();
}

fn hash() -> String {
    web_sys::window().unwrap().location().hash().unwrap()
}

/// Lets effects and the scheduler run (a macrotask, several times).
async fn settle() {
    for _ in 0..3 {
        cleanreg_app::platform::timer::yield_now().await;
    }
}

/// Mounts the whole dashboard into a fresh container; the page is what the
/// returned handle and container show until both are dropped.
struct Mounted {
    container: HtmlElement,
    _handle: Box<dyn std::any::Any>,
}

impl Mounted {
    fn app() -> Mounted {
        let container: HtmlElement = document().create_element("div").unwrap().unchecked_into();
        document().body().unwrap().append_child(&container).unwrap();
        let handle = mount_to(container.clone(), App);
        Mounted {
            container,
            _handle: Box::new(handle),
        }
    }

    fn find(&self, testid: &str) -> Option<Element> {
        self.container
            .query_selector(&format!("[data-testid=\"{testid}\"]"))
            .unwrap()
    }

    fn get(&self, testid: &str) -> Element {
        self.find(testid)
            .unwrap_or_else(|| panic!("no element with data-testid={testid:?} in the page"))
    }

    fn visible_panels(&self) -> Vec<String> {
        VIEWS
            .iter()
            .filter(|view| !self.get(&format!("view-{view}")).has_attribute("hidden"))
            .map(|view| (*view).to_owned())
            .collect()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.container.remove();
    }
}

#[wasm_bindgen_test]
async fn the_app_shows_the_connect_form_and_four_tabs() {
    start_at("");
    let page = Mounted::app();
    settle().await;
    for id in [
        "registry-url",
        "username",
        "password",
        "connect",
        "scan-status",
    ] {
        page.get(id);
    }
    let password = page.get("password");
    assert_eq!(
        password.get_attribute("type").as_deref(),
        Some("password"),
        "the password field must not show what is typed"
    );
    for view in VIEWS {
        let tab = page.get(&format!("tab-{view}"));
        assert_eq!(tab.get_attribute("role").as_deref(), Some("tab"));
        assert!(
            !tab.text_content().unwrap_or_default().trim().is_empty(),
            "tab-{view} has no visible label"
        );
        page.get(&format!("view-{view}"));
    }
    assert_eq!(page.visible_panels(), ["inventory"], "the default view");
    assert_eq!(
        page.get("tab-inventory")
            .get_attribute("aria-selected")
            .as_deref(),
        Some("true")
    );
    assert!(
        page.find("error").is_none(),
        "an error shows before anything happened"
    );
}

#[wasm_bindgen_test]
async fn clicking_a_tab_switches_the_panel_and_rewrites_the_fragment() {
    start_at("");
    let page = Mounted::app();
    settle().await;
    for view in ["policy", "plan", "restore", "inventory"] {
        page.get(&format!("tab-{view}"))
            .unchecked_into::<HtmlElement>()
            .click();
        settle().await;
        assert_eq!(page.visible_panels(), [view], "after clicking tab-{view}");
        assert_eq!(
            page.get(&format!("tab-{view}"))
                .get_attribute("aria-selected")
                .as_deref(),
            Some("true")
        );
        assert!(
            hash().contains(&format!("view={view}")),
            "after clicking tab-{view} the URL fragment is {:?}",
            hash()
        );
    }
}

#[wasm_bindgen_test]
async fn a_fragment_naming_a_view_opens_that_tab() {
    start_at("#view=plan&repo=team%2Fapp");
    let page = Mounted::app();
    settle().await;
    assert_eq!(page.visible_panels(), ["plan"]);
    assert_eq!(
        page.get("tab-plan")
            .get_attribute("aria-selected")
            .as_deref(),
        Some("true")
    );
    let fragment = hash();
    assert!(fragment.contains("view=plan"), "fragment now {fragment:?}");
    assert!(
        fragment.contains("repo=team%2Fapp") || fragment.contains("repo=team/app"),
        "the repository was dropped from the fragment: {fragment:?}"
    );
}

#[wasm_bindgen_test]
async fn a_fragment_naming_a_registry_fills_the_url_field() {
    start_at("#registry=http%3A%2F%2F127.0.0.1%3A5999&view=policy");
    let page = Mounted::app();
    settle().await;
    let input: web_sys::HtmlInputElement = page.get("registry-url").unchecked_into();
    assert_eq!(input.value(), "http://127.0.0.1:5999");
    assert_eq!(page.visible_panels(), ["policy"]);
    page.get("keep-count");
}

#[wasm_bindgen_test]
async fn an_unknown_view_falls_back_to_the_inventory() {
    start_at("#view=nonsense&other=1");
    let page = Mounted::app();
    settle().await;
    assert_eq!(page.visible_panels(), ["inventory"]);
    assert!(hash().contains("view=inventory"), "fragment {:?}", hash());
}
