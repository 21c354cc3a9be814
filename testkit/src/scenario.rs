//! Ready-made registry contents, so tests and the demo agree on one data set.

use std::collections::{BTreeMap, BTreeSet};

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::seeder::{
    ArtifactBlob, ArtifactSpec, CREATED_ANNOTATION, CosignKind, ImageFormat, ImageSpec, IndexSpec,
    PushedArtifact, PushedImage, PushedIndex, PushedReferrersIndex, SeedError, Seeder,
    sha256_digest,
};

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

/// The demo's multi-platform repository `acme/gateway`: six OCI indexes
/// (linux/amd64 and linux/arm64/v8) over four months, each signed with a
/// cosign `.sig`, plus one orphan signature whose image is gone. Returns the
/// indexes, newest first.
pub fn demo_multiarch(seeder: &Seeder, now: OffsetDateTime) -> Result<Vec<PushedIndex>, SeedError> {
    const REPO: &str = "acme/gateway";
    let ages = [0.6, 8.2, 21.5, 39.0, 77.4, 118.8];
    let mut pushed = Vec::new();
    for (index, age_days) in ages.iter().enumerate() {
        let created = now - Duration::seconds_f64(age_days * 86_400.0);
        let child = |arch: &str| {
            ImageSpec::new(format!("acme/gateway {index} {arch}"), Some(created))
                .with_platform(arch, "linux")
                .with_base_layer(format!("distroless-{arch}"), 90 * 1024)
                .with_layers([vary("acme/gateway", index, 12, 40) * 1024])
        };
        let mut spec = IndexSpec::new(
            ImageFormat::Oci,
            [child("amd64"), child("arm64").with_variant("v8")],
        )
        .with_tag(format!("2.{}.0", 5 - index));
        if index == 0 {
            spec = spec.with_tag("latest");
        }
        let pushed_index = seeder.push_index(REPO, &spec)?;
        seeder.push_cosign(REPO, &pushed_index.digest, CosignKind::Signature)?;
        pushed.push(pushed_index);
    }
    let gone = sha256_digest(b"acme/gateway: an image deleted long ago");
    seeder.push_cosign(REPO, &gone, CosignKind::Signature)?;
    Ok(pushed)
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

/// Every manifest kind a cleaner meets, in five small repositories, with the
/// digests named so tests can assert what a planner must do. Seeded by
/// [`protocol_zoo`]; deterministic for a given `now`.
///
/// The expectations (see [`Zoo::expected`]) follow these rules:
/// - an image is dated by its config `created`, else by its manifest's
///   `org.opencontainers.image.created` annotation; an index by its newest
///   child's `created`;
/// - an index counts as one image; the children of a kept index are never
///   deleted (even when a deleted index lists them too); children listed
///   only by deleted indexes are untagged leftovers that a planner may
///   delete with their index or leave to garbage collection;
/// - cosign `.sig`/`.att`/`.sbom` tags, OCI referrers (`subject`) and the
///   `sha256-<hex>` referrers fallback index follow their subject and do
///   not count as images; attachments whose subject is not in the
///   repository (orphans) are deleted;
/// - images of unknown age (no date, unparsable, the 1970 epoch) and
///   artifacts that are not container images (Helm charts, `artifactType`
///   artifacts without subject) are always kept and take none of the N
///   places.
#[derive(Debug, Clone, PartialEq)]
pub struct Zoo {
    /// The reference time the ages are relative to.
    pub now: OffsetDateTime,
    /// `zoo/multiarch`: OCI indexes.
    pub multiarch: ZooMultiarch,
    /// `zoo/dockerlist`: Docker manifest lists.
    pub dockerlist: ZooDockerList,
    /// `zoo/dates`: every kind of build date.
    pub dates: ZooDates,
    /// `zoo/signed`: cosign tags and OCI referrers.
    pub signed: ZooSigned,
    /// `zoo/artifacts`: non-image OCI artifacts.
    pub artifacts: ZooArtifacts,
}

/// `zoo/multiarch`: three OCI image indexes, each over linux/amd64 and
/// linux/arm64/v8 OCI images, annotated with `org.opencontainers.image.created`
/// = their newest child's `created`.
///
/// | index | tags | amd64 child | arm64 child | index age |
/// |---|---|---|---|---|
/// | `v1` | `v1` | 30 d | 29.5 d | 29.5 d |
/// | `v2` | `v2` | 20 d | `shared_arm64`, 21 d | 20 d |
/// | `v3` | `v3`, `latest` | 10 d | `shared_arm64`, 21 d | 10 d |
///
/// `v2` and `v3` list the same arm64 child (equal spec, one digest).
///
/// - keep 1: keep `v3`, its amd64 child and `shared_arm64`; delete `v2` and
///   `v1`; `v2`'s amd64 child and both of `v1`'s children are leftovers.
///   `shared_arm64` must survive although the deleted `v2` lists it.
///   Tags left: `v3`, `latest`.
/// - keep 2: keep `v3`, `v2` and their three children; delete `v1`; its two
///   children are leftovers. Tags left: `v2`, `v3`, `latest`.
#[derive(Debug, Clone, PartialEq)]
pub struct ZooMultiarch {
    /// Oldest index.
    pub v1: PushedIndex,
    /// Middle index.
    pub v2: PushedIndex,
    /// Newest index, also tagged `latest`.
    pub v3: PushedIndex,
    /// The arm64 child `v2` and `v3` share.
    pub shared_arm64: String,
}

/// `zoo/dockerlist`: two Docker manifest lists over linux/amd64 and
/// linux/arm/v7 Docker schema2 images, without annotations.
///
/// | list | tags | amd64 child | arm/v7 child | list age |
/// |---|---|---|---|---|
/// | `old` | `1.0` | 60 d | 59.5 d | 59.5 d |
/// | `new` | `2.0`, `latest` | 6 d | 5.5 d | 5.5 d |
///
/// - keep 1: keep `new` and its children; delete `old`; its two children are
///   leftovers. Tags left: `2.0`, `latest`.
/// - keep 2: keep everything.
#[derive(Debug, Clone, PartialEq)]
pub struct ZooDockerList {
    /// Older list.
    pub old: PushedIndex,
    /// Newer list.
    pub new: PushedIndex,
}

/// `zoo/dates`: single-platform images with every kind of build date.
///
/// | image | tag | format | date |
/// |---|---|---|---|
/// | `newest` | `new` | Docker | config `created` 1 d |
/// | `middle` | `mid` | OCI | config `created` 3 d |
/// | `annotated` | `annotated` | OCI | no config `created`; manifest annotation 5 d |
/// | `oldest` | `old` | Docker | config `created` 7 d |
/// | `epoch` | `epoch` | Docker | `1970-01-01T00:00:00Z` (unknown) |
/// | `unparsable` | `bad-date` | OCI | `not a date` (unknown) |
/// | `undated` | `undated` | Docker | none (unknown) |
///
/// - keep 1: keep `newest`, `epoch`, `unparsable`, `undated`; delete
///   `middle`, `annotated`, `oldest`. Tags left: `new`, `epoch`,
///   `bad-date`, `undated`.
/// - keep 2: keep `newest`, `middle` and the three unknowns; delete
///   `annotated`, `oldest`.
#[derive(Debug, Clone, PartialEq)]
pub struct ZooDates {
    /// 1 day old.
    pub newest: PushedImage,
    /// 3 days old.
    pub middle: PushedImage,
    /// Dated only by its manifest annotation, 5 days old.
    pub annotated: PushedImage,
    /// 7 days old.
    pub oldest: PushedImage,
    /// Config `created` is the Unix epoch (reproducible builds).
    pub epoch: PushedImage,
    /// Config `created` is `not a date`.
    pub unparsable: PushedImage,
    /// No date anywhere.
    pub undated: PushedImage,
}

/// `zoo/signed`: four OCI images and what is attached to them.
///
/// | manifest | tag | attached to |
/// |---|---|---|
/// | `images[0]` (40 d) | `v1` | |
/// | `images[1]` (30 d) | `v2` | |
/// | `images[2]` (20 d) | `v3` | |
/// | `images[3]` (10 d) | `v4`, `latest` | |
/// | `oldest_sig` | `sha256-<images[0]>.sig` | `images[0]` |
/// | `oldest_referrer` | none (by digest) | `images[0]` via `subject` |
/// | `oldest_referrers_index` | `sha256-<images[0]>` | `images[0]` (lists `oldest_referrer`) |
/// | `newest_sig` | `sha256-<images[3]>.sig` | `images[3]` |
/// | `newest_att` | `sha256-<images[3]>.att` | `images[3]` |
/// | `orphan_sig` | `sha256-<orphan_subject>.sig` | nothing in the repository |
///
/// The cosign manifests have an OCI image config without `created`, so a
/// planner that counts them as images sees images of unknown age and keeps
/// them forever; the referrer artifact carries a `created` annotation
/// (39 d), as `oras attach` writes, so one that counts it sees a dated image.
///
/// - keep 1: keep `images[3]`, `newest_sig`, `newest_att`; delete
///   `images[0..3]`, `oldest_sig`, `oldest_referrer`,
///   `oldest_referrers_index`, `orphan_sig`. Tags left: `v4`, `latest`,
///   `sha256-<images[3]>.sig`, `sha256-<images[3]>.att`.
/// - keep 2: also keep `images[2]`; delete `images[0..2]`, the oldest
///   image's three attachments and `orphan_sig`.
#[derive(Debug, Clone, PartialEq)]
pub struct ZooSigned {
    /// Oldest first: `v1`, `v2`, `v3`, `v4` + `latest`.
    pub images: [PushedImage; 4],
    /// Cosign signature of the oldest image.
    pub oldest_sig: PushedArtifact,
    /// OCI 1.1 referrer (SBOM artifact with `subject`) of the oldest image.
    pub oldest_referrer: PushedArtifact,
    /// The referrers fallback index tagged `sha256-<hex of images[0]>`.
    pub oldest_referrers_index: PushedReferrersIndex,
    /// Cosign signature of the newest image.
    pub newest_sig: PushedArtifact,
    /// Cosign attestation of the newest image.
    pub newest_att: PushedArtifact,
    /// A cosign signature whose subject is not in the repository.
    pub orphan_sig: PushedArtifact,
    /// The digest `orphan_sig` claims to sign.
    pub orphan_subject: String,
}

/// `zoo/artifacts`: OCI artifacts that are not container images; a planner
/// keeps both whatever N is.
///
/// - `chart` (tag `chart-1.0.0`): a Helm chart, config media type
///   `application/vnd.cncf.helm.config.v1+json`, no date.
/// - `typed` (tag `config-1`): `artifactType`
///   `application/vnd.cleanreg.example.config.v1+json` over the empty config,
///   one YAML layer, and a `created` annotation 90 days old (as `oras push`
///   writes), so a planner that counts it as an image would delete it.
#[derive(Debug, Clone, PartialEq)]
pub struct ZooArtifacts {
    /// Helm chart.
    pub chart: PushedArtifact,
    /// `artifactType` artifact.
    pub typed: PushedArtifact,
}

/// What a keep-newest-N planner must do to one zoo repository.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ZooExpectation {
    /// Repository name.
    pub repo: String,
    /// Digests that must remain.
    pub keep: BTreeSet<String>,
    /// Digests that must be deleted.
    pub delete: BTreeSet<String>,
    /// Untagged children listed only by deleted indexes: deleting them is
    /// allowed (with their index) but not required (garbage collection
    /// `--delete-untagged` removes them). Never one a kept index lists.
    pub children_of_deleted: BTreeSet<String>,
    /// Tags that remain afterwards.
    pub remaining_tags: BTreeSet<String>,
    /// Every tag seeded in the repository, with its digest.
    pub seeded_tags: BTreeMap<String, String>,
}

impl Zoo {
    /// The zoo's repositories in catalog (alphabetical) order.
    pub const REPOSITORIES: [&'static str; 5] = [
        "zoo/artifacts",
        "zoo/dates",
        "zoo/dockerlist",
        "zoo/multiarch",
        "zoo/signed",
    ];

    /// Per repository (in [`Zoo::REPOSITORIES`] order), what keeping the
    /// `keep` newest images must do, by the rules in [`Zoo`]'s docs.
    pub fn expected(&self, keep: usize) -> Vec<ZooExpectation> {
        let mut expectations: Vec<ZooExpectation> = self
            .models()
            .into_iter()
            .map(|model| model.expect(keep))
            .collect();
        expectations.sort_by(|a, b| a.repo.cmp(&b.repo));
        expectations
    }

    fn models(&self) -> Vec<RepoModel> {
        let index_unit = |index: &PushedIndex| Unit {
            digest: index.digest.clone(),
            tags: index.tags.clone(),
            created: index.newest_child_created(),
            children: index.child_digests(),
            attachments: Vec::new(),
        };
        let image_unit = |image: &PushedImage, tags: &[&str]| Unit {
            digest: image.digest.clone(),
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            created: image
                .created
                .filter(|created| *created != OffsetDateTime::UNIX_EPOCH)
                .or_else(|| {
                    image
                        .annotations
                        .get(CREATED_ANNOTATION)
                        .and_then(|raw| OffsetDateTime::parse(raw, &Rfc3339).ok())
                }),
            children: Vec::new(),
            attachments: Vec::new(),
        };
        let artifact = |artifact: &PushedArtifact| Attachment {
            digest: artifact.digest.clone(),
            tags: artifact.tag.iter().cloned().collect(),
        };
        let undated_artifact = |artifact: &PushedArtifact| Unit {
            digest: artifact.digest.clone(),
            tags: artifact.tag.iter().cloned().collect(),
            created: None,
            children: Vec::new(),
            attachments: Vec::new(),
        };

        let multiarch = RepoModel {
            repo: "zoo/multiarch",
            units: vec![
                index_unit(&self.multiarch.v1),
                index_unit(&self.multiarch.v2),
                index_unit(&self.multiarch.v3),
            ],
            orphans: Vec::new(),
        };
        let dockerlist = RepoModel {
            repo: "zoo/dockerlist",
            units: vec![
                index_unit(&self.dockerlist.old),
                index_unit(&self.dockerlist.new),
            ],
            orphans: Vec::new(),
        };
        let d = &self.dates;
        let dates = RepoModel {
            repo: "zoo/dates",
            units: vec![
                image_unit(&d.newest, &["new"]),
                image_unit(&d.middle, &["mid"]),
                image_unit(&d.annotated, &["annotated"]),
                image_unit(&d.oldest, &["old"]),
                image_unit(&d.epoch, &["epoch"]),
                image_unit(&d.unparsable, &["bad-date"]),
                image_unit(&d.undated, &["undated"]),
            ],
            orphans: Vec::new(),
        };
        let s = &self.signed;
        let mut signed_units = vec![
            image_unit(&s.images[0], &["v1"]),
            image_unit(&s.images[1], &["v2"]),
            image_unit(&s.images[2], &["v3"]),
            image_unit(&s.images[3], &["v4", "latest"]),
        ];
        signed_units[0].attachments = vec![
            artifact(&s.oldest_sig),
            artifact(&s.oldest_referrer),
            Attachment {
                digest: s.oldest_referrers_index.digest.clone(),
                tags: vec![s.oldest_referrers_index.tag.clone()],
            },
        ];
        signed_units[3].attachments = vec![artifact(&s.newest_sig), artifact(&s.newest_att)];
        let signed = RepoModel {
            repo: "zoo/signed",
            units: signed_units,
            orphans: vec![artifact(&s.orphan_sig)],
        };
        let artifacts = RepoModel {
            repo: "zoo/artifacts",
            units: vec![
                undated_artifact(&self.artifacts.chart),
                undated_artifact(&self.artifacts.typed),
            ],
            orphans: Vec::new(),
        };
        vec![multiarch, dockerlist, dates, signed, artifacts]
    }
}

/// A counted image (or index, or never-counted artifact) and what hangs on it.
struct Unit {
    digest: String,
    tags: Vec<String>,
    /// None = unknown age or not a container image: always kept.
    created: Option<OffsetDateTime>,
    children: Vec<String>,
    attachments: Vec<Attachment>,
}

/// A manifest that follows its subject.
struct Attachment {
    digest: String,
    tags: Vec<String>,
}

struct RepoModel {
    repo: &'static str,
    units: Vec<Unit>,
    orphans: Vec<Attachment>,
}

impl RepoModel {
    fn expect(&self, keep: usize) -> ZooExpectation {
        let mut dated: Vec<&Unit> = self.units.iter().filter(|u| u.created.is_some()).collect();
        dated.sort_by(|a, b| b.created.cmp(&a.created).then(a.digest.cmp(&b.digest)));
        let deleted: BTreeSet<&str> = dated
            .iter()
            .skip(keep)
            .map(|unit| unit.digest.as_str())
            .collect();

        let mut expectation = ZooExpectation {
            repo: self.repo.to_owned(),
            ..ZooExpectation::default()
        };
        for unit in &self.units {
            let survives = !deleted.contains(unit.digest.as_str());
            let attachments = unit.attachments.iter().map(|a| (&a.digest, &a.tags));
            for (digest, tags) in std::iter::once((&unit.digest, &unit.tags)).chain(attachments) {
                for tag in tags {
                    expectation.seeded_tags.insert(tag.clone(), digest.clone());
                    if survives {
                        expectation.remaining_tags.insert(tag.clone());
                    }
                }
                if survives {
                    expectation.keep.insert(digest.clone());
                } else {
                    expectation.delete.insert(digest.clone());
                }
            }
            if survives {
                expectation.keep.extend(unit.children.iter().cloned());
            }
        }
        for orphan in &self.orphans {
            expectation.delete.insert(orphan.digest.clone());
            for tag in &orphan.tags {
                expectation
                    .seeded_tags
                    .insert(tag.clone(), orphan.digest.clone());
            }
        }
        for unit in self
            .units
            .iter()
            .filter(|u| deleted.contains(u.digest.as_str()))
        {
            for child in &unit.children {
                if !expectation.keep.contains(child) {
                    expectation.children_of_deleted.insert(child.clone());
                }
            }
        }
        expectation
    }
}

/// Seeds [`Zoo`]: `zoo/multiarch`, `zoo/dockerlist`, `zoo/dates`,
/// `zoo/signed` and `zoo/artifacts`, with ages in days before `now`.
///
/// Distribution 2.8.2 accepts every manifest in it (children, blobs and
/// referrers are pushed before what references them).
pub fn protocol_zoo(seeder: &Seeder, now: OffsetDateTime) -> Result<Zoo, SeedError> {
    Ok(Zoo {
        now,
        multiarch: zoo_multiarch(seeder, now)?,
        dockerlist: zoo_dockerlist(seeder, now)?,
        dates: zoo_dates(seeder, now)?,
        signed: zoo_signed(seeder, now)?,
        artifacts: zoo_artifacts(seeder, now)?,
    })
}

/// A small image of `repo` for the zoo, `age_days` old (None = no date).
fn zoo_image(
    repo: &str,
    name: &str,
    format: ImageFormat,
    age: Option<(OffsetDateTime, f64)>,
) -> ImageSpec {
    ImageSpec::new(
        format!("{repo}/{name}"),
        age.map(|(now, days)| created_at(now, days)),
    )
    .with_format(format)
    .with_base_layer(format!("{repo}/base"), 1024)
    .with_layers(vec![512])
}

fn zoo_multiarch(seeder: &Seeder, now: OffsetDateTime) -> Result<ZooMultiarch, SeedError> {
    const REPO: &str = "zoo/multiarch";
    let child = |name: &str, days: f64, arm: bool| {
        let spec = zoo_image(REPO, name, ImageFormat::Oci, Some((now, days)));
        if arm {
            spec.with_platform("arm64", "linux").with_variant("v8")
        } else {
            spec
        }
    };
    let index = |children: [ImageSpec; 2], tags: &[&str]| {
        let newest = children.iter().filter_map(|c| c.created).max();
        let mut spec = IndexSpec::new(ImageFormat::Oci, children);
        if let Some(newest) = newest {
            spec = spec.with_created_annotation(newest);
        }
        tags.iter().fold(spec, |spec, tag| spec.with_tag(*tag))
    };
    let shared = child("arm64-shared", 21.0, true);
    let v1 = seeder.push_index(
        REPO,
        &index(
            [
                child("v1-amd64", 30.0, false),
                child("v1-arm64", 29.5, true),
            ],
            &["v1"],
        ),
    )?;
    let v2 = seeder.push_index(
        REPO,
        &index([child("v2-amd64", 20.0, false), shared.clone()], &["v2"]),
    )?;
    let v3 = seeder.push_index(
        REPO,
        &index([child("v3-amd64", 10.0, false), shared], &["v3", "latest"]),
    )?;
    let shared_arm64 = v3.children[1].digest.clone();
    Ok(ZooMultiarch {
        v1,
        v2,
        v3,
        shared_arm64,
    })
}

fn zoo_dockerlist(seeder: &Seeder, now: OffsetDateTime) -> Result<ZooDockerList, SeedError> {
    const REPO: &str = "zoo/dockerlist";
    let list = |name: &str, days: f64, tags: &[&str]| {
        let amd64 = zoo_image(
            REPO,
            &format!("{name}-amd64"),
            ImageFormat::Docker,
            Some((now, days)),
        );
        let arm = zoo_image(
            REPO,
            &format!("{name}-arm"),
            ImageFormat::Docker,
            Some((now, days - 0.5)),
        )
        .with_platform("arm", "linux")
        .with_variant("v7");
        let spec = IndexSpec::new(ImageFormat::Docker, [amd64, arm]);
        tags.iter().fold(spec, |spec, tag| spec.with_tag(*tag))
    };
    let old = seeder.push_index(REPO, &list("old", 60.0, &["1.0"]))?;
    let new = seeder.push_index(REPO, &list("new", 6.0, &["2.0", "latest"]))?;
    Ok(ZooDockerList { old, new })
}

fn zoo_dates(seeder: &Seeder, now: OffsetDateTime) -> Result<ZooDates, SeedError> {
    const REPO: &str = "zoo/dates";
    let dated = |name: &str, format, days| zoo_image(REPO, name, format, Some((now, days)));
    let undated = |name: &str, format| zoo_image(REPO, name, format, None);
    // Oldest first, as CI would have pushed them.
    let oldest = seeder.push_image(REPO, &dated("oldest", ImageFormat::Docker, 7.0), &["old"])?;
    let annotated = seeder.push_image(
        REPO,
        &undated("annotated", ImageFormat::Oci).with_created_annotation(created_at(now, 5.0)),
        &["annotated"],
    )?;
    let middle = seeder.push_image(REPO, &dated("middle", ImageFormat::Oci, 3.0), &["mid"])?;
    let newest = seeder.push_image(REPO, &dated("newest", ImageFormat::Docker, 1.0), &["new"])?;
    let epoch = seeder.push_image(
        REPO,
        &undated("epoch", ImageFormat::Docker).with_created_raw("1970-01-01T00:00:00Z"),
        &["epoch"],
    )?;
    let unparsable = seeder.push_image(
        REPO,
        &undated("unparsable", ImageFormat::Oci).with_created_raw("not a date"),
        &["bad-date"],
    )?;
    let undated =
        seeder.push_image(REPO, &undated("undated", ImageFormat::Docker), &["undated"])?;
    Ok(ZooDates {
        newest,
        middle,
        annotated,
        oldest,
        epoch,
        unparsable,
        undated,
    })
}

fn zoo_signed(seeder: &Seeder, now: OffsetDateTime) -> Result<ZooSigned, SeedError> {
    const REPO: &str = "zoo/signed";
    let ages = [40.0, 30.0, 20.0, 10.0];
    let tags: [&[&str]; 4] = [&["v1"], &["v2"], &["v3"], &["v4", "latest"]];
    let mut images = Vec::with_capacity(4);
    for (index, (days, tags)) in ages.into_iter().zip(tags).enumerate() {
        let spec = zoo_image(
            REPO,
            &format!("image-{}", index + 1),
            ImageFormat::Oci,
            Some((now, days)),
        );
        images.push(seeder.push_image(REPO, &spec, tags)?);
    }
    let images: [PushedImage; 4] = images.try_into().expect("four images");
    let oldest = &images[0];
    let newest = &images[3];

    let oldest_sig = seeder.push_cosign(REPO, &oldest.digest, CosignKind::Signature)?;
    let sbom = to_json(&serde_json::json!({
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{REPO}@{}", oldest.digest),
    }));
    let oldest_referrer = seeder.push_artifact(
        REPO,
        &ArtifactSpec::typed("application/spdx+json")
            .with_blob(ArtifactBlob::new("application/spdx+json", sbom))
            .with_subject(oldest.descriptor())
            .with_annotation(CREATED_ANNOTATION, rfc3339(created_at(now, 39.0))),
    )?;
    let oldest_referrers_index =
        seeder.push_referrers_index(REPO, &oldest.digest, &[oldest_referrer.descriptor()])?;
    let newest_sig = seeder.push_cosign(REPO, &newest.digest, CosignKind::Signature)?;
    let newest_att = seeder.push_cosign(REPO, &newest.digest, CosignKind::Attestation)?;
    let orphan_subject = sha256_digest(b"zoo/signed: an image that was never pushed here");
    let orphan_sig = seeder.push_cosign(REPO, &orphan_subject, CosignKind::Signature)?;
    Ok(ZooSigned {
        images,
        oldest_sig,
        oldest_referrer,
        oldest_referrers_index,
        newest_sig,
        newest_att,
        orphan_sig,
        orphan_subject,
    })
}

fn zoo_artifacts(seeder: &Seeder, now: OffsetDateTime) -> Result<ZooArtifacts, SeedError> {
    const REPO: &str = "zoo/artifacts";
    let chart = seeder.push_artifact(
        REPO,
        &ArtifactSpec::helm_chart("zoo-chart", "1.0.0").with_tag("chart-1.0.0"),
    )?;
    let artifact_type = "application/vnd.cleanreg.example.config.v1+json";
    let typed = seeder.push_artifact(
        REPO,
        &ArtifactSpec::typed(artifact_type)
            .with_blob(
                ArtifactBlob::new("application/yaml", b"replicas: 3\n".to_vec())
                    .with_annotation("org.opencontainers.image.title", "values.yaml"),
            )
            .with_annotation(CREATED_ANNOTATION, rfc3339(created_at(now, 90.0)))
            .with_tag("config-1"),
    )?;
    Ok(ZooArtifacts { chart, typed })
}

fn to_json(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values serialise")
}

fn rfc3339(date: OffsetDateTime) -> String {
    date.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("a UTC date within year 0..9999 formats as RFC 3339")
}
