//! A content-addressed cache of what a scan reads: manifests and image
//! config blobs, both addressed by digest, so they never change.
//!
//! Core owns what goes in and what comes out; a shell only stores bytes
//! under keys (the CLI in a cache directory, the dashboard in IndexedDB).
//! Every manifest and config taken from a cache is checked against its
//! digest, so a damaged or tampered entry is a miss, never a wrong
//! inventory. Keyed by digest only, entries never go stale. Deleting
//! the whole cache is always safe: the next scan reads from the registry.
//!
//! A scan learns tag digests with a `HEAD` per tag only once a scan of that
//! registry has finished with the cache (a marker keyed by the hash of the
//! registry URL); until then a tag costs one `GET`, as without a cache. The
//! recovery file takes manifest bytes from the cache too. Configs over
//! 1 MiB are not cached.

use std::future::Future;

use crate::digest::Digest;
use crate::manifest::parse_manifest;
use crate::media_type::{ManifestKind, MediaType};
use crate::protocol::{FetchedManifest, MAX_MANIFEST_BYTES, RegistryUrl};

/// Bytes under keys. Keys are ASCII, always `<kind>/<algorithm>:<hex>`
/// (`manifest/sha256:…`, `config/sha256:…`, `registry/sha256:…`), so a
/// store can turn them into file names.
///
/// A store may forget anything at any time (a size bound, the user clearing
/// it); a `put` that fails is simply not remembered.
pub trait Cache {
    fn get(&self, key: &str) -> impl Future<Output = Option<Vec<u8>>>;
    fn put(&self, key: &str, value: Vec<u8>) -> impl Future<Output = ()>;

    /// False for a store that never remembers anything ([`NoCache`]), so
    /// work meant only for it can be skipped.
    fn is_on(&self) -> bool {
        true
    }
}

/// No cache: every `get` misses.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCache;

impl Cache for NoCache {
    async fn get(&self, _key: &str) -> Option<Vec<u8>> {
        None
    }

    async fn put(&self, _key: &str, _value: Vec<u8>) {}

    fn is_on(&self) -> bool {
        false
    }
}

/// The manifests read in one run, in memory up to a bound in bytes: a run
/// without a cache directory keeps the exact bytes the scan read, so its
/// recovery file needs no second read of each manifest it is about to
/// delete. Other keys are not kept; past the bound, nothing more is (those
/// manifests are then read again, and checked again, as without a cache).
#[derive(Debug, Default)]
pub struct RunManifests {
    entries: std::cell::RefCell<std::collections::HashMap<String, Vec<u8>>>,
    bytes: std::cell::Cell<usize>,
    limit: usize,
}

impl RunManifests {
    pub fn new(limit: usize) -> RunManifests {
        RunManifests {
            limit,
            ..RunManifests::default()
        }
    }
}

impl Cache for RunManifests {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.entries.borrow().get(key).cloned()
    }

    async fn put(&self, key: &str, value: Vec<u8>) {
        let size = key.len() + value.len();
        if !key.starts_with("manifest/") || self.bytes.get() + size > self.limit {
            return;
        }
        if let Some(old) = self.entries.borrow_mut().insert(key.to_owned(), value) {
            self.bytes.set(self.bytes.get() - key.len() - old.len());
        }
        self.bytes.set(self.bytes.get() + size);
    }
}

impl<C: Cache> Cache for &C {
    fn get(&self, key: &str) -> impl Future<Output = Option<Vec<u8>>> {
        (**self).get(key)
    }

    fn put(&self, key: &str, value: Vec<u8>) -> impl Future<Output = ()> {
        (**self).put(key, value)
    }

    fn is_on(&self) -> bool {
        (**self).is_on()
    }
}

/// `None` is no cache.
impl<C: Cache> Cache for Option<C> {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self {
            Some(cache) => cache.get(key).await,
            None => None,
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>) {
        if let Some(cache) = self {
            cache.put(key, value).await;
        }
    }

    fn is_on(&self) -> bool {
        self.as_ref().is_some_and(C::is_on)
    }
}

pub(crate) fn manifest_key(digest: &Digest) -> String {
    format!("manifest/{digest}")
}

pub(crate) fn config_key(digest: &Digest) -> String {
    format!("config/{digest}")
}

/// The key that says a scan of this registry once finished with this
/// cache: the next scan learns digests with a `HEAD` per tag first.
pub(crate) fn registry_key(registry: &RegistryUrl) -> String {
    format!(
        "registry/{}",
        Digest::sha256_of(registry.as_str().as_bytes())
    )
}

/// A manifest as stored: its media type, a newline, its exact bytes.
/// Signed schema1 manifests are not stored: their digest is not the
/// digest of their bytes, so they could not be checked on the way out.
pub(crate) fn encode_manifest(fetched: &FetchedManifest, bytes: &[u8]) -> Option<Vec<u8>> {
    if fetched.media_type.manifest_kind() == ManifestKind::Schema1 || !fetched.digest.matches(bytes)
    {
        return None;
    }
    let media_type = fetched.media_type.as_str();
    let mut value = Vec::with_capacity(media_type.len() + 1 + bytes.len());
    value.extend_from_slice(media_type.as_bytes());
    value.push(b'\n');
    value.extend_from_slice(bytes);
    Some(value)
}

/// A manifest value for the cache from its media type and exact bytes
/// (what [`encode_manifest`] stores for a fetched one).
pub(crate) fn encode_stored(media_type: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    if media_type.contains('\n') {
        return None;
    }
    let mut value = Vec::with_capacity(media_type.len() + 1 + bytes.len());
    value.extend_from_slice(media_type.as_bytes());
    value.push(b'\n');
    value.extend_from_slice(bytes);
    Some(value)
}

/// A stored manifest's media type (as stored) and exact bytes, if they are
/// the bytes `digest` names.
pub(crate) fn decode_manifest_bytes<'v>(
    digest: &Digest,
    value: &'v [u8],
) -> Option<(&'v str, &'v [u8])> {
    let newline = value.iter().position(|&b| b == b'\n')?;
    let (media_type, bytes) = (
        std::str::from_utf8(&value[..newline]).ok()?,
        &value[newline + 1..],
    );
    (bytes.len() <= MAX_MANIFEST_BYTES && digest.matches(bytes)).then_some((media_type, bytes))
}

/// A stored manifest, if it is whole and is the one `digest` names.
pub(crate) fn decode_manifest(digest: &Digest, value: &[u8]) -> Option<FetchedManifest> {
    let (media_type, bytes) = decode_manifest_bytes(digest, value)?;
    let (parsed_type, manifest) = parse_manifest(Some(media_type), bytes).ok()?;
    if parsed_type != MediaType::parse(media_type)
        || parsed_type.manifest_kind() == ManifestKind::Schema1
    {
        return None;
    }
    Some(FetchedManifest {
        digest: digest.clone(),
        media_type: parsed_type,
        manifest,
        size: bytes.len() as u64,
    })
}

/// Config blobs larger than this are read from the registry every time.
pub(crate) const MAX_CONFIG_BYTES: usize = 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_manifests_keep_manifests_up_to_their_bound() {
        use futures_executor::block_on;
        let cache = RunManifests::new(100);
        let manifest = format!("manifest/sha256:{}", "ab".repeat(32));
        let config = format!("config/sha256:{}", "cd".repeat(32));
        block_on(cache.put(&config, b"config".to_vec()));
        assert_eq!(block_on(cache.get(&config)), None, "only manifests");
        block_on(cache.put(&manifest, b"0123456789".to_vec()));
        assert_eq!(block_on(cache.get(&manifest)), Some(b"0123456789".to_vec()));
        let other = format!("manifest/sha256:{}", "ef".repeat(32));
        block_on(cache.put(&other, b"0123456789".to_vec()));
        assert_eq!(block_on(cache.get(&other)), None, "past the bound");
    }

    fn fetched(bytes: &[u8], media_type: &str) -> FetchedManifest {
        let (media_type, manifest) = parse_manifest(Some(media_type), bytes).unwrap();
        FetchedManifest {
            digest: Digest::sha256_of(bytes),
            media_type,
            manifest,
            size: bytes.len() as u64,
        }
    }

    const IMAGE: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":10},"layers":[]}"#;

    #[test]
    fn a_manifest_comes_back_as_it_went_in() {
        let original = fetched(IMAGE, "application/vnd.oci.image.manifest.v1+json");
        let value = encode_manifest(&original, IMAGE).unwrap();
        let back = decode_manifest(&original.digest, &value).unwrap();
        assert_eq!(back.digest, original.digest);
        assert_eq!(back.media_type, original.media_type);
        assert_eq!(back.manifest, original.manifest);
        assert_eq!(back.size, original.size);
    }

    #[test]
    fn a_damaged_or_foreign_entry_is_a_miss() {
        let original = fetched(IMAGE, "application/vnd.oci.image.manifest.v1+json");
        let mut value = encode_manifest(&original, IMAGE).unwrap();
        let last = value.len() - 2;
        value[last] ^= 1;
        assert!(decode_manifest(&original.digest, &value).is_none());
        let other = Digest::sha256_of(b"another manifest");
        let value = encode_manifest(&original, IMAGE).unwrap();
        assert!(decode_manifest(&other, &value).is_none());
        assert!(decode_manifest(&original.digest, IMAGE).is_none());
        assert!(decode_manifest(&original.digest, b"").is_none());
    }

    #[test]
    fn keys_are_file_name_safe() {
        let digest = Digest::sha256_of(b"x");
        for key in [
            manifest_key(&digest),
            config_key(&digest),
            registry_key(&RegistryUrl::parse("http://127.0.0.1:5000").unwrap()),
        ] {
            let (kind, rest) = key.split_once('/').unwrap();
            assert!(kind.chars().all(|c| c.is_ascii_lowercase()));
            let (algorithm, hex) = rest.split_once(':').unwrap();
            assert_eq!(algorithm, "sha256");
            assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
        }
    }
}
