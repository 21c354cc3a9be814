//! Registries for the benchmarks: many repositories, each with many dated
//! images, pushed concurrently through the registry API (monolithic blob
//! uploads) with one small shared base layer per repository, so only
//! configs and manifests differ per image. [`bench_registry`] is the shape
//! `cargo xtask bench` measures (a set number of tags per repository, `latest` + `v<n>` +
//! `build-<n>` on one digest, every tenth image a two-platform index), and
//! [`clone_tags_on_disk`] adds tags cheaply for the memory run.

use std::fs;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

use time::{Duration, OffsetDateTime};

use crate::seeder::{ImageFormat, ImageSpec, IndexSpec, SeedError, Seeder};

/// One tagged image [`bench_registry`] pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchImage {
    pub repository: String,
    /// Its place in the repository, 0 = newest.
    pub rank: usize,
    pub digest: String,
    pub tags: Vec<String>,
    /// The config blobs a scan reads for it: its own, or each child's for
    /// an index.
    pub config_digests: Vec<String>,
    /// The children's manifest digests when it is an index.
    pub children: Vec<String>,
}

/// What [`bench_registry`] pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchRegistry {
    /// Repository names in name order.
    pub repositories: Vec<String>,
    /// Every tagged image, by repository name, newest first.
    pub images: Vec<BenchImage>,
    /// Wall time of the whole push.
    pub took: StdDuration,
}

impl BenchRegistry {
    /// Tags over all repositories.
    pub fn tags(&self) -> usize {
        self.images.iter().map(|image| image.tags.len()).sum()
    }

    /// Multi-platform indexes among the images.
    pub fn indexes(&self) -> usize {
        self.images
            .iter()
            .filter(|image| !image.children.is_empty())
            .count()
    }

    /// Every manifest: images, plus the children of indexes.
    pub fn manifests(&self) -> usize {
        self.images
            .iter()
            .map(|image| 1 + image.children.len())
            .sum()
    }
}

/// The tags of the images of a repository that holds `tags` tags, newest
/// image first: the newest carries `latest`, `v<n>` and `build-<n>`, the
/// others `v<n>` and `build-<n>`; the oldest may carry only `v<n>` so the
/// count is exact. Versions count up from 1 (the oldest).
pub fn bench_tags(tags: usize) -> Vec<Vec<String>> {
    if tags == 0 {
        return Vec::new();
    }
    let images = if tags <= 3 {
        1
    } else {
        1 + (tags - 3).div_ceil(2)
    };
    let mut left = tags;
    (0..images)
        .map(|rank| {
            let version = images - rank;
            let mut names = Vec::new();
            if rank == 0 {
                names.push("latest".to_owned());
            }
            names.push(format!("v{version}"));
            names.push(format!("build-{version:05}"));
            names.truncate(left);
            left -= names.len();
            names
        })
        .collect()
}

/// Pushes `repositories` repositories `bench/r-000`... of `tags` tags each
/// (see [`bench_tags`]), Docker and OCI alternating per repository, built
/// one every 2 to 4 days back from `now`; every image whose version is a
/// multiple of 10 is an index (OCI index or Docker manifest list, matching
/// the repository) of a linux/amd64 and a linux/arm64 image. Runs on
/// `threads` threads.
pub fn bench_registry(
    seeder: &Seeder,
    repositories: usize,
    tags: usize,
    now: OffsetDateTime,
    threads: usize,
) -> Result<BenchRegistry, SeedError> {
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let pushed = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let repo = next.fetch_add(1, Ordering::Relaxed);
                        if repo >= repositories {
                            return Ok(());
                        }
                        let images = push_bench_repository(seeder, repo, tags, now)?;
                        pushed
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .extend(images);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|worker| worker.join().expect("a seeding thread panicked"))
    })?;
    let mut images = pushed
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    images.sort_by(|a, b| (&a.repository, a.rank).cmp(&(&b.repository, b.rank)));
    let mut names: Vec<String> = images.iter().map(|i| i.repository.clone()).collect();
    names.dedup();
    Ok(BenchRegistry {
        repositories: names,
        images,
        took: started.elapsed(),
    })
}

fn push_bench_repository(
    seeder: &Seeder,
    repo: usize,
    tags: usize,
    now: OffsetDateTime,
) -> Result<Vec<BenchImage>, SeedError> {
    let name = format!("bench/r-{repo:03}");
    let format = if repo.is_multiple_of(2) {
        ImageFormat::Docker
    } else {
        ImageFormat::Oci
    };
    let tag_lists = bench_tags(tags);
    let count = tag_lists.len();
    let base = format!("bench-base-{}", repo % 8);
    let mut pushed = Vec::with_capacity(count);
    let mut age_hours: i64 = 0;
    let mut ages = Vec::with_capacity(count);
    for rank in 0..count {
        ages.push(age_hours);
        age_hours += 48 + ((repo * 31 + rank * 17) % 49) as i64;
    }
    // Oldest first, as CI pushes.
    for (rank, names) in tag_lists.iter().enumerate().rev() {
        let version = count - rank;
        let created = now - Duration::hours(ages[rank]) - Duration::minutes((repo % 60) as i64);
        let spec = |seed: String| {
            ImageSpec::new(seed, Some(created))
                .with_format(format)
                .with_layers(Vec::<usize>::new())
                .with_base_layer(base.clone(), 1024)
        };
        let tag_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let image = if version.is_multiple_of(10) {
            let mut index = IndexSpec::new(
                format,
                [
                    spec(format!("{name}#{version}/amd64")),
                    spec(format!("{name}#{version}/arm64")).with_platform("arm64", "linux"),
                ],
            );
            for tag in names {
                index = index.with_tag(tag.clone());
            }
            let index = seeder.push_index(&name, &index)?;
            BenchImage {
                repository: name.clone(),
                rank,
                digest: index.digest.clone(),
                tags: names.clone(),
                config_digests: index
                    .children
                    .iter()
                    .map(|child| child.config_digest.clone())
                    .collect(),
                children: index.child_digests(),
            }
        } else {
            // The shared base layer goes up with the repository's oldest image.
            let image = seeder.push_image_bulk(
                &name,
                &spec(format!("{name}#{version}")),
                &tag_refs,
                rank == count - 1,
            )?;
            BenchImage {
                repository: name.clone(),
                rank,
                digest: image.digest,
                tags: names.clone(),
                config_digests: vec![image.config_digest],
                children: Vec::new(),
            }
        };
        pushed.push(image);
    }
    Ok(pushed)
}

/// Adds tags straight into a filesystem storage that a registry wrote,
/// without its API: each of `new_tags` becomes a copy of the directory of
/// the existing `tag` of `repository` (Distribution 2.x keeps a tag as
/// `<root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/`
/// with the digest in `current/link`), so it points at the same manifest.
/// Best done while no registry serves the storage. Returns how many tags
/// were added.
pub fn clone_tags_on_disk(
    storage_root: &Path,
    repository: &str,
    tag: &str,
    new_tags: impl IntoIterator<Item = String>,
) -> io::Result<usize> {
    let tags_dir = storage_root
        .join("docker/registry/v2/repositories")
        .join(repository)
        .join("_manifests/tags");
    let source = tags_dir.join(tag);
    if !source.join("current/link").is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{}: no such tag on disk", source.display()),
        ));
    }
    let mut added = 0;
    for new_tag in new_tags {
        copy_dir(&source, &tags_dir.join(new_tag))?;
        added += 1;
    }
    Ok(added)
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_tags_are_exact_and_shared() {
        for count in [0, 1, 2, 3, 4, 5, 6, 200, 201] {
            let lists = bench_tags(count);
            assert_eq!(lists.iter().map(Vec::len).sum::<usize>(), count, "{count}");
        }
        let lists = bench_tags(200);
        assert_eq!(lists.len(), 100);
        assert_eq!(lists[0], ["latest", "v100", "build-00100"]);
        assert_eq!(lists[1], ["v99", "build-00099"]);
        assert_eq!(lists[99], ["v1"]);
        assert_eq!(bench_tags(2), [["latest", "v1"]]);
    }
}
