//! Connecting: check the registry and the credentials, then scan the catalog.
//! When the check fails, probe further and explain the cause (`diagnose`).
//! "Scan again" reuses what the last scan read and did not change. Every
//! scan takes manifests from the browser's scan cache and consults its scan
//! history, which finds the manifests no tag points at any more.
//!
//! The Repositories field lives in the route (`scope=`), so a link carries
//! it. Scan progress is redrawn at most every 100 ms, the last report always
//! (see `platform::throttle`).

pub mod diagnose;
mod diagnosis;
pub mod model;
mod scan;
mod stores;

use cleanreg_core::ScanProgress;
use leptos::prelude::*;

use crate::platform::browser::{self, Store};
use crate::platform::fetch::page_origin;
use crate::platform::throttle::{PROGRESS_INTERVAL_MS, Throttle};
use crate::route::Route;
use crate::state::{AppState, Session};
use diagnose::Diagnosis;
pub use diagnosis::DiagnosisView;
use model::{
    ConnectInput, PASSWORD_KEY, REGISTRY_KEY, Run, USERNAME_KEY, initial_url, permissions_note,
    reading_line, tags_read,
};
pub use scan::{Connected, connect, connect_checked, rescan};
use stores::{ForgetCache, ForgetHistory};

/// The form's fields, filled from the link and what this browser remembers.
#[derive(Clone, Copy)]
struct Fields {
    url: RwSignal<String>,
    username: RwSignal<String>,
    password: RwSignal<String>,
    /// Names and name prefixes, one a line; empty for the whole catalog.
    repositories: RwSignal<String>,
    /// "Remember the password in this tab".
    remember: RwSignal<bool>,
}

impl Fields {
    /// The URL from the route, else the remembered one, else this page's
    /// origin; the remembered username; the route's scope; the password
    /// only when this tab remembers it.
    fn load(route: RwSignal<Route>) -> Fields {
        let remembered_password = browser::load(Store::Session, PASSWORD_KEY);
        Fields {
            url: RwSignal::new(initial_url(
                route.with_untracked(|r| r.registry.clone()),
                browser::load(Store::Local, REGISTRY_KEY),
                page_origin(),
            )),
            username: RwSignal::new(browser::load(Store::Local, USERNAME_KEY).unwrap_or_default()),
            // From the link: the same scope again.
            repositories: RwSignal::new(route.with_untracked(Route::scope_text)),
            remember: RwSignal::new(remembered_password.is_some()),
            password: RwSignal::new(remembered_password.unwrap_or_default()),
        }
    }

    /// The password stays in this tab's sessionStorage only while ticked;
    /// unticking forgets it at once.
    fn keep_password_only_while_ticked(self) {
        Effect::new(move |_| {
            if self.remember.get() {
                let password = self.password.get();
                if password.is_empty() {
                    browser::forget(Store::Session, PASSWORD_KEY);
                } else {
                    browser::save(Store::Session, PASSWORD_KEY, &password);
                }
            } else {
                browser::forget(Store::Session, PASSWORD_KEY);
            }
        });
    }

    /// What the fields hold now, the URL trimmed.
    fn input(self) -> ConnectInput {
        ConnectInput {
            url: self.url.get_untracked().trim().to_owned(),
            username: self.username.get_untracked(),
            password: self.password.get_untracked(),
            repositories: self.repositories.get_untracked(),
        }
    }
}

/// Remembers the URL and the username in this browser (`localStorage`);
/// an empty username forgets the last one.
fn remember_url_and_username(input: &ConnectInput) {
    browser::save(Store::Local, REGISTRY_KEY, &input.url);
    if input.username.is_empty() {
        browser::forget(Store::Local, USERNAME_KEY);
    } else {
        browser::save(Store::Local, USERNAME_KEY, &input.username);
    }
}

/// What the page says about the scan running or last run.
#[derive(Clone, Copy)]
struct ScanReport {
    status: RwSignal<String>,
    progress: RwSignal<Option<ScanProgress>>,
    error: RwSignal<Option<String>>,
    diagnosis: RwSignal<Option<Diagnosis>>,
    /// The authentication in use, in words.
    auth: RwSignal<Option<String>>,
    permissions: RwSignal<Option<String>>,
    /// The input the session was made with: "Scan again" reuses it only then.
    connected_with: RwSignal<Option<ConnectInput>>,
}

impl ScanReport {
    fn new() -> ScanReport {
        ScanReport {
            status: RwSignal::new(String::new()),
            progress: RwSignal::new(None),
            error: RwSignal::new(None),
            diagnosis: RwSignal::new(None),
            auth: RwSignal::new(None),
            permissions: RwSignal::new(None),
            connected_with: RwSignal::new(None),
        }
    }

    /// The scan's progress reports as the page shows them. A report comes
    /// after every answer; the page redraws at most every
    /// PROGRESS_INTERVAL_MS. The catalog's start and the scan's end (no
    /// current repository) always show.
    fn progress_reporter(self) -> impl FnMut(&ScanProgress) {
        let mut shown = Throttle::new(PROGRESS_INTERVAL_MS);
        move |p: &ScanProgress| {
            if shown.due(js_sys::Date::now(), p.current.is_none()) {
                self.status.set(model::scan_progress(p));
                self.progress.set(Some(p.clone()));
            }
        }
    }
}

/// Scans the session's registry again, reusing what the last scan read.
async fn scan_again(session: RwSignal<Option<Session>>, report: ScanReport) {
    let Some(current) = session.get_untracked() else {
        return;
    };
    // Nothing may be planned or applied from the old inventory while the
    // registry is read again.
    session.set(None);
    report.status.set("Scanning again …".to_owned());
    match rescan(&current, &mut report.progress_reporter()).await {
        Ok((scanned, note)) => {
            report
                .status
                .set(format!("{} ({note})", model::scan_done(&scanned.inventory),));
            report
                .permissions
                .set(permissions_note(&scanned.permissions));
            session.set(Some(scanned));
        }
        Err(message) => {
            report
                .status
                .set("Scan failed: see the message below.".to_owned());
            session.set(None);
            report.connected_with.set(None);
            report.error.set(Some(message));
        }
    }
}

/// Checks the registry and scans it from scratch.
async fn scan_fresh(input: ConnectInput, session: RwSignal<Option<Session>>, report: ScanReport) {
    report
        .status
        .set(format!("Connecting to {} …", input.url.trim()));
    match connect_checked(&input, &mut report.progress_reporter()).await {
        Ok(connected) => {
            report.status.set(format!(
                "{} ({})",
                model::scan_done(&connected.session.inventory),
                connected.cache_note
            ));
            report.auth.set(Some(connected.auth));
            report.permissions.set(connected.permissions_note);
            report.connected_with.set(Some(input));
            session.set(Some(connected.session));
        }
        Err(failure) => {
            report
                .status
                .set("Scan failed: see the message below.".to_owned());
            report.error.set(Some(failure.message));
            report.diagnosis.set(failure.diagnosis);
        }
    }
}

/// The form, the scan's progress, the authentication in use, and what went
/// wrong. Connecting is disabled while deletes run.
#[component]
pub fn ConnectForm() -> impl IntoView {
    let state = AppState::get();
    let session = state.session;
    let busy = state.busy;
    let fields = Fields::load(state.route);
    fields.keep_password_only_while_ticked();
    let report = ScanReport::new();

    let scan = Action::new_local(move |run: &Run| {
        let run = run.clone();
        async move {
            match run {
                Run::Again => scan_again(session, report).await,
                Run::Fresh(input) => scan_fresh(input, session, report).await,
            }
            report.progress.set(None);
        }
    });
    let scanning = scan.pending();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if scanning.get_untracked() || busy.get_untracked() {
            return;
        }
        let input = fields.input();
        remember_url_and_username(&input);
        state.plan_held.set(false);
        report.error.set(None);
        report.diagnosis.set(None);
        let again = session.with_untracked(Option::is_some)
            && report
                .connected_with
                .with_untracked(|with| with.as_ref() == Some(&input));
        if again {
            scan.dispatch_local(Run::Again);
        } else {
            session.set(None);
            report.auth.set(None);
            report.permissions.set(None);
            report.connected_with.set(None);
            state.route.update(|r| {
                r.registry = Some(input.url.clone());
                r.set_scope_text(&input.repositories);
            });
            scan.dispatch_local(Run::Fresh(input));
        }
    };

    view! {
        <form class="connect" on:submit=submit>
            <ConnectFields fields=fields />
            <button
                type="submit"
                data-testid="connect"
                disabled=move || scanning.get() || busy.get()
            >
                {move || if session.with(Option::is_some) { "Scan again" } else { "Connect" }}
            </button>
        </form>
        <p class="hint">
            "Leave username and password empty for an open registry; token authentication is \
             detected from the registry's answer. Repositories: names, or name prefixes ending \
             in / (team/), one a line, to clean only those; registries that do not list their \
             repositories (GitLab, Harbor, GHCR, Docker Hub) need the names. The URL and username are remembered in this \
             browser; the password only in this tab, and only when ticked."
        </p>
        <div class="browser-stores">
            <ForgetCache disabled=Signal::derive(move || scanning.get()) />
            <ForgetHistory disabled=Signal::derive(move || scanning.get()) />
        </div>
        <p class="status" data-testid="scan-status" aria-live="polite">
            {move || report.status.get()}
        </p>
        <ScanProgressView progress=report.progress />
        <ScanNotes report=report session=session />
    }
}

/// The form's fields: URL, username, password, repositories, and whether
/// this tab remembers the password.
#[component]
fn ConnectFields(fields: Fields) -> impl IntoView {
    let Fields {
        url,
        username,
        password,
        repositories,
        remember,
    } = fields;
    view! {
        <label>
            "Registry URL"
            <input type="url" data-testid="registry-url" required spellcheck="false" bind:value=url />
        </label>
        <label>
            "Username"
            <input
                type="text"
                data-testid="username"
                autocomplete="username"
                spellcheck="false"
                bind:value=username
            />
        </label>
        <label>
            "Password"
            <input
                type="password"
                data-testid="password"
                autocomplete="current-password"
                bind:value=password
            />
        </label>
        <label>
            "Repositories"
            <textarea
                data-testid="repositories"
                rows="3"
                spellcheck="false"
                placeholder="empty: every repository of the catalog"
                prop:value=move || repositories.get()
                on:input=move |ev| repositories.set(event_target_value(&ev))
            ></textarea>
        </label>
        <label class="remember">
            <input type="checkbox" data-testid="remember-password" bind:checked=remember />
            "Remember the password in this tab"
        </label>
    }
}

/// The running scan: repositories listed, tags read, the repository being
/// read. Built once per scan; each update only changes texts and values.
#[component]
fn ScanProgressView(progress: RwSignal<Option<ScanProgress>>) -> impl IntoView {
    let count =
        move |field: fn(&ScanProgress) -> usize| progress.with(|p| p.as_ref().map_or(0, field));
    view! {
        <Show when=move || progress.with(Option::is_some)>
            <div class="scan-progress" data-testid="scan-progress">
                <label>
                    {move || {
                        format!(
                            "Repositories listed: {} of {}",
                            count(|p| p.repositories_done),
                            count(|p| p.repositories_total),
                        )
                    }}
                    <progress
                        max=move || count(|p| p.repositories_total).max(1).to_string()
                        value=move || count(|p| p.repositories_done).to_string()
                    ></progress>
                </label>
                <label>
                    {move || format!("Tags read: {} of {}", count(tags_read), count(|p| p.tags_total))}
                    <progress
                        max=move || count(|p| p.tags_total).max(1).to_string()
                        value=move || count(tags_read).to_string()
                    ></progress>
                </label>
                <p data-testid="scan-current">
                    {move || progress.with(|p| p.as_ref().map(reading_line).unwrap_or_default())}
                </p>
            </div>
        </Show>
    }
}

/// Below the status: the authentication in use and the repositories this
/// account may not delete in (while connected), and what went wrong.
#[component]
fn ScanNotes(report: ScanReport, session: RwSignal<Option<Session>>) -> impl IntoView {
    let connected = move || session.with(Option::is_some);
    view! {
        {move || {
            report
                .auth
                .get()
                .filter(|_| connected())
                .map(|auth| {
                    view! {
                        <p class="auth" data-testid="auth-kind">
                            {format!("Connected with {auth}.")}
                        </p>
                    }
                })
        }}
        {move || {
            report
                .permissions
                .get()
                .filter(|_| connected())
                .map(|note| {
                    view! {
                        <p class="auth" data-testid="permissions-note">
                            {note}
                        </p>
                    }
                })
        }}
        {move || {
            report
                .error
                .get()
                .map(|message| {
                    view! {
                        <p class="error" role="alert" data-testid="error">
                            {message}
                        </p>
                    }
                })
        }}
        {move || report.diagnosis.get().map(|diagnosis| view! { <DiagnosisView diagnosis /> })}
    }
}
