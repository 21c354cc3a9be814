//! The recovery file on disk, and `cleanreg restore FILE`.
//!
//! Before deleting, the CLI writes what it is about to delete (see
//! [`cleanreg_core::RecoveryFile`]); until the registry's garbage collection
//! runs, [`restore_from`] puts it back.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use cleanreg_core::{Client, RecoveryFile, RestoreReport, Transport};

use crate::files;

/// Writes a recovery file, never over an existing file, with mode 0600 on
/// Unix (it holds manifests of the admin's registry) and never half
/// written (see [`crate::files::write_new`]). An existing `path` is an
/// error, never replaced: it may be the only record of an earlier delete
/// (choose a new name, such as one with the date and time in it).
pub fn write_recovery(path: &Path, file: &RecoveryFile) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "the recovery file {} already exists; it may be needed to undo an earlier \
             delete, so it is not replaced: choose another name",
            path.display()
        ));
    }
    let mut json = file.to_json_pretty();
    json.push('\n');
    files::write_new(path, "the recovery file", json.as_bytes())
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
    restore_file(client, path, &file, out).await
}

/// [`restore_from`] for a file already read from `path`.
pub async fn restore_file<T: Transport>(
    client: &Client<T>,
    path: &Path,
    file: &RecoveryFile,
    out: &mut dyn Write,
) -> Result<RestoreReport, String> {
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
        .restore(file, &mut |outcome| {
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
