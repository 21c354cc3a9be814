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
//! Memory figures are Linux-only: VmHWM (the process's peak resident
//! size), and the growth of the resident size while planning, measured by
//! resetting the peak through `/proc/self/clear_refs` first.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cleanreg_core::{
    Child, Digest, Image, ImageKind, Inventory, MediaType, Plan, Platform, Policy, Repository,
    RepositoryName, Tag, plan,
};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
const TAGS_PER_REPOSITORY: usize = 200;
/// Layers every image draws from, so blobs are shared across repositories.
const LAYER_POOL: u64 = 5_000;

const POLICY: &str = r#"
[default]
keep_newest = 10
keep_tags = ['v?\d+\.\d+\.\d+', 'latest|stable']

[repositories."ci/*"]
keep_newest = 5
keep_younger_than_days = 14
only_tags = 'ci-.*'
"#;

/// Deterministic digests and choices, without a random-number crate.
struct Source {
    counter: u64,
    state: u64,
}

impl Source {
    fn digest(&mut self) -> Digest {
        self.counter += 1;
        Digest::sha256_of(&self.counter.to_le_bytes())
    }

    /// A number in `0..n` (xorshift).
    fn below(&mut self, n: u64) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state % n
    }
}

fn tag(text: &str) -> Tag {
    text.parse().expect("synthetic tags are valid")
}

fn layer(n: u64) -> Digest {
    Digest::sha256_of(format!("layer-{n}").as_bytes())
}

fn platform(n: usize) -> Platform {
    let (architecture, variant) = [
        ("amd64", None),
        ("arm64", Some("v8")),
        ("arm", Some("v7")),
        ("ppc64le", None),
    ][n % 4];
    Platform {
        os: "linux".into(),
        architecture: architecture.into(),
        variant: variant.map(str::to_owned),
    }
}

fn image(source: &mut Source, created: Option<OffsetDateTime>) -> Image {
    let mut image = Image::simple(MediaType::OciManifest, created, 0);
    image.manifest_size = 500 + source.below(1500);
    image.blobs = (0..2 + source.below(4))
        .map(|_| layer(source.below(LAYER_POOL)))
        .collect();
    image.size = image.blobs.len() as u64 * 10_000_000;
    image
}

/// One repository with `TAGS_PER_REPOSITORY` tags.
fn repository(source: &mut Source, ci: bool) -> Repository {
    let mut repository = Repository::default();
    let mut n = 0usize;
    let mut previous_children: Vec<Digest> = Vec::new();
    while repository.tags.len() < TAGS_PER_REPOSITORY {
        n += 1;
        let age_hours = (n as i64) * 20 + source.below(20) as i64;
        let created =
            (source.below(50) != 0).then(|| NOW - Duration::from_secs(3600 * age_hours as u64));
        let digest = source.digest();
        let roll = source.below(100);
        let mut manifest = if roll < 12 {
            // A multi-platform index with 2-4 children, one sometimes
            // shared with the previous index, one sometimes tagged.
            let count = 2 + source.below(3) as usize;
            let mut children = Vec::with_capacity(count);
            for i in 0..count {
                let child = match previous_children.get(i) {
                    Some(shared) if i == 0 && source.below(4) == 0 => shared.clone(),
                    _ => {
                        let child = source.digest();
                        repository
                            .images
                            .insert(child.clone(), image(source, created));
                        child
                    }
                };
                children.push(child);
            }
            if source.below(5) == 0 {
                repository
                    .tags
                    .insert(tag(&format!("arch-{n}")), children[0].clone());
            }
            let mut index = Image::simple(MediaType::OciIndex, created, 0);
            index.manifest_size = 300 * count as u64;
            index.children = children
                .iter()
                .enumerate()
                .map(|(i, digest)| Child {
                    digest: digest.clone(),
                    platform: Some(platform(i)),
                })
                .collect();
            previous_children = children;
            index
        } else if roll < 13 {
            Image::simple(MediaType::DockerSchema1Signed, None, 0)
        } else {
            image(source, created)
        };
        if manifest.kind == ImageKind::Index {
            manifest.size = manifest.children.len() as u64 * 20_000_000;
        }
        repository.images.insert(digest.clone(), manifest);

        // Its tags: one, sometimes two or three naming the same digest.
        let name = if ci {
            format!("ci-{n}")
        } else {
            format!("v{}.{}.{}", n / 100, (n / 10) % 10, n % 10)
        };
        let mut names = vec![name];
        match source.below(10) {
            0 if !ci => names.push(format!("{}.{}", n / 100, (n / 10) % 10)),
            1 => names.push(format!("main-{n}")),
            2 if n == 1 => names.extend(["latest".to_owned(), "stable".to_owned()]),
            _ => {}
        }
        if !ci && source.below(3) == 0 {
            // Most non-release builds carry only a build tag.
            names[0] = format!("build-{n}");
        }
        for name in names {
            repository.tags.insert(tag(&name), digest.clone());
        }

        // A cosign signature on one image in ten; an orphaned one now and then.
        if source.below(10) == 0 {
            let signature = source.digest();
            let mut artifact = Image::simple(MediaType::OciManifest, created, 0);
            artifact.artifact_type = Some("application/vnd.dev.cosign.artifact.sig.v1+json".into());
            artifact.kind = ImageKind::Artifact;
            artifact.manifest_size = 400;
            repository.images.insert(signature.clone(), artifact);
            repository
                .tags
                .insert(tag(&format!("sha256-{}.sig", digest.hex())), signature);
        }
        if source.below(100) == 0 {
            let gone = source.digest();
            let signature = source.digest();
            let mut artifact = Image::simple(MediaType::OciManifest, created, 0);
            artifact.kind = ImageKind::Artifact;
            artifact.artifact_type = Some("application/vnd.dev.cosign.artifact.sig.v1+json".into());
            repository.images.insert(signature.clone(), artifact);
            repository
                .tags
                .insert(tag(&format!("sha256-{}.sig", gone.hex())), signature);
            repository.subjects.insert(gone, false);
        }
    }
    repository
}

fn inventory(tags: usize) -> Inventory {
    let mut source = Source {
        counter: 0,
        state: 0x9e37_79b9_7f4a_7c15,
    };
    let mut inventory = Inventory {
        whole_registry: true,
        ..Inventory::default()
    };
    let repositories = tags.div_ceil(TAGS_PER_REPOSITORY);
    for r in 0..repositories {
        let ci = r % 10 == 9;
        let name: RepositoryName = if ci {
            format!("ci/build-{r}")
        } else {
            format!("team-{}/app-{r}", r % 37)
        }
        .parse()
        .expect("synthetic names are valid");
        let repository = repository(&mut source, ci);
        inventory.repositories.insert(name, repository);
    }
    let mut blobs = BTreeMap::new();
    for repository in inventory.repositories.values() {
        for image in repository.images.values() {
            for blob in &image.blobs {
                blobs.insert(blob.clone(), 10_000_000);
            }
        }
    }
    inventory.blobs = blobs;
    inventory
}

/// A field of `/proc/self/status` in KiB (Linux only).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
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
    let inventory = inventory(tags);
    let build_time = built.elapsed();
    let runs = match tags {
        ..=100_000 => 5,
        _ => 2,
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
        show(status_kib("VmHWM")),
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
        "VmHWM"
    );
    for tags in sizes {
        bench(tags, &policy);
    }
}
