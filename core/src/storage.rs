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

use std::collections::BTreeMap;
use std::future::Future;

use time::OffsetDateTime;

use crate::digest::Digest;
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
