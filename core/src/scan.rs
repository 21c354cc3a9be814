//! Reading a registry into an [`Inventory`].
//!
//! A scan runs in phases, each with up to [`Client::concurrency`] requests in
//! flight: the tag lists, one manifest per tag, the children of indexes (by
//! digest, each once per repository), the config blob of every image (each
//! once per registry), and a `HEAD` for the subject of every attached
//! artifact that no tag leads to. The inventory is assembled from the answers
//! in name and digest order, so any concurrency gives the same result.
//! Any failed read fails the scan, except a 404 for an index child or a
//! config blob: the registry lost it, and the inventory says so.
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
//! stores. A first scan costs one `GET` per tag, as without a cache.
//!
//! [`Client::scan_with`] also finds manifests no tag points at (see
//! [`crate::history`] and [`crate::storage`]): after the tagged manifests
//! and their children, it asks about every digest the repository's history
//! record or its storage names that the scan did not reach (a `HEAD` by
//! digest for those only history names), reads the ones still there (with
//! their children, configs and subjects, like any other) and records them
//! in [`Repository::untagged`]. Then it writes each repository's history
//! record.
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
//! [`Repository::untagged`] as found through [`Found::Referrers`] and,
//! having a `subject`, follow it in the plan. One also under a fallback tag
//! is one manifest, read once; one history knows costs no `HEAD`.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, Stream, StreamExt};
use time::OffsetDateTime;

use crate::cache::{self, Cache, NoCache};
use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::history::{self, HistoryRecord};
use crate::inventory::{
    Child, DateSource, Found, Image, ImageKind, Inventory, Repository, Untagged, attachment,
};
use crate::manifest::{Descriptor, Manifest, parse_config_created};
use crate::name::{RepositoryName, Tag};
use crate::protocol::{FetchedManifest, Reference};
use crate::storage::{NoStorage, Storage, StorageBlobs};
use crate::transport::Transport;

/// Which repositories a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanScope {
    /// Every repository of the catalog.
    Catalog,
    /// Just these (the catalog is not read).
    Repositories(Vec<RepositoryName>),
    /// The catalog's repositories whose name starts with one of `prefixes`
    /// (each ending in `/`), and `names` whether the catalog lists them or
    /// not. A registry that does not serve the catalog to this account
    /// cannot expand a prefix: the scan stops with
    /// [`Error::CatalogRefused`] naming the prefixes.
    Prefixes {
        names: Vec<RepositoryName>,
        prefixes: Vec<String>,
    },
}

impl ScanScope {
    /// Reads a list of repositories, one a line: a name, or a name prefix
    /// ending in `/` (`team/` for every repository under `team`); blank
    /// lines and lines starting with `#` are skipped, duplicates dropped.
    /// Nothing listed means the whole catalog; only names means no catalog
    /// read at all. Errors name the line.
    pub fn parse_list(text: &str) -> Result<ScanScope, String> {
        let mut names: Vec<RepositoryName> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |e: crate::name::NameError| format!("line {}: {line:?}: {e}", number + 1);
            if let Some(stem) = line.strip_suffix('/') {
                stem.parse::<RepositoryName>().map_err(at)?;
                if !prefixes.iter().any(|known| known == line) {
                    prefixes.push(line.to_owned());
                }
            } else {
                let name = line.parse::<RepositoryName>().map_err(at)?;
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(match (names.is_empty(), prefixes.is_empty()) {
            (true, true) => ScanScope::Catalog,
            (false, true) => ScanScope::Repositories(names),
            _ => ScanScope::Prefixes { names, prefixes },
        })
    }

    /// Whether the scan reads the catalog.
    pub fn needs_catalog(&self) -> bool {
        !matches!(self, ScanScope::Repositories(_))
    }
}

/// How far a scan has come, for a progress display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanProgress {
    pub repositories_total: usize,
    /// Repositories whose tag list has been read.
    pub repositories_done: usize,
    /// Tags found so far; each needs one manifest read.
    pub tags_total: usize,
    /// Manifests read: one per tag, plus index children.
    pub manifests_read: usize,
    /// Config blobs read.
    pub blobs_read: usize,
    /// Manifests found that no tag points at (through history, storage or
    /// the referrers API).
    pub untagged_found: usize,
    /// Manifests whose referrers the registry's referrers API listed.
    pub referrers_listed: usize,
    /// The repository whose answer came last, if any.
    pub current: Option<RepositoryName>,
}

impl std::fmt::Display for ScanProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} repositories listed, {} manifests read ({} tags), {} configs read",
            self.repositories_done,
            self.repositories_total,
            self.manifests_read,
            self.tags_total,
            self.blobs_read
        )?;
        if self.referrers_listed > 0 {
            write!(f, ", referrers of {} listed", self.referrers_listed)?;
        }
        if self.untagged_found > 0 {
            write!(f, ", {} untagged found", self.untagged_found)?;
        }
        if let Some(current) = &self.current {
            write!(f, " (last: {current})")?;
        }
        Ok(())
    }
}

/// Index nesting deeper than this is not followed (a loop or an attack).
const MAX_INDEX_DEPTH: usize = 8;

type Key = (RepositoryName, Digest);

/// What a rescan took from the previous inventory instead of the registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reuse {
    /// Manifests taken from the previous inventory: their digest was
    /// already known there, so they were not fetched again.
    pub manifests_reused: usize,
    /// Manifests fetched with a `GET` (new digests, or no visible digest).
    pub manifests_fetched: usize,
    /// Manifests taken from the cache (their digest from a `HEAD`, or a
    /// child's from its index).
    pub manifests_cached: usize,
    /// Config dates taken from the previous inventory.
    pub configs_reused: usize,
    /// Config blobs taken from the cache.
    pub configs_cached: usize,
    /// Config blobs fetched.
    pub configs_fetched: usize,
    /// `HEAD`s by digest for manifests only history named.
    pub untagged_checked: usize,
    /// Of those, the ones the registry no longer has.
    pub untagged_gone: usize,
    /// Repositories scanned with a history store that had no record of
    /// them yet: what their tags left untagged before is not known.
    pub history_unknown: usize,
    /// Whether the registry serves the OCI 1.1 referrers API: `None` when
    /// the scan read no manifest to ask about.
    pub referrers_api: Option<bool>,
    /// Manifests whose referrers were listed through the API.
    pub referrers_listed: usize,
    /// Referrers the API listed that nothing else the scan read leads to.
    pub referrers_found: usize,
}

impl Reuse {
    /// Every manifest the rescan holds: reused, cached and fetched.
    pub fn manifests_total(&self) -> usize {
        self.manifests_reused + self.manifests_cached + self.manifests_fetched
    }
}

/// A manifest as a scan knows it: read now (or taken from the cache), or
/// taken from the previous inventory because its digest (immutable
/// content) was already known.
enum Read<'a> {
    Fetched(Box<FetchedManifest>),
    Known(&'a Image),
}

/// Where a scan's manifest came from, for [`Reuse`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Previous,
    Cache,
    Registry,
}

impl Read<'_> {
    fn children(&self) -> Vec<&Digest> {
        match self {
            Read::Fetched(fetched) => fetched
                .manifest
                .children()
                .iter()
                .map(|child| &child.digest)
                .collect(),
            Read::Known(image) => image.children.iter().map(|child| &child.digest).collect(),
        }
    }

    fn subject(&self) -> Option<&Digest> {
        match self {
            Read::Fetched(fetched) => fetched.manifest.subject().map(|s| &s.digest),
            Read::Known(image) => image.subject.as_ref(),
        }
    }
}

/// The previous inventory, as a rescan consults it.
struct Previous<'a> {
    inventory: &'a Inventory,
    /// Config digest → build date, for every image whose date came from
    /// its config. Configs are immutable, so these are never read again.
    config_dates: BTreeMap<&'a Digest, OffsetDateTime>,
}

impl<'a> Previous<'a> {
    fn new(inventory: &'a Inventory) -> Previous<'a> {
        let mut config_dates = BTreeMap::new();
        for repository in inventory.repositories.values() {
            for image in repository.images.values() {
                if image.kind == ImageKind::Image
                    && image.artifact_type.is_none()
                    && image.created_from == Some(DateSource::Config)
                    && let (Some(config), Some(created)) = (image.blobs.first(), image.created)
                {
                    config_dates.insert(config, created);
                }
            }
        }
        Previous {
            inventory,
            config_dates,
        }
    }

    /// The previous scan's record of a manifest, when it can stand for a
    /// fresh read: the sizes of its blobs are known and, for an index,
    /// every child was read then too (a child that was missing is asked
    /// for again, so the index is read again with it).
    fn reusable(&self, name: &RepositoryName, digest: &Digest, depth: usize) -> Option<&'a Image> {
        let image = self.inventory.repositories.get(name)?.images.get(digest)?;
        if !image
            .blobs
            .iter()
            .all(|blob| self.inventory.blobs.contains_key(blob))
        {
            return None;
        }
        if !image.children.is_empty()
            && (depth >= MAX_INDEX_DEPTH
                || !image
                    .children
                    .iter()
                    .all(|child| self.reusable(name, &child.digest, depth + 1).is_some()))
        {
            return None;
        }
        Some(image)
    }
}

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

    /// A manifest from the cache, or else from the registry (then stored).
    async fn manifest_through(
        &self,
        cache: &impl Cache,
        name: &RepositoryName,
        reference: &Reference,
    ) -> Result<(FetchedManifest, Source), Error> {
        if let Reference::Digest(digest) = reference
            && let Some(value) = cache.get(&cache::manifest_key(digest)).await
            && let Some(fetched) = cache::decode_manifest(digest, &value)
        {
            return Ok((fetched, Source::Cache));
        }
        let (fetched, bytes) = self.manifest_and_bytes(name, reference).await?;
        if let Some(value) = cache::encode_manifest(&fetched, &bytes) {
            cache
                .put(&cache::manifest_key(&fetched.digest), value)
                .await;
        }
        Ok((fetched, Source::Registry))
    }

    /// A config's build date from the cache, or else from the registry
    /// (then stored).
    async fn config_created_through(
        &self,
        cache: &impl Cache,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<(Option<OffsetDateTime>, Source), Error> {
        let key = cache::config_key(digest);
        if let Some(value) = cache.get(&key).await
            && digest.matches(&value)
        {
            return Ok((parse_config_created(&value), Source::Cache));
        }
        let bytes = self.blob_bytes(name, digest).await?;
        let created = parse_config_created(&bytes);
        if bytes.len() <= cache::MAX_CONFIG_BYTES {
            cache.put(&key, bytes).await;
        }
        Ok((created, Source::Registry))
    }

    /// The digest a tag points at now, from a `HEAD`; `None` when the
    /// answer does not show it (then the caller fetches the manifest).
    async fn head_tag_digest(&self, name: &RepositoryName, tag: &Tag) -> Option<Digest> {
        let mut request =
            crate::protocol::manifest(self.registry(), name, &Reference::Tag(tag.clone()));
        *request.method_mut() = http::Method::HEAD;
        let (_, response) = self.send(request).await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response
            .headers()
            .get("docker-content-digest")?
            .to_str()
            .ok()?
            .parse()
            .ok()
    }

    /// The catalog; a refusal becomes [`Error::CatalogRefused`].
    async fn catalog_or_refusal(&self, prefixes: &[String]) -> Result<Vec<RepositoryName>, Error> {
        self.catalog().await.map_err(|cause| {
            if cause.refuses_catalog() {
                Error::CatalogRefused {
                    cause: Box::new(cause),
                    prefixes: prefixes.to_vec(),
                }
            } else {
                cause
            }
        })
    }

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
        let (names, whole_registry) = match scope {
            ScanScope::Catalog => (self.catalog_or_refusal(&[]).await?, true),
            ScanScope::Repositories(names) => (names.clone(), false),
            ScanScope::Prefixes { names, prefixes } => {
                let mut chosen: BTreeSet<RepositoryName> = self
                    .catalog_or_refusal(prefixes)
                    .await?
                    .into_iter()
                    .filter(|name| {
                        prefixes
                            .iter()
                            .any(|prefix| name.as_str().starts_with(prefix.as_str()))
                    })
                    .collect();
                chosen.extend(names.iter().cloned());
                (chosen.into_iter().collect(), false)
            }
        };
        let limit = self.concurrency();
        let mut reuse = Reuse::default();
        let mut state = ScanProgress {
            repositories_total: names.len(),
            ..ScanProgress::default()
        };
        progress(&state);

        // 1. Tag lists.
        let mut tag_lists: BTreeMap<RepositoryName, Vec<Tag>> = BTreeMap::new();
        let mut answers = stream::iter(
            names
                .iter()
                .map(|name| async move { (name, self.tags(name).await) }),
        )
        .buffer_unordered(limit);
        while let Some((name, tags)) = answers.next().await {
            let tags = tags?;
            state.repositories_done += 1;
            state.tags_total += tags.len();
            state.current = Some(name.clone());
            tag_lists.insert(name.clone(), tags);
            progress(&state);
        }
        drop(answers);

        // 2. One manifest per tag; on a rescan, a HEAD first.
        let tagged: Vec<(&RepositoryName, &Tag)> = tag_lists
            .iter()
            .flat_map(|(name, tags)| tags.iter().map(move |tag| (name, tag)))
            .collect();
        let mut tag_targets: BTreeMap<RepositoryName, BTreeMap<Tag, Digest>> = BTreeMap::new();
        let mut manifests: BTreeMap<Key, Read> = BTreeMap::new();
        let mut answers = stream::iter(tagged.into_iter().map(|(name, tag)| async move {
            let mut reference = Reference::Tag(tag.clone());
            if head_first && let Some(digest) = self.head_tag_digest(name, tag).await {
                if let Some(image) = previous.and_then(|p| p.reusable(name, &digest, 0)) {
                    return (
                        name,
                        tag,
                        Ok((digest, Read::Known(image), Source::Previous)),
                    );
                }
                // By digest: what the HEAD said, even if the tag moves now.
                reference = Reference::Digest(digest);
            }
            let fetched =
                self.manifest_through(cache, name, &reference)
                    .await
                    .map(|(fetched, source)| {
                        (
                            fetched.digest.clone(),
                            Read::Fetched(Box::new(fetched)),
                            source,
                        )
                    });
            (name, tag, fetched)
        }))
        .buffer_unordered(limit);
        while let Some((name, tag, read)) = answers.next().await {
            let (digest, read, source) = read?;
            reuse.count_manifest(source);
            state.manifests_read += 1;
            state.current = Some(name.clone());
            tag_targets
                .entry(name.clone())
                .or_default()
                .insert(tag.clone(), digest.clone());
            // Two tags on one digest: the first answer stands (the same bytes).
            manifests.entry((name.clone(), digest)).or_insert(read);
            progress(&state);
        }
        drop(answers);

        // 3. Children of indexes, by digest, level by level.
        let mut missing: BTreeSet<Key> = BTreeSet::new();
        let mut reading = Reading {
            manifests: &mut manifests,
            missing: &mut missing,
            reuse: &mut reuse,
            state: &mut state,
        };
        self.read_children(&mut reading, previous, cache, progress)
            .await?;

        // 3b. Referrers through the OCI 1.1 referrers API, where the
        // registry serves it: of every manifest read, then of those found.
        // Before history, so a referrer the API lists costs no HEAD there.
        let mut asked: BTreeSet<Key> = BTreeSet::new();
        let mut by_referrers: BTreeMap<Key, Untagged> = BTreeMap::new();
        self.find_referrers(
            &mut reading,
            &mut by_referrers,
            &mut asked,
            previous,
            cache,
            progress,
        )
        .await?;

        // 3c. Manifests no tag points at, from history and storage, with
        // their children, and their referrers.
        let (mut untagged, records) = self
            .find_untagged(
                &names,
                &tag_targets,
                &mut reading,
                history,
                storage,
                cache,
                progress,
            )
            .await?;
        if !untagged.is_empty() {
            self.read_children(&mut reading, previous, cache, progress)
                .await?;
            self.find_referrers(
                &mut reading,
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

        // 4. Config blobs of images (not artifacts): once per digest, and
        // not at all when the previous inventory knows the date.
        let mut configs: BTreeMap<&Digest, &RepositoryName> = BTreeMap::new();
        let mut created_by_config: BTreeMap<Digest, Option<OffsetDateTime>> = BTreeMap::new();
        for ((name, _), read) in &manifests {
            if let Read::Fetched(fetched) = read
                && let Manifest::Image {
                    config,
                    artifact_type: None,
                    ..
                } = &fetched.manifest
            {
                if created_by_config.contains_key(&config.digest) {
                    continue;
                }
                match previous.and_then(|previous| previous.config_dates.get(&config.digest)) {
                    Some(created) => {
                        reuse.configs_reused += 1;
                        created_by_config.insert(config.digest.clone(), Some(*created));
                    }
                    None => {
                        configs.entry(&config.digest).or_insert(name);
                    }
                }
            }
        }
        let mut answers = stream::iter(configs.into_iter().map(|(digest, name)| async move {
            (
                digest,
                self.config_created_through(cache, name, digest).await,
            )
        }))
        .buffer_unordered(limit);
        while let Some((digest, created)) = answers.next().await {
            // A config blob the registry lost leaves the date unknown.
            let created = match created {
                Err(error) if blob_not_found(&error) => {
                    reuse.configs_fetched += 1;
                    None
                }
                Err(error) => return Err(error),
                Ok((created, Source::Cache)) => {
                    reuse.configs_cached += 1;
                    created
                }
                Ok((created, _)) => {
                    reuse.configs_fetched += 1;
                    created
                }
            };
            created_by_config.insert(digest.clone(), created);
            state.blobs_read += 1;
            progress(&state);
        }
        drop(answers);

        // 5. Subjects of attachments that nothing scanned leads to.
        let mut tags_of: BTreeMap<Key, Vec<Tag>> = BTreeMap::new();
        for (name, targets) in &tag_targets {
            for (tag, digest) in targets {
                tags_of
                    .entry((name.clone(), digest.clone()))
                    .or_default()
                    .push(tag.clone());
            }
        }
        let mut subjects: BTreeSet<Key> = BTreeSet::new();
        for (key, read) in &manifests {
            let tags = tags_of.get(key).map_or(&[][..], Vec::as_slice);
            if let Some((subject, _)) = attachment(read.subject(), tags) {
                let subject_key = (key.0.clone(), subject);
                if !manifests.contains_key(&subject_key) {
                    subjects.insert(subject_key);
                }
            }
        }
        let mut present: BTreeMap<Key, bool> = BTreeMap::new();
        let mut answers = stream::iter(subjects.into_iter().map(|(name, digest)| async move {
            let exists = self.manifest_exists(&name, &digest).await;
            (name, digest, exists)
        }))
        .buffer_unordered(limit);
        while let Some((name, digest, exists)) = answers.next().await {
            present.insert((name, digest), exists?);
        }
        drop(answers);

        let previous_blobs = previous.map(|previous| &previous.inventory.blobs);
        let read = Assembly {
            manifests: &manifests,
            created_by_config: &created_by_config,
            previous_blobs,
        };
        self.yield_now().await;
        let mut inventory = self
            .assemble(names, tag_targets, &read, present, untagged)
            .await;
        inventory.whole_registry = whole_registry;
        cache.put(&registry_key, b"scanned".to_vec()).await;
        if history.is_on() {
            let now = self.now();
            for (name, repository) in &inventory.repositories {
                let record =
                    history::record(self.registry(), name, repository, records.get(name), now);
                history::save(history, self.registry(), &record).await;
            }
        }
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

/// Manifests found untagged, and the history records read on the way.
type FoundUntagged = (
    BTreeMap<Key, Untagged>,
    BTreeMap<RepositoryName, HistoryRecord>,
);

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

impl<T: Transport> Client<T> {
    /// Reads each manifest of `keys` by digest (from the cache when it has
    /// it), as many at once as the client's concurrency allows; the answers
    /// come as they arrive.
    fn read_by_digest<'a, C: Cache>(
        &'a self,
        cache: &'a C,
        keys: Vec<Key>,
    ) -> impl Stream<Item = (Key, Result<(FetchedManifest, Source), Error>)> + 'a {
        stream::iter(keys.into_iter().map(move |(name, digest)| async move {
            let reference = Reference::Digest(digest.clone());
            let fetched = self.manifest_through(cache, &name, &reference).await;
            ((name, digest), fetched)
        }))
        .buffer_unordered(self.concurrency())
    }

    /// Reads the children of every index read so far that are not read
    /// yet, by digest, level by level.
    async fn read_children<'p>(
        &self,
        reading: &mut Reading<'_, 'p>,
        previous: Option<&Previous<'p>>,
        cache: &impl Cache,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<(), Error> {
        for _ in 0..MAX_INDEX_DEPTH {
            let wanted: BTreeSet<Key> = reading
                .manifests
                .iter()
                .flat_map(|((name, _), read)| {
                    read.children()
                        .into_iter()
                        .map(move |child| (name.clone(), child.clone()))
                })
                .filter(|key| {
                    !reading.manifests.contains_key(key) && !reading.missing.contains(key)
                })
                .collect();
            if wanted.is_empty() {
                break;
            }
            let mut fetch = Vec::new();
            for (name, digest) in wanted {
                match previous.and_then(|previous| previous.reusable(&name, &digest, 0)) {
                    Some(image) => {
                        reading.reuse.manifests_reused += 1;
                        reading.state.manifests_read += 1;
                        reading.manifests.insert((name, digest), Read::Known(image));
                    }
                    None => fetch.push((name, digest)),
                }
            }
            let mut answers = self.read_by_digest(cache, fetch);
            while let Some(((name, digest), fetched)) = answers.next().await {
                let fetched = match fetched {
                    Ok((fetched, source)) => {
                        reading.reuse.count_manifest(source);
                        fetched
                    }
                    // A child the registry lost (an older cleaner deleted
                    // it) is a fact about the index, not a failed read:
                    // the index stays in the inventory without it.
                    Err(error) if is_not_found(&error) => {
                        reading.missing.insert((name, digest));
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                reading.state.manifests_read += 1;
                reading.state.current = Some(name.clone());
                reading
                    .manifests
                    .insert((name, digest), Read::Fetched(Box::new(fetched)));
                progress(reading.state);
            }
        }
        Ok(())
    }

    /// Finds the manifests that history or the storage name and the scan
    /// did not reach, asks the registry about those only history names
    /// (a `HEAD` by digest), and reads the ones still there.
    #[allow(clippy::too_many_arguments)]
    async fn find_untagged(
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
}

impl<T: Transport> Client<T> {
    /// Lists, through the referrers API, the referrers of every manifest
    /// read so far and not in `asked`, reads the ones not read yet (with
    /// their children) and does the same for them, level by level. The
    /// first request of a scan tells whether the registry serves the API at
    /// all; once it said no, nothing more is asked.
    async fn find_referrers<'p>(
        &self,
        reading: &mut Reading<'_, 'p>,
        untagged: &mut BTreeMap<Key, Untagged>,
        asked: &mut BTreeSet<Key>,
        previous: Option<&Previous<'p>>,
        cache: &impl Cache,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<(), Error> {
        if reading.reuse.referrers_api == Some(false) {
            return Ok(());
        }
        let limit = self.concurrency();
        // Each level asks only about manifests the previous one found; a
        // referrer of a referrer of ... deeper than this is not followed.
        for _ in 0..=MAX_INDEX_DEPTH {
            let wanted: Vec<Key> = reading
                .manifests
                .keys()
                .filter(|key| !asked.contains(*key))
                .cloned()
                .collect();
            if wanted.is_empty() {
                break;
            }
            asked.extend(wanted.iter().cloned());
            if reading.reuse.referrers_api.is_none() {
                let (name, digest) = &wanted[0];
                let served = self.serves_referrers(name, digest).await?;
                reading.reuse.referrers_api = Some(served);
                if !served {
                    return Ok(());
                }
            }
            let mut lists: Vec<(RepositoryName, Vec<Descriptor>)> = Vec::new();
            let mut answers = stream::iter(wanted.into_iter().map(|(name, digest)| async move {
                let list = self.referrers(&name, &digest).await;
                (name, digest, list)
            }))
            .buffer_unordered(limit);
            while let Some((name, digest, list)) = answers.next().await {
                reading.reuse.referrers_listed += 1;
                reading.state.referrers_listed += 1;
                reading.state.current = Some(name.clone());
                match list? {
                    Some(list) => lists.push((name, list)),
                    None => {
                        return Err(Error::Protocol {
                            request: format!("listing the referrers of {digest} in {name}"),
                            detail: "the registry answered as if it had no referrers API \
                                     (404, 405 or 501), though it answered the first \
                                     referrers request of this scan; a registry that \
                                     serves the API answers for every subject"
                                .to_owned(),
                        });
                    }
                }
                progress(reading.state);
            }
            drop(answers);

            // Those nothing else led to: read them by digest.
            let mut new: BTreeSet<Key> = BTreeSet::new();
            for (name, list) in lists {
                for referrer in list {
                    let key = (name.clone(), referrer.digest);
                    if reading.manifests.contains_key(&key) {
                        // Found through history or storage as well.
                        if let Some(found) = untagged.get_mut(&key)
                            && !found.found.contains(&Found::Referrers)
                        {
                            found.found.push(Found::Referrers);
                        }
                    } else if !reading.missing.contains(&key) {
                        new.insert(key);
                    }
                }
            }
            if new.is_empty() {
                continue;
            }
            let mut answers = self.read_by_digest(cache, new.into_iter().collect());
            while let Some(((name, digest), fetched)) = answers.next().await {
                match fetched {
                    Ok((fetched, source)) => {
                        reading.reuse.referrers_found += 1;
                        let key = (name, digest);
                        untagged.entry(key.clone()).or_default().found = vec![Found::Referrers];
                        reading.untagged_read(key, fetched, source, progress);
                    }
                    // Listed, but deleted before the read (or a registry
                    // that lists what it no longer has): nothing to plan.
                    Err(error) if is_not_found(&error) => {
                        reading.missing.insert((name, digest));
                    }
                    Err(error) => return Err(error),
                }
            }
            drop(answers);
            self.read_children(reading, previous, cache, progress)
                .await?;
        }
        Ok(())
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

impl Reuse {
    fn count_manifest(&mut self, source: Source) {
        match source {
            Source::Previous => self.manifests_reused += 1,
            Source::Cache => self.manifests_cached += 1,
            Source::Registry => self.manifests_fetched += 1,
        }
    }
}

fn blob_not_found(error: &Error) -> bool {
    error.status() == Some(404)
        && matches!(
            error.registry_code(),
            None | Some(ErrorCode::BlobUnknown | ErrorCode::ManifestUnknown)
        )
}

/// What the phases read, as the inventory is built from it.
struct Assembly<'a, 'p> {
    manifests: &'a BTreeMap<Key, Read<'p>>,
    created_by_config: &'a BTreeMap<Digest, Option<OffsetDateTime>>,
    previous_blobs: Option<&'a BTreeMap<Digest, u64>>,
}

/// Manifests added to the inventory between two yields to the transport.
const ASSEMBLE_STEP: usize = 2_000;

impl<T: Transport> Client<T> {
    /// Builds the inventory from what the phases read, in steps: in the
    /// browser a 50,000-tag inventory built in one go would hold the page
    /// for longer than a frame should take. Pure and ordered otherwise.
    async fn assemble(
        &self,
        names: Vec<RepositoryName>,
        tag_targets: BTreeMap<RepositoryName, BTreeMap<Tag, Digest>>,
        read: &Assembly<'_, '_>,
        present: BTreeMap<Key, bool>,
        untagged: BTreeMap<Key, Untagged>,
    ) -> Inventory {
        let mut inventory = repositories_of(names, tag_targets);
        for (n, (key, manifest)) in read.manifests.iter().enumerate() {
            if n > 0 && n % ASSEMBLE_STEP == 0 {
                self.yield_now().await;
            }
            read.add_image(&mut inventory, key, manifest);
        }
        for ((name, digest), exists) in present {
            if let Some(repository) = inventory.repositories.get_mut(&name) {
                repository.subjects.insert(digest, exists);
            }
        }
        for ((name, digest), found) in untagged {
            if let Some(repository) = inventory.repositories.get_mut(&name) {
                repository.untagged.insert(digest, found);
            }
        }
        inventory
    }
}

/// The inventory's repositories with their tags, no images yet.
fn repositories_of(
    names: Vec<RepositoryName>,
    mut tag_targets: BTreeMap<RepositoryName, BTreeMap<Tag, Digest>>,
) -> Inventory {
    let mut inventory = Inventory::default();
    for name in names {
        let tags = tag_targets.remove(&name).unwrap_or_default();
        inventory.repositories.insert(
            name,
            Repository {
                tags,
                ..Repository::default()
            },
        );
    }
    inventory
}

impl Assembly<'_, '_> {
    fn add_image(&self, inventory: &mut Inventory, (name, digest): &Key, read: &Read) {
        let Assembly {
            manifests,
            created_by_config,
            previous_blobs,
        } = *self;
        let image = match read {
            Read::Known(image) => {
                // `Previous::reusable` checked that every size is known.
                for blob in &image.blobs {
                    if let Some(size) = previous_blobs.and_then(|blobs| blobs.get(blob)) {
                        inventory.blobs.insert(blob.clone(), *size);
                    }
                }
                (*image).clone()
            }
            Read::Fetched(fetched) => {
                for blob in fetched.manifest.blobs() {
                    inventory.blobs.insert(blob.digest.clone(), blob.size);
                }
                let dates = Dates {
                    manifests,
                    created_by_config,
                    name,
                };
                let (created, created_from) = dates.created(digest, 0);
                Image {
                    media_type: fetched.media_type.clone(),
                    kind: ImageKind::of(&fetched.media_type, fetched.manifest.artifact_type()),
                    created,
                    created_from,
                    size: dates.size(digest, 0),
                    manifest_size: fetched.size,
                    children: fetched
                        .manifest
                        .children()
                        .iter()
                        .map(|child| Child {
                            digest: child.digest.clone(),
                            platform: child.platform.clone(),
                        })
                        .collect(),
                    subject: fetched.manifest.subject().map(|s| s.digest.clone()),
                    artifact_type: fetched.manifest.artifact_type().map(str::to_owned),
                    blobs: fetched
                        .manifest
                        .blobs()
                        .into_iter()
                        .map(|blob| blob.digest.clone())
                        .collect(),
                }
            }
        };
        if let Some(repository) = inventory.repositories.get_mut(name) {
            repository.images.insert(digest.clone(), image);
        }
    }
}

/// Dates and sizes that depend on other manifests of the same repository.
struct Dates<'a, 'p> {
    manifests: &'a BTreeMap<Key, Read<'p>>,
    created_by_config: &'a BTreeMap<Digest, Option<OffsetDateTime>>,
    name: &'a RepositoryName,
}

impl Dates<'_, '_> {
    fn get(&self, digest: &Digest) -> Option<&Read<'_>> {
        self.manifests.get(&(self.name.clone(), digest.clone()))
    }

    /// Config `created` for an image; the newest child's for an index; the
    /// annotation otherwise or when those are unknown.
    fn created(
        &self,
        digest: &Digest,
        depth: usize,
    ) -> (Option<OffsetDateTime>, Option<DateSource>) {
        let fetched = match self.get(digest) {
            None => return (None, None),
            // Taken whole from the previous scan: its date is as it was.
            Some(Read::Known(image)) => return (image.created, image.created_from),
            Some(Read::Fetched(fetched)) => fetched,
        };
        let own = match &fetched.manifest {
            Manifest::Image {
                config,
                artifact_type: None,
                ..
            } => self
                .created_by_config
                .get(&config.digest)
                .copied()
                .flatten()
                .map(|created| (created, DateSource::Config)),
            Manifest::Index { manifests, .. } if depth < MAX_INDEX_DEPTH => manifests
                .iter()
                .filter_map(|child| self.created(&child.digest, depth + 1).0)
                .max()
                .map(|created| (created, DateSource::NewestChild)),
            _ => None,
        };
        match own.or_else(|| {
            fetched
                .manifest
                .annotated_created()
                .map(|created| (created, DateSource::Annotation))
        }) {
            Some((created, source)) => (Some(created), Some(source)),
            None => (None, None),
        }
    }

    /// Config and layer bytes; an index sums its children's.
    fn size(&self, digest: &Digest, depth: usize) -> u64 {
        let fetched = match self.get(digest) {
            None => return 0,
            Some(Read::Known(image)) => return image.size,
            Some(Read::Fetched(fetched)) => fetched,
        };
        match &fetched.manifest {
            Manifest::Index { manifests, .. } if depth < MAX_INDEX_DEPTH => manifests
                .iter()
                .map(|child| self.size(&child.digest, depth + 1))
                .sum(),
            other => other.content_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<RepositoryName> {
        list.iter().map(|name| name.parse().unwrap()).collect()
    }

    #[test]
    fn a_list_of_names_and_prefixes() {
        assert_eq!(ScanScope::parse_list("").unwrap(), ScanScope::Catalog);
        assert_eq!(
            ScanScope::parse_list("  \n# a comment\n").unwrap(),
            ScanScope::Catalog
        );
        let only = ScanScope::parse_list("team/app\n  base \nteam/app\n").unwrap();
        assert_eq!(only, ScanScope::Repositories(names(&["team/app", "base"])));
        assert!(!only.needs_catalog());
        let mixed = ScanScope::parse_list("team/\nbase\nteam/\n").unwrap();
        assert_eq!(
            mixed,
            ScanScope::Prefixes {
                names: names(&["base"]),
                prefixes: vec!["team/".to_owned()],
            }
        );
        assert!(mixed.needs_catalog());
        let error = ScanScope::parse_list("ok\nBad Name\n").unwrap_err();
        assert!(error.starts_with("line 2: \"Bad Name\""), "{error}");
        assert!(
            ScanScope::parse_list("/\n")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(ScanScope::parse_list("a//\n").is_err());
    }
}
