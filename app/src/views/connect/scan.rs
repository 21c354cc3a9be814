//! Connecting and scanning: check the registry and the credentials (and
//! probe further when the check fails), then scan with the browser's scan
//! cache and scan history; "Scan again" reuses what the last scan read.
//!
//! Both the first scan and "Scan again" go through `Client::scan_with` (the
//! cache, the history, and for "Scan again" the previous inventory). The
//! probes run only after the check fails: a probe without credentials would
//! put the registry's 401 in the console of every good connect. After a
//! token-auth scan the session holds the `DeletePermissions` the token
//! server gave, which the planner passes on to `PlanBuilder`.

use std::sync::Arc;

use cleanreg_core::{
    Client, Error, Inventory, NoStorage, RegistryUrl, Reuse, ScanProgress, ScanScope, ScanSources,
};

use super::diagnose::{Diagnosis, Observed, PingFailure, classify};
use super::model::{ConnectInput, Failure, auth_label, failure_line, permissions_note, reuse_note};
use crate::platform::fetch::{FetchTransport, page_origin};
use crate::platform::probe::{SimpleGet, probe_opaque, probe_simple};
use crate::platform::{cache, history, timer};
use crate::state::Session;

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
    let client = client.with_concurrency(super::model::scan_concurrency(
        crate::platform::browser::protocol_of_last(registry.origin()).as_deref(),
    ));
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
            scanned_at: timer::now(),
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

/// Whether the browser's stores could be used in a scan.
struct StoreNotes {
    cache: bool,
    history: bool,
}

impl StoreNotes {
    /// The parenthesised note of a first scan: what came from the cache,
    /// and the lack of history when there is none.
    fn with_cache(&self, reuse: &Reuse) -> String {
        join_notes(cache::cache_note(reuse, self.cache), self.history)
    }

    /// The note of a rescan: what it reused.
    fn with_reuse(&self, reuse: &Reuse) -> String {
        join_notes(reuse_note(reuse), self.history)
    }
}

fn join_notes(first: String, history: bool) -> String {
    match history::history_note(history) {
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
    let cache = cache::shared().await;
    let history = history::shared().await;
    let sources = ScanSources {
        cache: &*cache,
        history: &*history,
        storage: &NoStorage,
        previous,
    };
    let (inventory, reuse) = client.scan_with(scope, &sources, progress).await?;
    cache::settle(&cache).await;
    history::settle(&history).await;
    let notes = StoreNotes {
        cache: cache.is_available(),
        history: history.is_available(),
    };
    Ok((inventory, reuse, notes))
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
            scanned_at: timer::now(),
            scope: session.scope.clone(),
            permissions: Arc::new(permissions),
        },
        notes.with_reuse(&reuse),
    ))
}
