//! Manifests no tag points at: the digests history and the storage name
//! that the scan did not reach, checked and read like any other; and the
//! history records written at the end of a scan.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use time::OffsetDateTime;

use super::assemble::ASSEMBLE_STEP;
use super::read::Previous;
use super::tags::TagTargets;
use super::{Key, Reading, ScanProgress};
use crate::cache::Cache;
use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::Error;
use crate::history::{self, HistoryRecord};
use crate::inventory::{Found, Inventory, Untagged};
use crate::name::{RepositoryName, Tag};
use crate::storage::Storage;
use crate::transport::Transport;

/// Manifests found untagged, and the history records read on the way.
type FoundUntagged = (
    BTreeMap<Key, Untagged>,
    BTreeMap<RepositoryName, HistoryRecord>,
);

impl<T: Transport> Client<T> {
    /// Phases 3b and 3c: the manifests no tag leads to. First the
    /// referrers the API lists (before history, so a referrer the API lists
    /// costs no `HEAD` there), then what history and the storage name, with
    /// their children, and their referrers. Also the history records read.
    pub(super) async fn read_untagged<'p>(
        &self,
        names: &[RepositoryName],
        tag_targets: &TagTargets,
        reading: &mut Reading<'_, 'p>,
        previous: Option<&Previous<'p>>,
        (cache, history, storage): (&impl Cache, &impl Cache, &impl Storage),
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<FoundUntagged, Error> {
        let mut asked: BTreeSet<Key> = BTreeSet::new();
        let mut by_referrers: BTreeMap<Key, Untagged> = BTreeMap::new();
        self.find_referrers(
            reading,
            &mut by_referrers,
            &mut asked,
            previous,
            cache,
            progress,
        )
        .await?;
        let (mut untagged, records) = self
            .find_untagged(
                names,
                tag_targets,
                reading,
                history,
                storage,
                cache,
                progress,
            )
            .await?;
        if !untagged.is_empty() {
            self.read_children(reading, previous, cache, progress)
                .await?;
            self.find_referrers(
                reading,
                &mut untagged,
                &mut asked,
                previous,
                cache,
                progress,
            )
            .await?;
        }
        // Disjoint: history and storage name only what nothing reached.
        untagged.append(&mut by_referrers);
        Ok((untagged, records))
    }

    /// Finds the manifests that history or the storage name and the scan
    /// did not reach, asks the registry about those only history names
    /// (a `HEAD` by digest), and reads the ones still there.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn find_untagged(
        &self,
        names: &[RepositoryName],
        tag_targets: &BTreeMap<RepositoryName, BTreeMap<Tag, Digest>>,
        reading: &mut Reading<'_, '_>,
        history: &impl Cache,
        storage: &impl Storage,
        cache: &impl Cache,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<FoundUntagged, Error> {
        let mut found: BTreeMap<Key, Untagged> = BTreeMap::new();
        let mut records = BTreeMap::new();
        if !history.is_on() && !storage.is_present() {
            return Ok((found, records));
        }
        let limit = self.concurrency();
        let registry = self.registry();
        let mut answers = stream::iter(names.iter().map(|name| async move {
            let record = if history.is_on() {
                history::load(history, registry, name).await
            } else {
                None
            };
            (name, record, storage.manifests(name).await)
        }))
        .buffer_unordered(limit);
        while let Some((name, record, listed)) = answers.next().await {
            let listed = listed.map_err(|detail| storage_error(name, detail))?;
            if storage.is_present() {
                check_storage(name, tag_targets.get(name), listed.as_ref())?;
            }
            let unreached = |digest: &Digest| {
                !reading
                    .manifests
                    .contains_key(&(name.clone(), digest.clone()))
            };
            if history.is_on() && record.is_none() {
                reading.reuse.history_unknown += 1;
            }
            if let Some(record) = record {
                for (digest, seen) in record.manifests.iter().filter(|(d, _)| unreached(d)) {
                    let untagged = found.entry((name.clone(), digest.clone())).or_default();
                    untagged.found.push(Found::History);
                    untagged.last_tags = seen.tags.clone();
                    untagged.last_in_use = seen.in_use;
                }
                records.insert(name.clone(), record);
            }
            for (digest, pushed) in listed.into_iter().flatten() {
                if unreached(&digest) {
                    let untagged = found.entry((name.clone(), digest)).or_default();
                    untagged.found.push(Found::Storage);
                    untagged.pushed = pushed;
                }
            }
        }
        drop(answers);

        // What only history names: is it still there?
        let unsure: Vec<Key> = found
            .iter()
            .filter(|(_, untagged)| !untagged.found.contains(&Found::Storage))
            .map(|(key, _)| key.clone())
            .collect();
        let mut answers = stream::iter(unsure.into_iter().map(|(name, digest)| async move {
            let exists = self.manifest_exists(&name, &digest).await;
            (name, digest, exists)
        }))
        .buffer_unordered(limit);
        while let Some((name, digest, exists)) = answers.next().await {
            reading.reuse.untagged_checked += 1;
            if !exists? {
                reading.reuse.untagged_gone += 1;
                found.remove(&(name, digest));
            }
        }
        drop(answers);

        // Read the ones still there like any other manifest.
        let wanted: Vec<Key> = found.keys().cloned().collect();
        let mut answers = self.read_by_digest(cache, wanted);
        while let Some(((name, digest), fetched)) = answers.next().await {
            match fetched {
                Ok((fetched, source)) => {
                    reading.untagged_read((name, digest), fetched, source, progress);
                }
                // Deleted between the HEAD (or the listing) and the read.
                Err(error) if is_not_found(&error) => {
                    found.remove(&(name, digest));
                }
                Err(error) => return Err(error),
            }
        }
        Ok((found, records))
    }

    /// Writes each repository's history record, when there is a history.
    pub(super) async fn save_history(
        &self,
        history: &impl Cache,
        inventory: &Inventory,
        records: &BTreeMap<RepositoryName, HistoryRecord>,
    ) {
        if !history.is_on() {
            return;
        }
        let now = self.now();
        // Yield between steps of about as many manifests as `assemble` adds
        // in one: the records of a large registry are work for the page too.
        let mut since_yield = 0;
        for (name, repository) in &inventory.repositories {
            let record = history::record(self.registry(), name, repository, records.get(name), now);
            history::save(history, self.registry(), &record).await;
            since_yield += repository.images.len();
            if since_yield >= ASSEMBLE_STEP {
                since_yield = 0;
                self.yield_now().await;
            }
        }
    }
}

fn storage_error(name: &RepositoryName, detail: String) -> Error {
    Error::Protocol {
        request: format!("reading the registry's storage for {name}"),
        detail,
    }
}

/// A storage that does not hold what the registry's tags point at is not
/// this registry's: its manifests must not be taken for untagged ones.
fn check_storage(
    name: &RepositoryName,
    tags: Option<&BTreeMap<Tag, Digest>>,
    listed: Option<&BTreeMap<Digest, Option<OffsetDateTime>>>,
) -> Result<(), Error> {
    let Some(tags) = tags.filter(|tags| !tags.is_empty()) else {
        return Ok(());
    };
    let fix = "give --storage the rootdirectory of this registry's filesystem storage (storage: filesystem: rootdirectory in its config.yml)";
    match listed {
        None => Err(storage_error(
            name,
            format!("the storage has no repository {name}, which the registry serves; {fix}"),
        )),
        Some(listed) if !tags.values().any(|digest| listed.contains_key(digest)) => {
            Err(storage_error(
                name,
                format!(
                    "none of the manifests {name}'s {} tags point at is in the storage; {fix}",
                    tags.len()
                ),
            ))
        }
        Some(_) => Ok(()),
    }
}
