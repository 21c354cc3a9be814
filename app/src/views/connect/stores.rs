//! The buttons that forget what this browser keeps between scans: the
//! scan cache and the scan history, each with what it holds.

use leptos::prelude::*;

use crate::platform::{cache, history};

/// The button that empties the cache, with what the cache holds.
#[component]
pub fn ForgetCache(#[prop(into)] disabled: Signal<bool>) -> impl IntoView {
    let forget = Action::new_local(|_: &()| async move {
        let cache = cache::shared().await;
        let cleared = cache.clear().await;
        cache::forget_note(cache.is_available(), cleared).to_owned()
    });
    let forgetting = forget.pending();
    view! {
        <div class="scan-cache">
            <button
                type="button"
                data-testid="forget-cache"
                disabled=move || disabled.get() || forgetting.get()
                on:click=move |_| {
                    forget.dispatch_local(());
                }
            >
                "Forget the scan cache"
            </button>
            <p class="hint">
                "So that the next scan only asks each tag for its digest, this browser keeps the \
                 manifests and image configs a scan read, addressed by their digests. It never \
                 holds passwords or other credentials, and deleting it is always safe: the next \
                 scan reads everything from the registry again."
            </p>
            <p class="status" data-testid="cache-status" aria-live="polite">
                {move || forget.value().get().unwrap_or_default()}
            </p>
        </div>
    }
}

/// The button that empties the history, with what it holds and what
/// forgetting it costs.
#[component]
pub fn ForgetHistory(#[prop(into)] disabled: Signal<bool>) -> impl IntoView {
    let forget = Action::new_local(|_: &()| async move {
        let history = history::shared().await;
        let cleared = history.clear().await;
        history::forget_note(history.is_available(), cleared).to_owned()
    });
    let forgetting = forget.pending();
    view! {
        <div class="scan-history">
            <button
                type="button"
                data-testid="forget-history"
                disabled=move || disabled.get() || forgetting.get()
                on:click=move |_| {
                    forget.dispatch_local(());
                }
            >
                "Forget the scan history"
            </button>
            <p class="hint">
                "So that a later scan finds manifests no tag points at any more (a tag such as \
                 main pushed again leaves the previous manifest stored but untagged), this \
                 browser keeps, per repository, the digests earlier scans saw and the tags they \
                 had. No credentials. It is never trimmed: once forgotten, untagged manifests \
                 that only it knew of cannot be found again from this browser; they stay in the \
                 registry until its garbage collection runs with --delete-untagged."
            </p>
            <p class="status" data-testid="history-status" aria-live="polite">
                {move || forget.value().get().unwrap_or_default()}
            </p>
        </div>
    }
}
