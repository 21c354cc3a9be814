//! The one pager of every paged table: previous and next buttons around
//! where the table stands.

use leptos::prelude::*;

/// Previous / next page buttons and a line saying where the table stands.
/// `page` may point past the end (after a filter shrank the table): the
/// last page counts then. Hidden while there is a single page, unless
/// `always`. With a `testid` of `repo`, the parts are `repo-page-prev`,
/// `repo-page` and `repo-page-next`.
#[component]
pub fn Pager(
    page: RwSignal<usize>,
    #[prop(into)] pages: Signal<usize>,
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional, into)] aria_label: Option<String>,
    #[prop(optional)] always: bool,
) -> impl IntoView {
    let at = move || page.get().min(pages.get().saturating_sub(1));
    let part = move |suffix: &str| testid.map(|name| format!("{name}-{suffix}"));
    view! {
        <Show when=move || { always || pages.get() > 1 }>
            <nav class="pager" aria-label=aria_label.clone()>
                <button
                    type="button"
                    data-testid=part("page-prev")
                    disabled=move || at() == 0
                    on:click=move |_| page.set(at().saturating_sub(1))
                >
                    "Previous page"
                </button>
                <span data-testid=part("page") aria-live="polite">
                    {move || label.get()}
                </span>
                <button
                    type="button"
                    data-testid=part("page-next")
                    disabled=move || { at() + 1 >= pages.get() }
                    on:click=move |_| page.set((at() + 1).min(pages.get_untracked().saturating_sub(1)))
                >
                    "Next page"
                </button>
            </nav>
        </Show>
    }
}
