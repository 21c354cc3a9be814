//! The cleanreg dashboard: connect to a registry, see what it holds, shape a
//! retention policy, see the plan with its reasons, apply it, and put back
//! what a recovery file holds, all in the browser.
//!
//! Components hold no registry logic: that is `cleanreg_core`. What the page
//! says is built by plain functions (`text`, `PlanRow`, `route`) that native
//! tests reach. Every view reads and writes the shared [`AppState`].

mod apply;
pub mod browser;
pub mod cache;
mod connect;
pub mod diagnose;
pub mod fetch;
pub mod history;
mod inventory_view;
mod plan_view;
mod planner;
mod policy_editor;
mod restore_view;
pub mod route;
pub mod state;
pub mod text;
mod throttle;

use leptos::prelude::*;

pub use apply::ApplyPhase;
pub use connect::{ConnectInput, Session, connect, from_unix_millis};
pub use fetch::FetchTransport;
pub use plan_view::PlanRow;
pub use policy_editor::parse_keep;
pub use route::{Route, View};
pub use state::{AppState, DEFAULT_KEEP};

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new(Route::from_fragment(&browser::fragment()));
    provide_context(state);
    planner::keep_planning(state);
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
                <inventory_view::InventoryView />
            </ViewPanel>
            <ViewPanel view=View::Policy>
                <policy_editor::PolicyEditor />
            </ViewPanel>
            <ViewPanel view=View::Plan>
                <plan_view::PlanView />
                <apply::ApplyPanel />
            </ViewPanel>
            <ViewPanel view=View::Restore>
                <restore_view::RestoreView />
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
