//! Removing one tag from a kept image without touching the image.
//!
//! Deleting a manifest by digest removes every tag on it, so a single tag
//! needs its own way, tried in this order:
//!
//! 1. The registry's tag delete, `DELETE /v2/<name>/manifests/<tag>` (OCI
//!    distribution-spec, "Deleting tags"): Distribution 3 answers 202 and
//!    removes only the tag's link. Distribution 2.x answers an error (400
//!    `DIGEST_INVALID`); anything but 202 means "not this way".
//! 2. A replacement, where the account may push: a tiny manifest of
//!    cleanreg's own (a unique config and the two-byte empty blob `{}`, in
//!    the original's media type family) is pushed to the tag, then deleted
//!    by its digest, which takes the tag with it. Its config and the empty
//!    blob stay in storage until garbage collection.
//!
//! The original digest and its other tags are never touched. Right before
//! the removal the tag must still point at the planned digest and must not
//! be the image's last; afterwards the digest must still be there, with its
//! other tags still on it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::client::apply::{Outcome, RepositoryNow, refused_reason};
use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode};
use crate::media_type::{ManifestKind, MediaType};
use crate::name::{RepositoryName, Tag};
use crate::plan::PlanEntry;
use crate::protocol::{self, Reference};
use crate::transport::Transport;

/// How a tag was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum RemovedBy {
    /// The registry's own tag delete.
    TagDelete,
    /// A replacement manifest pushed to the tag and deleted by digest; its
    /// blobs (config and the empty blob) stay until garbage collection.
    Replacement {
        manifest: Digest,
        blobs: Vec<Digest>,
    },
}

/// The empty blob a replacement manifest lists as its one layer.
pub const EMPTY_BLOB: &[u8] = b"{}";

/// What apply has learnt about removing tags on this registry, shared by
/// the repositories it works on side by side.
#[derive(Default)]
pub(crate) struct TagRemoval {
    /// Set once the tag delete answered: true when it removed a tag (202),
    /// false when it answered anything else.
    tag_delete: Option<bool>,
    /// What the tag delete answered when it was not 202, for messages.
    tag_delete_answer: Option<String>,
    /// Whether the registry is known to take deletes by digest.
    deletes_work: bool,
    /// Makes every replacement's config unique within a run.
    replacements: u64,
}

/// A replacement manifest and its config, ready to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replacement {
    pub media_type: MediaType,
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub config: Vec<u8>,
    pub config_digest: Digest,
}

impl Replacement {
    /// The blobs it leaves in storage once deleted.
    pub fn blobs(&self) -> Vec<Digest> {
        vec![self.config_digest.clone(), Digest::sha256_of(EMPTY_BLOB)]
    }
}

/// A replacement for `tag` of `repository`, which points at `original` (of
/// type `original_type`): an OCI image manifest for OCI originals, a Docker
/// schema2 manifest for Docker ones. `nonce` and `now` make its config, and
/// so its digest, unique.
pub(crate) fn replacement(
    original_type: &MediaType,
    repository: &RepositoryName,
    tag: &Tag,
    original: &Digest,
    now: OffsetDateTime,
    nonce: u64,
) -> Replacement {
    let docker = matches!(
        original_type,
        MediaType::DockerManifest | MediaType::DockerManifestList
    ) || original_type.manifest_kind() == ManifestKind::Schema1;
    let (manifest_type, config_type, layer_type) = if docker {
        (
            MediaType::DockerManifest,
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        )
    } else {
        (
            MediaType::OciManifest,
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar",
        )
    };
    let created = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let empty = Digest::sha256_of(EMPTY_BLOB);
    let config = serde_json::json!({
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Labels": {
                "org.cleanreg.removes-tag": format!("{repository}:{tag}"),
                "org.cleanreg.tag-was-on": original.to_string(),
                "org.cleanreg.nonce": nonce.to_string(),
            }
        },
        "rootfs": {"type": "layers", "diff_ids": [empty.to_string()]},
        "history": [{
            "created": created,
            "created_by": "cleanreg",
            "comment": "stands in for a removed tag; deleted right after it is pushed"
        }]
    });
    let config = serde_json::to_vec(&config).expect("a JSON value always serialises");
    let config_digest = Digest::sha256_of(&config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": manifest_type.as_str(),
        "config": {
            "mediaType": config_type,
            "digest": config_digest.to_string(),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": layer_type,
            "digest": empty.to_string(),
            "size": EMPTY_BLOB.len(),
        }]
    });
    let bytes = serde_json::to_vec(&manifest).expect("a JSON value always serialises");
    Replacement {
        media_type: manifest_type,
        digest: Digest::sha256_of(&bytes),
        bytes,
        config,
        config_digest,
    }
}

/// 401 or 403: the account may not do this here.
fn is_forbidden(error: &Error) -> bool {
    matches!(error.status(), Some(401 | 403))
        || matches!(
            error.registry_code(),
            Some(ErrorCode::Unauthorized | ErrorCode::Denied)
        )
}

fn skipped(reason: impl Into<String>) -> (Outcome, bool) {
    (
        Outcome::Skipped {
            reason: reason.into(),
        },
        false,
    )
}

fn failed(reason: impl Into<String>) -> (Outcome, bool) {
    (
        Outcome::Failed {
            reason: reason.into(),
        },
        false,
    )
}

/// The image's other tags, when `tag` is still on it as apply re-read the
/// repository (`now`) and is not its last; else the entry's outcome.
fn still_removable(
    tag: &Tag,
    digest: &Digest,
    now: &RepositoryNow,
) -> Result<Vec<Tag>, (Outcome, bool)> {
    let on_image: BTreeSet<Tag> = now.tags.get(digest).cloned().unwrap_or_default();
    if !on_image.contains(tag) {
        let moved = now
            .tags
            .iter()
            .find(|(_, tags)| tags.contains(tag))
            .map(|(other, _)| other.clone());
        return Err(skipped(match moved {
            Some(other) => format!("tag {tag} moved to {} since the scan", other.short()),
            None => format!("tag {tag} was deleted since the scan"),
        }));
    }
    let others: Vec<Tag> = on_image.iter().filter(|t| *t != tag).cloned().collect();
    if others.is_empty() {
        return Err(skipped(format!(
            "tag {tag} is the last tag of {} now: removing it would leave the image untagged",
            digest.short()
        )));
    }
    Ok(others)
}

impl<T: Transport> Client<T> {
    /// Removes the tag of an untag entry (see the module documentation).
    /// `now` is the repository as apply re-read it; a removal is recorded
    /// in it, so the next entry of the same image sees one tag fewer.
    /// Returns the outcome and whether the registry refuses deletes
    /// altogether.
    pub(crate) async fn untag_entry(
        &self,
        entry: &PlanEntry,
        now: &mut RepositoryNow,
        removal: &std::cell::RefCell<TagRemoval>,
        stop: &dyn Fn() -> bool,
    ) -> (Outcome, bool) {
        let (repository, digest) = (&entry.repository, &entry.digest);
        let Some(tag) = entry.tags.first() else {
            return failed("the plan entry names no tag");
        };
        let others = match still_removable(tag, digest, now) {
            Ok(others) => others,
            Err(outcome) => return outcome,
        };
        if let Some(outcome) = self.tag_still_on(repository, tag, digest).await {
            return outcome;
        }
        if stop() {
            return skipped(crate::client::apply::CANCELLED);
        }
        let by = match self.tag_delete(repository, tag, digest, removal).await {
            Ok(Some(by)) => by,
            Ok(None) => match self.replace_tag(entry, tag, removal, stop).await {
                Ok(by) => by,
                Err(outcome) => return outcome,
            },
            Err(outcome) => return outcome,
        };
        let outcome = self
            .confirm_untag(repository, tag, digest, &others, by)
            .await;
        if matches!(outcome.0, Outcome::TagRemoved { .. })
            && let Some(tags) = now.tags.get_mut(digest)
        {
            tags.remove(tag);
        }
        outcome
    }

    /// The first way: the registry's tag delete, unless this run learnt
    /// that it does not work here. `Ok(None)`: not this way, try a
    /// replacement; `Err` is the entry's outcome.
    async fn tag_delete(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
        removal: &std::cell::RefCell<TagRemoval>,
    ) -> Result<Option<RemovedBy>, (Outcome, bool)> {
        let tried = removal.borrow().tag_delete;
        if tried == Some(false) {
            return Ok(None);
        }
        let request = protocol::delete_tag(self.registry(), repository, tag);
        let answer = match self.send(request).await {
            Ok((described, response)) => protocol::parse_delete(&described, &response),
            Err(error) => Err(error),
        };
        let error = match answer {
            Ok(()) => {
                let mut learnt = removal.borrow_mut();
                learnt.tag_delete = Some(true);
                learnt.deletes_work = true;
                return Ok(Some(RemovedBy::TagDelete));
            }
            Err(error) => error,
        };
        if crate::client::apply::is_delete_refused(&error) {
            return Err((
                Outcome::Failed {
                    reason: refused_reason(&error),
                },
                true,
            ));
        }
        if is_forbidden(&error) {
            return Err(skipped(format!(
                "the registry refused to remove tag {tag}: {error} (the account may not \
                 delete in {repository})"
            )));
        }
        // Anything but 202 may still have acted (a lost answer) or found
        // the tag gone: the registry says.
        match self.tag_digest(repository, tag).await {
            Ok(None) if tried == Some(true) || error.status().is_none() => {
                Ok(Some(RemovedBy::TagDelete))
            }
            Ok(None) => Err(skipped(format!(
                "tag {tag} was removed by someone else meanwhile"
            ))),
            Ok(Some(found)) if found == *digest => {
                if tried == Some(true) || error.status().is_none_or(|s| s >= 500) {
                    return Err(failed(format!("removing tag {tag} failed: {error}")));
                }
                let mut learnt = removal.borrow_mut();
                learnt.tag_delete = Some(false);
                learnt.tag_delete_answer = Some(short_answer(&error));
                Ok(None)
            }
            Ok(Some(found)) => Err(skipped(format!(
                "tag {tag} moved to {} meanwhile",
                found.short()
            ))),
            Err(check) => Err(failed(format!(
                "{}: removing tag {tag} failed ({error}) and so did reading where it points \
                 ({check})",
                crate::client::apply::UNVERIFIED
            ))),
        }
    }

    /// Skips when the tag no longer points at the digest (read right now).
    async fn tag_still_on(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
    ) -> Option<(Outcome, bool)> {
        match self.tag_digest(repository, tag).await {
            Ok(Some(found)) if found == *digest => None,
            Ok(Some(found)) => Some(skipped(format!(
                "tag {tag} moved to {} since the scan",
                found.short()
            ))),
            Ok(None) => Some(skipped(format!("tag {tag} was deleted since the scan"))),
            Err(error) => Some(failed(format!("could not re-check tag {tag}: {error}"))),
        }
    }

    /// The second way: push a replacement to the tag and delete it by
    /// digest. `Err` is the entry's outcome when it could not be done.
    async fn replace_tag(
        &self,
        entry: &PlanEntry,
        tag: &Tag,
        removal: &std::cell::RefCell<TagRemoval>,
        stop: &dyn Fn() -> bool,
    ) -> Result<RemovedBy, (Outcome, bool)> {
        let (repository, digest) = (&entry.repository, &entry.digest);
        let tag_delete_answer = removal
            .borrow()
            .tag_delete_answer
            .clone()
            .unwrap_or_else(|| "an error".into());
        let cannot = |why: String| {
            skipped(format!(
                "the registry cannot remove single tags: its tag delete answered \
                 {tag_delete_answer}, and {why}"
            ))
        };
        // A replacement that cannot be deleted would leave the tag on it:
        // make sure deletes by digest work first.
        if !removal.borrow().deletes_work {
            self.probe_deletes(repository, removal, &cannot).await?;
        }
        let nonce = {
            let mut learnt = removal.borrow_mut();
            learnt.replacements += 1;
            learnt.replacements
        };
        let stand_in = replacement(
            &entry.media_type,
            repository,
            tag,
            digest,
            self.now(),
            nonce,
        );
        self.push_replacement_blobs(repository, tag, &stand_in, &cannot)
            .await?;
        // The last look before the tag moves.
        if let Some(outcome) = self.tag_still_on(repository, tag, digest).await {
            return Err(outcome);
        }
        if stop() {
            return Err(skipped(crate::client::apply::CANCELLED));
        }
        self.put_replacement(repository, tag, digest, &stand_in, &cannot)
            .await?;
        // The tag now points at the replacement: deleting that by digest
        // takes the tag with it.
        self.delete_replacement(repository, tag, digest, &stand_in)
            .await?;
        Ok(RemovedBy::Replacement {
            manifest: stand_in.digest.clone(),
            blobs: stand_in.blobs(),
        })
    }

    /// Whether deletes by digest work here: a DELETE of a digest no
    /// repository has, which a registry that takes deletes answers 404.
    async fn probe_deletes(
        &self,
        repository: &RepositoryName,
        removal: &std::cell::RefCell<TagRemoval>,
        cannot: &dyn Fn(String) -> (Outcome, bool),
    ) -> Result<(), (Outcome, bool)> {
        let probe = Digest::sha256_of(format!("cleanreg delete probe {repository}").as_bytes());
        match self.delete_manifest(repository, &probe).await {
            Err(error) if is_not_found(&error) => {
                removal.borrow_mut().deletes_work = true;
            }
            Ok(()) => {
                removal.borrow_mut().deletes_work = true;
            }
            Err(error) if crate::client::apply::is_delete_refused(&error) => {
                return Err((
                    Outcome::Failed {
                        reason: refused_reason(&error),
                    },
                    true,
                ));
            }
            Err(error) if is_forbidden(&error) => {
                return Err(cannot(format!(
                    "the account may not delete in {repository} ({error})"
                )));
            }
            Err(error) => {
                return Err(failed(format!(
                    "could not check that the registry takes deletes: {error}"
                )));
            }
        }
        Ok(())
    }

    /// Pushes the replacement's config and the empty blob.
    async fn push_replacement_blobs(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        stand_in: &Replacement,
        cannot: &dyn Fn(String) -> (Outcome, bool),
    ) -> Result<(), (Outcome, bool)> {
        for (blob, bytes) in [
            (Digest::sha256_of(EMPTY_BLOB), EMPTY_BLOB.to_vec()),
            (stand_in.config_digest.clone(), stand_in.config.clone()),
        ] {
            match self.push_blob(repository, &blob, bytes).await {
                Ok(()) => {}
                Err(error) if is_forbidden(&error) => {
                    return Err(cannot(format!(
                        "pushing a replacement to the tag was refused: the account may not \
                         push to {repository} ({error})"
                    )));
                }
                Err(error) => {
                    return Err(failed(format!(
                        "could not push the replacement's blobs for tag {tag}: {error}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Pushes the replacement to the tag; a PUT whose answer was lost
    /// counts when the tag points at the replacement now.
    async fn put_replacement(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
        stand_in: &Replacement,
        cannot: &dyn Fn(String) -> (Outcome, bool),
    ) -> Result<(), (Outcome, bool)> {
        let put = protocol::put_manifest(
            self.registry(),
            repository,
            &Reference::Tag(tag.clone()),
            &stand_in.media_type,
            stand_in.bytes.clone(),
        )
        .map_err(|error| failed(error.to_string()))?;
        let put = match self.send(put).await {
            Ok((described, response)) => {
                protocol::parse_put_manifest(&described, &stand_in.digest, &response)
            }
            Err(error) => Err(error),
        };
        if let Err(error) = put {
            if is_forbidden(&error) {
                return Err(cannot(format!(
                    "pushing a replacement to the tag was refused: the account may not push to \
                     {repository} ({error})"
                )));
            }
            // The PUT may have acted before its answer was lost.
            match self.tag_digest(repository, tag).await {
                Ok(Some(found)) if found == stand_in.digest => {}
                Ok(Some(found)) if found == *digest => {
                    return Err(failed(format!(
                        "pushing the replacement to tag {tag} failed: {error}; the tag is as it was"
                    )));
                }
                _ => {
                    return Err(failed(format!(
                        "pushing the replacement to tag {tag} failed: {error}; where the tag \
                         points now is not known, check it (the recovery file re-points it)"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Deletes the replacement by digest, which takes the tag with it; when
    /// it stays, puts the tag back on `digest`.
    async fn delete_replacement(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
        stand_in: &Replacement,
    ) -> Result<(), (Outcome, bool)> {
        let deleted = self.delete_manifest(repository, &stand_in.digest).await;
        let gone = match deleted {
            Ok(()) => true,
            Err(_) => matches!(
                self.manifest_exists(repository, &stand_in.digest).await,
                Ok(false)
            ),
        };
        if !gone {
            let error = deleted.err().map(|e| e.to_string()).unwrap_or_default();
            let put_back = self.repoint(repository, tag, digest).await;
            return Err(failed(match put_back {
                Ok(()) => format!(
                    "could not delete the replacement {} ({error}); tag {tag} was put back on {}",
                    stand_in.digest.short(),
                    digest.short()
                ),
                Err(again) => format!(
                    "could not delete the replacement {} ({error}), and putting tag {tag} back \
                     on {} failed too ({again}): the tag points at the replacement; `cleanreg \
                     restore` with the recovery file re-points it",
                    stand_in.digest.short(),
                    digest.short()
                ),
            }));
        }
        Ok(())
    }

    /// Puts a tag back on a digest with the digest's exact bytes.
    async fn repoint(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
    ) -> Result<(), Error> {
        let reference = Reference::Digest(digest.clone());
        let (fetched, bytes) = self.manifest_and_bytes(repository, &reference).await?;
        let request = protocol::put_manifest(
            self.registry(),
            repository,
            &Reference::Tag(tag.clone()),
            &fetched.media_type,
            bytes,
        )?;
        let (described, response) = self.send(request).await?;
        protocol::parse_put_manifest(&described, digest, &response)
    }

    /// After a removal: the tag is gone, the digest is there, and every
    /// other tag still points at it.
    async fn confirm_untag(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
        digest: &Digest,
        others: &[Tag],
        by: RemovedBy,
    ) -> (Outcome, bool) {
        match self.tag_digest(repository, tag).await {
            Ok(None) => {}
            Ok(Some(found)) if found == *digest => {
                return failed(format!(
                    "the registry accepted the removal, but tag {tag} still points at {}",
                    digest.short()
                ));
            }
            Ok(Some(found)) => {
                return failed(format!(
                    "tag {tag} was removed from {}, but points at {} now (pushed again meanwhile?)",
                    digest.short(),
                    found.short()
                ));
            }
            Err(error) => {
                return failed(format!(
                    "{}: tag {tag} may be removed, but reading it failed: {error}",
                    crate::client::apply::UNVERIFIED
                ));
            }
        }
        match self.manifest_exists(repository, digest).await {
            Ok(true) => {}
            Ok(false) => {
                return failed(format!(
                    "removing tag {tag} took the image {} with it: restore it with the recovery \
                     file before garbage collection runs",
                    digest.short()
                ));
            }
            Err(error) => {
                return failed(format!(
                    "tag {tag} is removed, but checking that {} is still there failed: {error}",
                    digest.short()
                ));
            }
        }
        for other in others {
            match self.tag_digest(repository, other).await {
                Ok(Some(found)) if found == *digest => {}
                Ok(_) => {
                    return failed(format!(
                        "after removing tag {tag}, tag {other} no longer points at {}",
                        digest.short()
                    ));
                }
                Err(error) => {
                    return failed(format!(
                        "tag {tag} is removed, but checking tag {other} failed: {error}"
                    ));
                }
            }
        }
        (Outcome::TagRemoved { by }, false)
    }

    /// Makes sure the repository has a blob: a `HEAD`, then an upload when
    /// it is missing.
    pub(crate) async fn push_blob(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        bytes: Vec<u8>,
    ) -> Result<(), Error> {
        let request = protocol::blob_head(self.registry(), repository, digest);
        let (described, response) = self.send(request).await?;
        if protocol::parse_blob_head(&described, &response)? {
            return Ok(());
        }
        let (described, response) = self
            .send(protocol::start_upload(self.registry(), repository))
            .await?;
        let location = protocol::parse_start_upload(self.registry(), &described, &response)?;
        let (described, response) = self
            .send(protocol::finish_upload(&location, digest, bytes))
            .await?;
        protocol::parse_finish_upload(&described, &response)
    }
}

/// `HTTP 400 DIGEST_INVALID`, for messages.
fn short_answer(error: &Error) -> String {
    match (error.status(), error.registry_code()) {
        (Some(status), Some(code)) => format!("HTTP {status} {}", code.as_str()),
        (Some(status), None) => format!("HTTP {status}"),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse_manifest;

    fn names() -> (RepositoryName, Tag, Digest) {
        (
            "team/app".parse().unwrap(),
            "pr-12".parse().unwrap(),
            Digest::sha256_of(b"the image"),
        )
    }

    #[test]
    fn a_replacement_matches_the_original_family_and_is_unique() {
        let (repository, tag, original) = names();
        let now = time::macros::datetime!(2026-12-05 10:00 UTC);
        for (original_type, expected) in [
            (MediaType::OciManifest, MediaType::OciManifest),
            (MediaType::OciIndex, MediaType::OciManifest),
            (MediaType::DockerManifest, MediaType::DockerManifest),
            (MediaType::DockerManifestList, MediaType::DockerManifest),
        ] {
            let made = replacement(&original_type, &repository, &tag, &original, now, 1);
            assert_eq!(made.media_type, expected);
            assert!(made.digest.matches(&made.bytes));
            assert!(made.config_digest.matches(&made.config));
            let (parsed_type, manifest) =
                parse_manifest(Some(expected.as_str()), &made.bytes).unwrap();
            assert_eq!(parsed_type, expected);
            assert_eq!(manifest.artifact_type(), None, "an image, not an artifact");
            let blobs: Vec<Digest> = manifest.blobs().iter().map(|b| b.digest.clone()).collect();
            assert_eq!(blobs, made.blobs());
            assert!(String::from_utf8_lossy(&made.config).contains("team/app:pr-12"));
        }
        let one = replacement(
            &MediaType::OciManifest,
            &repository,
            &tag,
            &original,
            now,
            1,
        );
        let two = replacement(
            &MediaType::OciManifest,
            &repository,
            &tag,
            &original,
            now,
            2,
        );
        assert_ne!(one.digest, two.digest);
        assert_eq!(one.blobs()[1], two.blobs()[1], "the empty blob is shared");
        assert_eq!(
            Digest::sha256_of(EMPTY_BLOB).to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
