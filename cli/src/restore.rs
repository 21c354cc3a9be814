//! The recovery file on disk, and `cleanreg restore FILE`.
//!
//! Before deleting, the CLI writes what it is about to delete (see
//! [`cleanreg_core::RecoveryFile`]); until the registry's garbage collection
//! runs, [`restore_from`] puts it back.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cleanreg_core::{Client, RecoveryFile, RestoreReport, Transport};

/// Writes a recovery file, never over an existing file.
///
/// The JSON goes to a temporary file in the same directory, is flushed to
/// disk, and only then appears under `path`, so `path` never holds half a
/// file. On Unix the file is created with mode 0600: it holds manifests of
/// the admin's registry. An existing `path` is an error, never replaced: it
/// may be the only record of an earlier delete (choose a new name, such as
/// one with the date and time in it).
pub fn write_recovery(path: &Path, file: &RecoveryFile) -> Result<(), String> {
    let shown = path.display();
    if path.exists() {
        return Err(format!(
            "the recovery file {shown} already exists; it may be needed to undo an earlier \
             delete, so it is not replaced: choose another name"
        ));
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("the recovery file {shown} needs a file name"))?;
    let (temporary, mut handle) =
        create_temporary(&directory, &name.to_string_lossy()).map_err(|e| {
            format!(
                "cannot write the recovery file {shown}: creating a file in {} failed: {e}",
                directory.display()
            )
        })?;
    let written = handle
        .write_all(file.to_json_pretty().as_bytes())
        .and_then(|()| handle.write_all(b"\n"))
        .and_then(|()| handle.sync_all());
    drop(handle);
    let placed = written.and_then(|()| place(&temporary, path));
    let _ = fs::remove_file(&temporary);
    match placed {
        Ok(()) => {
            sync_directory(&directory);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(format!(
            "the recovery file {shown} appeared while it was written; it is not replaced: \
             choose another name"
        )),
        Err(e) => Err(format!("cannot write the recovery file {shown}: {e}")),
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

/// Reads and checks a recovery file.
pub fn read_recovery(path: &Path) -> Result<RecoveryFile, String> {
    let shown = path.display();
    let text = fs::read_to_string(path)
        .map_err(|e| format!("cannot read the recovery file {shown}: {e}"))?;
    RecoveryFile::from_json(&text).map_err(|e| format!("{shown}: {e}"))
}

/// `cleanreg restore FILE`: reads and checks the file, makes sure it was
/// made for the client's registry (the same URL, scheme and host compared
/// without regard to case; anything else is refused, since the manifests'
/// blobs are only in the registry they came from), puts the manifests back
/// and prints one line per entry as it ends, then a summary.
///
/// `Err` when nothing was attempted (unreadable or damaged file, another
/// registry, output failing); otherwise the report, failures included.
pub async fn restore_from<T: Transport>(
    client: &Client<T>,
    path: &Path,
    out: &mut dyn Write,
) -> Result<RestoreReport, String> {
    let file = read_recovery(path)?;
    if !file.is_for(client.registry()) {
        return Err(format!(
            "{} was made for the registry {}, not {}; a restore only works on the registry \
             the manifests came from (their blobs are there): give that registry's URL",
            path.display(),
            file.registry,
            client.registry()
        ));
    }
    let io = |e: io::Error| format!("writing output: {e}");
    writeln!(
        out,
        "Restoring {} manifests to {} from {} (planned {}).",
        file.entries.len(),
        client.registry(),
        path.display(),
        cleanreg_core::format::date(file.created)
    )
    .map_err(io)?;
    let report = client
        .restore(&file, &mut |outcome| {
            let _ = writeln!(out, "{outcome}");
        })
        .await;
    let counts = report.counts();
    writeln!(
        out,
        "Summary: {} restored, {} already present, {} partly restored, {} failed (of {})",
        counts.restored, counts.already_present, counts.partial, counts.failed, counts.total
    )
    .map_err(io)?;
    Ok(report)
}
