//! A registry's storage on disk, for tests: a snapshot of a directory tree
//! (to prove a run wrote nothing there), revision links backdated (the
//! planner keeps manifests pushed minutes ago), and a copy of a storage
//! (the same registry state served twice).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::seeder::sha256_digest;

/// What a snapshot records of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeEntry {
    Directory {
        mode: u32,
        modified: SystemTime,
    },
    File {
        mode: u32,
        size: u64,
        modified: SystemTime,
        sha256: String,
    },
    Symlink {
        target: PathBuf,
    },
}

/// Every path under a root (relative to it) with its mode, size,
/// modification time and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSnapshot {
    pub entries: BTreeMap<PathBuf, TreeEntry>,
}

impl TreeSnapshot {
    /// Reads the whole tree under `root` (`root` itself included as `""`).
    pub fn take(root: &Path) -> io::Result<TreeSnapshot> {
        let mut entries = BTreeMap::new();
        walk(root, Path::new(""), &mut entries)?;
        Ok(TreeSnapshot { entries })
    }

    /// One line per path that differs from `later`: added, removed or
    /// changed (and how). Empty when the trees are the same.
    pub fn differences(&self, later: &TreeSnapshot) -> Vec<String> {
        let mut out = Vec::new();
        for (path, before) in &self.entries {
            match later.entries.get(path) {
                None => out.push(format!("removed {}", path.display())),
                Some(after) if after != before => out.push(format!(
                    "changed {}: {before:?} -> {after:?}",
                    path.display()
                )),
                Some(_) => {}
            }
        }
        for path in later.entries.keys() {
            if !self.entries.contains_key(path) {
                out.push(format!("added {}", path.display()));
            }
        }
        out
    }
}

fn walk(
    root: &Path,
    relative: &Path,
    entries: &mut BTreeMap<PathBuf, TreeEntry>,
) -> io::Result<()> {
    let path = root.join(relative);
    let meta = fs::symlink_metadata(&path)?;
    let entry = if meta.file_type().is_symlink() {
        TreeEntry::Symlink {
            target: fs::read_link(&path)?,
        }
    } else if meta.is_dir() {
        let mut names: Vec<_> = fs::read_dir(&path)?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        for name in names {
            walk(root, &relative.join(name), entries)?;
        }
        TreeEntry::Directory {
            mode: meta.mode(),
            modified: meta.modified()?,
        }
    } else {
        TreeEntry::File {
            mode: meta.mode(),
            size: meta.len(),
            modified: meta.modified()?,
            sha256: sha256_digest(&fs::read(&path)?),
        }
    };
    entries.insert(relative.to_path_buf(), entry);
    Ok(())
}

/// Sets the modification time of every manifest revision link
/// (`docker/registry/v2/repositories/<name>/_manifests/revisions/<algorithm>/<hex>/link`)
/// under `storage_root` to `age` ago: the time a push wrote it, as far as
/// a reader of the storage can tell. Returns how many links it set.
pub fn backdate_revision_links(storage_root: &Path, age: Duration) -> io::Result<usize> {
    let when = SystemTime::now() - age;
    let mut count = 0;
    let repositories = storage_root.join("docker/registry/v2/repositories");
    backdate_under(&repositories, when, &mut count)?;
    Ok(count)
}

fn backdate_under(dir: &Path, when: SystemTime, count: &mut usize) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name();
        if name == "_manifests" {
            let revisions = entry.path().join("revisions");
            if !revisions.is_dir() {
                continue;
            }
            for algorithm in fs::read_dir(&revisions)? {
                for manifest in fs::read_dir(algorithm?.path())? {
                    let link = manifest?.path().join("link");
                    if link.is_file() {
                        fs::File::options()
                            .write(true)
                            .open(&link)?
                            .set_modified(when)?;
                        *count += 1;
                    }
                }
            }
        } else if name != "_layers" && name != "_uploads" {
            backdate_under(&entry.path(), when, count)?;
        }
    }
    Ok(())
}

/// Copies the tree under `from` to `to` (created), e.g. a registry's
/// storage for a second registry to serve ([`crate::RegistryOptions`]'s
/// `storage_root`). Best done while nobody writes to `from`.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    crate::bench::copy_dir(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sees_content_size_time_and_new_paths() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::write(dir.path().join("a/b/f"), b"one").unwrap();
        let first = TreeSnapshot::take(dir.path()).unwrap();
        assert_eq!(first, TreeSnapshot::take(dir.path()).unwrap());
        assert!(first.entries.contains_key(Path::new("a/b/f")));

        let file = dir.path().join("a/b/f");
        let modified = fs::metadata(&file).unwrap().modified().unwrap();
        fs::write(&file, b"two").unwrap();
        fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let changed = first.differences(&TreeSnapshot::take(dir.path()).unwrap());
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert!(changed[0].starts_with("changed a/b/f"), "{changed:?}");

        fs::write(dir.path().join("a/new"), b"").unwrap();
        let later = TreeSnapshot::take(dir.path()).unwrap();
        assert!(first.differences(&later).iter().any(|d| d == "added a/new"));
    }

    #[test]
    fn backdating_sets_only_revision_links() {
        let dir = tempfile::tempdir().unwrap();
        let manifests = dir
            .path()
            .join("docker/registry/v2/repositories/team/app/_manifests");
        let link = manifests.join(format!("revisions/sha256/{}/link", "a".repeat(64)));
        let tag = manifests.join("tags/main/current/link");
        for path in [&link, &tag] {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, b"sha256:x").unwrap();
        }
        let age = Duration::from_secs(3600);
        assert_eq!(backdate_revision_links(dir.path(), age).unwrap(), 1);
        let old = |path: &Path| {
            SystemTime::now()
                .duration_since(fs::metadata(path).unwrap().modified().unwrap())
                .unwrap()
                >= age
        };
        assert!(old(&link));
        assert!(!old(&tag));
    }
}
