//! Phases 1 and 2: the tag list of every repository, then the manifest
//! each tag points at (with a `HEAD` first when its digest is probably
//! known already).

use std::collections::BTreeMap;

use futures_util::stream::{self, StreamExt};

use super::read::{Previous, Read, Source};
use super::{Reading, ScanProgress};
use crate::cache::Cache;
use crate::client::Client;
use crate::digest::Digest;
use crate::error::Error;
use crate::name::{RepositoryName, Tag};
use crate::protocol::Reference;
use crate::transport::Transport;

/// Where each tag of each repository points.
pub(super) type TagTargets = BTreeMap<RepositoryName, BTreeMap<Tag, Digest>>;

impl<T: Transport> Client<T> {
    /// Phase 1: every repository's tags.
    pub(super) async fn read_tag_lists(
        &self,
        names: &[RepositoryName],
        state: &mut ScanProgress,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<BTreeMap<RepositoryName, Vec<Tag>>, Error> {
        let mut tag_lists: BTreeMap<RepositoryName, Vec<Tag>> = BTreeMap::new();
        let mut answers = stream::iter(
            names
                .iter()
                .map(|name| async move { (name, self.tags(name).await) }),
        )
        .buffer_unordered(self.concurrency());
        while let Some((name, tags)) = answers.next().await {
            let tags = tags?;
            state.repositories_done += 1;
            state.tags_total += tags.len();
            state.current = Some(name.clone());
            tag_lists.insert(name.clone(), tags);
            progress(state);
        }
        Ok(tag_lists)
    }

    /// Phase 2: one manifest per tag; with `head_first`, a `HEAD` learns
    /// the digest first, and a digest `previous` holds costs nothing more.
    pub(super) async fn read_tagged<'p>(
        &self,
        tag_lists: &BTreeMap<RepositoryName, Vec<Tag>>,
        head_first: bool,
        previous: Option<&Previous<'p>>,
        cache: &impl Cache,
        reading: &mut Reading<'_, 'p>,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<TagTargets, Error> {
        let tagged: Vec<(&RepositoryName, &Tag)> = tag_lists
            .iter()
            .flat_map(|(name, tags)| tags.iter().map(move |tag| (name, tag)))
            .collect();
        let mut tag_targets: TagTargets = BTreeMap::new();
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
        .buffer_unordered(self.concurrency());
        while let Some((name, tag, read)) = answers.next().await {
            let (digest, read, source) = read?;
            reading.reuse.count_manifest(source);
            reading.state.manifests_read += 1;
            reading.state.current = Some(name.clone());
            tag_targets
                .entry(name.clone())
                .or_default()
                .insert(tag.clone(), digest.clone());
            // Two tags on one digest: the first answer stands (the same bytes).
            reading
                .manifests
                .entry((name.clone(), digest))
                .or_insert(read);
            progress(reading.state);
        }
        Ok(tag_targets)
    }
}
