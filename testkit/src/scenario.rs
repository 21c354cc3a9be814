//! Ready-made registry contents, so tests and the demo agree on one data set.

use time::{Duration, OffsetDateTime};

use crate::seeder::{ImageFormat, ImageSpec, PushedImage, SeedError, Seeder, sha256_digest};

/// A seeded repository.
#[derive(Debug, Clone, PartialEq)]
pub struct SeededRepo {
    /// Repository name, e.g. `team/app`.
    pub name: String,
    /// Images, newest first.
    pub images: Vec<SeededImage>,
}

impl SeededRepo {
    /// The image carrying `tag`, if any.
    pub fn image_with_tag(&self, tag: &str) -> Option<&SeededImage> {
        self.images
            .iter()
            .find(|image| image.tags.iter().any(|t| t == tag))
    }
}

/// Asserts through the registry API that exactly the `keep` newest images
/// of every repository remain, carrying exactly their seeded tags.
pub fn assert_newest_remain(seeder: &Seeder, repos: &[SeededRepo], keep: usize) {
    for repo in repos {
        for (rank, seeded) in repo.images.iter().enumerate() {
            let exists = seeder
                .manifest_exists(&repo.name, &seeded.image.digest)
                .expect("ask the registry");
            assert_eq!(
                exists,
                rank < keep,
                "{}: image #{} ({:?}) exists={exists}",
                repo.name,
                rank + 1,
                seeded.tags
            );
        }
        let mut remaining = seeder.tags(&repo.name).expect("list tags");
        remaining.sort();
        let mut expected: Vec<String> = repo.images[..keep.min(repo.images.len())]
            .iter()
            .flat_map(|image| image.tags.clone())
            .collect();
        expected.sort();
        assert_eq!(remaining, expected, "tags left in {}", repo.name);
    }
}

/// `count` repositories `many/repo-000`... with one undated image tagged
/// `v1` each, pushed four at a time; returns their names in catalog order.
pub fn many_repositories(seeder: &Seeder, count: usize) -> Result<Vec<String>, SeedError> {
    let names: Vec<String> = (0..count).map(|i| format!("many/repo-{i:03}")).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = names
            .chunks(count.div_ceil(4).max(1))
            .map(|chunk| {
                scope.spawn(move || {
                    for name in chunk {
                        let spec = ImageSpec::new(name.as_str(), None).with_layers(vec![]);
                        seeder.push_image(name, &spec, &["v1"])?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().expect("seeding thread panicked"))
    })?;
    Ok(names)
}

/// A seeded image and every tag pointing at it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeededImage {
    /// What was pushed.
    pub image: PushedImage,
    /// Its tags in this repository.
    pub tags: Vec<String>,
}

/// One image to push: age in days before a reference time, tags, layers.
struct Build {
    age_days: f64,
    tags: Vec<String>,
    format: ImageFormat,
    layer_sizes: Vec<usize>,
}

/// Pushes `builds` (given newest first) oldest first, as CI would have.
fn seed_repo(
    seeder: &Seeder,
    name: &str,
    reference: OffsetDateTime,
    base_layer: Option<(&str, usize)>,
    builds: Vec<Build>,
) -> Result<SeededRepo, SeedError> {
    let count = builds.len();
    let mut images = Vec::with_capacity(count);
    for (index, build) in builds.into_iter().enumerate().rev() {
        let created = created_at(reference, build.age_days);
        let mut spec = ImageSpec::new(format!("{name}#{}", count - 1 - index), Some(created))
            .with_format(build.format)
            .with_layers(build.layer_sizes);
        if let Some((seed, size)) = base_layer {
            spec = spec.with_base_layer(seed, size);
        }
        let tags: Vec<&str> = build.tags.iter().map(String::as_str).collect();
        let image = seeder.push_image(name, &spec, &tags)?;
        images.push(SeededImage {
            image,
            tags: build.tags,
        });
    }
    images.reverse();
    Ok(SeededRepo {
        name: name.to_owned(),
        images,
    })
}

/// `team/app` (Docker) and `team/tool` (OCI), five images each, one day
/// apart, tagged `v1`..`v5` (v5 newest). `team/app`'s newest also carries
/// `latest`; `team/tool`'s third newest also carries `stable`, so keeping
/// two deletes a digest that has two tags.
pub fn two_repos_five_images(
    seeder: &Seeder,
    newest: OffsetDateTime,
) -> Result<Vec<SeededRepo>, SeedError> {
    let repos = [
        ("team/app", ImageFormat::Docker, 0, "latest"),
        ("team/tool", ImageFormat::Oci, 2, "stable"),
    ];
    repos
        .into_iter()
        .map(|(name, format, extra_index, extra_tag)| {
            let builds = (0..5)
                .map(|index| {
                    let mut tags = vec![format!("v{}", 5 - index)];
                    if index == extra_index {
                        tags.push(extra_tag.to_owned());
                    }
                    Build {
                        age_days: index as f64,
                        tags,
                        format,
                        layer_sizes: vec![2048, 3072],
                    }
                })
                .collect();
            seed_repo(seeder, name, newest, None, builds)
        })
        .collect()
}

type RepoSeeder = fn(&Seeder, OffsetDateTime) -> Result<SeededRepo, SeedError>;

/// A realistic registry for the demo: five repositories, 42 images over the
/// year before `now`, both formats, shared base layers, semver, `latest`,
/// `stable`, `main-<sha>` and date tags. Deterministic for a given `now`.
pub fn demo(seeder: &Seeder, now: OffsetDateTime) -> Result<Vec<SeededRepo>, SeedError> {
    // Repositories are independent, so they are pushed in parallel.
    let seeders: [RepoSeeder; 5] = [demo_api, demo_web, demo_worker, demo_ci_runner, demo_redis];
    std::thread::scope(|scope| {
        let handles: Vec<_> = seeders
            .iter()
            .map(|seed| scope.spawn(move || seed(seeder, now)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a demo seeding thread panicked"))
            .collect()
    })
}

fn demo_api(seeder: &Seeder, now: OffsetDateTime) -> Result<SeededRepo, SeedError> {
    let ages = [
        0.3, 2.1, 5.8, 9.4, 16.0, 23.5, 31.2, 45.7, 61.0, 88.3, 120.9, 175.4, 240.2, 347.6,
    ];
    // None = a CI build between releases, tagged only `main-<sha>`.
    let versions = [
        Some("1.11.0"),
        None,
        Some("1.10.1"),
        Some("1.10.0"),
        None,
        Some("1.9.0"),
        Some("1.8.2"),
        None,
        Some("1.8.1"),
        Some("1.8.0"),
        Some("1.5.0"),
        Some("1.2.0"),
        Some("1.0.1"),
        Some("1.0.0"),
    ];
    let builds = ages
        .iter()
        .zip(versions)
        .enumerate()
        .map(|(index, (&age_days, version))| {
            let main_tag = format!("main-{}", short_sha(&format!("acme/api build {index}")));
            let tags = match (index, version) {
                (0, Some(version)) => vec![version.to_owned(), "latest".to_owned(), main_tag],
                (_, Some(version)) => vec![version.to_owned()],
                (_, None) => vec![main_tag],
            };
            Build {
                age_days,
                tags,
                format: ImageFormat::Docker,
                layer_sizes: vec![vary("acme/api", index, 8, 60) * 1024],
            }
        })
        .collect();
    let base = Some(("debian-slim", 150 * 1024));
    seed_repo(seeder, "acme/api", now, base, builds)
}

fn demo_web(seeder: &Seeder, now: OffsetDateTime) -> Result<SeededRepo, SeedError> {
    let ages = [1.2, 4.5, 11.0, 19.3, 33.3, 52.8, 80.1, 133.0, 199.5, 301.7];
    let builds = ages
        .iter()
        .enumerate()
        .map(|(index, &age_days)| {
            let mut tags = vec![format!("v3.{}.0", 9 - index)];
            match index {
                0 => tags.push("latest".to_owned()),
                2 => tags.push("stable".to_owned()),
                _ => {}
            }
            Build {
                age_days,
                tags,
                format: ImageFormat::Oci,
                layer_sizes: vec![vary("acme/web", index, 10, 90) * 1024],
            }
        })
        .collect();
    let base = Some(("nginx-alpine", 120 * 1024));
    seed_repo(seeder, "acme/web", now, base, builds)
}

fn demo_worker(seeder: &Seeder, now: OffsetDateTime) -> Result<SeededRepo, SeedError> {
    let ages = [0.8, 7.7, 14.2, 44.0, 70.6, 101.3, 166.6, 259.9];
    let builds = ages
        .iter()
        .enumerate()
        .map(|(index, &age_days)| {
            let mut tags = vec![format!("0.{}.0", 8 - index)];
            if index == 0 {
                tags.push("latest".to_owned());
            }
            Build {
                age_days,
                tags,
                // The team moved to an OCI-producing builder 100 days ago.
                format: if age_days < 100.0 {
                    ImageFormat::Oci
                } else {
                    ImageFormat::Docker
                },
                layer_sizes: vec![vary("acme/worker", index, 5, 40) * 1024],
            }
        })
        .collect();
    let base = Some(("python-slim", 100 * 1024));
    seed_repo(seeder, "acme/worker", now, base, builds)
}

fn demo_ci_runner(seeder: &Seeder, now: OffsetDateTime) -> Result<SeededRepo, SeedError> {
    // Gaps above 31 days keep the year.month tags distinct.
    let ages = [3.0, 40.5, 96.0, 151.2, 231.7, 330.4];
    let builds = ages
        .iter()
        .enumerate()
        .map(|(index, &age_days)| {
            let created = created_at(now, age_days);
            let mut tags = vec![format!("{}.{:02}", created.year(), created.month() as u8)];
            if index == 0 {
                tags.push("latest".to_owned());
            }
            Build {
                age_days,
                tags,
                format: ImageFormat::Oci,
                layer_sizes: vec![vary("tools/ci-runner", index, 30, 120) * 1024],
            }
        })
        .collect();
    let base = Some(("ubuntu", 250 * 1024));
    seed_repo(seeder, "tools/ci-runner", now, base, builds)
}

fn demo_redis(seeder: &Seeder, now: OffsetDateTime) -> Result<SeededRepo, SeedError> {
    let plan: [(f64, &[&str]); 4] = [
        (12.0, &["8.0", "8", "latest"]),
        (64.0, &["7.4", "7"]),
        (140.0, &["7.2"]),
        (290.0, &["7.0"]),
    ];
    let builds = plan
        .iter()
        .enumerate()
        .map(|(index, (age_days, tags))| Build {
            age_days: *age_days,
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            format: ImageFormat::Docker,
            layer_sizes: vec![vary("library/redis-mirror", index, 200, 320) * 1024],
        })
        .collect();
    seed_repo(seeder, "library/redis-mirror", now, None, builds)
}

/// `age_days` before `reference`, in whole seconds like real build dates.
fn created_at(reference: OffsetDateTime, age_days: f64) -> OffsetDateTime {
    let created = reference - Duration::seconds_f64(age_days * 86_400.0);
    created.replace_nanosecond(0).expect("0 ns is valid")
}

/// Seven hex characters, like a git short sha, derived from `text`.
fn short_sha(text: &str) -> String {
    let digest = sha256_digest(text.as_bytes());
    digest["sha256:".len()..].chars().take(7).collect()
}

/// A deterministic number in `min..max` for the `index`-th build of `repo`.
fn vary(repo: &str, index: usize, min: usize, max: usize) -> usize {
    let digest = sha256_digest(format!("{repo}/{index}").as_bytes());
    let value = usize::from_str_radix(&digest["sha256:".len().."sha256:".len() + 4], 16)
        .expect("hex digits");
    min + value % (max - min)
}
