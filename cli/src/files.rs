//! Files the command writes that must never replace another.
//!
//! Each is written to a temporary file beside it, flushed, and only then
//! given its name, so a file is never half written and an existing one is
//! never replaced.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// `$XDG_STATE_HOME/cleanreg/<leaf>` when that variable is an absolute
/// path, else `$HOME/.local/state/cleanreg/<leaf>`; `None` when neither is
/// set. `vars` reads the environment (a parameter, so tests can pass one).
pub fn state_dir(vars: impl Fn(&str) -> Option<String>, leaf: &str) -> Option<PathBuf> {
    let non_empty = |name: &str| vars(name).filter(|value| !value.is_empty());
    non_empty("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".local/state")))
        .map(|base| base.join("cleanreg").join(leaf))
}

/// Writes `bytes` to `path`, which must not exist. They go to a temporary
/// file in the same directory (mode 0600 on Unix), are flushed to disk, and
/// only then appear under `path`, so `path` never holds half a file and an
/// existing file is never replaced. `what` names the file in errors
/// ("the plan file").
pub fn write_new(path: &Path, what: &str, bytes: &[u8]) -> Result<(), String> {
    if write_new_if_free(path, what, bytes)? {
        Ok(())
    } else {
        Err(format!(
            "{what} {} already exists; it is not replaced: choose another name",
            path.display()
        ))
    }
}

/// [`write_new`], but a taken name is `Ok(false)` (nothing written), so a
/// caller can try another name; an error is anything else that failed.
pub fn write_new_if_free(path: &Path, what: &str, bytes: &[u8]) -> Result<bool, String> {
    let shown = path.display();
    if path.exists() {
        return Ok(false);
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("{what} {shown} needs a file name"))?;
    let (temporary, mut handle) =
        create_temporary(&directory, &name.to_string_lossy()).map_err(|e| {
            format!(
                "cannot write {what} {shown}: creating a file in {} failed: {e}",
                directory.display()
            )
        })?;
    let written = handle.write_all(bytes).and_then(|()| handle.sync_all());
    drop(handle);
    let placed = written.and_then(|()| place(&temporary, path));
    let _ = fs::remove_file(&temporary);
    match placed {
        Ok(()) => {
            sync_directory(&directory);
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(format!("cannot write {what} {shown}: {e}")),
    }
}

/// Creates `.<name>.<pid>.<n>.tmp` next to the target, readable only by its
/// owner on Unix.
fn create_temporary(directory: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for attempt in 0..100 {
        let candidate = directory.join(format!(".{name}.{}.{attempt}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&candidate) {
            Ok(handle) => return Ok((candidate, handle)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// Gives the finished temporary file its name, failing if the name is
/// taken: a hard link cannot replace a file. Where the file system has no
/// hard links, a rename after one more check.
fn place(temporary: &Path, path: &Path) -> io::Result<()> {
    match fs::hard_link(temporary, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if path.exists() => Err(io::ErrorKind::AlreadyExists.into()),
        Err(_) => fs::rename(temporary, path),
    }
}

/// Makes the new name durable; best effort (not every system allows it).
fn sync_directory(directory: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = File::open(directory) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = directory;
}
