//! `cargo xtask bench --untagged`: what `--delete-untagged` gives back.
//!
//! A registry where a CI job pushed `main` again and again: R repositories,
//! P pushes each (each push a new image with its own layer on a base layer
//! all builds share), a `cleanreg --dry-run` scan after every round of
//! pushes, as a cron job would run, so the scan history knows every
//! manifest `main` ever pointed at. Then, on two copies of that storage:
//!
//! - **history**: `cleanreg -cf -k 10 --delete-untagged -y` with the history
//!   the scans wrote, against the registry the pushes went to;
//! - **storage**: the same with `--no-history --storage ROOT`, against a
//!   registry serving a copy of the storage (its revision links backdated,
//!   so none is taken for a push still under way);
//!
//! and on a third copy the registry's own `garbage-collect
//! --delete-untagged`, the offline way. For each it prints the requests of
//! a dry run with and without the untagged search, and of the run that
//! deletes, by kind, per untagged manifest; and the bytes of the storage's
//! blobs before and after the registry's garbage collection (which cleanreg
//! leaves to the admin), with the manifests the collection still marks.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cleanreg_testkit::{
    GcOptions, ImageSpec, Registry, RegistryOptions, Seeder, backdate_revision_links,
    garbage_collect,
};

use crate::bench::{AccessLog, KINDS, Requests, cli_binary, copy_storage, run_cli, temp_dir};
use crate::run::Result;

/// What a run seeds.
pub struct Shape {
    pub repositories: usize,
    pub pushes: usize,
}

impl Shape {
    pub fn untagged(&self) -> usize {
        self.repositories * self.pushes.saturating_sub(1)
    }
}

/// Bytes under the storage's blob store, the part garbage collection frees.
fn blob_bytes(root: &Path) -> Result<u64> {
    fn walk(dir: &Path, total: &mut u64) -> std::io::Result<()> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                walk(&entry.path(), total)?;
            } else {
                *total += meta.len();
            }
        }
        Ok(())
    }
    let blobs = root.join("docker/registry/v2/blobs");
    let mut total = 0;
    walk(&blobs, &mut total).map_err(|e| format!("{}: {e}", blobs.display()))?;
    Ok(total)
}

/// A configuration for the offline garbage collection of `root`.
fn gc_config(root: &Path, dir: &Path) -> Result<PathBuf> {
    let path = dir.join("gc-config.yml");
    let text = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
         delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n",
        root.display()
    );
    fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// A registry with its access log on, serving the storage at `root`.
pub(crate) fn registry_on(root: &Path) -> Result<Registry> {
    Registry::start(RegistryOptions {
        access_log: true,
        storage_root: Some(root.to_path_buf()),
        ..RegistryOptions::default()
    })
    .map_err(|e| format!("starting a registry on {}: {e}", root.display()))
}

/// The command line of every run; `extra` says how untagged manifests are
/// found.
fn args(url: &str, work: &Path, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "-r",
        url,
        "--clean-full-catalog",
        "-k",
        "10",
        "--json",
        "--cache-dir",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.push(work.join("cache").display().to_string());
    args.extend(extra.iter().cloned());
    args
}

/// One measured CLI run.
struct Measured {
    requests: Requests,
    seconds: f64,
    summary: String,
}

fn measure(
    cli: &Path,
    registry: &Registry,
    arguments: &[String],
    work: &Path,
    what: &str,
) -> Result<Measured> {
    let log = AccessLog::of(registry);
    let from = log.settled_len();
    let run = run_cli(cli, arguments, false, work)?;
    let json = run.json(what)?;
    if run.exit != 0 {
        return Err(format!("{what}: cleanreg exited {}", run.exit));
    }
    let totals = &json["totals"];
    let counts = &json["counts"];
    let summary = format!(
        "plan: {} untagged to delete, {} DELETEs in all; outcomes: {} deleted, {} skipped, {} \
         failed",
        totals["deleted_untagged"],
        totals["deleted_manifests"],
        counts["deleted"].as_u64().unwrap_or(0),
        counts["skipped"].as_u64().unwrap_or(0),
        counts["failed"].as_u64().unwrap_or(0),
    );
    Ok(Measured {
        requests: log.since(from)?,
        seconds: run.seconds,
        summary,
    })
}

fn print_requests(name: &str, measured: &Measured, per: usize) {
    let mut line = format!("  {name:<34}");
    for kind in KINDS {
        line.push_str(&format!(" {:>9}", measured.requests.get(kind)));
    }
    let total = measured.requests.total();
    line.push_str(&format!(
        " {:>8} {:>8.2} {:>12.2}",
        total,
        measured.seconds,
        total as f64 / per.max(1) as f64
    ));
    println!("{line}");
}

fn print_header() {
    let mut line = format!("  {:<34}", "run");
    for kind in KINDS {
        line.push_str(&format!(" {:>9}", kind.label()));
    }
    line.push_str(&format!(
        " {:>8} {:>8} {:>12}",
        "total", "wall s", "per untagged"
    ));
    println!("{line}");
}

/// The difference of two request counts, kind by kind (a run with the
/// untagged search minus the same run without it).
fn extra(with: &Requests, without: &Requests) -> Requests {
    let mut counts = Requests::default();
    for kind in KINDS {
        counts.add(kind, with.get(kind).saturating_sub(without.get(kind)));
    }
    counts
}

/// What the untagged search and the deletes each cost: the dry runs'
/// difference, and the delete run's beyond its dry run.
fn print_parts(plain: &Measured, dry: &Measured, run: &Measured, untagged: usize) {
    for (name, requests) in [
        (
            "  of it: the search (dry runs' diff)",
            extra(&dry.requests, &plain.requests),
        ),
        (
            "  of it: the deletes (apply)",
            extra(&run.requests, &dry.requests),
        ),
    ] {
        let part = Measured {
            requests,
            seconds: 0.0,
            summary: String::new(),
        };
        print_requests(name, &part, untagged);
    }
}

/// Garbage-collects `root` offline (its registry stopped) and says what it
/// freed and what it still marks.
fn collect(root: &Path, work: &Path, delete_untagged: bool) -> Result<(u64, u64, usize)> {
    let config = gc_config(root, work)?;
    let before = blob_bytes(root)?;
    garbage_collect(
        &config,
        GcOptions {
            dry_run: false,
            delete_untagged,
        },
    )
    .map_err(|e| format!("garbage collection of {}: {e}", root.display()))?;
    let after = blob_bytes(root)?;
    let check = garbage_collect(
        &config,
        GcOptions {
            dry_run: true,
            delete_untagged: false,
        },
    )
    .map_err(|e| format!("garbage collection of {}: {e}", root.display()))?;
    let marked = check.marked_manifests.values().map(|m| m.len()).sum();
    Ok((before, after, marked))
}

pub fn run(shape: &Shape) -> Result {
    let cli = cli_binary()?;
    let work = temp_dir("untagged-work")?;
    let storage = temp_dir("untagged")?;
    let registry = registry_on(storage.path())?;
    let seeder = Seeder::new(&registry.url(), None);
    let history = work.path().join("history");
    let with_history = ["--history-dir".to_owned(), history.display().to_string()];
    eprintln!(
        "bench: pushing main {} times in each of {} repositories, scanning after every round...",
        shape.pushes, shape.repositories
    );
    let started = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    for push in 0..shape.pushes {
        for repository in 0..shape.repositories {
            let created = now - time::Duration::hours((shape.pushes - push) as i64);
            let spec = ImageSpec::new(format!("ci-{repository}-{push}"), Some(created))
                .with_base_layer("shared base", 512 * 1024)
                .with_layers([96 * 1024, 32 * 1024]);
            seeder
                .push_image(&format!("ci/app-{repository:02}"), &spec, &["main"])
                .map_err(|e| format!("pushing: {e}"))?;
        }
        let mut dry = args(&registry.url(), work.path(), &with_history);
        dry.push("--dry-run".into());
        let scan = run_cli(&cli, &dry, false, work.path())?;
        if scan.exit != 0 {
            return Err(format!("the scan after round {push} exited {}", scan.exit));
        }
    }
    println!(
        "\nseeded {} repositories x {} pushes of main = {} untagged manifests, with a scan after \
         every round, in {:.1} s",
        shape.repositories,
        shape.pushes,
        shape.untagged(),
        started.elapsed().as_secs_f64()
    );

    // Copies before anything is deleted: one for --storage, one for the
    // registry's own --delete-untagged.
    let storage_copy = temp_dir("untagged-storage")?;
    copy_storage(storage.path(), storage_copy.path())?;
    let gc_copy = temp_dir("untagged-gc")?;
    copy_storage(storage.path(), gc_copy.path())?;
    backdate_revision_links(storage_copy.path(), Duration::from_secs(3600))
        .map_err(|e| format!("backdating the copy's links: {e}"))?;

    let untagged = shape.untagged();
    println!("\nrequests ({untagged} untagged manifests)");
    print_header();
    // History, against the registry the pushes went to.
    let no_history = ["--no-history".to_owned()];
    let plain = {
        let mut dry = args(&registry.url(), work.path(), &no_history);
        dry.push("--dry-run".into());
        measure(&cli, &registry, &dry, work.path(), "plain dry run")?
    };
    print_requests("dry run, no untagged search", &plain, untagged);
    let history_dry = {
        let mut dry = args(&registry.url(), work.path(), &with_history);
        dry.push("--delete-untagged".into());
        dry.push("--dry-run".into());
        measure(&cli, &registry, &dry, work.path(), "history dry run")?
    };
    print_requests("dry run, history", &history_dry, untagged);
    let history_run = {
        let mut apply = args(&registry.url(), work.path(), &with_history);
        apply.extend([
            "--delete-untagged".into(),
            "-y".into(),
            "--recovery-file".into(),
            work.path()
                .join("history-recovery.json")
                .display()
                .to_string(),
        ]);
        measure(&cli, &registry, &apply, work.path(), "history apply")?
    };
    print_requests("delete run, history", &history_run, untagged);
    print_parts(&plain, &history_dry, &history_run, untagged);

    // Storage, against a registry serving the copy.
    let copy_registry = registry_on(storage_copy.path())?;
    let with_storage = [
        "--no-history".to_owned(),
        "--storage".to_owned(),
        storage_copy.path().display().to_string(),
    ];
    // Its own baseline: the copy has another URL, so the cache must learn
    // it first, as it did for the original.
    let copy_plain = {
        let mut dry = args(&copy_registry.url(), work.path(), &no_history);
        dry.push("--dry-run".into());
        run_cli(&cli, &dry, false, work.path())?;
        measure(
            &cli,
            &copy_registry,
            &dry,
            work.path(),
            "plain dry run on the copy",
        )?
    };
    print_requests("dry run on the copy, no search", &copy_plain, untagged);
    let storage_dry = {
        let mut dry = args(&copy_registry.url(), work.path(), &with_storage);
        dry.push("--delete-untagged".into());
        dry.push("--dry-run".into());
        measure(&cli, &copy_registry, &dry, work.path(), "storage dry run")?
    };
    print_requests("dry run, storage", &storage_dry, untagged);
    let storage_run = {
        let mut apply = args(&copy_registry.url(), work.path(), &with_storage);
        apply.extend([
            "--delete-untagged".into(),
            "-y".into(),
            "--recovery-file".into(),
            work.path()
                .join("storage-recovery.json")
                .display()
                .to_string(),
        ]);
        measure(&cli, &copy_registry, &apply, work.path(), "storage apply")?
    };
    print_requests("delete run, storage", &storage_run, untagged);
    print_parts(&copy_plain, &storage_dry, &storage_run, untagged);
    println!("  history: {}", history_run.summary);
    println!("  storage: {}", storage_run.summary);

    // Garbage collection, each registry stopped first.
    drop(registry);
    drop(copy_registry);
    println!("\nbytes under docker/registry/v2/blobs, before and after garbage-collect");
    let rows = [
        ("cleanreg --delete-untagged, history", storage.path(), false),
        (
            "cleanreg --delete-untagged, storage",
            storage_copy.path(),
            false,
        ),
        (
            "garbage-collect --delete-untagged alone",
            gc_copy.path(),
            true,
        ),
    ];
    for (name, root, delete_untagged) in rows {
        let (before, after, marked) = collect(root, work.path(), delete_untagged)?;
        println!(
            "  {name:<42} {before:>12} -> {after:>12} B: {:>12} B freed; {marked} manifests \
             still marked",
            before - after
        );
    }
    Ok(())
}
