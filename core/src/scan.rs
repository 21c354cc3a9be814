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

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use time::OffsetDateTime;

use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::inventory::{Child, DateSource, Image, ImageKind, Inventory, Repository, attachment};
use crate::manifest::Manifest;
use crate::name::{RepositoryName, Tag};
use crate::protocol::{FetchedManifest, Reference};
use crate::transport::Transport;

/// Which repositories a scan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanScope {
    /// Every repository of the catalog.
    Catalog,
    /// Just these (the catalog is not read).
    Repositories(Vec<RepositoryName>),
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
        if let Some(current) = &self.current {
            write!(f, " (last: {current})")?;
        }
        Ok(())
    }
}

/// Index nesting deeper than this is not followed (a loop or an attack).
const MAX_INDEX_DEPTH: usize = 8;

type Key = (RepositoryName, Digest);

impl<T: Transport> Client<T> {
    /// Reads every tag of the scope into an inventory. Any failed read stops
    /// the scan: a plan made from a partial inventory could delete too much.
    pub async fn scan(
        &self,
        scope: &ScanScope,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<Inventory, Error> {
        let (names, whole_registry) = match scope {
            ScanScope::Catalog => (self.catalog().await?, true),
            ScanScope::Repositories(names) => (names.clone(), false),
        };
        let limit = self.concurrency();
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

        // 2. One manifest per tag.
        let tagged: Vec<(&RepositoryName, &Tag)> = tag_lists
            .iter()
            .flat_map(|(name, tags)| tags.iter().map(move |tag| (name, tag)))
            .collect();
        let mut tag_targets: BTreeMap<RepositoryName, BTreeMap<Tag, Digest>> = BTreeMap::new();
        let mut manifests: BTreeMap<Key, FetchedManifest> = BTreeMap::new();
        let mut answers = stream::iter(tagged.into_iter().map(|(name, tag)| async move {
            let reference = Reference::Tag(tag.clone());
            (name, tag, self.manifest(name, &reference).await)
        }))
        .buffer_unordered(limit);
        while let Some((name, tag, fetched)) = answers.next().await {
            let fetched = fetched?;
            state.manifests_read += 1;
            state.current = Some(name.clone());
            tag_targets
                .entry(name.clone())
                .or_default()
                .insert(tag.clone(), fetched.digest.clone());
            manifests.insert((name.clone(), fetched.digest.clone()), fetched);
            progress(&state);
        }
        drop(answers);

        // 3. Children of indexes, by digest, level by level.
        let mut missing: BTreeSet<Key> = BTreeSet::new();
        for _ in 0..MAX_INDEX_DEPTH {
            let wanted: BTreeSet<Key> = manifests
                .iter()
                .flat_map(|((name, _), fetched)| {
                    fetched
                        .manifest
                        .children()
                        .iter()
                        .map(move |child| (name.clone(), child.digest.clone()))
                })
                .filter(|key| !manifests.contains_key(key) && !missing.contains(key))
                .collect();
            if wanted.is_empty() {
                break;
            }
            let mut answers = stream::iter(wanted.into_iter().map(|(name, digest)| async move {
                let reference = Reference::Digest(digest.clone());
                let fetched = self.manifest(&name, &reference).await;
                (name, digest, fetched)
            }))
            .buffer_unordered(limit);
            while let Some((name, digest, fetched)) = answers.next().await {
                let fetched = match fetched {
                    Ok(fetched) => fetched,
                    // A child the registry lost (an older cleaner deleted
                    // it) is a fact about the index, not a failed read:
                    // the index stays in the inventory without it.
                    Err(error) if is_not_found(&error) => {
                        missing.insert((name, digest));
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                state.manifests_read += 1;
                state.current = Some(name.clone());
                manifests.insert((name, digest), fetched);
                progress(&state);
            }
        }

        // 4. Config blobs of images (not artifacts): once per digest.
        let mut configs: BTreeMap<&Digest, &RepositoryName> = BTreeMap::new();
        for ((name, _), fetched) in &manifests {
            if let Manifest::Image {
                config,
                artifact_type: None,
                ..
            } = &fetched.manifest
            {
                configs.entry(&config.digest).or_insert(name);
            }
        }
        let mut created_by_config: BTreeMap<Digest, Option<OffsetDateTime>> = BTreeMap::new();
        let mut answers = stream::iter(configs.into_iter().map(|(digest, name)| async move {
            (digest, self.config_created(name, digest).await)
        }))
        .buffer_unordered(limit);
        while let Some((digest, created)) = answers.next().await {
            // A config blob the registry lost leaves the date unknown.
            let created = match created {
                Err(error) if blob_not_found(&error) => None,
                other => other?,
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
        for (key, fetched) in &manifests {
            let subject = fetched.manifest.subject().map(|s| &s.digest);
            let tags = tags_of.get(key).map_or(&[][..], Vec::as_slice);
            if let Some((subject, _)) = attachment(subject, tags) {
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

        let mut inventory = assemble(names, tag_targets, &manifests, &created_by_config, present);
        inventory.whole_registry = whole_registry;
        state.current = None;
        progress(&state);
        Ok(inventory)
    }
}

fn blob_not_found(error: &Error) -> bool {
    error.status() == Some(404)
        && matches!(
            error.registry_code(),
            None | Some(ErrorCode::BlobUnknown | ErrorCode::ManifestUnknown)
        )
}

/// Builds the inventory from what the phases read. Pure and ordered.
fn assemble(
    names: Vec<RepositoryName>,
    mut tag_targets: BTreeMap<RepositoryName, BTreeMap<Tag, Digest>>,
    manifests: &BTreeMap<Key, FetchedManifest>,
    created_by_config: &BTreeMap<Digest, Option<OffsetDateTime>>,
    present: BTreeMap<Key, bool>,
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
    for ((name, digest), fetched) in manifests {
        for blob in fetched.manifest.blobs() {
            inventory.blobs.insert(blob.digest.clone(), blob.size);
        }
        let dates = Dates {
            manifests,
            created_by_config,
            name,
        };
        let (created, created_from) = dates.created(digest, 0);
        let image = Image {
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
        };
        if let Some(repository) = inventory.repositories.get_mut(name) {
            repository.images.insert(digest.clone(), image);
        }
    }
    for ((name, digest), exists) in present {
        if let Some(repository) = inventory.repositories.get_mut(&name) {
            repository.subjects.insert(digest, exists);
        }
    }
    inventory
}

/// Dates and sizes that depend on other manifests of the same repository.
struct Dates<'a> {
    manifests: &'a BTreeMap<Key, FetchedManifest>,
    created_by_config: &'a BTreeMap<Digest, Option<OffsetDateTime>>,
    name: &'a RepositoryName,
}

impl Dates<'_> {
    fn get(&self, digest: &Digest) -> Option<&FetchedManifest> {
        self.manifests.get(&(self.name.clone(), digest.clone()))
    }

    /// Config `created` for an image; the newest child's for an index; the
    /// annotation otherwise or when those are unknown.
    fn created(
        &self,
        digest: &Digest,
        depth: usize,
    ) -> (Option<OffsetDateTime>, Option<DateSource>) {
        let Some(fetched) = self.get(digest) else {
            return (None, None);
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
        let Some(fetched) = self.get(digest) else {
            return 0;
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
