//! Where recovery files go when `--recovery-file` is not given, and
//! `cleanreg restore --list`.
//!
//! The default directory is `$XDG_STATE_HOME/cleanreg/recovery` (else
//! `~/.local/state/cleanreg/recovery`), so a cron job's files gather in one
//! place instead of its working directory. Each run takes a name of its
//! own: the time to the microsecond and the process id, and a counter if
//! that name is taken anyway; the file is created only where no file is,
//! so runs in the same second never collide and never replace each other's
//! file. Nothing here deletes a recovery file: the admin prunes them.
//!
//! Whether a file still restores everything depends on garbage collections
//! since it was planned, which cleanreg cannot see; the list shows each
//! file's age, and given the registry's storage it checks the blobs the
//! file's manifests need (a missing one was collected).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cleanreg_core::{RecoveryFile, format, parse_manifest};
use serde::Serialize;
use time::OffsetDateTime;

use crate::files;
use crate::storage::DirStorage;

/// Names tried after the first before giving up (a counter is appended).
const NAME_ATTEMPTS: u32 = 1000;

/// The default directory: `$XDG_STATE_HOME/cleanreg/recovery`, else
/// `$HOME/.local/state/cleanreg/recovery`; `None` when neither is set (then
/// the current directory takes the files, as before).
pub fn default_root(vars: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    crate::files::state_dir(vars, "recovery")
}

/// `cleanreg-recovery-<YYYYMMDD>T<HHMMSS>.<micros>Z-<pid>[-<n>].json`; `n`
/// (from 1) only when the name without it was taken.
pub fn file_name(at: OffsetDateTime, pid: u32, attempt: u32) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let counter = if attempt == 0 {
        String::new()
    } else {
        format!("-{attempt}")
    };
    format!(
        "cleanreg-recovery-{:04}{:02}{:02}T{:02}{:02}{:02}.{:06}Z-{pid}{counter}.json",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// Writes `file` under a new name in `dir` (created, mode 0700 on Unix, if
/// missing) and returns the path. Never replaces a file: a taken name
/// moves on to the next.
pub fn write_unique(dir: &Path, file: &RecoveryFile) -> Result<PathBuf, String> {
    write_unique_at(dir, file, OffsetDateTime::now_utc(), std::process::id())
}

/// [`write_unique`] with the time and process id given.
fn write_unique_at(
    dir: &Path,
    file: &RecoveryFile,
    now: OffsetDateTime,
    pid: u32,
) -> Result<PathBuf, String> {
    create_dir(dir).map_err(|e| {
        format!(
            "cannot create the recovery directory {}: {e} (give --recovery-file FILE or \
             --recovery-dir DIR)",
            dir.display()
        )
    })?;
    let mut json = file.to_json_pretty();
    json.push('\n');
    for attempt in 0..=NAME_ATTEMPTS {
        let path = dir.join(file_name(now, pid, attempt));
        if files::write_new_if_free(&path, "the recovery file", json.as_bytes())? {
            return Ok(path);
        }
    }
    Err(format!(
        "no free recovery file name in {} after {NAME_ATTEMPTS} tries",
        dir.display()
    ))
}

fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// One file of `restore --list`.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub file: String,
    /// When the plan was made (the file's `created`), RFC 3339.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Deleted manifests it can put back.
    pub manifests: usize,
    /// Images it holds removed tags of (`tags_only` entries).
    pub tag_removals: usize,
    /// With `--storage`: the blobs its manifests reference (configs and
    /// layers) and how many of them the storage no longer holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blobs: Option<BlobCheck>,
    /// Why the file could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// What the registry's storage says about a file's blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BlobCheck {
    pub referenced: usize,
    /// Gone from the blob store: a garbage collection ran since the file
    /// was planned, and the manifests that need them cannot come back.
    pub missing: usize,
}

/// Checks every config and layer the file's manifests reference against
/// the storage's blob store.
fn check_blobs(file: &RecoveryFile, storage: &DirStorage) -> BlobCheck {
    let mut digests = std::collections::BTreeSet::new();
    for entry in &file.entries {
        let Ok(bytes) = entry.manifest_bytes() else {
            continue;
        };
        if let Ok((_, manifest)) = parse_manifest(Some(entry.media_type.as_str()), &bytes) {
            digests.extend(manifest.blobs().into_iter().map(|blob| blob.digest.clone()));
        }
    }
    BlobCheck {
        referenced: digests.len(),
        missing: digests.iter().filter(|d| !storage.has_blob(d)).count(),
    }
}

/// Every `*.json` file of `dir`, oldest plan first (unreadable ones last,
/// by name), its blobs checked against `storage` when given. A missing
/// directory has none.
pub fn list(dir: &Path, storage: Option<&DirStorage>) -> Result<Vec<Listed>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut listed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || !name.ends_with(".json") || !path.is_file() {
            continue;
        }
        listed.push(match crate::restore::read_recovery(&path) {
            Ok(file) => Listed {
                file: path.display().to_string(),
                created: Some(file.created),
                registry: Some(file.registry.clone()),
                manifests: file.entries.iter().filter(|e| !e.tags_only).count(),
                tag_removals: file.entries.iter().filter(|e| e.tags_only).count(),
                blobs: storage.map(|storage| check_blobs(&file, storage)),
                unreadable: None,
            },
            Err(reason) => Listed {
                file: path.display().to_string(),
                created: None,
                registry: None,
                manifests: 0,
                tag_removals: 0,
                blobs: None,
                unreadable: Some(reason),
            },
        });
    }
    listed.sort_by(|a, b| {
        (a.created.is_none(), a.created, &a.file).cmp(&(b.created.is_none(), b.created, &b.file))
    });
    Ok(listed)
}

/// The table `restore --list` prints, then what it cannot know: whether a
/// garbage collection ran since a file was written.
pub fn print_list(
    dir: &Path,
    listed: &[Listed],
    now: OffsetDateTime,
    out: &mut dyn Write,
) -> io::Result<()> {
    if listed.is_empty() {
        return writeln!(out, "No recovery files in {}.", dir.display());
    }
    writeln!(out, "Recovery files in {}:", dir.display())?;
    let checked = listed.iter().any(|item| item.blobs.is_some());
    let blobs_heading = if checked {
        format!("  {:<16}", "BLOBS")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{:<20}  {:<16}  {:<32}  {:>9}  {:>6}{blobs_heading}  FILE",
        "PLANNED", "AGE", "REGISTRY", "MANIFESTS", "TAGS"
    )?;
    for item in listed {
        let name = Path::new(&item.file)
            .file_name()
            .map_or_else(|| item.file.clone(), |n| n.to_string_lossy().into_owned());
        let blobs = match (checked, item.blobs) {
            (false, _) => String::new(),
            (true, None) => format!("  {:<16}", "-"),
            (true, Some(check)) if check.missing == 0 => {
                format!("  {:<16}", format!("all {} there", check.referenced))
            }
            (true, Some(check)) => format!(
                "  {:<16}",
                format!("{} of {} gone", check.missing, check.referenced)
            ),
        };
        match (&item.unreadable, item.created, &item.registry) {
            (None, Some(created), Some(registry)) => writeln!(
                out,
                "{:<20}  {:<16}  {:<32}  {:>9}  {:>6}{blobs}  {name}",
                format::date(created),
                format::age(created, now),
                registry,
                item.manifests,
                item.tag_removals
            )?,
            (reason, _, _) => writeln!(
                out,
                "{:<20}  {:<16}  {:<32}  {:>9}  {:>6}{blobs}  {name} (unreadable: {})",
                "-",
                "-",
                "-",
                "-",
                "-",
                reason.as_deref().unwrap_or("no content")
            )?,
        }
    }
    if checked {
        writeln!(
            out,
            "BLOBS: the configs and layers the file's manifests need, checked in the given \
             storage; one that is gone was removed by a garbage collection, and the manifests \
             that need it cannot be put back. Check the storage of the registry each file was \
             made for."
        )?;
    } else {
        writeln!(
            out,
            "A file puts everything back only if no garbage collection ran on its registry \
             since it was planned. cleanreg cannot tell from here; add --storage DIR (the \
             registry's storage) to check each file's blobs, or run `cleanreg restore FILE`, \
             which says per entry what it could not put back."
        )?;
    }
    writeln!(
        out,
        "cleanreg never deletes recovery files: remove those you no longer need."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_default_directory_follows_xdg_then_home() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(
            default_root(vars(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")])),
            Some(PathBuf::from("/s/cleanreg/recovery"))
        );
        assert_eq!(
            default_root(vars(&[("XDG_STATE_HOME", "relative"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/state/cleanreg/recovery"))
        );
        assert_eq!(
            default_root(vars(&[("XDG_STATE_HOME", ""), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.local/state/cleanreg/recovery"))
        );
        assert_eq!(default_root(vars(&[])), None);
    }

    #[test]
    fn a_taken_name_is_never_replaced_the_next_one_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let at = datetime!(2026-12-05 21:07:08.5 UTC);
        let recovery = |registry: &str| RecoveryFile {
            format: cleanreg_core::RECOVERY_FORMAT,
            registry: registry.into(),
            created: at,
            entries: Vec::new(),
        };
        let nested = dir.path().join("state/cleanreg/recovery");
        for attempt in 0..2 {
            std::fs::create_dir_all(&nested).unwrap();
            std::fs::write(nested.join(file_name(at, 7, attempt)), "earlier run\n").unwrap();
        }
        let written = write_unique_at(&nested, &recovery("http://127.0.0.1:9"), at, 7).unwrap();
        assert_eq!(written, nested.join(file_name(at, 7, 2)));
        for attempt in 0..2 {
            assert_eq!(
                std::fs::read_to_string(nested.join(file_name(at, 7, attempt))).unwrap(),
                "earlier run\n"
            );
        }
        let listed = list(&nested, None).unwrap();
        assert_eq!(listed.len(), 3);
        let readable: Vec<&Listed> = listed.iter().filter(|l| l.unreadable.is_none()).collect();
        assert_eq!(readable.len(), 1);
        assert_eq!(readable[0].registry.as_deref(), Some("http://127.0.0.1:9"));
        assert!(listed[0].unreadable.is_none(), "readable files first");
        assert_eq!(list(&dir.path().join("absent"), None).unwrap().len(), 0);
    }

    #[test]
    fn names_carry_microseconds_the_pid_and_a_counter_only_when_taken() {
        let at = datetime!(2026-12-05 21:07:08.012345 UTC);
        assert_eq!(
            file_name(at, 4242, 0),
            "cleanreg-recovery-20261205T210708.012345Z-4242.json"
        );
        assert_eq!(
            file_name(at, 4242, 3),
            "cleanreg-recovery-20261205T210708.012345Z-4242-3.json"
        );
    }
}
