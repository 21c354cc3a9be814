//! The client's side of recovery files: reading the manifests a plan is
//! about to change into a [`RecoveryFile`] before apply, and putting a
//! file's manifests and tags back (`order` says in which order, `outcome`
//! what happened to each entry).
//!
//! The file holds the exact bytes of every manifest about to go, with its
//! tags; for a tag removal, the image's bytes and the removed tags
//! (`tags_only`). The bytes may come from the scan cache, checked against
//! their digest. Restore puts children back before their index and subjects
//! before their attachments, and never moves a tag that now points
//! elsewhere: someone pushed it again since, and that push wins.

mod order;
mod outcome;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};

use crate::cache::{self, Cache, NoCache};
use crate::client::Client;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::manifest::parse_manifest;
use crate::media_type::MediaType;
use crate::name::{RepositoryName, Tag};
use crate::plan::{Plan, PlanEntry};
use crate::protocol::{self, Reference};
use crate::recovery::{RECOVERY_FORMAT, RecoveryEntry, RecoveryFile, short};
use crate::transport::Transport;

use order::{Links, links, restore_order};
pub use outcome::{RestoreCounts, RestoreOutcome, RestoreReport, RestoreResult, SkippedTag};

impl<T: Transport> Client<T> {
    /// Reads every manifest `plan` deletes, by digest and accepting every
    /// manifest type, and keeps its exact bytes, checked against the digest,
    /// with its media type and tags: the recovery file to write before
    /// deleting. Up to [`Client::concurrency`] reads run at once; the
    /// entries stay in plan order. Any manifest that cannot be read or
    /// copied exactly fails the whole file (the error names its repository
    /// and digest): a delete without a complete copy could not be undone.
    pub async fn recovery_for(&self, plan: &Plan) -> Result<RecoveryFile, Error> {
        self.recovery_for_cached(plan, &NoCache).await
    }

    /// [`Client::recovery_for`] taking the exact bytes of manifests a scan
    /// cache holds (checked against their digests) instead of reading them
    /// again.
    pub async fn recovery_for_cached(
        &self,
        plan: &Plan,
        cache: &impl Cache,
    ) -> Result<RecoveryFile, Error> {
        let mut wanted: Vec<(&PlanEntry, Vec<Tag>, bool)> = plan
            .deletes()
            .map(|entry| (entry, entry.tags.clone(), false))
            .collect();
        // One entry per image that loses tags, with all of them.
        let mut untagged_images: BTreeMap<(&RepositoryName, &Digest), usize> = BTreeMap::new();
        for entry in plan.untags() {
            match untagged_images.get(&(&entry.repository, &entry.digest)) {
                Some(&at) => wanted[at].1.extend(entry.tags.iter().cloned()),
                None => {
                    untagged_images.insert((&entry.repository, &entry.digest), wanted.len());
                    wanted.push((entry, entry.tags.clone(), true));
                }
            }
        }
        let mut copies: Vec<Option<RecoveryEntry>> = vec![None; wanted.len()];
        let mut answers = stream::iter(wanted.into_iter().enumerate().map(
            |(index, (entry, tags, tags_only))| async move {
                let copy = self.manifest_copy(entry, cache).await.map(|mut copy| {
                    copy.tags = tags;
                    copy.tags_only = tags_only;
                    copy
                });
                (index, copy)
            },
        ))
        .buffer_unordered(self.concurrency());
        while let Some((index, copy)) = answers.next().await {
            copies[index] = Some(copy?);
        }
        drop(answers);
        Ok(RecoveryFile {
            format: RECOVERY_FORMAT,
            registry: self.registry().as_str().to_owned(),
            created: plan.now,
            entries: copies.into_iter().flatten().collect(),
        })
    }

    async fn manifest_copy(
        &self,
        entry: &PlanEntry,
        cache: &impl Cache,
    ) -> Result<RecoveryEntry, Error> {
        if let Some(value) = cache.get(&cache::manifest_key(&entry.digest)).await
            && let Some((media_type, bytes)) = cache::decode_manifest_bytes(&entry.digest, &value)
        {
            let mut copy = RecoveryEntry::new(
                entry.repository.clone(),
                MediaType::parse(media_type),
                entry.tags.clone(),
                bytes,
            );
            copy.digest = entry.digest.clone();
            return Ok(copy);
        }
        let reference = Reference::Digest(entry.digest.clone());
        // A damaged answer (a proxy cutting or rewriting it) is read again,
        // as the scan does: the copy must not fail on one bad answer.
        let (described, fetched, bytes) = self
            .read_parsed(
                || protocol::manifest(self.registry(), &entry.repository, &reference),
                |described, response| {
                    protocol::parse_manifest_response(described, &reference, response)
                        .map(|fetched| (described.to_owned(), fetched, response.body().clone()))
                },
            )
            .await?;
        if !entry.digest.matches(&bytes) {
            // A signed schema1 manifest: its digest leaves out the signature.
            return Err(Error::Protocol {
                request: described,
                detail: format!(
                    "the {} bytes the registry serves do not hash to {}, so no exact copy can \
                     be kept and the delete could not be undone",
                    fetched.media_type, entry.digest
                ),
            });
        }
        let mut copy = RecoveryEntry::new(
            entry.repository.clone(),
            fetched.media_type,
            entry.tags.clone(),
            &bytes,
        );
        copy.digest = entry.digest.clone();
        Ok(copy)
    }

    /// Puts a recovery file's manifests back and re-points their tags.
    ///
    /// Children go before the index that lists them, a subject before what
    /// is attached to it, otherwise file order. Per entry: a `HEAD` by
    /// digest says whether the registry still has the manifest; if not, its
    /// exact bytes are PUT by digest. Then every tag is read: one that is
    /// gone is PUT back with the same bytes, one that points at this digest
    /// is left as it is, and one that points at another manifest is left
    /// alone (someone pushed it again since the delete) and reported with
    /// where it points. An entry attached to a subject that could not be
    /// restored is not put back (it would be an orphan). One failure never
    /// stops the others; `progress` sees every outcome as it ends.
    pub async fn restore(
        &self,
        file: &RecoveryFile,
        progress: &mut dyn FnMut(&RestoreOutcome),
    ) -> RestoreReport {
        let links: Vec<Links> = file.entries.iter().map(links).collect();
        let mut failed: BTreeSet<(RepositoryName, Digest)> = BTreeSet::new();
        let mut report = RestoreReport::default();
        for index in restore_order(&file.entries, &links) {
            let entry = &file.entries[index];
            let result = self.restore_entry(entry, &links[index], &failed).await;
            if !result.manifest_present() {
                failed.insert((entry.repository.clone(), entry.digest.clone()));
            }
            let outcome = RestoreOutcome {
                index,
                repository: entry.repository.clone(),
                digest: entry.digest.clone(),
                tags: entry.tags.clone(),
                result,
            };
            progress(&outcome);
            report.outcomes.push(outcome);
        }
        report
    }

    async fn restore_entry(
        &self,
        entry: &RecoveryEntry,
        links: &Links,
        failed: &BTreeSet<(RepositoryName, Digest)>,
    ) -> RestoreResult {
        let bytes = match entry.manifest_bytes() {
            Ok(bytes) => bytes,
            Err(problem) => {
                return RestoreResult::Failed {
                    reason: format!("the recovery file's copy is unusable: {problem}"),
                };
            }
        };
        if let Some(subject) = &links.subject
            && failed.contains(&(entry.repository.clone(), subject.clone()))
        {
            return RestoreResult::Failed {
                reason: format!(
                    "not put back: its subject {} could not be restored, and without it this \
                     would be an orphan",
                    short(subject)
                ),
            };
        }
        let was_present = match self.manifest_exists(&entry.repository, &entry.digest).await {
            Ok(present) => present,
            Err(error) => {
                return RestoreResult::Failed {
                    reason: format!("could not check whether the registry has it: {error}"),
                };
            }
        };
        if !was_present {
            let by_digest = Reference::Digest(entry.digest.clone());
            if let Err(error) = self.put_manifest(entry, &by_digest, &bytes).await {
                return RestoreResult::Failed {
                    reason: self.why_not_restored(entry, &bytes, &error, failed).await,
                };
            }
        }
        let mut repointed = Vec::new();
        let mut skipped = Vec::new();
        for tag in &entry.tags {
            match self.resolve_tag(&entry.repository, tag).await {
                Ok(Some(now)) if now == entry.digest => {}
                Ok(Some(now)) => skipped.push(SkippedTag {
                    tag: tag.clone(),
                    reason: format!(
                        "left alone: it points at {} now (pushed again since the delete)",
                        short(&now)
                    ),
                    points_to: Some(now),
                }),
                Ok(None) => {
                    let by_tag = Reference::Tag(tag.clone());
                    match self.put_manifest(entry, &by_tag, &bytes).await {
                        Ok(()) => repointed.push(tag.clone()),
                        Err(error) => skipped.push(SkippedTag {
                            tag: tag.clone(),
                            reason: format!("could not be put back: {error}"),
                            points_to: None,
                        }),
                    }
                }
                Err(error) => skipped.push(SkippedTag {
                    tag: tag.clone(),
                    reason: format!("not re-pointed: reading where it points failed: {error}"),
                    points_to: None,
                }),
            }
        }
        match (skipped.is_empty(), was_present) {
            (true, false) => RestoreResult::Restored {
                tags_repointed: repointed,
            },
            (true, true) => RestoreResult::AlreadyPresent {
                tags_repointed: repointed,
            },
            (false, _) => RestoreResult::Partial {
                was_present,
                tags_repointed: repointed,
                tags_skipped: skipped,
            },
        }
    }

    /// PUTs an entry's exact bytes under a digest or tag; the registry must
    /// answer 201 with the entry's digest.
    async fn put_manifest(
        &self,
        entry: &RecoveryEntry,
        reference: &Reference,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let request = protocol::put_manifest(
            self.registry(),
            &entry.repository,
            reference,
            &entry.media_type,
            bytes.to_vec(),
        )?;
        let (described, response) = self.send(request).await?;
        protocol::parse_put_manifest(&described, &entry.digest, &response)
    }

    /// Whether the repository still links a blob (`HEAD` by digest).
    async fn blob_exists(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, Error> {
        let request = protocol::blob_head(self.registry(), repository, digest);
        let (described, response) = self.send(request).await?;
        protocol::parse_blob_head(&described, &response)
    }

    /// The reason for a failed PUT. When the registry says a referenced blob
    /// or manifest is unknown, the blobs were garbage-collected since the
    /// delete (or a child could not be restored): it names what is missing.
    async fn why_not_restored(
        &self,
        entry: &RecoveryEntry,
        bytes: &[u8],
        error: &Error,
        failed: &BTreeSet<(RepositoryName, Digest)>,
    ) -> String {
        let code = error.registry_code();
        if !matches!(
            code,
            Some(ErrorCode::ManifestBlobUnknown | ErrorCode::BlobUnknown)
        ) {
            return format!("the registry did not take it back: {error}");
        }
        let answered = format!(
            "HTTP {} {}",
            error.status().unwrap_or_default(),
            code.map_or("", ErrorCode::as_str)
        );
        let manifest = parse_manifest(Some(entry.media_type.as_str()), bytes)
            .map(|(_, manifest)| manifest)
            .ok();
        let Some(manifest) = manifest else {
            return format!(
                "its blobs were garbage-collected, so it cannot be restored (the registry answered {answered})"
            );
        };
        let mut lost_children = Vec::new();
        for child in manifest.children() {
            let key = (entry.repository.clone(), child.digest.clone());
            if failed.contains(&key) {
                lost_children.push(format!("{} (not restored above)", short(&child.digest)));
            } else if let Ok(false) = self.manifest_exists(&entry.repository, &child.digest).await {
                lost_children.push(short(&child.digest));
            }
        }
        if !lost_children.is_empty() {
            return format!(
                "it cannot be restored: the registry no longer has the manifests it lists: {} \
                 ({answered})",
                lost_children.join(", ")
            );
        }
        let mut lost_blobs = Vec::new();
        for (position, blob) in manifest.blobs().into_iter().enumerate() {
            if let Ok(false) = self.blob_exists(&entry.repository, &blob.digest).await {
                let what = if position == 0 { "config" } else { "layer" };
                lost_blobs.push(format!("{what} {}", short(&blob.digest)));
            }
        }
        if lost_blobs.is_empty() {
            format!(
                "its blobs were garbage-collected, so it cannot be restored (the registry answered {answered})"
            )
        } else {
            format!(
                "its blobs were garbage-collected, so it cannot be restored: the registry no \
                 longer has {} ({answered})",
                lost_blobs.join(", ")
            )
        }
    }
}
