//! Connecting: check the registry and the credentials, then scan the catalog.
//! When the check fails, probe further and explain the cause (`diagnose`).
//! "Scan again" reuses what the last scan read and did not change. Every
//! scan takes manifests from the browser's scan cache and consults its scan
//! history, which finds the manifests no tag points at any more.

use std::sync::Arc;

use cleanreg_core::{
    Client, Credentials, DeletePermissions, Error, Inventory, NoStorage, RegistryUrl, Reuse,
    ScanProgress, ScanScope, ScanSources,
};
use leptos::prelude::*;
use time::OffsetDateTime;

use crate::browser::{self, Store};
use crate::diagnose::{Diagnosis, DiagnosisView, Observed, PingFailure, SimpleGet, classify};
use crate::fetch::{FetchTransport, page_origin, probe_opaque, probe_simple};
use crate::route::Route;
use crate::state::AppState;
use crate::text;
use crate::throttle::{PROGRESS_INTERVAL_MS, Throttle};

/// `localStorage` key of the last registry URL.
pub const REGISTRY_KEY: &str = "cleanreg.registry";
/// `localStorage` key of the last username.
pub const USERNAME_KEY: &str = "cleanreg.username";
/// `sessionStorage` key of the password, only while "remember" is ticked.
pub const PASSWORD_KEY: &str = "cleanreg.password";

/// A scanned registry: the client that read it and what it holds.
#[derive(Clone)]
pub struct Session {
    pub client: Arc<Client<FetchTransport>>,
    pub inventory: Arc<Inventory>,
    /// When the scan finished; the plan's ages are relative to it.
    pub scanned_at: OffsetDateTime,
    /// What was scanned: the catalog, or the Repositories field's names.
    pub scope: ScanScope,
    /// Repositories whose token grants no `delete` (token auth only): the
    /// plan marks their changes and apply never sends them.
    pub permissions: Arc<DeletePermissions>,
}

/// What the form holds when the person presses connect.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectInput {
    pub url: String,
    pub username: String,
    pub password: String,
    /// The Repositories field: names and name prefixes ending in `/`, one
    /// a line; empty for the whole catalog.
    pub repositories: String,
}

impl std::fmt::Debug for ConnectInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectInput")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"***")
            .field("repositories", &self.repositories)
            .finish()
    }
}

impl ConnectInput {
    /// `None` when both fields are empty: an open registry.
    pub fn credentials(&self) -> Option<Credentials> {
        if self.username.is_empty() && self.password.is_empty() {
            None
        } else {
            Some(Credentials::new(
                self.username.clone(),
                self.password.clone(),
            ))
        }
    }
}

/// A successful connection: the session and which authentication the
/// registry asked for.
#[derive(Clone)]
pub struct Connected {
    pub session: Session,
    /// E.g. "basic auth", "token auth via auth.example:5001", "open".
    pub auth: String,
    /// How much of the scan came from the browser's cache (`cache::cache_note`),
    /// and whether scan history was there to use.
    pub cache_note: String,
    /// The repositories this account may not delete in, in words.
    pub permissions_note: Option<String>,
}

/// A failed connection: the one-line message and, when the cause is known,
/// its explanation and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub diagnosis: Option<Diagnosis>,
}

impl Failure {
    fn plain(message: String) -> Failure {
        Failure {
            message,
            diagnosis: None,
        }
    }
}

/// Pings, then scans every repository, reporting progress. The error is
/// the text the page shows.
pub async fn connect(
    input: &ConnectInput,
    progress: &mut dyn FnMut(&ScanProgress),
) -> Result<Session, String> {
    connect_checked(input, progress)
        .await
        .map(|connected| connected.session)
        .map_err(|failure| failure.message)
}

/// Like [`connect`], with the diagnosis of a failed check and the kind of
/// authentication of a successful one.
pub async fn connect_checked(
    input: &ConnectInput,
    progress: &mut dyn FnMut(&ScanProgress),
) -> Result<Connected, Failure> {
    let registry = RegistryUrl::parse(input.url.trim())
        .map_err(|e| Failure::plain(format!("Could not connect. {e}")))?;
    let scope = ScanScope::parse_list(&input.repositories)
        .map_err(|e| Failure::plain(format!("Could not connect. Repositories, {e}")))?;
    let credentials = input.credentials();
    let credentials_given = credentials.is_some();
    let client = Client::new(FetchTransport, registry.clone(), credentials);
    if let Err(error) = client.ping().await {
        // Probe only now: a probe without credentials would show the
        // registry's 401 as an error in the console of every good connect.
        let simple = probe_simple(registry.as_str()).await;
        let ping = PingFailure::of(&error, registry.origin());
        let mut seen = Observed {
            registry: registry.as_str().to_owned(),
            page_origin: page_origin(),
            credentials_given,
            ping,
            simple,
            opaque: None,
        };
        if matches!(seen.ping, PingFailure::NoAnswer { realm: None })
            && seen.simple == SimpleGet::Threw
            && !seen.same_origin()
        {
            seen.opaque = Some(probe_opaque(registry.as_str()).await);
        }
        let diagnosis = classify(&seen);
        return Err(Failure {
            message: failure_line(&error.to_string(), diagnosis.as_ref()),
            diagnosis,
        });
    }
    let auth = auth_label(client.token_realm().as_deref(), credentials_given);
    let (inventory, reuse, notes) = scan_with_browser_stores(&client, &scope, None, progress)
        .await
        .map_err(|error| scan_failure(&error, registry.as_str()))?;
    let permissions = client
        .delete_permissions(inventory.repositories.keys())
        .await;
    Ok(Connected {
        permissions_note: permissions_note(&permissions),
        session: Session {
            client: Arc::new(client),
            inventory: Arc::new(inventory),
            scanned_at: from_unix_millis(js_sys::Date::now()),
            scope,
            permissions: Arc::new(permissions),
        },
        auth,
        cache_note: notes.with_cache(&reuse),
    })
}

/// A scan that stopped: a refused catalog is diagnosed (name the
/// repositories), anything else is the error in full.
fn scan_failure(error: &Error, registry: &str) -> Failure {
    match error {
        Error::CatalogRefused { prefixes, .. } => {
            let code = error.registry_code().map(|code| code.as_str().to_owned());
            let diagnosis =
                Diagnosis::no_catalog(registry, error.status(), code.as_deref(), prefixes);
            Failure {
                message: failure_line("", Some(&diagnosis)),
                diagnosis: Some(diagnosis),
            }
        }
        error => Failure::plain(scan_stopped(error)),
    }
}

fn scan_stopped(error: &Error) -> String {
    format!("The scan stopped, so there is no plan. {error}")
}

/// "This account may not delete in a, b: …", when the token server said so.
pub fn permissions_note(permissions: &DeletePermissions) -> Option<String> {
    if permissions.is_empty() {
        return None;
    }
    let names: Vec<&str> = permissions.denied().map(|name| name.as_str()).collect();
    Some(format!(
        "This account has no delete permission in {}: the plan marks what it would delete \
         there, and apply never sends it.",
        names.join(", ")
    ))
}

/// Whether the browser's stores could be used in a scan.
struct StoreNotes {
    cache: bool,
    history: bool,
}

impl StoreNotes {
    /// The parenthesised note of a first scan: what came from the cache,
    /// and the lack of history when there is none.
    fn with_cache(&self, reuse: &Reuse) -> String {
        join_notes(crate::cache::cache_note(reuse, self.cache), self.history)
    }

    /// The note of a rescan: what it reused.
    fn with_reuse(&self, reuse: &Reuse) -> String {
        join_notes(reuse_note(reuse), self.history)
    }
}

fn join_notes(first: String, history: bool) -> String {
    match crate::history::history_note(history) {
        Some(missing) => format!("{first}; {missing}"),
        None => first,
    }
}

/// Scans the whole catalog with the browser's scan cache (manifests and
/// configs by digest: after a reload an unchanged registry costs a HEAD per
/// tag) and scan history (what earlier scans saw: the manifests a moved tag
/// left behind are found), reusing `previous` where given; then commits
/// what the scan wrote to both. The error is the text the page shows.
async fn scan_with_browser_stores(
    client: &Client<FetchTransport>,
    scope: &ScanScope,
    previous: Option<&Inventory>,
    progress: &mut dyn FnMut(&ScanProgress),
) -> Result<(Inventory, Reuse, StoreNotes), Error> {
    let cache = crate::cache::shared().await;
    let history = crate::history::shared().await;
    let sources = ScanSources {
        cache: &*cache,
        history: &*history,
        storage: &NoStorage,
        previous,
    };
    let (inventory, reuse) = client.scan_with(scope, &sources, progress).await?;
    crate::cache::settle(&cache).await;
    crate::history::settle(&history).await;
    let notes = StoreNotes {
        cache: cache.is_available(),
        history: history.is_available(),
    };
    Ok((inventory, reuse, notes))
}

/// The one-line failure: the diagnosis' title when there is one (the
/// diagnosis below explains), else the error in full.
pub fn failure_line(error: &str, diagnosis: Option<&Diagnosis>) -> String {
    match diagnosis {
        Some(diagnosis) => format!("Could not connect: {}.", diagnosis.title),
        None => format!("Could not connect. {error}"),
    }
}

/// Scans the session's registry again with its client, reusing what the
/// last scan read where the digests did not change; returns the new
/// session and the note for the status line.
pub async fn rescan(
    session: &Session,
    progress: &mut dyn FnMut(&ScanProgress),
) -> Result<(Session, String), String> {
    let (inventory, reuse, notes) = scan_with_browser_stores(
        &session.client,
        &session.scope,
        Some(&session.inventory),
        progress,
    )
    .await
    .map_err(|error| scan_stopped(&error))?;
    // Cached tokens answer for the repositories asked before.
    let permissions = session
        .client
        .delete_permissions(inventory.repositories.keys())
        .await;
    Ok((
        Session {
            client: Arc::clone(&session.client),
            inventory: Arc::new(inventory),
            scanned_at: from_unix_millis(js_sys::Date::now()),
            scope: session.scope.clone(),
            permissions: Arc::new(permissions),
        },
        notes.with_reuse(&reuse),
    ))
}

/// Which authentication is in use, in words: token auth when the registry
/// sent a Bearer challenge (the client followed it), else basic when
/// credentials were given and accepted, else none.
pub fn auth_label(token_realm: Option<&str>, credentials_given: bool) -> String {
    if let Some(realm) = token_realm {
        let after_scheme = realm.split_once("://").map_or(realm, |(_, rest)| rest);
        let host = after_scheme
            .split(['/', '?'])
            .next()
            .unwrap_or(after_scheme);
        return format!("token auth via {host}");
    }
    if credentials_given {
        "basic auth (credentials accepted)".to_owned()
    } else {
        "open (no authentication)".to_owned()
    }
}

/// How much a rescan took over, e.g. "reused 480 of 500 manifests".
pub fn reuse_note(reuse: &Reuse) -> String {
    let total = reuse.manifests_total();
    format!(
        "reused {} of {total} {}",
        reuse.manifests_reused,
        if total == 1 { "manifest" } else { "manifests" }
    )
}

/// The line under the progress bar: the repository being read.
pub fn reading_line(progress: &ScanProgress) -> String {
    match &progress.current {
        Some(name) => format!("Reading {name}"),
        None if progress.repositories_total == 0 => "Reading the catalog".to_owned(),
        None => "Finishing".to_owned(),
    }
}

/// Manifests read for tags so far (index children also count as read, so
/// this is capped at the number of tags).
fn tags_read(progress: &ScanProgress) -> usize {
    progress.manifests_read.min(progress.tags_total)
}

/// The browser clock's milliseconds as a time; the epoch if out of range.
pub fn from_unix_millis(millis: f64) -> OffsetDateTime {
    (millis as i128)
        .checked_mul(1_000_000)
        .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// What a submit should do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    /// Check and scan from scratch.
    Fresh(ConnectInput),
    /// Same registry and credentials as the session: scan again, reusing.
    Again,
}

/// The URL to start with: the route's, else the remembered one, else this
/// page's origin (the page served next to the registry).
pub fn initial_url(route: Option<String>, remembered: Option<String>, origin: String) -> String {
    route
        .filter(|url| !url.trim().is_empty())
        .or(remembered.filter(|url| !url.trim().is_empty()))
        .unwrap_or(origin)
}

/// The form, the scan's progress, the authentication in use, and what went
/// wrong. Connecting is disabled while deletes run.
#[component]
pub fn ConnectForm() -> impl IntoView {
    let state = AppState::get();
    let session = state.session;
    let busy = state.busy;
    let url = RwSignal::new(initial_url(
        state.route.with_untracked(|r| r.registry.clone()),
        browser::load(Store::Local, REGISTRY_KEY),
        page_origin(),
    ));
    let username = RwSignal::new(browser::load(Store::Local, USERNAME_KEY).unwrap_or_default());
    // From the link: the same scope again.
    let repositories = RwSignal::new(state.route.with_untracked(Route::scope_text));
    let remembered_password = browser::load(Store::Session, PASSWORD_KEY);
    let remember = RwSignal::new(remembered_password.is_some());
    let password = RwSignal::new(remembered_password.unwrap_or_default());
    // The password stays in this tab's sessionStorage only while ticked;
    // unticking forgets it at once.
    Effect::new(move |_| {
        if remember.get() {
            let password = password.get();
            if password.is_empty() {
                browser::forget(Store::Session, PASSWORD_KEY);
            } else {
                browser::save(Store::Session, PASSWORD_KEY, &password);
            }
        } else {
            browser::forget(Store::Session, PASSWORD_KEY);
        }
    });

    let status = RwSignal::new(String::new());
    let progress = RwSignal::new(None::<ScanProgress>);
    let error = RwSignal::new(None::<String>);
    let diagnosis = RwSignal::new(None::<Diagnosis>);
    let auth = RwSignal::new(None::<String>);
    let permissions = RwSignal::new(None::<String>);
    // The input the session was made with: "Scan again" reuses it only then.
    let connected_with = RwSignal::new(None::<ConnectInput>);

    let scan = Action::new_local(move |run: &Run| {
        let run = run.clone();
        async move {
            // A report comes after every answer; the page redraws at most
            // every PROGRESS_INTERVAL_MS. The catalog's start and the
            // scan's end (no current repository) always show.
            let mut shown = Throttle::new(PROGRESS_INTERVAL_MS);
            let mut report = |p: &ScanProgress| {
                if shown.due(js_sys::Date::now(), p.current.is_none()) {
                    status.set(text::scan_progress(p));
                    progress.set(Some(p.clone()));
                }
            };
            match run {
                Run::Again => {
                    let Some(current) = session.get_untracked() else {
                        return;
                    };
                    // Nothing may be planned or applied from the old
                    // inventory while the registry is read again.
                    session.set(None);
                    status.set("Scanning again …".to_owned());
                    match rescan(&current, &mut report).await {
                        Ok((scanned, note)) => {
                            status
                                .set(format!("{} ({note})", text::scan_done(&scanned.inventory),));
                            permissions.set(permissions_note(&scanned.permissions));
                            session.set(Some(scanned));
                        }
                        Err(message) => {
                            status.set("Scan failed: see the message below.".to_owned());
                            session.set(None);
                            connected_with.set(None);
                            error.set(Some(message));
                        }
                    }
                }
                Run::Fresh(input) => {
                    status.set(format!("Connecting to {} …", input.url.trim()));
                    match connect_checked(&input, &mut report).await {
                        Ok(connected) => {
                            status.set(format!(
                                "{} ({})",
                                text::scan_done(&connected.session.inventory),
                                connected.cache_note
                            ));
                            auth.set(Some(connected.auth));
                            permissions.set(connected.permissions_note);
                            connected_with.set(Some(input));
                            session.set(Some(connected.session));
                        }
                        Err(failure) => {
                            status.set("Scan failed: see the message below.".to_owned());
                            error.set(Some(failure.message));
                            diagnosis.set(failure.diagnosis);
                        }
                    }
                }
            }
            progress.set(None);
        }
    });
    let scanning = scan.pending();
    let count =
        move |field: fn(&ScanProgress) -> usize| progress.with(|p| p.as_ref().map_or(0, field));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if scanning.get_untracked() || busy.get_untracked() {
            return;
        }
        let input = ConnectInput {
            url: url.get_untracked().trim().to_owned(),
            username: username.get_untracked(),
            password: password.get_untracked(),
            repositories: repositories.get_untracked(),
        };
        browser::save(Store::Local, REGISTRY_KEY, &input.url);
        if input.username.is_empty() {
            browser::forget(Store::Local, USERNAME_KEY);
        } else {
            browser::save(Store::Local, USERNAME_KEY, &input.username);
        }
        state.plan_held.set(false);
        error.set(None);
        diagnosis.set(None);
        let again = session.with_untracked(Option::is_some)
            && connected_with.with_untracked(|with| with.as_ref() == Some(&input));
        if again {
            scan.dispatch_local(Run::Again);
        } else {
            session.set(None);
            auth.set(None);
            permissions.set(None);
            connected_with.set(None);
            state.route.update(|r| {
                r.registry = Some(input.url.clone());
                r.set_scope_text(&input.repositories);
            });
            scan.dispatch_local(Run::Fresh(input));
        }
    };

    view! {
        <form class="connect" on:submit=submit>
            <label>
                "Registry URL"
                <input
                    type="url"
                    data-testid="registry-url"
                    required
                    spellcheck="false"
                    bind:value=url
                />
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
            <crate::cache::ForgetCache disabled=Signal::derive(move || scanning.get()) />
            <crate::history::ForgetHistory disabled=Signal::derive(move || scanning.get()) />
        </div>
        <p class="status" data-testid="scan-status" aria-live="polite">
            {move || status.get()}
        </p>
        // Built once per scan; each update only changes texts and values.
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
        {move || {
            auth.get()
                .filter(|_| session.with(Option::is_some))
                .map(|auth| {
                    view! {
                        <p class="auth" data-testid="auth-kind">
                            {format!("Connected with {auth}.")}
                        </p>
                    }
                })
        }}
        {move || {
            permissions
                .get()
                .filter(|_| session.with(Option::is_some))
                .map(|note| {
                    view! {
                        <p class="auth" data-testid="permissions-note">
                            {note}
                        </p>
                    }
                })
        }}
        {move || {
            error
                .get()
                .map(|message| {
                    view! {
                        <p class="error" role="alert" data-testid="error">
                            {message}
                        </p>
                    }
                })
        }}
        {move || diagnosis.get().map(|diagnosis| view! { <DiagnosisView diagnosis /> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn browser_milliseconds_become_a_time() {
        assert_eq!(
            from_unix_millis(1_780_272_000_000.0),
            datetime!(2026-06-01 0:00 UTC)
        );
        assert_eq!(from_unix_millis(f64::MAX), OffsetDateTime::UNIX_EPOCH);
    }

    #[test]
    fn empty_fields_mean_no_credentials() {
        let mut input = ConnectInput {
            url: "http://r".into(),
            username: String::new(),
            password: String::new(),
            repositories: String::new(),
        };
        assert!(input.credentials().is_none());
        input.username = "admin".into();
        assert_eq!(input.credentials().unwrap().username, "admin");
    }

    #[test]
    fn the_password_never_prints() {
        let input = ConnectInput {
            url: "http://r".into(),
            username: "admin".into(),
            password: "s3cret".into(),
            repositories: String::new(),
        };
        let printed = format!("{input:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("admin"), "{printed}");
    }

    #[test]
    fn the_route_url_wins_over_the_remembered_one() {
        let origin = || "http://page".to_owned();
        assert_eq!(
            initial_url(Some("http://a".into()), Some("http://b".into()), origin()),
            "http://a"
        );
        assert_eq!(
            initial_url(None, Some("http://b".into()), origin()),
            "http://b"
        );
        assert_eq!(
            initial_url(Some(" ".into()), Some(String::new()), origin()),
            "http://page"
        );
    }

    #[test]
    fn the_auth_in_use_is_named() {
        assert_eq!(
            auth_label(Some("http://127.0.0.1:5001/token"), true),
            "token auth via 127.0.0.1:5001"
        );
        assert_eq!(
            auth_label(Some("https://auth.example/token?x"), false),
            "token auth via auth.example"
        );
        assert_eq!(auth_label(None, true), "basic auth (credentials accepted)");
        assert_eq!(auth_label(None, false), "open (no authentication)");
    }

    #[test]
    fn the_rescan_says_what_it_reused() {
        let reuse = Reuse {
            manifests_reused: 480,
            manifests_fetched: 20,
            configs_reused: 3,
            configs_fetched: 1,
            ..Reuse::default()
        };
        assert_eq!(reuse_note(&reuse), "reused 480 of 500 manifests");
        let one = Reuse {
            manifests_fetched: 1,
            ..Reuse::default()
        };
        assert_eq!(reuse_note(&one), "reused 0 of 1 manifest");
    }

    #[test]
    fn a_diagnosed_failure_is_one_line() {
        let diagnosis = Diagnosis::delete_disabled("http://r");
        assert_eq!(
            failure_line("long text", Some(&diagnosis)),
            "Could not connect: http://r does not allow deleting."
        );
        assert_eq!(
            failure_line("long text", None),
            "Could not connect. long text"
        );
    }

    #[test]
    fn the_reading_line_names_the_repository() {
        let mut progress = ScanProgress::default();
        assert_eq!(reading_line(&progress), "Reading the catalog");
        progress.repositories_total = 2;
        progress.current = Some("acme/api".parse().unwrap());
        assert_eq!(reading_line(&progress), "Reading acme/api");
    }
}
