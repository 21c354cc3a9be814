//! The cleanreg dashboard: connect to a registry, see what it holds, shape a
//! retention policy, see the plan with its reasons, apply it, and put back
//! what a recovery file holds, all in the browser.
//!
//! Components hold no registry logic: that is `cleanreg_core`. What the page
//! says is built by plain functions (each view's `model`, `route`) that
//! native tests reach. Every view reads and writes the shared [`AppState`].
//!
//! Layers, each using only those below it: `views` (a folder per tab, and
//! connect) over `widgets` (pieces several views draw) over `state` (the
//! shared signals and the planner) over `platform` (the browser).
//!
//! Four views, one tab each, all mounted at once and hidden when not chosen.
//! The page never stores the password in `localStorage`, puts it in a URL,
//! or logs it.
//!
//! Trunk builds the page from the root `index.html` and `Trunk.toml` with
//! relative asset links, so it works under any sub-path. The page has no
//! inline script, so it runs under `script-src 'self' 'wasm-unsafe-eval'`:
//! trunk's `pattern_script` writes the built file names into a
//! `<meta name="cleanreg-build">`, and `app/boot/boot.js` (a hashed file with
//! SRI) imports the module and starts the wasm.

pub mod platform;
pub mod route;
pub mod state;
#[cfg(all(test, target_arch = "wasm32"))]
mod test_dom;
pub mod views;
pub mod widgets;

use leptos::prelude::*;

use platform::browser;

pub use platform::fetch::FetchTransport;
pub use platform::timer::from_unix_millis;
pub use route::{Route, View};
pub use state::{AppState, DEFAULT_KEEP, Planned, Session};
pub use views::apply::model::ApplyPhase;
pub use views::connect::connect;
pub use views::connect::model::ConnectInput;
pub use views::plan::PlanRow;
pub use views::policy::model::parse_keep;
use views::{apply, connect, inventory, plan, policy, restore};

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new(Route::from_fragment(&browser::fragment()));
    provide_context(state);
    state::planner::keep_planning(state);
    // The URL follows the route, so a link reopens the same place.
    Effect::new(move |_| browser::replace_fragment(&state.route.with(Route::to_fragment)));

    view! {
        <header>
            <h1>"cleanreg"</h1>
            <p class="tagline">"Clean a Docker/OCI registry: see what goes before anything does."</p>
        </header>
        <main>
            <connect::ConnectForm />
            <Tabs />
            <ViewPanel view=View::Inventory>
                <inventory::InventoryView />
            </ViewPanel>
            <ViewPanel view=View::Policy>
                <policy::PolicyEditor />
            </ViewPanel>
            <ViewPanel view=View::Plan>
                <plan::PlanView />
                <apply::ApplyPanel />
            </ViewPanel>
            <ViewPanel view=View::Restore>
                <restore::RestoreView />
            </ViewPanel>
        </main>
    }
}

/// The view switcher: a tab list, each tab a button.
#[component]
fn Tabs() -> impl IntoView {
    let state = AppState::get();
    view! {
        <nav class="tabs" role="tablist" aria-label="Views">
            {View::ALL
                .into_iter()
                .map(|view| {
                    let selected = move || state.route.with(|r| r.view == view);
                    view! {
                        <button
                            type="button"
                            role="tab"
                            id=format!("tab-{}", view.key())
                            aria-controls=format!("view-{}", view.key())
                            data-testid=format!("tab-{}", view.key())
                            aria-selected=move || selected().to_string()
                            class:selected=selected
                            on:click=move |_| state.route.update(|r| r.view = view)
                        >
                            {view.title()}
                        </button>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// One view's panel. Every panel stays mounted (hidden when not chosen), so
/// switching views keeps forms, scroll positions and running work.
#[component]
fn ViewPanel(view: View, children: Children) -> impl IntoView {
    let state = AppState::get();
    view! {
        <section
            class="view"
            role="tabpanel"
            id=format!("view-{}", view.key())
            aria-labelledby=format!("tab-{}", view.key())
            data-testid=format!("view-{}", view.key())
            hidden=move || state.route.with(|r| r.view != view)
        >
            {children()}
        </section>
    }
}
