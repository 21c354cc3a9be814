//! What earlier scans saw, to find manifests that no tag points at any more.
//!
//! The registry API lists tags, not manifests: once a tag moves (a CI job
//! pushing `main` again), the manifest it left is still stored but no
//! request lists it. A scan therefore records, per registry and repository,
//! every manifest digest it read and the tags it had then. A later scan
//! asks the registry about each recorded digest that nothing reaches any
//! more with one `HEAD` by digest: still there means untagged.
//!
//! Records live in a [`Cache`]-like store (the CLI's state directory, the
//! dashboard's IndexedDB) under `history/sha256:<hex>`, the hash of the
//! registry URL and the repository name: no credentials, and no name in
//! the key. Each record is JSON ([`HistoryRecord`]); a record that does not
//! parse, or that names another registry or repository, is ignored (the
//! next scan writes a good one).
//!
//! History is a store of its own, never trimmed with the scan cache: a
//! cache costs only requests to rebuild, but a lost record makes the
//! untagged manifests it knew invisible again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::cache::Cache;
use crate::digest::Digest;
use crate::inventory::Repository;
use crate::name::{RepositoryName, Tag};
use crate::protocol::RegistryUrl;

/// The format this code writes and reads.
pub const HISTORY_FORMAT: u32 = 1;

/// One repository's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub format: u32,
    /// The registry base URL ([`RegistryUrl::as_str`]), which never holds
    /// credentials.
    pub registry: String,
    pub repository: RepositoryName,
    /// Every manifest a scan read in the repository, still there when the
    /// record was written.
    pub manifests: BTreeMap<Digest, Seen>,
}

/// What a scan saw of one manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The tags that pointed at it when a scan last saw it tagged; empty
    /// for a manifest only an index or a subject led to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// When a scan last saw a tag lead to it (itself tagged, or listed by
    /// or attached to something tagged).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub in_use: Option<OffsetDateTime>,
}

/// The store key of a repository's record.
pub(crate) fn history_key(registry: &RegistryUrl, repository: &RepositoryName) -> String {
    let name = format!("{}\n{repository}", registry.as_str());
    format!("history/{}", Digest::sha256_of(name.as_bytes()))
}

/// The record of `repository`, if the store has a usable one.
pub(crate) async fn load(
    store: &impl Cache,
    registry: &RegistryUrl,
    repository: &RepositoryName,
) -> Option<HistoryRecord> {
    let bytes = store.get(&history_key(registry, repository)).await?;
    let record: HistoryRecord = serde_json::from_slice(&bytes).ok()?;
    (record.format == HISTORY_FORMAT
        && record.registry == registry.as_str()
        && record.repository == *repository)
        .then_some(record)
}

/// The record a scan leaves: every manifest of the scanned repository
/// (tagged ones with their tags as of `now`), and what the previous
/// record knew of those no tag reaches now.
pub(crate) fn record(
    registry: &RegistryUrl,
    name: &RepositoryName,
    repository: &Repository,
    previous: Option<&HistoryRecord>,
    now: OffsetDateTime,
) -> HistoryRecord {
    let mut manifests = BTreeMap::new();
    let tags_by_digest = repository.tags_by_digest();
    for digest in repository.images.keys() {
        let seen = if repository.untagged.contains_key(digest) {
            // Found only through history or storage: what was known stays.
            previous
                .and_then(|p| p.manifests.get(digest))
                .cloned()
                .unwrap_or_default()
        } else {
            Seen {
                tags: tags_by_digest
                    .get(digest)
                    .map(|tags| tags.iter().map(|&tag| tag.clone()).collect())
                    .unwrap_or_default(),
                in_use: Some(now),
            }
        };
        let seen = match (
            seen.tags.is_empty(),
            previous.and_then(|p| p.manifests.get(digest)),
        ) {
            // Reached through an index or subject now, tagged before:
            // keep the tags it last had.
            (true, Some(before)) if !before.tags.is_empty() => Seen {
                tags: before.tags.clone(),
                ..seen
            },
            _ => seen,
        };
        manifests.insert(digest.clone(), seen);
    }
    HistoryRecord {
        format: HISTORY_FORMAT,
        registry: registry.as_str().to_owned(),
        repository: name.clone(),
        manifests,
    }
}

pub(crate) async fn save(store: &impl Cache, registry: &RegistryUrl, record: &HistoryRecord) {
    let bytes = serde_json::to_vec(record).expect("a history record always serialises");
    store
        .put(&history_key(registry, &record.repository), bytes)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Found, Image, Untagged};
    use crate::media_type::MediaType;
    use std::cell::RefCell;
    use time::macros::datetime;

    #[derive(Default)]
    struct Memory(RefCell<BTreeMap<String, Vec<u8>>>);

    impl Cache for Memory {
        async fn get(&self, key: &str) -> Option<Vec<u8>> {
            self.0.borrow().get(key).cloned()
        }

        async fn put(&self, key: &str, value: Vec<u8>) {
            self.0.borrow_mut().insert(key.to_owned(), value);
        }
    }

    fn registry() -> RegistryUrl {
        RegistryUrl::parse("http://127.0.0.1:5000").unwrap()
    }

    #[test]
    fn a_record_keeps_tags_of_what_went_untagged_and_round_trips() {
        let name: RepositoryName = "team/app".parse().unwrap();
        let (old, new) = (Digest::sha256_of(b"old"), Digest::sha256_of(b"new"));
        let first_scan = datetime!(2026-12-01 0:00 UTC);
        let mut repository = Repository::default();
        repository
            .images
            .insert(old.clone(), Image::simple(MediaType::OciManifest, None, 1));
        repository.tags.insert("main".parse().unwrap(), old.clone());
        let first = record(&registry(), &name, &repository, None, first_scan);
        assert_eq!(first.manifests[&old].tags, vec!["main".parse().unwrap()]);

        // main moved; the old manifest is found untagged through history.
        repository
            .images
            .insert(new.clone(), Image::simple(MediaType::OciManifest, None, 1));
        repository.tags.insert("main".parse().unwrap(), new.clone());
        repository.untagged.insert(
            old.clone(),
            Untagged {
                found: vec![Found::History],
                ..Untagged::default()
            },
        );
        let later = datetime!(2026-12-02 0:00 UTC);
        let second = record(&registry(), &name, &repository, Some(&first), later);
        assert_eq!(second.manifests[&old], first.manifests[&old]);
        assert_eq!(second.manifests[&new].in_use, Some(later));

        let store = Memory::default();
        futures_executor::block_on(save(&store, &registry(), &second));
        let back = futures_executor::block_on(load(&store, &registry(), &name)).unwrap();
        assert_eq!(back, second);
        let other = RegistryUrl::parse("http://127.0.0.1:5001").unwrap();
        assert!(futures_executor::block_on(load(&store, &other, &name)).is_none());
        let key = history_key(&registry(), &name);
        assert!(!key.contains("team") && !key.contains("127.0.0.1"));
    }
}
