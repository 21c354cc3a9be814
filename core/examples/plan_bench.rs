//! How long `plan()` takes, and how much memory it needs, on synthetic
//! inventories of 10k, 100k and 1M tags.
//!
//! Run with `cargo run --release -p cleanreg-core --example plan_bench`
//! (`-- 10k 100k` for some sizes only). Each repository holds 200 tags over
//! a realistic mix: images tagged once, digests with two or three tags
//! (`v1.2.3`, `1.2`, `latest`), multi-platform indexes with 2-4 children
//! (some children shared with the previous index, some tagged), cosign
//! signatures on a tenth of the images, orphaned signatures, schema1 and
//! undated images, and layers shared across repositories. One repository
//! in ten is a CI one, cleaned by a glob rule with `only_tags`.
//!
//! Memory figures natively are Linux-only: VmHWM (the process's peak
//! resident size), and the growth of the resident size while planning,
//! measured by resetting the peak through `/proc/self/clear_refs` first.
//!
//! The same example built for `wasm32-wasip1` and run under Node.js's WASI
//! (`cargo xtask bench --planner` does both) times the planner as the
//! dashboard runs it: the same code, compiled to wasm, in V8. There the
//! last column is the instance's linear memory, which only grows, so it is
//! the peak.

use std::time::{Duration, Instant};

use cleanreg_core::{Inventory, Plan, Policy, plan};

mod synthetic;
use synthetic::{NOW, POLICY};

/// Tags per repository of the synthetic registry.
const TAGS_PER_REPOSITORY: usize = 200;

/// A field of `/proc/self/status` in KiB (Linux only).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The wasm instance's linear memory in KiB (pages of 64 KiB).
#[cfg(target_arch = "wasm32")]
fn linear_memory_kib() -> Option<u64> {
    Some(core::arch::wasm32::memory_size(0) as u64 * 64)
}

#[cfg(not(target_arch = "wasm32"))]
fn linear_memory_kib() -> Option<u64> {
    None
}

/// Resets VmHWM to the current resident size (Linux 4.0 and later).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

struct Run {
    wall: Duration,
    /// Peak resident size during planning above the size before it.
    peak_growth_kib: Option<u64>,
    /// Resident size the plan still holds once made.
    kept_growth_kib: Option<u64>,
}

fn run_once(inventory: &Inventory, policy: &Policy) -> (Plan, Run) {
    let before = status_kib("VmRSS");
    let peak_reset = reset_peak();
    let started = Instant::now();
    let plan = plan(inventory, policy, NOW);
    let wall = started.elapsed();
    let peak = status_kib("VmHWM");
    let after = status_kib("VmRSS");
    let growth = |to: Option<u64>| Some(to?.saturating_sub(before?));
    let run = Run {
        wall,
        peak_growth_kib: if peak_reset { growth(peak) } else { None },
        kept_growth_kib: growth(after),
    };
    (plan, run)
}

fn bench(tags: usize, policy: &Policy) {
    let built = Instant::now();
    let inventory = synthetic::inventory(tags, TAGS_PER_REPOSITORY);
    let build_time = built.elapsed();
    let runs = match tags {
        ..=100_000 => 5,
        _ => 3,
    };
    // Warm-up: page in the inventory and the allocator (skipped for 1M,
    // where each run is long enough on its own).
    if tags <= 100_000 {
        drop(run_once(&inventory, policy));
    }
    let mut times = Vec::new();
    let mut peak_growth = None;
    let mut kept_growth = None;
    let mut last = None;
    for _ in 0..runs {
        let (plan, run) = run_once(&inventory, policy);
        times.push(run.wall);
        peak_growth = peak_growth.max(run.peak_growth_kib);
        kept_growth = kept_growth.max(run.kept_growth_kib);
        last = Some(plan);
    }
    times.sort();
    let median = times[times.len() / 2];
    let plan = last.expect("at least one run");
    let totals = plan.totals();
    let show = |kib: Option<u64>| kib.map_or("n/a".to_owned(), mib);
    println!(
        "{:>9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>10} {:>12} {:>12} {:>9}",
        inventory.tag_count(),
        inventory.manifest_count(),
        plan.entries.len(),
        totals.deleted_manifests,
        runs,
        format!("{:.1} ms", median.as_secs_f64() * 1000.0),
        format!("{:.1} ms", times[0].as_secs_f64() * 1000.0),
        show(peak_growth),
        show(kept_growth),
        show(status_kib("VmHWM").or_else(linear_memory_kib)),
    );
    eprintln!(
        "  ({} repositories; building the inventory took {:.1} s)",
        inventory.repositories.len(),
        build_time.as_secs_f64()
    );
}

fn main() {
    let sizes: Vec<usize> = {
        let asked: Vec<String> = std::env::args().skip(1).collect();
        if asked.is_empty() {
            vec![10_000, 100_000, 1_000_000]
        } else {
            asked
                .iter()
                .map(|size| match size.as_str() {
                    "10k" => 10_000,
                    "100k" => 100_000,
                    "1M" | "1m" => 1_000_000,
                    other => other.parse().unwrap_or_else(|_| {
                        eprintln!("plan_bench: sizes are 10k, 100k, 1M or a number of tags");
                        std::process::exit(2)
                    }),
                })
                .collect()
        }
    };
    let policy = Policy::from_toml(POLICY).expect("the benchmark policy is valid");
    println!("plan() on synthetic inventories; policy:{POLICY}");
    println!(
        "{:>9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>10} {:>12} {:>12} {:>9}",
        "tags",
        "manifests",
        "entries",
        "deletes",
        "runs",
        "median",
        "fastest",
        "peak growth",
        "plan holds",
        "peak mem"
    );
    for tags in sizes {
        bench(tags, &policy);
    }
}
