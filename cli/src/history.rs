//! The scan history on disk: what earlier scans saw, one file per registry
//! and repository, under `$XDG_STATE_HOME/cleanreg/history` (else
//! `~/.local/state/cleanreg/history`).
//!
//! Core decides what a record holds (digests and the tags they had; no
//! credentials) and ignores a record it cannot use, so a damaged file
//! costs only what it knew. Unlike the scan cache it is never trimmed: a
//! record is the only trace of a manifest whose tag moved on.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use cleanreg_core::Cache;

use crate::cache::{key_file, write_replacing};

/// The only kind of key the history holds.
const KIND: &str = "history";

/// A directory of history records.
#[derive(Debug)]
pub struct HistoryDir {
    root: PathBuf,
    next: AtomicU64,
}

impl HistoryDir {
    pub fn new(root: PathBuf) -> HistoryDir {
        HistoryDir {
            root,
            next: AtomicU64::new(0),
        }
    }

    /// The default directory: `$XDG_STATE_HOME/cleanreg/history`, else
    /// `$HOME/.local/state/cleanreg/history`; `None` when neither is set.
    pub fn default_root(vars: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        crate::files::state_dir(vars, "history")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `history/sha256:<hex>` is stored as `sha256-<hex>`.
    fn path(&self, key: &str) -> Option<PathBuf> {
        match key_file(key)? {
            (KIND, name) => Some(self.root.join(name)),
            _ => None,
        }
    }
}

impl Cache for HistoryDir {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        fs::read(self.path(key)?).ok()
    }

    async fn put(&self, key: &str, value: Vec<u8>) {
        if let Some(path) = self.path(key) {
            // Not remembered means the next scan knows less, nothing worse.
            let _ = write_replacing(&path, &value, &self.next);
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
    fn records_come_back_and_other_keys_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let history = HistoryDir::new(dir.path().join("h"));
        let key = format!("history/sha256:{}", "cd".repeat(32));
        block_on(history.put(&key, b"{}".to_vec()));
        assert_eq!(block_on(history.get(&key)).as_deref(), Some(&b"{}"[..]));
        assert!(
            dir.path()
                .join("h")
                .join(format!("sha256-{}", "cd".repeat(32)))
                .is_file()
        );
        for other in [
            format!("manifest/sha256:{}", "cd".repeat(32)),
            "history/../x:00".to_owned(),
        ] {
            block_on(history.put(&other, b"x".to_vec()));
            assert_eq!(block_on(history.get(&other)), None, "{other}");
        }
    }

    #[test]
    fn the_default_root_follows_xdg_state_then_home() {
        let vars = |set: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                set.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(
            HistoryDir::default_root(vars(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")])),
            Some(PathBuf::from("/s/cleanreg/history"))
        );
        assert_eq!(
            HistoryDir::default_root(vars(&[("XDG_STATE_HOME", "rel"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/state/cleanreg/history"))
        );
        assert_eq!(HistoryDir::default_root(vars(&[])), None);
    }
}
