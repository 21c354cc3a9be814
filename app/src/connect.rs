//! Connecting: check the registry and the credentials, then scan the catalog.

use std::sync::Arc;

use cleanreg_core::{Client, Credentials, Inventory, RegistryUrl, ScanProgress, ScanScope};
use leptos::prelude::*;
use time::OffsetDateTime;

use crate::fetch::{FetchTransport, page_origin};
use crate::state::AppState;
use crate::text;

/// A scanned registry: the client that read it and what it holds.
#[derive(Clone)]
pub struct Session {
    pub client: Arc<Client<FetchTransport>>,
    pub inventory: Arc<Inventory>,
    /// When the scan finished; the plan's ages are relative to it.
    pub scanned_at: OffsetDateTime,
}

/// What the form holds when the person presses connect.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectInput {
    pub url: String,
    pub username: String,
    pub password: String,
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

/// Pings, then scans every repository, reporting progress. The error is
/// the text the page shows.
pub async fn connect(
    input: &ConnectInput,
    progress: &mut dyn FnMut(&ScanProgress),
) -> Result<Session, String> {
    let registry = RegistryUrl::parse(&input.url).map_err(|e| e.to_string())?;
    let client = Client::new(FetchTransport, registry, input.credentials());
    client
        .ping()
        .await
        .map_err(|e| format!("Could not connect. {e}"))?;
    let inventory = client
        .scan(&ScanScope::Catalog, progress)
        .await
        .map_err(|e| format!("The scan stopped, so there is no plan. {e}"))?;
    Ok(Session {
        client: Arc::new(client),
        inventory: Arc::new(inventory),
        scanned_at: from_unix_millis(js_sys::Date::now()),
    })
}

/// The browser clock's milliseconds as a time; the epoch if out of range.
pub fn from_unix_millis(millis: f64) -> OffsetDateTime {
    (millis as i128)
        .checked_mul(1_000_000)
        .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The form and the scan's progress line. Connecting is disabled while
/// deletes run.
#[component]
pub fn ConnectForm() -> impl IntoView {
    let state = AppState::get();
    let session = state.session;
    let busy = state.busy;
    let url = RwSignal::new(
        state
            .route
            .with_untracked(|r| r.registry.clone())
            .unwrap_or_else(page_origin),
    );
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);

    let scan = Action::new_local(move |input: &ConnectInput| {
        let input = input.clone();
        async move {
            status.set(format!("Connecting to {} …", input.url.trim()));
            let result = connect(&input, &mut |progress| {
                status.set(text::scan_progress(progress));
            })
            .await;
            match result {
                Ok(scanned) => {
                    status.set(text::scan_done(&scanned.inventory));
                    session.set(Some(scanned));
                }
                Err(message) => {
                    status.set("Scan failed: see the message below.".to_owned());
                    error.set(Some(message));
                }
            }
        }
    });
    let scanning = scan.pending();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if scanning.get_untracked() || busy.get_untracked() {
            return;
        }
        state.plan_held.set(false);
        session.set(None);
        state
            .route
            .update(|r| r.registry = Some(url.get_untracked().trim().to_owned()));
        error.set(None);
        scan.dispatch_local(ConnectInput {
            url: url.get_untracked(),
            username: username.get_untracked(),
            password: password.get_untracked(),
        });
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
            <button
                type="submit"
                data-testid="connect"
                disabled=move || scanning.get() || busy.get()
            >
                {move || if session.with(Option::is_some) { "Scan again" } else { "Connect" }}
            </button>
        </form>
        <p class="status" data-testid="scan-status" aria-live="polite">
            {move || status.get()}
        </p>
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
        };
        assert!(input.credentials().is_none());
        input.username = "admin".into();
        assert_eq!(input.credentials().unwrap().username, "admin");
    }
}
