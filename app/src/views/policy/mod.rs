//! The retention policy editor: the default rule, rules per repository,
//! import and export.
//!
//! The editor keeps a draft ([`PolicyDraft`]) of what is typed. Whenever
//! the whole draft is valid it becomes [`AppState::policy`], which the
//! planner follows; while a field is invalid, the field says why and the
//! plan stays on the last valid policy.

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
mod cron;
mod import_export;
pub mod model;

use leptos::prelude::*;

use crate::state::AppState;
use cron::CronLine;
use import_export::ImportExport;
use model::{Checked, Field, PolicyDraft};

/// What a rule's text fields are, in the order shown.
const TEXT_FIELDS: [(Field, &str, &str, Kind); 8] = [
    (
        Field::KeepNewest,
        "Keep the newest",
        "images (distinct manifests, not tags); 0 keeps none by count; empty: no count",
        Kind::Number,
    ),
    (
        Field::KeepNewestPer,
        "Count the newest in",
        "each release line read from version tags (1.4.2, v2.0.0-rc.1), highest version \
         first, a pre-release below its release; images without a version tag are one more \
         line",
        Kind::Choice(&[
            ("", "the whole repository"),
            ("major", "each major line (1.x, 2.x)"),
            ("major.minor", "each minor line (1.4.x, 1.5.x)"),
        ]),
    ),
    (
        Field::KeepYoungerThanDays,
        "Keep images younger than (days)",
        "1 or more; empty: no age limit",
        Kind::Number,
    ),
    (
        Field::KeepNewerThan,
        "Keep images created at or after",
        "2026-01-31, 20260131, 2026-01-31T12:00:00 (UTC) or RFC 3339; empty: none",
        Kind::Line,
    ),
    (
        Field::KeepTags,
        "Always keep tags matching",
        "regular expressions over the whole tag, one per line",
        Kind::Lines,
    ),
    (
        Field::ExcludeTags,
        "Keep tags matching, outside the count",
        "regular expressions over the whole tag, one per line; their images are kept and take \
         no place among the newest",
        Kind::Lines,
    ),
    (
        Field::OnlyTags,
        "Consider only images whose every tag matches",
        "a regular expression over the whole tag; other images are kept",
        Kind::Line,
    ),
    (
        Field::RemoveTags,
        "Remove tags matching (the images stay)",
        "a regular expression over the whole tag; taken off the images this rule keeps, but \
         never a tag that \"Always keep\" matches and never an image's last tag; empty: none",
        Kind::Line,
    ),
];

const FLAGS: [(Field, &str); 4] = [
    (
        Field::KeepNewestBeyondAge,
        "Count the newest only among images older than the age limits (acr purge --keep)",
    ),
    (
        Field::SkipSharedDigests,
        "Keep a digest that more than one tag points at (the original's -i)",
    ),
    (
        Field::DeleteUnknownAge,
        "Let a limit delete images whose build date is unknown",
    ),
    (
        Field::DeleteUntagged,
        "Delete untagged manifests (left behind when a tag such as main was pushed again; \
         found through scan history)",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Line,
    Lines,
    /// One of these values, each with its label.
    Choice(&'static [(&'static str, &'static str)]),
}

#[component]
pub fn PolicyEditor() -> impl IntoView {
    let state = AppState::get();
    let draft = RwSignal::new(PolicyDraft::from_policy(&state.policy.get_untracked()));
    let checked: Memo<Checked> = Memo::new(move |_| draft.with(PolicyDraft::policy));
    // A valid draft is the policy; an invalid one leaves the last valid.
    Effect::new(move |_| {
        checked.with(|checked| {
            if let Ok(policy) = checked
                && state.policy.with_untracked(|current| current != policy)
            {
                state.policy.set(policy.clone());
            }
        })
    });
    let problems = move || checked.with(|c| c.as_ref().err().map_or(0, Vec::len));
    let rule_ids = move || draft.with(|d| d.rules.iter().map(|rule| rule.id).collect::<Vec<_>>());
    let locked = move || state.policy_locked();
    let add_rule = move |_| {
        let id = draft.try_update(PolicyDraft::add_rule);
        // Move the keyboard to the new rule's pattern.
        if let Some(id) = id {
            request_animation_frame(move || focus(&format!("rule{id}-pattern")));
        }
    };

    view! {
        <div class="policy-editor">
            <h2>"Retention policy"</h2>
            <p class="hint">
                "A repository takes the most specific rule whose pattern matches it (exact name, then the glob with most literal characters), otherwise the default rule. A rule deletes only when it sets a count or an age; every other field keeps more."
            </p>
            <p
                class="policy-status"
                data-testid="policy-status"
                data-valid=move || (problems() == 0).to_string()
                role="status"
            >
                {move || model::status(problems(), locked())}
            </p>
            <fieldset class="rule default-rule" data-testid="default-rule" disabled=locked>
                <legend>"Default rule: every repository no rule below matches"</legend>
                <RuleFields draft=draft checked=checked rule=None />
            </fieldset>
            <h3>"Rules for repositories"</h3>
            <Show when=move || draft.with(|d| d.rules.is_empty())>
                <p class="empty">"No repository rules: the default rule decides everywhere."</p>
            </Show>
            <For each=rule_ids key=|id| *id let:id>
                <RepositoryRule draft=draft checked=checked id=id />
            </For>
            <button type="button" id="policy-add-rule" data-testid="add-rule" on:click=add_rule disabled=locked>
                "Add a repository rule"
            </button>
            <ImportExport draft=draft checked=checked />
            <CronLine />
        </div>
    }
}

fn focus(id: &str) {
    use wasm_bindgen::JsCast;
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// The element id of a field: `default-keep_newest`, `rule7-pattern`.
fn dom_id(rule: Option<u64>, field: Field) -> String {
    match rule {
        None => format!("default-{}", field.key()),
        Some(id) => format!("rule{id}-{}", field.key()),
    }
}

/// The `data-testid` of a field: `keep-count` for the default rule's count
/// (what scripts fill), `default-<field>` for the rest of the default rule,
/// `rule-<field>` inside a repository rule.
fn test_id(rule: Option<u64>, field: Field) -> String {
    match (rule, field) {
        (None, Field::KeepNewest) => "keep-count".to_owned(),
        (None, field) => format!("default-{}", field.key()),
        (Some(_), field) => format!("rule-{}", field.key()),
    }
}

#[component]
fn RepositoryRule(draft: RwSignal<PolicyDraft>, checked: Memo<Checked>, id: u64) -> impl IntoView {
    let state = AppState::get();
    let pattern = move || {
        draft.with(|d| {
            d.rule(Some(id))
                .map(|r| r.pattern.trim().to_owned())
                .unwrap_or_default()
        })
    };
    let number =
        move || draft.with(|d| d.rules.iter().position(|r| r.id == id).map_or(0, |i| i + 1));
    let legend = move || match pattern() {
        p if p.is_empty() => format!("Rule {}", number()),
        p => format!("Rule {}: {p}", number()),
    };
    let matching = move || {
        let pattern = pattern().parse::<cleanreg_core::RepositoryPattern>().ok()?;
        state.session.with(|session| {
            let inventory = &session.as_ref()?.inventory;
            let count = inventory
                .repositories
                .keys()
                .filter(|name| pattern.matches(name))
                .count();
            Some(match count {
                1 => "matches 1 scanned repository".to_owned(),
                n => format!("matches {n} scanned repositories"),
            })
        })
    };
    let remove = move |_| {
        draft.update(|d| d.remove_rule(id));
        focus("policy-add-rule");
    };
    view! {
        <fieldset class="rule" data-testid="rule" data-pattern=pattern disabled=move || state.policy_locked()>
            <legend>{legend}</legend>
            <div class="field pattern">
                <TextInput
                    draft=draft
                    checked=checked
                    rule=Some(id)
                    field=Field::Pattern
                    label="Repository name or glob"
                    hint="exact name, or * and ? within one path part, ** across /"
                    kind=Kind::Line
                />
                <span class="matches">{matching}</span>
            </div>
            <RuleFields draft=draft checked=checked rule=Some(id) />
            <button
                type="button"
                class="secondary"
                data-testid="remove-rule"
                aria-label=move || format!("Remove {}", legend())
                on:click=remove
            >
                "Remove rule"
            </button>
        </fieldset>
    }
}

#[component]
fn RuleFields(
    draft: RwSignal<PolicyDraft>,
    checked: Memo<Checked>,
    rule: Option<u64>,
) -> impl IntoView {
    view! {
        <div class="rule-fields">
            {TEXT_FIELDS
                .into_iter()
                .map(|(field, label, hint, kind)| {
                    view! {
                        <div class="field">
                            <TextInput
                                draft=draft
                                checked=checked
                                rule=rule
                                field=field
                                label=label
                                hint=hint
                                kind=kind
                            />
                        </div>
                    }
                })
                .collect_view()}
            {FLAGS
                .into_iter()
                .map(|(field, label)| {
                    let on = move || draft.with(|d| d.rule(rule).is_some_and(|r| r.flag(field)));
                    let toggle = move |ev| {
                        let value = event_target_checked(&ev);
                        draft.update(|d| {
                            if let Some(r) = d.rule_mut(rule) {
                                r.set_flag(field, value);
                            }
                        })
                    };
                    view! {
                        <label class="flag">
                            <input
                                type="checkbox"
                                id=dom_id(rule, field)
                                data-testid=test_id(rule, field)
                                prop:checked=on
                                on:change=toggle
                            />
                            " "
                            {label}
                        </label>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// A labelled text field with its hint and, when invalid, its error.
#[component]
fn TextInput(
    draft: RwSignal<PolicyDraft>,
    checked: Memo<Checked>,
    rule: Option<u64>,
    field: Field,
    label: &'static str,
    hint: &'static str,
    kind: Kind,
) -> impl IntoView {
    let id = dom_id(rule, field);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let value = move || {
        draft.with(|d| {
            d.rule(rule)
                .map(|r| r.text(field).to_owned())
                .unwrap_or_default()
        })
    };
    let error = Memo::new(move |_| {
        checked.with(|checked| {
            checked.as_ref().err().and_then(|errors| {
                errors
                    .iter()
                    .find(|e| e.rule == rule && e.field == field)
                    .map(|e| e.message.clone())
            })
        })
    });
    let invalid = move || error.with(Option::is_some);
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            if invalid() {
                format!("{hint_id} {error_id}")
            } else {
                hint_id.clone()
            }
        }
    };
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        draft.update(|d| {
            if let Some(r) = d.rule_mut(rule) {
                r.set_text(field, text);
            }
        })
    };
    let testid = test_id(rule, field);
    let control = match kind {
        Kind::Lines => view! {
            <textarea
                id=id.clone()
                rows="3"
                spellcheck="false"
                data-testid=testid
                prop:value=value
                aria-invalid=move || invalid().to_string()
                aria-describedby=described
                on:input=on_input
            ></textarea>
        }
        .into_any(),
        Kind::Number => view! {
            <input
                type="number"
                min=if field == Field::KeepYoungerThanDays { "1" } else { "0" }
                step="1"
                id=id.clone()
                data-testid=testid
                prop:value=value
                aria-invalid=move || invalid().to_string()
                aria-describedby=described
                on:input=on_input
            />
        }
        .into_any(),
        Kind::Choice(choices) => view! {
            <select
                id=id.clone()
                data-testid=testid
                prop:value=value
                aria-invalid=move || invalid().to_string()
                aria-describedby=described
                on:change=on_input
            >
                {choices
                    .iter()
                    .map(|&(choice, label)| {
                        // `selected` as well: the select's value is set
                        // before its options exist.
                        view! {
                            <option value=choice selected=move || value() == choice>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
        .into_any(),
        Kind::Line => view! {
            <input
                type="text"
                spellcheck="false"
                autocomplete="off"
                id=id.clone()
                data-testid=testid
                prop:value=value
                aria-invalid=move || invalid().to_string()
                aria-describedby=described
                on:input=on_input
            />
        }
        .into_any(),
    };
    view! {
        <label for=id>{label}</label>
        {control}
        <span class="hint" id=hint_id>{hint}</span>
        <span class="error-inline" id=error_id hidden=move || !invalid()>
            {move || error.get().map(|message| inline_error(field, &message))}
        </span>
    }
}

/// A field's error as shown beside it: the policy file's name of the field,
/// what is wrong, and that the plan did not follow.
fn inline_error(field: Field, message: &str) -> String {
    format!(
        "{}: {message}; the plan still uses the last valid policy",
        field.key()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_count_keeps_its_test_id() {
        assert_eq!(test_id(None, Field::KeepNewest), "keep-count");
        assert_eq!(test_id(Some(4), Field::OnlyTags), "rule-only_tags");
        assert_eq!(test_id(None, Field::KeepTags), "default-keep_tags");
        assert_eq!(dom_id(Some(4), Field::Pattern), "rule4-pattern");
        assert_eq!(
            test_id(None, Field::DeleteUntagged),
            "default-delete_untagged"
        );
        assert_eq!(test_id(Some(1), Field::RemoveTags), "rule-remove_tags");
    }

    #[test]
    fn an_inline_error_names_its_field() {
        assert_eq!(
            inline_error(Field::RemoveTags, "invalid regular expression \"(\""),
            "remove_tags: invalid regular expression \"(\"; the plan still uses the last valid \
             policy"
        );
    }
}
