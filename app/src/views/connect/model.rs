//! What connecting says and decides, as pure functions the native tests
//! reach: the form's input and its storage keys, the scan's progress and
//! result lines, the notes about authentication, permissions and reuse.
//!
//! The registry URL and the username are kept in `localStorage`; the
//! password only in `sessionStorage`, and only while "remember for this tab"
//! is ticked, so it ends with the tab.

use cleanreg_core::{Credentials, DeletePermissions, Inventory, Reuse, ScanProgress};

use super::diagnose::Diagnosis;

/// `localStorage` key of the last registry URL.
pub const REGISTRY_KEY: &str = "cleanreg.registry";
/// `localStorage` key of the last username.
pub const USERNAME_KEY: &str = "cleanreg.username";
/// `sessionStorage` key of the password, only while "remember" is ticked.
pub const PASSWORD_KEY: &str = "cleanreg.password";

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

/// A failed connection: the one-line message and, when the cause is known,
/// its explanation and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub diagnosis: Option<Diagnosis>,
}

impl Failure {
    pub fn plain(message: String) -> Failure {
        Failure {
            message,
            diagnosis: None,
        }
    }
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

/// The one-line failure: the diagnosis' title when there is one (the
/// diagnosis below explains), else the error in full.
pub fn failure_line(error: &str, diagnosis: Option<&Diagnosis>) -> String {
    match diagnosis {
        Some(diagnosis) => format!("Could not connect: {}.", diagnosis.title),
        None => format!("Could not connect. {error}"),
    }
}

pub fn scan_progress(progress: &ScanProgress) -> String {
    format!("Scanning: {progress}")
}

/// What a finished scan found; untagged manifests (found through scan
/// history) only when there are any.
pub fn scan_done(inventory: &Inventory) -> String {
    let mut text = format!(
        "Scan done: {} {}, {} {}, {} {}",
        inventory.repositories.len(),
        plural(inventory.repositories.len(), "repository", "repositories"),
        inventory.image_count(),
        plural(inventory.image_count(), "image", "images"),
        inventory.tag_count(),
        plural(inventory.tag_count(), "tag", "tags"),
    );
    let untagged = inventory.untagged_count();
    if untagged > 0 {
        text.push_str(&format!(
            ", {untagged} untagged {}",
            plural(untagged, "manifest", "manifests")
        ));
    }
    text
}

fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
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
pub fn tags_read(progress: &ScanProgress) -> usize {
    progress.manifests_read.min(progress.tags_total)
}

/// What a submit should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
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

/// Requests in flight for a registry the ping reached over `protocol`:
/// HTTP/2 and HTTP/3 carry many streams on one connection, so the round
/// trips overlap further; over HTTP/1.1 (or unknown) the browser opens at
/// most six connections per origin, and the core's default keeps them busy.
pub fn scan_concurrency(protocol: Option<&str>) -> usize {
    match protocol {
        Some("h2" | "h3") => 24,
        _ => cleanreg_core::DEFAULT_CONCURRENCY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_requests_in_flight_over_http2_and_3_only() {
        let default = cleanreg_core::DEFAULT_CONCURRENCY;
        assert!(scan_concurrency(Some("h2")) > default);
        assert_eq!(scan_concurrency(Some("h3")), scan_concurrency(Some("h2")));
        assert_eq!(scan_concurrency(Some("http/1.1")), default);
        assert_eq!(scan_concurrency(None), default);
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

    use cleanreg_core::{Digest, Found, Image, MediaType, Repository, Untagged};

    #[test]
    fn progress_lines_read_as_sentences() {
        let progress = ScanProgress {
            repositories_total: 5,
            repositories_done: 2,
            tags_total: 30,
            manifests_read: 31,
            blobs_read: 4,
            current: Some("acme/api".parse().unwrap()),
            ..ScanProgress::default()
        };
        assert_eq!(
            scan_progress(&progress),
            "Scanning: 2 of 5 repositories listed, 31 manifests read (30 tags), 4 configs read (last: acme/api)"
        );
        assert_eq!(
            scan_done(&Inventory::default()),
            "Scan done: 0 repositories, 0 images, 0 tags"
        );
        let found = ScanProgress {
            untagged_found: 2,
            current: None,
            ..progress
        };
        assert!(
            scan_progress(&found).ends_with(", 2 untagged found"),
            "{}",
            scan_progress(&found)
        );
    }

    #[test]
    fn a_scan_that_found_untagged_manifests_says_so() {
        let mut inventory = Inventory::default();
        let mut repository = Repository::default();
        let (old, new) = (Digest::sha256_of(b"old"), Digest::sha256_of(b"new"));
        for digest in [&old, &new] {
            repository.images.insert(
                digest.clone(),
                Image::simple(MediaType::OciManifest, None, 1),
            );
        }
        repository.tags.insert("main".parse().unwrap(), new);
        repository.untagged.insert(
            old,
            Untagged {
                found: vec![Found::History],
                ..Untagged::default()
            },
        );
        inventory
            .repositories
            .insert("app".parse().unwrap(), repository);
        assert_eq!(
            scan_done(&inventory),
            "Scan done: 1 repository, 1 image, 1 tag, 1 untagged manifest"
        );
    }
}
