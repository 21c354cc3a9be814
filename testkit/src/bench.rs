//! A large registry for the dashboard benchmark: many repositories, each with
//! many dated images under two tags each, pushed concurrently through the
//! registry API (monolithic blob uploads) with one small shared base layer
//! per repository, so only configs and manifests differ per image.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

use time::{Duration, OffsetDateTime};

use crate::seeder::{ImageFormat, ImageSpec, SeedError, Seeder};

/// What [`large_registry`] pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeRegistry {
    pub repositories: usize,
    pub images: usize,
    pub tags: usize,
    /// Wall time of the whole push.
    pub took: StdDuration,
}

/// Pushes `repositories` repositories `bench/r-000`... with `images` images
/// each, tagged `v<n>` and `build-<n>` (two tags per image), built one every
/// 2 to 4 days (deterministic) back from `now`, Docker and OCI alternating
/// per repository, on `threads` threads.
pub fn large_registry(
    seeder: &Seeder,
    repositories: usize,
    images: usize,
    now: OffsetDateTime,
    threads: usize,
) -> Result<LargeRegistry, SeedError> {
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let repo = next.fetch_add(1, Ordering::Relaxed);
                        if repo >= repositories {
                            return Ok(());
                        }
                        push_repository(seeder, repo, images, now)?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().expect("a seeding thread panicked"))
    })?;
    Ok(LargeRegistry {
        repositories,
        images: repositories * images,
        tags: repositories * images * 2,
        took: started.elapsed(),
    })
}

fn push_repository(
    seeder: &Seeder,
    repo: usize,
    images: usize,
    now: OffsetDateTime,
) -> Result<(), SeedError> {
    let name = format!("bench/r-{repo:03}");
    let format = if repo.is_multiple_of(2) {
        ImageFormat::Docker
    } else {
        ImageFormat::Oci
    };
    // Oldest first, as CI pushes; build n is `images - n` steps back.
    let mut age_hours: i64 = 0;
    let mut ages = Vec::with_capacity(images);
    for n in 0..images {
        ages.push(age_hours);
        // 48 to 96 hours between builds, varying per repository and build.
        age_hours += 48 + ((repo * 31 + n * 17) % 49) as i64;
    }
    for n in (0..images).rev() {
        let created = now - Duration::hours(ages[n]) - Duration::minutes((repo % 60) as i64);
        let version = images - n;
        let spec = ImageSpec::new(format!("{name}#{version}"), Some(created))
            .with_format(format)
            .with_layers(Vec::<usize>::new())
            .with_base_layer(format!("bench-base-{}", repo % 8), 1024);
        let tags = [format!("v{version}"), format!("build-{version:05}")];
        // The shared base layer is uploaded with the repository's first image.
        seeder.push_image_bulk(
            &name,
            &spec,
            &[tags[0].as_str(), tags[1].as_str()],
            n == images - 1,
        )?;
    }
    Ok(())
}
