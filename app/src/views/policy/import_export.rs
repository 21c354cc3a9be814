//! Importing a whole policy (a file or pasted text: a cleanreg policy or
//! the original's repository file) and exporting the policy in force.

use cleanreg_core::{ImportReport, Policy, ReposfileFormat};
use leptos::prelude::*;

use super::model::{Checked, ImportFormat, PolicyDraft, export_reposfile, import};
use crate::platform::browser;
use crate::state::AppState;

/// Import by file or paste, export as TOML, JSON or the original's file.
#[component]
pub(super) fn ImportExport(draft: RwSignal<PolicyDraft>, checked: Memo<Checked>) -> impl IntoView {
    let state = AppState::get();
    let format = RwSignal::new(ImportFormat::Auto);
    let paste = RwSignal::new(String::new());
    let regex = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let report = RwSignal::new(None::<ImportReport>);
    let export_error = RwSignal::new(None::<String>);
    let locked = move || state.policy_locked();

    let apply = move |text: &str, name: Option<&str>| {
        if state.policy_locked() {
            return;
        }
        match import(text, format.get_untracked(), name, regex.get_untracked()) {
            Ok(imported) => {
                draft.set(PolicyDraft::from_policy(&imported.policy));
                error.set(None);
                done.set(Some(imported.message));
                report.set(imported.report);
            }
            Err(message) => {
                done.set(None);
                report.set(None);
                error.set(Some(message));
            }
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        browser::on_file_picked(&ev, move |picked| match picked {
            Ok((name, text)) => apply(&text, Some(&name)),
            Err(message) => {
                done.set(None);
                error.set(Some(message));
            }
        });
    };
    let on_import = move |_| {
        let text = paste.get_untracked();
        if text.trim().is_empty() {
            done.set(None);
            error.set(Some("Paste a policy or a repository file first.".into()));
            return;
        }
        apply(&text, None);
    };

    let save = move |name: &str, mime: &str, contents: String| match browser::download(
        name, mime, &contents,
    ) {
        Ok(()) => export_error.set(None),
        Err(message) => export_error.set(Some(message)),
    };
    let reposfile = move |format| state.policy.with(|policy| export_reposfile(policy, format));
    let text_problem = move || reposfile(ReposfileFormat::Text).err();
    let yaml_problem = move || reposfile(ReposfileFormat::Yaml).err();
    let draft_invalid = move || checked.with(Result::is_err);

    view! {
        <section class="policy-io" aria-labelledby="policy-io-title">
            <h3 id="policy-io-title">"Import"</h3>
            <p class="hint">
                "A cleanreg policy (TOML or JSON, as the CLI's --policy reads it), another registry's policy (a GitLab cleanup policy, an ECR lifecycle policy, Harbor retention rules, zot retention, or an acr purge command), or the original cleanreg's repository file (text \"repository count\" lines or YAML). Importing replaces the whole policy."
            </p>
            <div class="import-row">
                <label for="policy-file">"Import from a file"</label>
                <input
                    type="file"
                    id="policy-file"
                    data-testid="policy-file"
                    accept=".toml,.json,.yaml,.yml,.txt,text/plain,application/json"
                    disabled=locked
                    on:change=on_pick
                />
            </div>
            <div class="import-row">
                <label for="policy-paste">"Or paste it"</label>
                <textarea
                    id="policy-paste"
                    data-testid="policy-paste"
                    rows="6"
                    spellcheck="false"
                    prop:value=move || paste.get()
                    on:input=move |ev| paste.set(event_target_value(&ev))
                ></textarea>
            </div>
            <div class="import-row">
                <label for="policy-format">"Read as"</label>
                <select
                    id="policy-format"
                    data-testid="policy-format"
                    on:change=move |ev| format.set(ImportFormat::from_key(&event_target_value(&ev)))
                >
                    {ImportFormat::ALL
                        .into_iter()
                        .map(|f| {
                            view! {
                                <option value=f.key() selected=move || format.get() == f>
                                    {f.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <label class="flag">
                    <input
                        type="checkbox"
                        data-testid="policy-reposfile-regex"
                        prop:checked=move || regex.get()
                        on:change=move |ev| regex.set(event_target_checked(&ev))
                    />
                    " A repository file's tag: is a regular expression (the original's -re)"
                </label>
                <button type="button" data-testid="policy-import" disabled=locked on:click=on_import>
                    "Import pasted text"
                </button>
            </div>
            <p class="error" data-testid="policy-error" role="alert" hidden=move || error.with(Option::is_none)>
                {move || error.get()}
            </p>
            <p class="status" data-testid="policy-import-status" role="status">
                {move || done.get()}
            </p>
            {move || {
                report
                    .get()
                    .map(|report| {
                        view! {
                            <table class="import-report" data-testid="import-report">
                                <thead>
                                    <tr>
                                        <th scope="col">"Maps"</th>
                                        <th scope="col">"In the source"</th>
                                        <th scope="col">"How"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {report
                                        .items
                                        .into_iter()
                                        .map(|item| {
                                            let mapping = item.mapping.to_string();
                                            let key = mapping.replace(' ', "-");
                                            view! {
                                                <tr data-testid="import-report-item" data-mapping=key>
                                                    <td>{mapping}</td>
                                                    <td><code>{item.source}</code></td>
                                                    <td>{item.note}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                    })
            }}

            <h3>"Export"</h3>
            <p class="hint" hidden=move || !draft_invalid()>
                "The draft has errors: exports hold the last valid policy, the one the plan uses."
            </p>
            <div class="export-row">
                <button
                    type="button"
                    data-testid="policy-export-toml"
                    on:click=move |_| save("cleanreg-policy.toml", "application/toml", state.policy.with_untracked(Policy::to_toml))
                >
                    "Download TOML"
                </button>
                <button
                    type="button"
                    data-testid="policy-export-json"
                    on:click=move |_| save("cleanreg-policy.json", "application/json", state.policy.with_untracked(Policy::to_json_pretty) + "\n")
                >
                    "Download JSON"
                </button>
                <button
                    type="button"
                    data-testid="policy-export-reposfile-text"
                    disabled=move || text_problem().is_some()
                    aria-describedby="policy-export-text-note"
                    on:click=move |_| {
                        if let Ok(text) = reposfile(ReposfileFormat::Text) {
                            save("repos.txt", "text/plain", text)
                        }
                    }
                >
                    "Download original repository file (text)"
                </button>
                <button
                    type="button"
                    data-testid="policy-export-reposfile-yaml"
                    disabled=move || yaml_problem().is_some()
                    aria-describedby="policy-export-yaml-note"
                    on:click=move |_| {
                        if let Ok(text) = reposfile(ReposfileFormat::Yaml) {
                            save("repos.yaml", "application/yaml", text)
                        }
                    }
                >
                    "Download original repository file (YAML)"
                </button>
            </div>
            <p class="hint" id="policy-export-text-note" data-testid="policy-export-text-note">
                {text_problem}
            </p>
            <p class="hint" id="policy-export-yaml-note" data-testid="policy-export-yaml-note">
                {yaml_problem}
            </p>
            <p class="error" role="alert" hidden=move || export_error.with(Option::is_none)>
                {move || export_error.get()}
            </p>
        </section>
    }
}
