//! Reading a registry into an [`Inventory`].
//!
//! A scan runs in phases, each with up to [`Client::concurrency`] requests in
//! flight (default 8): the tag lists, one manifest per tag, the children of
//! indexes (by digest, each once per repository), the config blob of every
//! image (each once per registry), and a `HEAD` for the subject of every
//! attached artifact that no tag leads to. The inventory is assembled from the answers
//! in name and digest order, so any concurrency gives the same result.
//! Any failed read fails the scan, so a plan is never made from a partial
//! inventory. Two 404s are facts, not failures: an index child the registry
//! lost (the index stays, listing it) and a lost config blob (the date is
//! unknown, so the image is kept).
//!
//! [`Client::rescan`] starts from a previous inventory: a `HEAD` per tag
//! gives its digest, and a manifest whose digest the previous inventory
//! holds for that repository (with, for an index, every child) is taken
//! from there; only new digests are fetched, and config blobs whose date is
//! known are not read again. The result equals a fresh scan's.
//!
//! [`Client::scan_cached`] does the same across runs with a
//! content-addressed [`Cache`]: once a scan of the registry has finished
//! with the cache, the next one learns each tag's digest with a `HEAD` and
//! takes the manifest from the cache when it has it (checked against the
//! digest); children and config blobs come from it too. What it fetches it
//! stores. A first scan costs one `GET` per tag, as without a cache. The
//! inventory is the same with or without a cache (tested against a real
//! registry, with a damaged entry and with the cache deleted).
//!
//! [`Client::scan_with`] also finds manifests no tag points at (see
//! [`crate::history`] and [`crate::storage`]): after the tagged manifests
//! and their children, it asks about every digest the repository's history
//! record or its storage names that the scan did not reach (a `HEAD` by
//! digest for those only history names), reads the ones still there (with
//! their children, configs and subjects, like any other) and records them
//! in [`Repository::untagged`](crate::Repository::untagged). Then it writes
//! each repository's history record.
//!
//! Every scan also asks whether the registry serves the OCI 1.1 referrers
//! API, right after the tagged manifests and their children: one
//! `GET /v2/<name>/referrers/<digest>` for the first manifest read (a 404
//! means no, and nothing more is asked; see [`Client::serves_referrers`]
//! for a browser that cannot read that answer). Where it does, it lists the
//! referrers of every manifest read (one request each, plus `Link` pages;
//! never from a cache: a subject gains referrers without changing), reads
//! those the scan did not reach otherwise, and lists theirs in turn; after
//! history and storage, the referrers of what they found too. They enter
//! [`Repository::untagged`](crate::Repository::untagged) as found through
//! [`Found::Referrers`](crate::Found::Referrers) and, having a `subject`,
//! follow it in the plan. One also under a fallback tag
//! is one manifest, read once; one history knows costs no `HEAD`.
//!
//! [`Client::scan_with`] reads as the list of its phases, each in a file of
//! its own: `scope` (the repository names), `tags` (tag lists and the
//! manifest per tag), `children`, `referrers`, `untagged` (history and
//! storage, and the history records written at the end), `configs`,
//! `subjects`, then `assemble`. `read` reads one manifest or config through
//! the previous inventory and the cache; `progress` holds what a scan
//! reports.

mod assemble;
mod children;
mod configs;
mod progress;
mod read;
mod referrers;
mod scope;
mod subjects;
mod tags;
mod untagged;

use std::collections::{BTreeMap, BTreeSet};

use crate::cache::{self, Cache, NoCache};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::Error;
use crate::inventory::Inventory;
use crate::name::RepositoryName;
use crate::protocol::FetchedManifest;
use crate::storage::{NoStorage, Storage, StorageBlobs};
use crate::transport::Transport;

use assemble::Assembly;
pub use progress::{Reuse, ScanProgress};
use read::{Previous, Read, Source};
pub use scope::ScanScope;

/// Index nesting deeper than this is not followed (a loop or an attack).
const MAX_INDEX_DEPTH: usize = 8;

type Key = (RepositoryName, Digest);

/// What a scan may use besides the registry's API; each part is optional.
pub struct ScanSources<'a, C, H, S> {
    /// Manifests and configs by digest ([`Cache`]); [`NoCache`] for none.
    pub cache: &'a C,
    /// Where scans keep what they saw ([`crate::history`]), to find
    /// manifests no tag points at any more; [`NoCache`] for none.
    pub history: &'a H,
    /// The registry's storage, read-only ([`Storage`]); [`NoStorage`] for
    /// none.
    pub storage: &'a S,
    /// An earlier inventory of the same registry, whose manifests need not
    /// be read again (see [`Client::rescan`]).
    pub previous: Option<&'a Inventory>,
}

impl ScanSources<'static, NoCache, NoCache, NoStorage> {
    /// Only the registry's API.
    pub fn none() -> Self {
        ScanSources {
            cache: &NoCache,
            history: &NoCache,
            storage: &NoStorage,
            previous: None,
        }
    }
}

impl<T: Transport> Client<T> {
    /// Reads every tag of the scope into an inventory. Any failed read stops
    /// the scan: a plan made from a partial inventory could delete too much.
    pub async fn scan(
        &self,
        scope: &ScanScope,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<Inventory, Error> {
        let (inventory, _) = self
            .scan_with(scope, &ScanSources::none(), progress)
            .await?;
        Ok(inventory)
    }

    /// [`Client::scan`] with a content-addressed cache (see the module
    /// documentation): what the cache holds is not fetched again, what is
    /// fetched is stored. The result equals a scan without it.
    pub async fn scan_cached(
        &self,
        scope: &ScanScope,
        cache: &impl Cache,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<(Inventory, Reuse), Error> {
        let sources = ScanSources {
            cache,
            history: &NoCache,
            storage: &NoStorage,
            previous: None,
        };
        self.scan_with(scope, &sources, progress).await
    }

    /// A scan with everything it may use: a cache, history, the storage and
    /// an earlier inventory (see [`ScanSources`] and the module
    /// documentation). The inventory's tagged part equals a plain scan's;
    /// history and storage add the untagged manifests they know of.
    pub async fn scan_with(
        &self,
        scope: &ScanScope,
        sources: &ScanSources<'_, impl Cache, impl Cache, impl Storage>,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<(Inventory, Reuse), Error> {
        let previous = sources.previous.map(Previous::new);
        // Manifests and configs the storage holds cost no request.
        let cache = StorageBlobs {
            storage: sources.storage,
            cache: sources.cache,
        };
        self.scan_reusing(
            scope,
            previous.as_ref(),
            &cache,
            sources.history,
            sources.storage,
            progress,
        )
        .await
    }

    /// Scans again, reusing what did not change since `previous`: each tag's
    /// digest is learnt with a `HEAD` (its `Docker-Content-Digest`), and a
    /// manifest whose digest `previous` already holds for that repository is
    /// taken from there with its children, dates and sizes instead of being
    /// fetched; config blobs whose date `previous` knows are not read again.
    /// Where the header is not visible (a browser across origins without
    /// `Access-Control-Expose-Headers`) the manifest is fetched as in
    /// [`Client::scan`]. Manifests are immutable by digest, so the result
    /// equals a fresh scan's, as long as nothing `previous` read was deleted
    /// while still listed by a tagged index.
    pub async fn rescan(
        &self,
        scope: &ScanScope,
        previous: &Inventory,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<(Inventory, Reuse), Error> {
        self.scan_reusing(
            scope,
            Some(&Previous::new(previous)),
            &NoCache,
            &NoCache,
            &NoStorage,
            progress,
        )
        .await
    }

    /// The scan itself: one phase after the other, each with up to
    /// [`Client::concurrency`] requests in flight (see the module
    /// documentation). `cache` also holds what the storage holds.
    async fn scan_reusing(
        &self,
        scope: &ScanScope,
        previous: Option<&Previous<'_>>,
        cache: &impl Cache,
        history: &impl Cache,
        storage: &impl Storage,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<(Inventory, Reuse), Error> {
        let registry_key = cache::registry_key(self.registry());
        // A HEAD per tag first when the digests probably are known: from
        // the previous inventory, or a cache a scan of this registry filled.
        let head_first = previous.is_some() || cache.get(&registry_key).await.is_some();
        let (names, whole_registry) = self.repository_names(scope).await?;
        let mut reuse = Reuse::default();
        let mut state = ScanProgress {
            repositories_total: names.len(),
            ..ScanProgress::default()
        };
        progress(&state);

        // 1. Tag lists.
        let tag_lists = self.read_tag_lists(&names, &mut state, progress).await?;

        // 2. One manifest per tag; on a rescan, a HEAD first.
        let mut manifests: BTreeMap<Key, Read> = BTreeMap::new();
        let mut missing: BTreeSet<Key> = BTreeSet::new();
        let mut reading = Reading {
            manifests: &mut manifests,
            missing: &mut missing,
            reuse: &mut reuse,
            state: &mut state,
        };
        let tag_targets = self
            .read_tagged(
                &tag_lists,
                head_first,
                previous,
                cache,
                &mut reading,
                progress,
            )
            .await?;

        // 3. Children of indexes, by digest, level by level.
        self.read_children(&mut reading, previous, cache, progress)
            .await?;

        // 3b, 3c. Manifests no tag leads to: referrers the API lists, then
        // those history and storage name, with their children and referrers.
        let (untagged, records) = self
            .read_untagged(
                &names,
                &tag_targets,
                &mut reading,
                previous,
                (cache, history, storage),
                progress,
            )
            .await?;

        // 4. Config blobs of images (not artifacts): once per digest, and
        // not at all when the previous inventory knows the date.
        let created_by_config = self
            .read_configs(&mut reading, previous, cache, progress)
            .await?;

        // 5. Subjects of attachments that nothing scanned leads to.
        let present = self.check_subjects(&tag_targets, &manifests).await?;

        let read = Assembly {
            manifests: &manifests,
            created_by_config: &created_by_config,
            previous_blobs: previous.map(|previous| &previous.inventory.blobs),
        };
        self.yield_now().await;
        let mut inventory = self
            .assemble(names, tag_targets, &read, present, untagged)
            .await;
        inventory.whole_registry = whole_registry;
        self.release(manifests).await;
        cache.put(&registry_key, b"scanned".to_vec()).await;
        self.save_history(history, &inventory, &records).await;
        state.current = None;
        progress(&state);
        Ok((inventory, reuse))
    }
}

/// What the manifest-reading phases fill in.
struct Reading<'m, 'p> {
    manifests: &'m mut BTreeMap<Key, Read<'p>>,
    /// Children the registry lost.
    missing: &'m mut BTreeSet<Key>,
    reuse: &'m mut Reuse,
    state: &'m mut ScanProgress,
}

impl Reading<'_, '_> {
    /// Records a manifest that no tag points at, read by digest.
    fn untagged_read(
        &mut self,
        key: Key,
        fetched: FetchedManifest,
        source: Source,
        progress: &mut dyn FnMut(&ScanProgress),
    ) {
        self.reuse.count_manifest(source);
        self.state.manifests_read += 1;
        self.state.untagged_found += 1;
        self.state.current = Some(key.0.clone());
        self.manifests.insert(key, Read::Fetched(Box::new(fetched)));
        progress(self.state);
    }
}
