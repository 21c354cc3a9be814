//! `cargo xtask bench --peer SCRIPT`: cleanreg's whole keep-N run beside a
//! simpler cleaner's, on the same storage.
//!
//! The peer is registry-cli (`registry.py`, a public Python script; it is
//! not part of this repository: pass its path, and the Python that has its
//! packages with `--peer-python`). It lists the tags, keeps the last N by
//! name and, for each other tag, looks up its digest and sends a DELETE: no
//! dates read, no checks. cleanreg's run is the one an admin's cron job
//! makes: scan (tags, manifests, config dates), plan, recovery file, and an
//! apply with every check.
//!
//! The storage holds R repositories of I single-platform images, one tag
//! each (`1.0.<n>`, newer images having larger numbers), so that keeping
//! the newest N by date and the last N by name are the same images. Each
//! round gives each tool its own copy of the storage behind an open
//! registry with its access log on; afterwards every repository must hold
//! exactly the newest N tags, checked through the registry's API, and every
//! deleted manifest must be gone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cleanreg_testkit::{ImageSpec, Registry, Seeder};

use crate::bench::{AccessLog, KINDS, Requests, cli_binary, copy_storage, run_cli, temp_dir};
use crate::bench_untagged::registry_on;
use crate::run::{Result, cmd};

/// What `--peer` compares.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub script: PathBuf,
    pub python: String,
    pub repositories: usize,
    pub images: usize,
    pub keep: usize,
    pub rounds: usize,
    pub concurrency: usize,
}

fn tag(n: usize) -> String {
    format!("1.0.{n}")
}

fn repository(r: usize) -> String {
    format!("peer/r-{r:02}")
}

/// Pushes the images, oldest first, one day apart.
fn seed(root: &Path, shape: &Shape) -> Result<Duration> {
    let started = Instant::now();
    let registry = registry_on(root)?;
    let seeder = Seeder::new(&registry.url(), None);
    let now = time::OffsetDateTime::now_utc();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..shape.repositories)
            .map(|r| {
                let seeder = &seeder;
                scope.spawn(move || -> Result {
                    let name = repository(r);
                    for n in 1..=shape.images {
                        let created = now - time::Duration::days((shape.images - n) as i64 + 1);
                        seeder
                            .push_image(
                                &name,
                                &ImageSpec::new(format!("{name}#{n}"), Some(created)),
                                &[&tag(n)],
                            )
                            .map_err(|e| format!("pushing {name}:{}: {e}", tag(n)))?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().expect("a seeding thread panicked"))
    })?;
    Ok(started.elapsed())
}

/// What one tool's run did to its copy.
struct Run {
    seconds: f64,
    requests: Requests,
    exit: String,
}

/// Checks through the API that each repository holds exactly the newest
/// `keep` tags, and that the manifests of the others are gone.
fn check_outcome(registry: &Registry, shape: &Shape, digests: &[Vec<String>]) -> Result {
    let client = Seeder::new(&registry.url(), None);
    for (r, digests) in digests.iter().enumerate() {
        let name = repository(r);
        let found: BTreeSet<String> = client
            .tags(&name)
            .map_err(|e| format!("{name}: {e}"))?
            .into_iter()
            .collect();
        let wanted: BTreeSet<String> = (shape.images - shape.keep + 1..=shape.images)
            .map(tag)
            .collect();
        if found != wanted {
            return Err(format!(
                "{name}: tags left {found:?}, wanted exactly the newest {}: {wanted:?}",
                shape.keep
            ));
        }
        for (n, digest) in digests.iter().enumerate() {
            let deleted = n < shape.images - shape.keep;
            let present = client
                .manifest_exists(&name, digest)
                .map_err(|e| format!("{name}@{digest}: {e}"))?;
            if present == deleted {
                return Err(format!(
                    "{name}: manifest {digest} ({}) is {} after the run",
                    tag(n + 1),
                    if present { "still there" } else { "gone" }
                ));
            }
        }
    }
    Ok(())
}

/// The digest of every tag, per repository, oldest first.
fn digests(registry: &Registry, shape: &Shape) -> Result<Vec<Vec<String>>> {
    let client = Seeder::new(&registry.url(), None);
    (0..shape.repositories)
        .map(|r| {
            let name = repository(r);
            (1..=shape.images)
                .map(|n| match client.tag_digest(&name, &tag(n)) {
                    Ok(Some(digest)) => Ok(digest),
                    Ok(None) => Err(format!("{name}:{}: no such tag", tag(n))),
                    Err(e) => Err(format!("{name}:{}: {e}", tag(n))),
                })
                .collect()
        })
        .collect()
}

fn run_peer(shape: &Shape, registry: &Registry, work: &Path) -> Result<Run> {
    let log = AccessLog::of(registry);
    let from = log.settled_len();
    let started = Instant::now();
    let output = cmd(&shape.python, &[])
        .arg(&shape.script)
        .args(["-r", &registry.url(), "-d", "-n", &shape.keep.to_string()])
        .current_dir(work)
        .output()
        .map_err(|e| format!("running {} {}: {e}", shape.python, shape.script.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!(
            "the peer failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(Run {
        seconds,
        requests: log.since(from)?,
        exit: output.status.to_string(),
    })
}

/// `dry_run`: the same run without `-y`'s apply, for the scan's share.
fn run_cleanreg(
    cli: &Path,
    shape: &Shape,
    registry: &Registry,
    work: &Path,
    dry_run: bool,
) -> Result<Run> {
    let log = AccessLog::of(registry);
    let from = log.settled_len();
    let mut args: Vec<String> = [
        "-r",
        &registry.url(),
        "--clean-full-catalog",
        "-k",
        &shape.keep.to_string(),
        "-w",
        &shape.concurrency.to_string(),
        "-y",
        "--no-cache",
        "--json",
        "--recovery-dir",
        &work.join("recovery").display().to_string(),
        "--history-dir",
        &work.join("history").display().to_string(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if dry_run {
        args.push("--dry-run".into());
    }
    let run = run_cli(cli, &args, false, work)?;
    let report = run.json("cleanreg keep-N run")?;
    let counts = &report["counts"];
    Ok(Run {
        seconds: run.seconds,
        requests: log.since(from)?,
        exit: if dry_run {
            format!(
                "exit {}: {} manifests planned for deletion",
                run.exit, report["totals"]["deleted_manifests"]
            )
        } else {
            format!(
                "exit {}: {} deleted, {} skipped, {} failed",
                run.exit, counts["deleted"], counts["skipped"], counts["failed"]
            )
        },
    })
}

fn by_kind(requests: &Requests) -> String {
    KINDS
        .iter()
        .filter(|kind| requests.get(**kind) > 0)
        .map(|kind| format!("{} {}", kind.label(), requests.get(*kind)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(shape: &Shape) -> Result {
    if !shape.script.is_file() {
        return Err(format!(
            "--peer {}: no such file (registry-cli's registry.py)",
            shape.script.display()
        ));
    }
    let cli = cli_binary()?;
    let seeded = temp_dir("peer-seed")?;
    let took = seed(seeded.path(), shape)?;
    let deletes = shape.repositories * (shape.images - shape.keep);
    println!(
        "\npeer: {} repositories x {} images (one tag each, single-platform), keep the newest \
         {}: {deletes} deletes; seeded in {:.1} s; open registry, each tool on its own copy",
        shape.repositories,
        shape.images,
        shape.keep,
        took.as_secs_f64()
    );
    let digests = {
        let registry = registry_on(seeded.path())?;
        digests(&registry, shape)?
    };
    println!(
        "  {:<34} {:>8} {:>9} {:>10}  by kind",
        "run", "wall s", "requests", "req/delete"
    );
    let mut walls: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=shape.rounds {
        for (which, name) in [
            "registry-cli --delete --num",
            "cleanreg -cf -k -y --no-cache",
            "  its scan+plan alone (--dry-run)",
        ]
        .iter()
        .enumerate()
        {
            let copy = temp_dir("peer-copy")?;
            copy_storage(seeded.path(), copy.path())?;
            let work = temp_dir("peer-work")?;
            let registry = registry_on(copy.path())?;
            let run = match which {
                0 => run_peer(shape, &registry, work.path())?,
                1 => run_cleanreg(&cli, shape, &registry, work.path(), false)?,
                _ => run_cleanreg(&cli, shape, &registry, work.path(), true)?,
            };
            if which < 2 {
                check_outcome(&registry, shape, &digests)
                    .map_err(|e| format!("round {round}, {name}: {e}"))?;
                walls[which].push(run.seconds);
            }
            println!(
                "  {:<34} {:>8.2} {:>9} {:>10.2}  {} ({})",
                format!("{name} {} (round {round})", shape.keep),
                run.seconds,
                run.requests.total(),
                run.requests.total() as f64 / deletes as f64,
                by_kind(&run.requests),
                run.exit
            );
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [peer, ours] = walls;
    let (peer, ours) = (median(peer), median(ours));
    println!(
        "  median wall: registry-cli {peer:.2} s, cleanreg {ours:.2} s (cleanreg ÷ registry-cli \
         = {:.2}); both left exactly the newest {} tags in every repository, checked through \
         the API",
        ours / peer,
        shape.keep
    );
    Ok(())
}
