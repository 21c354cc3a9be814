//! Reclaimable bytes: the blobs a plan's deletes free, counted once and
//! in the first repository (name order) that frees them.
//!
//! A blob (manifest, config or layer) counts only when no manifest the plan
//! keeps, in any scanned repository, references it. When the scan did not
//! read the whole catalog the figure is an upper bound and says so
//! ([`Reclaimable::whole_registry`](super::Reclaimable::whole_registry)).
//! Counting each blob in one repository only makes the per-repository
//! figures add up to the total.

use super::Reclaimable;
use super::digest_key::{DigestKey, DigestMap};
use crate::digest::Digest;
use crate::inventory::{Image, Inventory};
use crate::name::RepositoryName;

/// Collects, repository by repository, what garbage collection frees: blobs
/// (manifests, configs, layers) that deleted manifests reference and no
/// remaining manifest in any scanned repository does.
///
/// Digests are split by their hash into shards that never share a digest,
/// so threads can finish the shards side by side
/// ([`Reclaim::into_shards`]); the stepwise planner uses one.
pub(super) struct Reclaim<'a> {
    shards: Vec<Shard<'a>>,
    /// The position (in the inventory) of the repository being noted.
    pub(super) repository: usize,
}

/// The digests of one shard.
#[derive(Default)]
struct Shard<'a> {
    /// Everything a delete references, with what freeing it is worth as the
    /// last delete to reference it, in (repository, digest) order, says, and
    /// the position of the first repository whose deletes reference it.
    /// Whether a remaining manifest uses it is found out at the end.
    candidates: DigestMap<'a, Candidate>,
    /// Everything the remaining manifests reference, checked at the end.
    kept: Vec<DigestKey<'a>>,
    /// How many of `kept` are checked already (see [`Reclaim::mark`]).
    marked: usize,
}

struct Candidate {
    worth: Worth,
    used: bool,
    /// Where it is counted when freed: the first repository, in name
    /// order, whose deletes reference it.
    repository: usize,
}

/// What freeing a digest is worth: a manifest's own size, or a blob's size
/// from the inventory, looked up only if it is freed.
#[derive(Clone, Copy)]
enum Worth {
    Manifest(u64),
    Blob,
}

impl Default for Reclaim<'_> {
    fn default() -> Self {
        Reclaim::sharded(1)
    }
}

impl<'a> Reclaim<'a> {
    /// A reclaim whose digests are split over `shards` shards (at least one).
    pub(super) fn sharded(shards: usize) -> Self {
        Reclaim {
            shards: (0..shards.max(1)).map(|_| Shard::default()).collect(),
            repository: 0,
        }
    }

    fn shard(&mut self, key: &DigestKey<'a>) -> &mut Shard<'a> {
        let at = key.shard(self.shards.len());
        &mut self.shards[at]
    }

    /// One manifest; called in (repository, digest) order.
    pub(super) fn note(&mut self, digest: &'a Digest, image: &'a Image, deleted: bool) {
        if deleted {
            let repository = self.repository;
            let key = DigestKey::new(digest);
            self.shard(&key)
                .candidate(key, Worth::Manifest(image.manifest_size), repository);
            for blob in &image.blobs {
                let key = DigestKey::new(blob);
                self.shard(&key).candidate(key, Worth::Blob, repository);
            }
        } else {
            // The keys are made now, while the digests are at hand: the
            // check at the end then only probes the candidates.
            for digest in std::iter::once(digest).chain(&image.blobs) {
                let key = DigestKey::new(digest);
                self.shard(&key).kept.push(key);
            }
        }
    }

    /// Takes in what a run of later repositories noted, as if noted here;
    /// both have the same number of shards.
    pub(super) fn absorb(&mut self, later: Reclaim<'a>) {
        debug_assert_eq!(self.shards.len(), later.shards.len());
        for (shard, later) in self.shards.iter_mut().zip(later.shards) {
            shard.absorb(later);
        }
        self.repository = later.repository;
    }

    /// Its shards, each as a reclaim of its own, in shard order: the
    /// figures of all of them, finished apart, add up to this one's.
    pub(super) fn into_shards(self) -> Vec<Reclaim<'a>> {
        let repository = self.repository;
        self.shards
            .into_iter()
            .map(|shard| Reclaim {
                shards: vec![shard],
                repository,
            })
            .collect()
    }

    /// Checks up to `count` more kept references against the candidates;
    /// only once every repository is noted. Says how many it checked.
    pub(super) fn mark(&mut self, count: usize) -> usize {
        let mut checked = 0;
        for shard in &mut self.shards {
            if checked == count {
                break;
            }
            checked += shard.mark(count - checked);
        }
        checked
    }

    /// What is freed in all, and per repository (by position; each freed
    /// blob counted once, so the figures add up to the whole).
    pub(super) fn finish(
        mut self,
        inventory: &Inventory,
        repositories: usize,
    ) -> (Reclaimable, Vec<(u64, usize)>) {
        let mut freed = Reclaimable {
            bytes: 0,
            blobs: 0,
            whole_registry: inventory.whole_registry,
        };
        let mut by_repository = vec![(0, 0); repositories];
        self.mark(usize::MAX);
        for shard in &self.shards {
            for (digest, candidate) in &shard.candidates {
                if candidate.used {
                    continue;
                }
                let bytes = match candidate.worth {
                    Worth::Manifest(size) => size,
                    Worth::Blob => inventory.blobs.get(digest.digest).copied().unwrap_or(0),
                };
                freed.blobs += 1;
                freed.bytes += bytes;
                if let Some(figure) = by_repository.get_mut(candidate.repository) {
                    figure.0 += bytes;
                    figure.1 += 1;
                }
            }
        }
        (freed, by_repository)
    }
}

impl<'a> Shard<'a> {
    /// A later note replaces the worth and keeps the first repository.
    fn candidate(&mut self, key: DigestKey<'a>, worth: Worth, repository: usize) {
        self.candidates
            .entry(key)
            .and_modify(|known| known.worth = worth)
            .or_insert(Candidate {
                worth,
                used: false,
                repository,
            });
    }

    fn absorb(&mut self, later: Shard<'a>) {
        if self.candidates.is_empty() {
            self.candidates = later.candidates;
        } else {
            self.candidates.reserve(later.candidates.len());
            for (key, candidate) in later.candidates {
                self.candidate(key, candidate.worth, candidate.repository);
            }
        }
        if self.kept.is_empty() {
            self.kept = later.kept;
        } else {
            self.kept.extend(later.kept);
        }
    }

    fn mark(&mut self, count: usize) -> usize {
        let end = self.marked.saturating_add(count).min(self.kept.len());
        if !self.candidates.is_empty() {
            for key in &self.kept[self.marked..end] {
                if let Some(candidate) = self.candidates.get_mut(key) {
                    candidate.used = true;
                }
            }
        }
        let checked = end - self.marked;
        self.marked = end;
        checked
    }
}

/// What garbage collection frees, counted where it is freed: a blob that
/// deletes in several repositories free goes to the first of them (name
/// order), so the figures of all repositories add up to
/// [`Reclaimable::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryReclaim {
    pub repository: RepositoryName,
    pub bytes: u64,
    pub blobs: usize,
}
