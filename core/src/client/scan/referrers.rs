//! Phase 3b: referrers listed by the OCI 1.1 referrers API, where the
//! registry serves it, read when nothing else led to them.
//!
//! Attachments are found three ways: tags (cosign `sha256-<hex>.sig|.att|.sbom`
//! and the referrers fallback `sha256-<hex>`), the `subject` of the manifests
//! the scan reads, and this API. Support is probed once per scan; a 404, 405
//! or 501 means not served (as on Distribution 2.x and 3.x) and nothing more
//! is asked. Where served, every manifest read (tagged, child, untagged,
//! referrer) costs one more `GET` plus its `Link` pages, never taken from a
//! cache or a previous inventory, because a subject gains referrers without
//! changing. Referrers nothing else led to are read by digest and recorded
//! as untagged, found through [`Found::Referrers`](crate::Found::Referrers);
//! one listed by the API and under a fallback tag is one manifest. Without
//! the API, an untagged referrer that no fallback index lists stays
//! invisible unless history or storage knows it.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};

use super::read::Previous;
use super::{Key, MAX_INDEX_DEPTH, Reading, ScanProgress};
use crate::cache::Cache;
use crate::client::{Client, is_not_found};
use crate::error::Error;
use crate::inventory::{Found, Untagged};
use crate::manifest::Descriptor;
use crate::name::RepositoryName;
use crate::transport::Transport;

impl<T: Transport> Client<T> {
    /// Lists, through the referrers API, the referrers of every manifest
    /// read so far and not in `asked`, reads the ones not read yet (with
    /// their children) and does the same for them, level by level. The
    /// first request of a scan tells whether the registry serves the API at
    /// all; once it said no, nothing more is asked.
    pub(super) async fn find_referrers<'p>(
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
