//! The cleanreg dashboard: connect to a registry, scan it, see the plan for a
//! keep-newest-N policy, and apply it, all in the browser.
//!
//! Components hold no registry logic: that is `cleanreg_core`. What the page
//! says is built by plain functions (`text`, `PlanRow`) that native tests reach.

mod apply;
mod connect;
pub mod fetch;
mod plan_table;
mod policy;
pub mod text;

use std::sync::Arc;

use cleanreg_core::{Policy, plan};
use leptos::prelude::*;

pub use apply::ApplyPhase;
pub use connect::{ConnectInput, Session, connect, from_unix_millis};
pub use fetch::FetchTransport;
pub use plan_table::PlanRow;
pub use policy::{DEFAULT_KEEP, parse_keep};

#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new(None::<connect::Session>);
    let keep = RwSignal::new(DEFAULT_KEEP);
    let phase = RwSignal::new(ApplyPhase::Idle);
    let outcomes = RwSignal::new(Vec::new());

    // Derived, never copied: a new N or a new scan gives a new plan at once.
    let plan = Memo::new(move |_| {
        let policy = Policy::keep_newest(keep.get());
        session.with(|session| {
            session
                .as_ref()
                .map(|s| Arc::new(plan(&s.inventory, &policy, s.scanned_at)))
        })
    });
    let applying = Signal::derive(move || phase.get().is_running());
    let plan_held = Signal::derive(move || phase.get().holds_plan());
    let on_start = Callback::new(move |()| {
        phase.set(ApplyPhase::Idle);
        outcomes.set(Vec::new());
    });

    view! {
        <header>
            <h1>"cleanreg"</h1>
            <p class="tagline">"Clean a Docker/OCI registry: see what goes before anything does."</p>
        </header>
        <main>
            <connect::ConnectForm session=session busy=applying on_start=on_start />
            <Show when=move || session.with(Option::is_some)>
                <policy::KeepInput keep=keep disabled=plan_held />
            </Show>
            <plan_table::PlanView plan=plan />
            <apply::ApplyPanel session=session plan=plan phase=phase outcomes=outcomes />
        </main>
    }
}
