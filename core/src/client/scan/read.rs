//! Reading one manifest or config: from a previous inventory, the cache,
//! or the registry (then cached), and a tag's digest from a `HEAD`.

use std::collections::BTreeMap;

use futures_util::stream::{self, Stream, StreamExt};
use time::OffsetDateTime;

use super::{Key, MAX_INDEX_DEPTH};
use crate::cache::{self, Cache};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::Error;
use crate::inventory::{DateSource, Image, ImageKind, Inventory};
use crate::manifest::parse_config_created;
use crate::name::{RepositoryName, Tag};
use crate::protocol::{FetchedManifest, Reference};
use crate::transport::Transport;

/// A manifest as a scan knows it: read now (or taken from the cache), or
/// taken from the previous inventory because its digest (immutable
/// content) was already known.
pub(super) enum Read<'a> {
    Fetched(Box<FetchedManifest>),
    Known(&'a Image),
}

/// Where a scan's manifest came from, for [`Reuse`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Previous,
    Cache,
    Registry,
}

impl Read<'_> {
    pub(super) fn children(&self) -> Vec<&Digest> {
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

    pub(super) fn subject(&self) -> Option<&Digest> {
        match self {
            Read::Fetched(fetched) => fetched.manifest.subject().map(|s| &s.digest),
            Read::Known(image) => image.subject.as_ref(),
        }
    }
}

/// The previous inventory, as a rescan consults it.
pub(super) struct Previous<'a> {
    pub(super) inventory: &'a Inventory,
    /// Config digest → build date, for every image whose date came from
    /// its config. Configs are immutable, so these are never read again.
    pub(super) config_dates: BTreeMap<&'a Digest, OffsetDateTime>,
}

impl<'a> Previous<'a> {
    pub(super) fn new(inventory: &'a Inventory) -> Previous<'a> {
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
    pub(super) fn reusable(
        &self,
        name: &RepositoryName,
        digest: &Digest,
        depth: usize,
    ) -> Option<&'a Image> {
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

impl<T: Transport> Client<T> {
    /// A manifest from the cache, or else from the registry (then stored).
    pub(super) async fn manifest_through(
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
    pub(super) async fn config_created_through(
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
    pub(super) async fn head_tag_digest(&self, name: &RepositoryName, tag: &Tag) -> Option<Digest> {
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

    /// Reads each manifest of `keys` by digest (from the cache when it has
    /// it), as many at once as the client's concurrency allows; the answers
    /// come as they arrive.
    pub(super) fn read_by_digest<'a, C: Cache>(
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
}
