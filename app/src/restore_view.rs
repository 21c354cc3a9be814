//! Putting back what a recovery file holds.

use leptos::prelude::*;

#[component]
pub fn RestoreView() -> impl IntoView {
    view! { <p class="empty">"Restore from a recovery file."</p> }
}
