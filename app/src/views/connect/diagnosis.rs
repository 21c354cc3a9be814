//! A diagnosis on the page: its title, explanation and, when there is one,
//! the configuration snippet with a copy button. Shown by the connect form
//! and by apply (a registry that refuses deletes).

use leptos::prelude::*;

use super::diagnose::Diagnosis;
use crate::platform::browser;

/// One diagnosis: title, explanation, and the snippet with a copy button.
#[component]
pub fn DiagnosisView(diagnosis: Diagnosis) -> impl IntoView {
    let Diagnosis {
        kind,
        title,
        explanation,
        snippet,
    } = diagnosis;
    let copied = RwSignal::new(false);
    view! {
        <section class="diagnosis" data-testid="diagnosis" data-kind=kind.key() aria-label="Diagnosis">
            <h3>{title}</h3>
            <p>{explanation}</p>
            {snippet
                .map(|snippet| {
                    let text = snippet.clone();
                    view! {
                        <div class="snippet">
                            <pre data-testid="diagnosis-snippet" tabindex="0">{snippet}</pre>
                            <button
                                type="button"
                                data-testid="copy-snippet"
                                on:click=move |_| {
                                    browser::copy_text(&text);
                                    copied.set(true);
                                }
                            >
                                {move || if copied.get() { "Copied" } else { "Copy configuration" }}
                            </button>
                        </div>
                    }
                })}
        </section>
    }
}
