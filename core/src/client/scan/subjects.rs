//! Phase 5: whether the registry still has the subject of every attached
//! manifest that nothing the scan read leads to (a `HEAD` each).

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};

use super::Key;
use super::read::Read;
use super::tags::TagTargets;
use crate::client::Client;
use crate::error::Error;
use crate::inventory::attachment;
use crate::name::Tag;
use crate::transport::Transport;

impl<T: Transport> Client<T> {
    /// Asks about the subjects of attachments that nothing scanned leads
    /// to: present or gone, by repository and digest.
    pub(super) async fn check_subjects(
        &self,
        tag_targets: &TagTargets,
        manifests: &BTreeMap<Key, Read<'_>>,
    ) -> Result<BTreeMap<Key, bool>, Error> {
        let mut tags_of: BTreeMap<Key, Vec<Tag>> = BTreeMap::new();
        for (name, targets) in tag_targets {
            for (tag, digest) in targets {
                tags_of
                    .entry((name.clone(), digest.clone()))
                    .or_default()
                    .push(tag.clone());
            }
        }
        let mut subjects: BTreeSet<Key> = BTreeSet::new();
        for (key, read) in manifests {
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
        .buffer_unordered(self.concurrency());
        while let Some((name, digest, exists)) = answers.next().await {
            present.insert((name, digest), exists?);
        }
        Ok(present)
    }
}
