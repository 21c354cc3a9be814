//! The synthetic registry both planner benchmarks use (`plan_bench`,
//! `plan_steps`): a realistic mix of images tagged once and several times,
//! multi-platform indexes with shared children, cosign signatures, orphaned
//! signatures, schema1 and undated images, layers shared across
//! repositories, and one CI repository in ten cleaned by a glob rule.

use std::collections::BTreeMap;
use std::time::Duration;

use cleanreg_core::{
    Child, Digest, Image, ImageKind, Inventory, MediaType, Platform, Repository, RepositoryName,
    Tag,
};
use time::OffsetDateTime;
use time::macros::datetime;

pub const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);
/// Layers every image draws from, so blobs are shared across repositories.
const LAYER_POOL: u64 = 5_000;

pub const POLICY: &str = r#"
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

/// One repository with `per_repository` tags.
fn repository(source: &mut Source, ci: bool, per_repository: usize) -> Repository {
    let mut repository = Repository::default();
    let mut n = 0usize;
    let mut previous_children: Vec<Digest> = Vec::new();
    while repository.tags.len() < per_repository {
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

pub fn inventory(tags: usize, per_repository: usize) -> Inventory {
    let mut source = Source {
        counter: 0,
        state: 0x9e37_79b9_7f4a_7c15,
    };
    let mut inventory = Inventory {
        whole_registry: true,
        ..Inventory::default()
    };
    let repositories = tags.div_ceil(per_repository);
    for r in 0..repositories {
        let ci = r % 10 == 9;
        let name: RepositoryName = if ci {
            format!("ci/build-{r}")
        } else {
            format!("team-{}/app-{r}", r % 37)
        }
        .parse()
        .expect("synthetic names are valid");
        let repository = repository(&mut source, ci, per_repository);
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
