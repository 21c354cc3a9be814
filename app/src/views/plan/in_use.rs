//! "Images in use": files of image references or of pods (`kubectl get pods
//! -A -o json`), read in the browser; the planner keeps what they name in
//! this registry whatever the policy says, and each file's report shows
//! what matched, what is another registry's and what matched nothing.

use std::sync::Arc;

use cleanreg_core::{InUseFile, registry_host};
use leptos::prelude::*;

use crate::platform::browser;
use crate::state::AppState;

#[component]
pub fn InUse() -> impl IntoView {
    let state = AppState::get();
    let error = RwSignal::new(None::<String>);
    let on_pick = move |ev: leptos::ev::Event| {
        browser::on_file_picked(&ev, move |picked| match picked {
            Ok((name, text)) => match InUseFile::parse(&name, &text) {
                Ok(file) => {
                    error.set(None);
                    state.in_use.update(|files| {
                        files.retain(|known| known.source != file.source);
                        files.push(Arc::new(file));
                    });
                }
                Err(problem) => error.set(Some(format!(
                    "{problem}. Nothing from this file is used; the plan is unchanged."
                ))),
            },
            Err(message) => error.set(Some(message)),
        });
    };
    let hosts_error = RwSignal::new(None::<String>);
    let on_hosts = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        let read: Result<Vec<String>, String> = text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(registry_host)
            .collect();
        match read {
            Ok(hosts) => {
                hosts_error.set(None);
                state.in_use_hosts.set(hosts);
            }
            Err(problem) => {
                hosts_error.set(Some(format!("{problem}. The names in use are unchanged.")))
            }
        }
    };
    let files = move || {
        state
            .in_use
            .with(|files| files.iter().map(|f| f.source.clone()).collect::<Vec<_>>())
    };
    let report_of = move |source: &str| {
        state.in_use_reports.with(|reports| {
            reports
                .iter()
                .find(|report| report.source == source)
                .map(ToString::to_string)
                .unwrap_or_else(|| format!("in use ({source}): read; matched at the next plan"))
        })
    };
    view! {
        <section class="in-use" aria-labelledby="in-use-heading">
            <h3 id="in-use-heading">"Images in use"</h3>
            <p class="hint" id="in-use-hint">
                "A file of image references, one a line (host/repo:tag or host/repo@sha256:…), or the JSON of kubectl get pods -A -o json. What it names in this registry is kept whatever the policy says, tags and all; references to other registries are listed and left aside. The file stays in this page only."
            </p>
            <label for="in-use-file">"Add a file of images in use"</label>
            <input
                type="file"
                id="in-use-file"
                data-testid="in-use-file"
                aria-describedby="in-use-hint"
                disabled=move || state.policy_locked()
                on:change=on_pick
            />
            <p class="error-inline" data-testid="in-use-error" hidden=move || error.with(Option::is_none)>
                {move || error.get()}
            </p>
            <label for="in-use-hosts">"This registry's other names in the files"</label>
            <input
                type="text"
                id="in-use-hosts"
                data-testid="in-use-hosts"
                spellcheck="false"
                placeholder="registry.example.org:5000, registry.example.org"
                aria-describedby="in-use-hosts-hint"
                disabled=move || state.policy_locked()
                on:change=on_hosts
            />
            <p class="hint" id="in-use-hosts-hint">
                "Hosts as the references write them, comma-separated, when they name this registry otherwise than its URL here (a DNS name against an address): their references are this registry's too."
            </p>
            <p class="error-inline" data-testid="in-use-hosts-error" hidden=move || hosts_error.with(Option::is_none)>
                {move || hosts_error.get()}
            </p>
            <ul class="in-use-files">
                <For each=files key=|source| source.clone() let:source>
                    {
                        let shown = source.clone();
                        let removed = source.clone();
                        view! {
                            <li data-testid="in-use-entry" data-source=source.clone()>
                                <pre data-testid="in-use-report">{move || report_of(&shown)}</pre>
                                <button
                                    type="button"
                                    data-testid="in-use-remove"
                                    disabled=move || state.policy_locked()
                                    on:click=move |_| {
                                        state
                                            .in_use
                                            .update(|files| files.retain(|f| f.source != removed))
                                    }
                                >
                                    {format!("Stop using {source}")}
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}
