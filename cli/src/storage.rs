//! `--storage DIR`: the registry's filesystem storage, read-only.
//!
//! Lists a repository's manifests from its revision links and serves blob
//! bytes (manifests and configs) from the blob store, through core's
//! path builders. Files are opened for reading only; nothing under DIR is
//! ever created, written, renamed or locked.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use cleanreg_core::storage::{
    LAYOUT_ROOT, Storage, blob_data, parse_revision_link, repository_dir, revisions_dir,
};
use cleanreg_core::{Digest, MAX_BODY_BYTES, RepositoryName};
use time::OffsetDateTime;

/// A registry's storage `rootdirectory`.
#[derive(Debug, Clone)]
pub struct DirStorage {
    root: PathBuf,
}

impl DirStorage {
    /// Checks that `root` is a readable directory that holds Distribution's
    /// layout; the error names it and says what to give instead.
    pub fn open(root: &Path) -> Result<DirStorage, String> {
        let shown = root.display();
        let meta = fs::metadata(root).map_err(|e| format!("--storage {shown}: {e}"))?;
        if !meta.is_dir() {
            return Err(format!("--storage {shown}: not a directory"));
        }
        fs::read_dir(root).map_err(|e| format!("--storage {shown}: cannot be read: {e}"))?;
        if !root.join(LAYOUT_ROOT).is_dir() {
            return Err(format!(
                "--storage {shown}: no {LAYOUT_ROOT} in it; give the registry's storage \
                 rootdirectory (storage: filesystem: rootdirectory in its config.yml), the \
                 directory that holds {LAYOUT_ROOT}"
            ));
        }
        Ok(DirStorage {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the blob store still holds `digest`'s data (garbage
    /// collection removes it).
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.root.join(blob_data(digest)).is_file()
    }

    fn read_revisions(
        &self,
        repository: &RepositoryName,
    ) -> io::Result<Option<BTreeMap<Digest, Option<OffsetDateTime>>>> {
        if !self.root.join(repository_dir(repository)).is_dir() {
            return Ok(None);
        }
        let mut found = BTreeMap::new();
        let revisions = self.root.join(revisions_dir(repository));
        let algorithms = match fs::read_dir(&revisions) {
            Ok(entries) => entries,
            // A repository whose manifests were never pushed (blobs only).
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Some(found)),
            Err(e) => return Err(e),
        };
        for algorithm in algorithms {
            let algorithm = algorithm?;
            if !algorithm.file_type()?.is_dir() {
                continue;
            }
            let algorithm_name = algorithm.file_name().to_string_lossy().into_owned();
            for manifest in fs::read_dir(algorithm.path())? {
                let manifest = manifest?;
                let hex = manifest.file_name().to_string_lossy().into_owned();
                // A deleted manifest leaves its directory without a link.
                let Some((content, modified)) = read_link(&manifest.path().join("link"))? else {
                    continue;
                };
                if let Some(digest) = parse_revision_link(&algorithm_name, &hex, &content) {
                    found.insert(digest, modified.map(OffsetDateTime::from));
                }
            }
        }
        Ok(Some(found))
    }
}

/// A revision link's bytes and modification time; `None` when there is none.
fn read_link(path: &Path) -> io::Result<Option<(Vec<u8>, Option<std::time::SystemTime>)>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(None);
    }
    let mut content = Vec::new();
    // A link holds one digest; anything longer is not a link.
    file.take(1024).read_to_end(&mut content)?;
    Ok(Some((content, meta.modified().ok())))
}

fn read_blob(path: &Path) -> Option<Vec<u8>> {
    let file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_BODY_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_BODY_BYTES).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

impl Storage for DirStorage {
    async fn manifests(
        &self,
        repository: &RepositoryName,
    ) -> Result<Option<BTreeMap<Digest, Option<OffsetDateTime>>>, String> {
        self.read_revisions(repository).map_err(|e| {
            format!(
                "{}: {e}",
                self.root.join(revisions_dir(repository)).display()
            )
        })
    }

    async fn blob(&self, digest: &Digest) -> Option<Vec<u8>> {
        read_blob(&self.root.join(blob_data(digest)))
    }
}

/// `--storage` given or not.
#[derive(Debug, Default)]
pub struct GivenStorage(pub Option<DirStorage>);

impl Storage for GivenStorage {
    fn is_present(&self) -> bool {
        self.0.is_some()
    }

    async fn manifests(
        &self,
        repository: &RepositoryName,
    ) -> Result<Option<BTreeMap<Digest, Option<OffsetDateTime>>>, String> {
        match &self.0 {
            Some(storage) => storage.manifests(repository).await,
            None => Ok(None),
        }
    }

    async fn blob(&self, digest: &Digest) -> Option<Vec<u8>> {
        match &self.0 {
            Some(storage) => storage.blob(digest).await,
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        futures_executor::block_on(future)
    }

    #[test]
    fn lists_linked_manifests_with_their_push_time_and_serves_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let name: RepositoryName = "team/app".parse().unwrap();
        let (kept, deleted, foreign) = (
            Digest::sha256_of(b"kept"),
            Digest::sha256_of(b"deleted"),
            Digest::sha256_of(b"foreign"),
        );
        let revisions = dir.path().join(revisions_dir(&name)).join("sha256");
        let pushed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        fs::create_dir_all(revisions.join(kept.hex())).unwrap();
        let link = revisions.join(kept.hex()).join("link");
        fs::write(&link, kept.to_string()).unwrap();
        File::options()
            .write(true)
            .open(&link)
            .unwrap()
            .set_modified(pushed)
            .unwrap();
        // Deleted: the directory stays without its link.
        fs::create_dir_all(revisions.join(deleted.hex())).unwrap();
        // A link that names another digest than its directory.
        fs::create_dir_all(revisions.join(foreign.hex())).unwrap();
        fs::write(revisions.join(foreign.hex()).join("link"), kept.to_string()).unwrap();
        let blob = dir.path().join(blob_data(&kept));
        fs::create_dir_all(blob.parent().unwrap()).unwrap();
        fs::write(&blob, b"kept").unwrap();

        let storage = DirStorage::open(dir.path()).unwrap();
        let listed = block_on(storage.manifests(&name)).unwrap().unwrap();
        assert_eq!(
            listed,
            BTreeMap::from([(kept.clone(), Some(OffsetDateTime::from(pushed)))])
        );
        let other: RepositoryName = "other".parse().unwrap();
        assert_eq!(block_on(storage.manifests(&other)).unwrap(), None);
        assert_eq!(block_on(storage.blob(&kept)).as_deref(), Some(&b"kept"[..]));
        assert_eq!(block_on(storage.blob(&deleted)), None);
    }

    #[test]
    fn a_directory_without_the_layout_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let error = DirStorage::open(dir.path()).unwrap_err();
        assert!(error.contains(&dir.path().display().to_string()), "{error}");
        assert!(error.contains("rootdirectory"), "{error}");
        let missing = dir.path().join("missing");
        let error = DirStorage::open(&missing).unwrap_err();
        assert!(error.contains("missing"), "{error}");
    }
}
