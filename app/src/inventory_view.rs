//! What the registry holds: repositories, and one repository's images.

use leptos::prelude::*;

use crate::state::AppState;

#[component]
pub fn InventoryView() -> impl IntoView {
    let state = AppState::get();
    view! {
        <Show
            when=move || state.session.with(Option::is_some)
            fallback=|| view! { <p class="empty">"Connect to a registry to see what it holds."</p> }
        >
            <p data-testid="inventory-summary">
                {move || {
                    state
                        .session
                        .with(|s| s.as_ref().map(|s| crate::text::scan_done(&s.inventory)))
                }}
            </p>
        </Show>
    }
}
