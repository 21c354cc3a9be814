//! The inventory built from what the phases read, in name and digest
//! order, with dates and sizes that depend on other manifests.
//!
//! A build date comes from the image config's `created`; for an index, from
//! its newest child; failing those, from the `org.opencontainers.image.created`
//! annotation. Where it came from is kept with it
//! ([`DateSource`](crate::DateSource)), so a plan can say.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::read::Read;
use super::{Key, MAX_INDEX_DEPTH};
use crate::client::Client;
use crate::digest::Digest;
use crate::inventory::{Child, DateSource, Image, ImageKind, Inventory, Repository, Untagged};
use crate::manifest::Manifest;
use crate::name::{RepositoryName, Tag};
use crate::transport::Transport;

/// What the phases read, as the inventory is built from it.
pub(super) struct Assembly<'a, 'p> {
    pub(super) manifests: &'a BTreeMap<Key, Read<'p>>,
    pub(super) created_by_config: &'a BTreeMap<Digest, Option<OffsetDateTime>>,
    pub(super) previous_blobs: Option<&'a BTreeMap<Digest, u64>>,
}

/// Manifests added to the inventory between two yields to the transport.
pub(super) const ASSEMBLE_STEP: usize = 2_000;

impl<T: Transport> Client<T> {
    /// Builds the inventory from what the phases read, in steps: in the
    /// browser a 50,000-tag inventory built in one go would hold the page
    /// for longer than a frame should take. Pure and ordered otherwise.
    pub(super) async fn assemble(
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

    /// Frees what the phases read, [`ASSEMBLE_STEP`] entries between two
    /// yields: dropping tens of thousands of read manifests at once holds the
    /// page about as long as building the inventory from them would.
    pub(super) async fn release<K, V>(&self, read: BTreeMap<K, V>) {
        let mut rest = read.into_iter();
        while rest.by_ref().take(ASSEMBLE_STEP).count() == ASSEMBLE_STEP {
            self.yield_now().await;
        }
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
