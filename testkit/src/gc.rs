//! The registry's own garbage collection, `docker-registry garbage-collect`,
//! and what it prints, parsed.
//!
//! Distribution 2.8.2 prints (on stdout), per repository: its name alone on
//! a line; with `--delete-untagged`, `manifest eligible for deletion:
//! <digest>` for each manifest no tag points at; `<repo>: marking manifest
//! <digest> ` (with a trailing space) for each manifest it keeps and
//! `<repo>: marking blob <digest>` for each blob those reference. Then a
//! blank line, `N blobs marked, M blobs and K manifests eligible for
//! deletion`, and `blob eligible for deletion: <digest>` for each blob that
//! goes. Without `--delete-untagged` every manifest whose revision link
//! exists is marked, tagged or not.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;
use std::process::Command;

use crate::process;

/// How to run the collection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcOptions {
    /// `--dry-run`: print what would go, remove nothing. Safe on a running
    /// registry that nobody writes to; a real collection needs the
    /// registry stopped (or read-only) first.
    pub dry_run: bool,
    /// `--delete-untagged`: also remove manifests no tag points at.
    pub delete_untagged: bool,
}

/// What one collection printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GarbageCollection {
    /// Per repository: the manifests it marked (keeps).
    pub marked_manifests: BTreeMap<String, BTreeSet<String>>,
    /// Per repository: the blobs those manifests reference.
    pub marked_blobs: BTreeMap<String, BTreeSet<String>>,
    /// Per repository: manifests removed as untagged (`--delete-untagged`).
    pub eligible_manifests: BTreeMap<String, BTreeSet<String>>,
    /// Blobs removed (or, on a dry run, that would be).
    pub eligible_blobs: BTreeSet<String>,
    /// The counts of the summary line: blobs marked, blobs eligible,
    /// manifests eligible.
    pub counts: (usize, usize, usize),
    /// Every repository it walked, in order.
    pub repositories: Vec<String>,
}

impl GarbageCollection {
    /// The manifests marked in `repository` (empty when none).
    pub fn marked(&self, repository: &str) -> BTreeSet<String> {
        self.marked_manifests
            .get(repository)
            .cloned()
            .unwrap_or_default()
    }
}

/// Runs `docker-registry garbage-collect [--dry-run] [--delete-untagged]
/// CONFIG` and parses its output; any line it does not recognise is an
/// error, so a changed format is noticed.
pub fn garbage_collect(config: &Path, options: GcOptions) -> io::Result<GarbageCollection> {
    let binary = process::find_binary("docker-registry", "/usr/bin/docker-registry")
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "docker-registry not found"))?;
    let mut command = Command::new(binary);
    command.arg("garbage-collect");
    if options.dry_run {
        command.arg("--dry-run");
    }
    if options.delete_untagged {
        command.arg("--delete-untagged");
    }
    let output = command.arg(config).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "docker-registry garbage-collect failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    parse_gc_output(&stdout).map_err(io::Error::other)
}

/// Parses what `garbage-collect` prints (see the module documentation).
pub fn parse_gc_output(text: &str) -> Result<GarbageCollection, String> {
    let mut gc = GarbageCollection::default();
    let mut current: Option<String> = None;
    let mut summary = false;
    for (number, line) in text.lines().enumerate() {
        let unknown = || format!("garbage-collect output line {}: {line:?}", number + 1);
        let digest = |text: &str| -> Result<String, String> {
            let text = text.trim();
            let ok = text
                .strip_prefix("sha256:")
                .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()));
            ok.then(|| text.to_owned()).ok_or_else(unknown)
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("manifest eligible for deletion: ") {
            let repository = current.clone().ok_or_else(unknown)?;
            gc.eligible_manifests
                .entry(repository)
                .or_default()
                .insert(digest(rest)?);
        } else if let Some(rest) = line.strip_prefix("blob eligible for deletion: ") {
            gc.eligible_blobs.insert(digest(rest)?);
        } else if let Some((counts, _)) = line.split_once(" manifests eligible for deletion") {
            // `N blobs marked, M blobs and K`
            let numbers: Vec<usize> = counts
                .split(|c: char| !c.is_ascii_digit())
                .filter(|part| !part.is_empty())
                .map(|part| part.parse().map_err(|_| unknown()))
                .collect::<Result<_, _>>()?;
            let [marked, blobs, manifests] = numbers[..] else {
                return Err(unknown());
            };
            gc.counts = (marked, blobs, manifests);
            summary = true;
        } else if let Some((repository, rest)) = line.split_once(": marking ") {
            let (kind, value) = rest.split_once(' ').ok_or_else(unknown)?;
            let set = match kind {
                "manifest" => &mut gc.marked_manifests,
                "blob" => &mut gc.marked_blobs,
                _ => return Err(unknown()),
            };
            set.entry(repository.to_owned())
                .or_default()
                .insert(digest(value)?);
        } else if !line.contains(' ') && !summary {
            gc.repositories.push(line.to_owned());
            current = Some(line.to_owned());
        } else {
            return Err(unknown());
        }
    }
    if !summary {
        return Err("garbage-collect printed no summary line".into());
    }
    Ok(gc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_distribution_2_8_prints() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let c = format!("sha256:{}", "c".repeat(64));
        let text = format!(
            "team/app\nmanifest eligible for deletion: {a}\nteam/app: marking manifest {b} \n\
             team/app: marking blob {c}\nother\n\n1 blobs marked, 2 blobs and 1 manifests \
             eligible for deletion\nblob eligible for deletion: {a}\n"
        );
        let gc = parse_gc_output(&text).unwrap();
        assert_eq!(gc.repositories, ["team/app", "other"]);
        assert_eq!(gc.marked("team/app"), BTreeSet::from([b.clone()]));
        assert!(gc.marked("other").is_empty());
        assert_eq!(gc.marked_blobs["team/app"], BTreeSet::from([c]));
        assert_eq!(
            gc.eligible_manifests["team/app"],
            BTreeSet::from([a.clone()])
        );
        assert_eq!(gc.eligible_blobs, BTreeSet::from([a]));
        assert_eq!(gc.counts, (1, 2, 1));
        assert!(parse_gc_output("app\napp: marking something\n").is_err());
        assert!(parse_gc_output("app\n").is_err(), "no summary");
    }
}
