//! The scan cache on disk: one file per key under the cache directory
//! (`$XDG_CACHE_HOME/cleanreg`, else `~/.cache/cleanreg`), bounded in size.
//!
//! Core decides what is stored (manifests and image config blobs, by
//! digest) and checks every entry against its digest on the way out, so a
//! damaged file is a miss. Deleting the directory, or any file in it, is
//! safe.
//!
//! The cache is on by default (`--no-cache` turns it off, `--cache-dir`
//! moves it) and bounded by `--cache-size`, 256 MiB unless told: after a
//! scan the directory is trimmed, the least recently written files first.
//! With `--no-cache` a run still keeps the manifests it read in memory
//! (up to [`RUN_MANIFESTS_BYTES`]) for its own recovery file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use cleanreg_core::{Cache, RunManifests};

/// The default bound of the cache directory, in MiB.
pub const DEFAULT_CACHE_MIB: u64 = 256;

/// After a scan the directory is trimmed to this share of its bound, the
/// least recently written files first.
const TRIM_TO_PERCENT: u64 = 80;

/// A directory of cache files.
#[derive(Debug)]
pub struct DirCache {
    root: PathBuf,
    max_bytes: u64,
    /// Names temporary files apart.
    next: AtomicU64,
}

impl DirCache {
    pub fn new(root: PathBuf, max_bytes: u64) -> DirCache {
        DirCache {
            root,
            max_bytes,
            next: AtomicU64::new(0),
        }
    }

    /// The default directory: `$XDG_CACHE_HOME/cleanreg`, else
    /// `$HOME/.cache/cleanreg`; `None` when neither is set.
    pub fn default_root(vars: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        let non_empty = |name: &str| vars(name).filter(|value| !value.is_empty());
        non_empty("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
            .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".cache")))
            .map(|base| base.join("cleanreg"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `manifest/sha256:<hex>` is stored as `manifest/sha256-<hex>`; a key
    /// of any other shape is not stored at all.
    fn path(&self, key: &str) -> Option<PathBuf> {
        let (kind, name) = key_file(key)?;
        Some(self.root.join(kind).join(name))
    }

    fn write(&self, path: &Path, value: &[u8]) -> std::io::Result<()> {
        write_replacing(path, value, &self.next)
    }

    /// Removes the least recently written files until the directory holds
    /// at most 80 % of its bound; does nothing while it is within it.
    /// Returns the bytes the directory holds afterwards.
    pub fn trim(&self) -> u64 {
        let mut files = Vec::new();
        let Ok(kinds) = fs::read_dir(&self.root) else {
            return 0;
        };
        for kind in kinds.flatten() {
            let Ok(entries) = fs::read_dir(kind.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(meta) = entry.metadata()
                    && meta.is_file()
                {
                    let written = meta.modified().ok();
                    files.push((written, meta.len(), entry.path()));
                }
            }
        }
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        if total <= self.max_bytes {
            return total;
        }
        let target = self.max_bytes / 100 * TRIM_TO_PERCENT;
        files.sort();
        for (_, len, path) in files {
            if total <= target {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
        total
    }
}

/// `<kind>/<algorithm>:<hex>` as a directory and a file name,
/// (`<kind>`, `<algorithm>-<hex>`); `None` for a key of any other shape.
pub(crate) fn key_file(key: &str) -> Option<(&str, String)> {
    let (kind, rest) = key.split_once('/')?;
    let (algorithm, hex) = rest.split_once(':')?;
    let plain = |part: &str, allowed: fn(char) -> bool| {
        !part.is_empty() && part.len() <= 128 && part.chars().all(allowed)
    };
    if !plain(kind, |c| c.is_ascii_lowercase())
        || !plain(algorithm, |c| c.is_ascii_alphanumeric())
        || !plain(hex, |c| c.is_ascii_hexdigit())
    {
        return None;
    }
    Some((kind, format!("{algorithm}-{hex}")))
}

/// Writes `value` to a temporary file next to `path` and renames it over
/// `path`, so a reader sees the old file or the new one, never half of
/// one. `next` names temporary files apart within the process.
pub(crate) fn write_replacing(path: &Path, value: &[u8], next: &AtomicU64) -> std::io::Result<()> {
    let dir = path.parent().expect("store paths have a parent");
    fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        next.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::File::create(&temporary).and_then(|mut file| file.write_all(value));
    match written.and_then(|()| fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// Bytes of manifests a run without a cache directory keeps in memory for
/// its recovery file: 64 MiB, about 30,000 typical manifests. Beyond that
/// the recovery file reads them again.
pub const RUN_MANIFESTS_BYTES: usize = 64 * 1024 * 1024;

/// The cache one run uses: the directory, or this run's manifests alone.
#[derive(Debug)]
pub enum RunCache {
    Dir(DirCache),
    Memory(RunManifests),
}

impl Cache for RunCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self {
            RunCache::Dir(dir) => dir.get(key).await,
            RunCache::Memory(memory) => memory.get(key).await,
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>) {
        match self {
            RunCache::Dir(dir) => dir.put(key, value).await,
            RunCache::Memory(memory) => memory.put(key, value).await,
        }
    }
}

impl Cache for DirCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        fs::read(self.path(key)?).ok()
    }

    async fn put(&self, key: &str, value: Vec<u8>) {
        if let Some(path) = self.path(key) {
            // A cache that cannot be written is only slower next time.
            let _ = self.write(&path, &value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures_executor::block_on(future)
    }

    #[test]
    fn values_come_back_and_strange_keys_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DirCache::new(dir.path().join("c"), 1 << 20);
        let key = format!("manifest/sha256:{}", "ab".repeat(32));
        assert_eq!(block_on(cache.get(&key)), None);
        block_on(cache.put(&key, b"bytes".to_vec()));
        assert_eq!(block_on(cache.get(&key)).as_deref(), Some(&b"bytes"[..]));
        assert!(
            dir.path()
                .join("c/manifest")
                .join(format!("sha256-{}", "ab".repeat(32)))
                .is_file()
        );
        for bad in [
            "../x/sha256:00",
            "manifest/sha256:../../etc",
            "manifest",
            "a/b:c/d",
        ] {
            block_on(cache.put(bad, b"x".to_vec()));
            assert_eq!(block_on(cache.get(bad)), None, "{bad}");
        }
    }

    #[test]
    fn trim_removes_the_oldest_until_under_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DirCache::new(dir.path().to_path_buf(), 1000);
        for n in 0..10u8 {
            let key = format!("config/sha256:{:064x}", n);
            block_on(cache.put(&key, vec![n; 200]));
            // Distinct modification times, oldest first.
            let path = cache.path(&key).unwrap();
            let when = std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(1000 + u64::from(n));
            fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        assert_eq!(cache.trim(), 800);
        let kept: Vec<bool> = (0..10u8)
            .map(|n| block_on(cache.get(&format!("config/sha256:{:064x}", n))).is_some())
            .collect();
        assert_eq!(
            kept,
            [
                false, false, false, false, false, false, true, true, true, true
            ]
        );
        // Within the bound nothing goes.
        assert_eq!(cache.trim(), 800);
    }

    #[test]
    fn the_default_root_follows_xdg_then_home() {
        let vars = |set: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                set.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(
            DirCache::default_root(vars(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/cleanreg"))
        );
        assert_eq!(
            DirCache::default_root(vars(&[("XDG_CACHE_HOME", "relative"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/cleanreg"))
        );
        assert_eq!(DirCache::default_root(vars(&[])), None);
    }
}
