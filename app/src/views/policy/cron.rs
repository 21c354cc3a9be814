//! The cron line that runs the policy in force with the CLI: this
//! registry, the scanned repositories, the exported policy file and a
//! recovery directory. The password never goes into the line: cleanreg
//! reads it from `CLEANREG_PASSWORD`.

use cleanreg_core::ScanScope;
use leptos::prelude::*;

use crate::platform::browser;
use crate::state::AppState;

/// What the line is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronJob {
    /// Five cron fields, or an `@daily`-style shorthand.
    pub schedule: String,
    pub registry: String,
    pub user: Option<String>,
    /// Names and prefixes (ending in `/`); none: the whole catalog.
    pub repositories: Vec<String>,
    pub policy_file: String,
    pub recovery_dir: String,
}

impl CronJob {
    /// The crontab line, or what is wrong with the schedule.
    pub fn line(&self) -> Result<String, String> {
        let schedule = self.schedule.split_whitespace().collect::<Vec<_>>();
        let shorthand = schedule.len() == 1 && schedule[0].starts_with('@');
        if schedule.len() != 5 && !shorthand {
            return Err(
                "a schedule is five fields (minute hour day month weekday) or a \
                        shorthand such as @daily"
                    .into(),
            );
        }
        for (what, value) in [
            ("the policy file", &self.policy_file),
            ("the recovery directory", &self.recovery_dir),
        ] {
            if value.trim().is_empty() {
                return Err(format!("give {what}'s path on the machine that runs cron"));
            }
        }
        let mut words = vec!["cleanreg".to_owned(), "-r".into(), quote(&self.registry)];
        if let Some(user) = &self.user {
            words.extend(["-u".into(), quote(user)]);
        }
        words.extend(["--policy".into(), quote(self.policy_file.trim())]);
        for repository in &self.repositories {
            words.extend(["-n".into(), quote(repository)]);
        }
        words.extend([
            "--recovery-dir".into(),
            quote(self.recovery_dir.trim()),
            "-y".into(),
        ]);
        // cron turns an unescaped % into a newline, even inside quotes.
        let command = words.join(" ").replace('%', "\\%");
        Ok(format!("{} {command}", schedule.join(" ")))
    }
}

/// `text` as one shell word: as it is when it holds nothing special, else
/// in single quotes.
fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@,+=-".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The repositories a scan covered, as `-n` takes them.
fn repositories(scope: &ScanScope) -> Vec<String> {
    match scope {
        ScanScope::Catalog => Vec::new(),
        ScanScope::Repositories(names) => names.iter().map(ToString::to_string).collect(),
        ScanScope::Prefixes { names, prefixes } => names
            .iter()
            .map(ToString::to_string)
            .chain(prefixes.iter().cloned())
            .collect(),
    }
}

/// "Run it from cron": the line for the policy in force.
#[component]
pub(super) fn CronLine() -> impl IntoView {
    let state = AppState::get();
    let schedule = RwSignal::new("30 3 * * *".to_owned());
    let policy_file = RwSignal::new("/etc/cleanreg/cleanreg-policy.toml".to_owned());
    let recovery_dir = RwSignal::new("/var/lib/cleanreg/recovery".to_owned());
    let job = move || {
        state.session.with(|session| {
            session.as_ref().map(|session| CronJob {
                schedule: schedule.get(),
                registry: session.client.registry().to_string(),
                user: session.client.username().map(str::to_owned),
                repositories: repositories(&session.scope),
                policy_file: policy_file.get(),
                recovery_dir: recovery_dir.get(),
            })
        })
    };
    let line = move || job().map(|job| job.line());
    let has_user = move || job().is_some_and(|job| job.user.is_some());
    let field = |id: &'static str, label: &'static str, value: RwSignal<String>| {
        view! {
            <div class="import-row">
                <label for=id>{label}</label>
                <input
                    type="text"
                    id=id
                    data-testid=id
                    spellcheck="false"
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
            </div>
        }
    };
    view! {
        <section class="policy-io" aria-labelledby="cron-title">
        <h3 id="cron-title">"Run it from cron"</h3>
        <p class="hint">
            "Download the policy as TOML, put it on the machine that runs cron, and add this line to the crontab: it runs the policy unchanged, with the same registry and repositories, and keeps a recovery file per run."
        </p>
        {field("cron-schedule", "Schedule", schedule)}
        {field("cron-policy-file", "Policy file there", policy_file)}
        {field("cron-recovery-dir", "Recovery directory there", recovery_dir)}
        {move || match line() {
            None => view! {
                <p class="hint" data-testid="cron-line-waiting">
                    "Connect to a registry first: the line names it and the repositories scanned."
                </p>
            }
            .into_any(),
            Some(Err(problem)) => view! {
                <p class="error" role="alert" data-testid="cron-error">{problem}</p>
            }
            .into_any(),
            Some(Ok(text)) => {
                let copied = text.clone();
                view! {
                    <pre class="cron-line" data-testid="cron-line">{text}</pre>
                    <button
                        type="button"
                        data-testid="cron-copy"
                        on:click=move |_| browser::copy_text(&copied)
                    >
                        "Copy the line"
                    </button>
                }
                .into_any()
            }
        }}
        <p class="hint" hidden=move || !has_user()>
            "cleanreg reads the password from CLEANREG_PASSWORD: set it in the crontab's environment (a CLEANREG_PASSWORD=… line above this one, in a crontab only its owner can read) or the job's. The line never holds it."
        </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> CronJob {
        CronJob {
            schedule: "30 3 * * *".into(),
            registry: "https://registry.example.org:5000".into(),
            user: Some("admin".into()),
            repositories: vec!["team/app".into(), "ci/".into()],
            policy_file: "/etc/cleanreg/cleanreg-policy.toml".into(),
            recovery_dir: "/var/lib/cleanreg/recovery".into(),
        }
    }

    #[test]
    fn the_line_names_registry_user_repositories_policy_and_recovery_dir() {
        assert_eq!(
            job().line().unwrap(),
            "30 3 * * * cleanreg -r https://registry.example.org:5000 -u admin --policy \
             /etc/cleanreg/cleanreg-policy.toml -n team/app -n ci/ --recovery-dir \
             /var/lib/cleanreg/recovery -y"
        );
    }

    #[test]
    fn odd_values_are_quoted_and_percent_escaped_for_cron() {
        let line = CronJob {
            schedule: "@daily".into(),
            user: None,
            repositories: Vec::new(),
            policy_file: "/srv/my policy's 100%.toml".into(),
            ..job()
        }
        .line()
        .unwrap();
        assert_eq!(
            line,
            "@daily cleanreg -r https://registry.example.org:5000 --policy \
             '/srv/my policy'\\''s 100\\%.toml' --recovery-dir /var/lib/cleanreg/recovery -y"
        );
    }

    #[test]
    fn a_bad_schedule_or_an_empty_path_is_named() {
        let bad = CronJob {
            schedule: "daily".into(),
            ..job()
        };
        assert!(
            bad.line()
                .unwrap_err()
                .starts_with("a schedule is five fields")
        );
        let empty = CronJob {
            recovery_dir: " ".into(),
            ..job()
        };
        assert!(empty.line().unwrap_err().contains("recovery directory"));
    }
}
