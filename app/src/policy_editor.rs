//! The retention policy editor.

use cleanreg_core::Policy;
use leptos::prelude::*;

use crate::state::{AppState, DEFAULT_KEEP};

/// The count typed in the field; `None` while it is not a whole number >= 0.
pub fn parse_keep(text: &str) -> Option<usize> {
    text.trim().parse().ok()
}

#[component]
pub fn PolicyEditor() -> impl IntoView {
    let state = AppState::get();
    let keep = RwSignal::new(DEFAULT_KEEP);
    Effect::new(move |_| state.policy.set(Policy::keep_newest(keep.get())));
    let disabled = move || state.policy_locked();
    let invalid = RwSignal::new(false);
    let on_input = move |ev| match parse_keep(&event_target_value(&ev)) {
        Some(count) => {
            invalid.set(false);
            keep.set(count);
        }
        None => invalid.set(true),
    };
    view! {
        <div class="policy">
            <label>
                "Keep the newest "
                <input
                    type="number"
                    min="0"
                    step="1"
                    data-testid="keep-count"
                    prop:value=move || keep.get().to_string()
                    disabled=disabled
                    on:input=on_input
                />
                " images of every repository"
            </label>
            <Show when=move || invalid.get()>
                <span class="error-inline">
                    "Enter a whole number, 0 or more; the plan uses " {move || keep.get()}
                </span>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_non_negative_numbers_count() {
        assert_eq!(parse_keep(" 2 "), Some(2));
        assert_eq!(parse_keep("0"), Some(0));
        assert_eq!(parse_keep("-1"), None);
        assert_eq!(parse_keep("1.5"), None);
        assert_eq!(parse_keep(""), None);
    }
}
