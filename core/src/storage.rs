//! The registry's own storage, read-only: the other way to find manifests
//! that no tag points at.
//!
//! Distribution's filesystem driver keeps, under its `rootdirectory`:
//!
//! - a repository's manifests as revision links,
//!   `docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<hex>/link`,
//!   each a file holding `sha256:<hex>` (deleting a manifest removes the
//!   link; its directory may stay);
//! - a tag as `.../_manifests/tags/<tag>/current/link`;
//! - every blob, manifests included, once, as
//!   `docker/registry/v2/blobs/sha256/<first two hex>/<hex>/data`.
//!
//! Core does no I/O: the CLI reads those files through [`Storage`] and this
//! module's path builders, and never writes there. What the storage says is
//! checked against the registry API: a repository whose tagged manifests
//! the storage does not hold is not this registry's.
//!
//! Manifests and configs the storage holds are taken from its blobs
//! ([`StorageBlobs`], a [`Cache`] over them), so a manifest
//! found there costs no request until apply. A revision link's modification
//! time tells when the manifest was pushed; the planner keeps one pushed
//! moments ago, as the push may still be under way.

use std::collections::BTreeMap;
use std::future::Future;

use time::OffsetDateTime;

use crate::cache::{self, Cache};
use crate::digest::Digest;
use crate::manifest::parse_manifest;
use crate::name::RepositoryName;

/// The manifests a registry's storage holds, per repository.
pub trait Storage {
    /// Whether there is a storage to read at all.
    fn is_present(&self) -> bool {
        true
    }

    /// Every manifest digest the repository links, with when its link was
    /// last written (a push); `None` when the storage has no such
    /// repository.
    fn manifests(
        &self,
        repository: &RepositoryName,
    ) -> impl Future<Output = Result<Option<BTreeMap<Digest, Option<OffsetDateTime>>>, String>>;

    /// The bytes the storage holds for a blob (manifests are blobs too),
    /// if it has them; core checks them against the digest.
    fn blob(&self, digest: &Digest) -> impl Future<Output = Option<Vec<u8>>>;
}

/// A [`Cache`] that also takes manifests and configs from the registry's
/// storage: what `cache` lacks is read from the storage's blobs (checked
/// against the digest by whoever takes it back), so manifests the storage
/// lists cost no request. Stores go to `cache` only: the storage is never
/// written.
pub struct StorageBlobs<'a, S, C> {
    pub storage: &'a S,
    pub cache: &'a C,
}

impl<S: Storage, C: Cache> Cache for StorageBlobs<'_, S, C> {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(value) = self.cache.get(key).await {
            return Some(value);
        }
        if !self.storage.is_present() {
            return None;
        }
        let (kind, digest) = key.split_once('/')?;
        let digest: Digest = digest.parse().ok()?;
        let bytes = self.storage.blob(&digest).await?;
        match kind {
            "config" => Some(bytes),
            "manifest" => {
                // Stored as the registry would serve it: its own media type.
                let (media_type, _) = parse_manifest(None, &bytes).ok()?;
                cache::encode_stored(media_type.as_str(), &bytes)
            }
            _ => None,
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>) {
        self.cache.put(key, value).await;
    }

    fn is_on(&self) -> bool {
        self.storage.is_present() || self.cache.is_on()
    }
}

/// No storage to read: only the API and history.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStorage;

impl Storage for NoStorage {
    fn is_present(&self) -> bool {
        false
    }

    async fn manifests(
        &self,
        _repository: &RepositoryName,
    ) -> Result<Option<BTreeMap<Digest, Option<OffsetDateTime>>>, String> {
        Ok(None)
    }

    async fn blob(&self, _digest: &Digest) -> Option<Vec<u8>> {
        None
    }
}

impl<S: Storage> Storage for &S {
    fn is_present(&self) -> bool {
        (**self).is_present()
    }

    fn manifests(
        &self,
        repository: &RepositoryName,
    ) -> impl Future<Output = Result<Option<BTreeMap<Digest, Option<OffsetDateTime>>>, String>>
    {
        (**self).manifests(repository)
    }

    fn blob(&self, digest: &Digest) -> impl Future<Output = Option<Vec<u8>>> {
        (**self).blob(digest)
    }
}

/// Where Distribution keeps its data under the storage's `rootdirectory`.
pub const LAYOUT_ROOT: &str = "docker/registry/v2";

/// `docker/registry/v2/repositories/<name>/_manifests/revisions`: a
/// directory per digest algorithm, in it one per manifest, named by its
/// hex digest.
pub fn revisions_dir(repository: &RepositoryName) -> String {
    format!("{LAYOUT_ROOT}/repositories/{repository}/_manifests/revisions")
}

/// `docker/registry/v2/repositories/<name>`.
pub fn repository_dir(repository: &RepositoryName) -> String {
    format!("{LAYOUT_ROOT}/repositories/{repository}")
}

/// `docker/registry/v2/blobs/sha256/<ab>/<hex>/data`: a blob's bytes.
pub fn blob_data(digest: &Digest) -> String {
    let hex = digest.hex();
    format!(
        "{LAYOUT_ROOT}/blobs/{}/{}/{hex}/data",
        digest.algorithm().name(),
        &hex[..2.min(hex.len())]
    )
}

/// The digest a revision link names, if the link in directory
/// `<algorithm>/<hex>` is a well-formed link to that same digest.
pub fn parse_revision_link(algorithm: &str, hex: &str, content: &[u8]) -> Option<Digest> {
    let text = std::str::from_utf8(content).ok()?.trim();
    let digest: Digest = text.parse().ok()?;
    (digest.algorithm().name() == algorithm && digest.hex() == hex).then_some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::NoCache;

    struct OneBlob(Vec<u8>);

    impl Storage for OneBlob {
        async fn manifests(
            &self,
            _repository: &RepositoryName,
        ) -> Result<Option<BTreeMap<Digest, Option<OffsetDateTime>>>, String> {
            Ok(None)
        }

        async fn blob(&self, digest: &Digest) -> Option<Vec<u8>> {
            digest.matches(&self.0).then(|| self.0.clone())
        }
    }

    #[test]
    fn storage_blobs_serve_manifests_as_the_cache_stores_them() {
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":10},"layers":[]}"#;
        let digest = Digest::sha256_of(manifest);
        let storage = OneBlob(manifest.to_vec());
        let blobs = StorageBlobs {
            storage: &storage,
            cache: &NoCache,
        };
        let value = futures_executor::block_on(blobs.get(&cache::manifest_key(&digest))).unwrap();
        let fetched = cache::decode_manifest(&digest, &value).unwrap();
        assert_eq!(
            fetched.media_type.as_str(),
            "application/vnd.oci.image.manifest.v1+json"
        );
        assert_eq!(
            futures_executor::block_on(blobs.get(&cache::config_key(&digest))),
            Some(manifest.to_vec())
        );
        let other = Digest::sha256_of(b"other");
        assert!(futures_executor::block_on(blobs.get(&cache::manifest_key(&other))).is_none());
    }

    #[test]
    fn paths_follow_distributions_layout() {
        let name: RepositoryName = "team/app".parse().unwrap();
        assert_eq!(
            revisions_dir(&name),
            "docker/registry/v2/repositories/team/app/_manifests/revisions"
        );
        let digest = Digest::sha256_of(b"x");
        let hex = digest.hex().to_owned();
        assert_eq!(
            blob_data(&digest),
            format!("docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2])
        );
        let link = format!("sha256:{hex}");
        assert_eq!(
            parse_revision_link("sha256", &hex, link.as_bytes()),
            Some(digest)
        );
        assert_eq!(parse_revision_link("sha256", &hex, b"sha256:00"), None);
        assert_eq!(parse_revision_link("sha512", &hex, link.as_bytes()), None);
        let other = Digest::sha256_of(b"y");
        assert_eq!(
            parse_revision_link("sha256", other.hex(), link.as_bytes()),
            None,
            "a link must name its own directory"
        );
    }
}
