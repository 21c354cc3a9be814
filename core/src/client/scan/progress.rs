//! What a scan reports: its progress as it goes, and at the end where its
//! manifests and configs came from ([`Reuse`]).

use super::read::Source;
use crate::name::RepositoryName;

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

impl Reuse {
    pub(super) fn count_manifest(&mut self, source: Source) {
        match source {
            Source::Previous => self.manifests_reused += 1,
            Source::Cache => self.manifests_cached += 1,
            Source::Registry => self.manifests_fetched += 1,
        }
    }
}
