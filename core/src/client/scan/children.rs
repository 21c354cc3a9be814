//! Phase 3: the children of indexes, by digest, level by level.

use std::collections::BTreeSet;

use futures_util::stream::StreamExt;

use super::read::{Previous, Read};
use super::{Key, MAX_INDEX_DEPTH, Reading, ScanProgress};
use crate::cache::Cache;
use crate::client::{Client, is_not_found};
use crate::error::Error;
use crate::transport::Transport;

impl<T: Transport> Client<T> {
    /// Reads the children of every index read so far that are not read
    /// yet, by digest, level by level.
    pub(super) async fn read_children<'p>(
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
}
