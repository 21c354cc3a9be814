//! The second way to remove a tag: a tiny manifest of cleanreg's own,
//! pushed to the tag and deleted by digest, which takes the tag with it.

use time::OffsetDateTime;

use super::{EMPTY_BLOB, RemovedBy, TagRemoval, failed, is_forbidden, skipped};
use crate::client::apply::{Outcome, refused_reason};
use crate::client::{Client, is_not_found};
use crate::digest::Digest;
use crate::error::Error;
use crate::media_type::{ManifestKind, MediaType};
use crate::name::{RepositoryName, Tag};
use crate::plan::PlanEntry;
use crate::protocol::{self, Reference};
use crate::transport::Transport;

/// A replacement manifest and its config, ready to push.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Replacement {
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
fn replacement(
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

impl<T: Transport> Client<T> {
    /// The second way: push a replacement to the tag and delete it by
    /// digest. `Err` is the entry's outcome when it could not be done.
    pub(super) async fn replace_tag(
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
