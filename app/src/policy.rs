//! The retention policy input: keep the newest N images of every repository.

use leptos::prelude::*;

/// How many images each repository keeps until the person changes it.
pub const DEFAULT_KEEP: usize = 3;

/// The count typed in the field; `None` while it is not a whole number >= 0.
pub fn parse_keep(text: &str) -> Option<usize> {
    text.trim().parse().ok()
}

#[component]
pub fn KeepInput(keep: RwSignal<usize>, disabled: Signal<bool>) -> impl IntoView {
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
