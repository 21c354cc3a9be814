//! The planner's safety guarantees, checked over random inventories and
//! random policies.
//!
//! Inventories are built from a small, shrinkable description (`RepoSpec`):
//! several repositories whose manifests are plain images, multi-platform
//! indexes (children shared between indexes, nested, sometimes tagged,
//! sometimes lost), schema1 and unknown manifests, Helm-style artifacts,
//! cosign signatures (`sha256-<hex>.sig|.att|.sbom` tags) and OCI referrers
//! (a `subject`, sometimes listed by a `sha256-<hex>` fallback index), with
//! subjects that are in the repository, gone from the registry, present but
//! untagged, or never checked; and manifests no tag points at that a scan
//! found through history or storage (some pushed moments ago). Policies
//! have a default rule and up to three repository rules (exact names and
//! globs) that set every field of `Rule`, `delete_untagged` and
//! `remove_tags` included.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::num::NonZeroU32;

use cleanreg_core::{
    Child, DateSource, Decision, DeleteReason, Digest, Found, Image, ImageKind, Inventory,
    KeepReason, MediaType, Plan, PlanEntry, Platform, Policy, ReleaseLine, Repository,
    RepositoryName, RepositoryPattern, Role, Rule, Since, Tag, TagPattern, Untagged,
    attachment_tag, plan,
};
use proptest::prelude::*;
use proptest::test_runner::Config;
use time::OffsetDateTime;
use time::macros::datetime;

/// The moment every generated plan is made at (ages are relative to it).
const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

/// Cases per property; `PROPTEST_CASES` may ask for more.
const CASES: u32 = 512;

fn config() -> Config {
    let defaults = Config::default();
    Config {
        cases: defaults.cases.max(CASES),
        // The inventories are small; shrinking a failure should still be quick.
        max_shrink_iters: 20_000,
        ..defaults
    }
}

// ---------------------------------------------------------------------------
// What the generator draws.

const REPOSITORY_NAMES: &[&str] = &[
    "app",
    "team/api",
    "team/web",
    "team/web/nightly",
    "ci/build",
    "mirror/redis",
];

const REPOSITORY_GLOBS: &[&str] = &[
    "team/*", "team/**", "ci/*", "*", "**", "team/w?b", "mirror/*", "*/web*",
];

const TAG_PATTERNS: &[&str] = &[
    r"v\d+\.\d+\.\d+",
    "latest",
    "ci-.*",
    "release-.*",
    "stable|main",
    r"dev-\d+",
    ".*",
    "v.*",
];

/// A subject an attachment names.
#[derive(Debug, Clone)]
enum SubjectSpec {
    /// The n-th plain manifest of the repository.
    Local(usize),
    /// The n-th signature of the repository (possibly itself).
    Signature(usize),
    /// Not in the repository, and the registry answered 404.
    Gone(u8),
    /// Not in the repository, but the registry has it (untagged).
    Present(u8),
    /// Not in the repository and never checked (an inventory from elsewhere).
    Unchecked(u8),
}

#[derive(Debug, Clone)]
enum KindSpec {
    Image,
    /// Lists these manifests of the repository (indexes into the list).
    Index(Vec<usize>),
    Schema1,
    Unknown,
    /// An OCI artifact without a subject, like a Helm chart.
    Chart,
}

#[derive(Debug, Clone)]
struct ManifestSpec {
    kind: KindSpec,
    /// Days before `NOW`; `None`: unknown build date.
    age: Option<i64>,
    /// An OCI `subject`, and whether a referrers fallback index lists it.
    subject: Option<(SubjectSpec, bool)>,
    /// Which of a small pool of layer blobs it references.
    blobs: Vec<u8>,
    /// A child the registry lost: listed by an index, not in the inventory.
    lost_child: bool,
}

/// A cosign-style artifact with a `sha256-<hex>.<suffix>` tag.
#[derive(Debug, Clone)]
struct SignatureSpec {
    subject: SubjectSpec,
    /// 0 `.sig`, 1 `.att`, 2 `.sbom`, 3 none (a referrers fallback tag).
    suffix: u8,
    age: Option<i64>,
    /// An ordinary tag on it too, which makes it an image of its own.
    plain_tag: Option<String>,
    /// The tag is there but the inventory lacks the manifest behind it.
    missing: bool,
}

#[derive(Debug, Clone)]
struct RepoSpec {
    /// 0: digests shared with other repositories that use 0 (mirrors).
    salt: u8,
    manifests: Vec<ManifestSpec>,
    /// Tag name -> index of the manifest it points at.
    tags: Vec<(String, usize)>,
    signatures: Vec<SignatureSpec>,
    /// Tags on digests the inventory has no manifest for.
    dangling: Vec<(String, u8)>,
    /// Manifests (by index) the scan found untagged: how (0 history, 1
    /// storage, 2 both) and, from storage, how many minutes before `NOW`
    /// they were pushed. Tagged ones are left out, as a scan would.
    untagged: Vec<(usize, u8, Option<i64>)>,
}

fn tag_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0..3u8, 0..4u8, 0..3u8).prop_map(|(a, b, c)| format!("v{a}.{b}.{c}")),
        3 => (0..25u8).prop_map(|n| format!("ci-{n}")),
        1 => (0..6u8).prop_map(|n| format!("dev-{n}")),
        1 => (0..4u8).prop_map(|n| format!("release-{n}")),
        1 => Just("latest".to_owned()),
        1 => Just("stable".to_owned()),
        1 => Just("main".to_owned()),
        1 => Just("nightly".to_owned()),
    ]
}

fn age() -> impl Strategy<Value = Option<i64>> {
    // Few distinct days, so equal dates (ties by digest) happen; a few in
    // the future (clock skew).
    prop_oneof![
        4 => (-3i64..90).prop_map(Some),
        1 => Just(None),
    ]
}

fn subject_spec() -> impl Strategy<Value = SubjectSpec> {
    prop_oneof![
        6 => any::<prop::sample::Index>().prop_map(|i| SubjectSpec::Local(i.index(1 << 16))),
        1 => (0..4usize).prop_map(SubjectSpec::Signature),
        2 => (0..3u8).prop_map(SubjectSpec::Gone),
        1 => (0..3u8).prop_map(SubjectSpec::Present),
        1 => (0..3u8).prop_map(SubjectSpec::Unchecked),
    ]
}

fn kind_spec() -> impl Strategy<Value = KindSpec> {
    prop_oneof![
        12 => Just(KindSpec::Image),
        4 => prop::collection::vec(0..64usize, 1..4).prop_map(KindSpec::Index),
        1 => Just(KindSpec::Schema1),
        1 => Just(KindSpec::Unknown),
        1 => Just(KindSpec::Chart),
    ]
}

fn manifest_spec() -> impl Strategy<Value = ManifestSpec> {
    (
        kind_spec(),
        age(),
        prop::option::weighted(0.12, (subject_spec(), any::<bool>())),
        prop::collection::vec(0..8u8, 0..3),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(kind, age, subject, blobs, lost_child)| ManifestSpec {
            kind,
            age,
            subject,
            blobs,
            lost_child,
        })
}

fn signature_spec() -> impl Strategy<Value = SignatureSpec> {
    (
        subject_spec(),
        0..4u8,
        age(),
        prop::option::weighted(0.1, tag_name()),
        prop::bool::weighted(0.08),
    )
        .prop_map(|(subject, suffix, age, plain_tag, missing)| SignatureSpec {
            subject,
            suffix,
            age,
            plain_tag,
            missing,
        })
}

fn repo_spec() -> impl Strategy<Value = RepoSpec> {
    (
        0..3u8,
        prop::collection::vec(manifest_spec(), 1..14),
        prop::collection::vec((tag_name(), 0..64usize), 2..24),
        prop::collection::vec(signature_spec(), 0..5),
        prop::collection::vec((tag_name(), 0..3u8), 0..2),
        prop::collection::vec(
            (
                0..64usize,
                0..3u8,
                prop::option::weighted(0.5, prop_oneof![0..10i64, 10..100_000i64]),
            ),
            0..6,
        ),
    )
        .prop_map(
            |(salt, manifests, tags, signatures, dangling, untagged)| RepoSpec {
                salt,
                manifests,
                tags,
                signatures,
                dangling,
                untagged,
            },
        )
}

// ---------------------------------------------------------------------------
// Building an inventory from the description.

fn digest_of(text: &str) -> Digest {
    Digest::sha256_of(text.as_bytes())
}

fn outside_digest(n: u8) -> Digest {
    digest_of(&format!("outside-{n}"))
}

fn blob_digest(n: u8) -> Digest {
    digest_of(&format!("blob-{n}"))
}

fn tag(text: &str) -> Tag {
    text.parse().expect("generated tags are valid")
}

fn created(age: Option<i64>) -> Option<OffsetDateTime> {
    age.map(|days| NOW - time::Duration::days(days) - time::Duration::hours(3))
}

fn build_repository(spec: &RepoSpec) -> Repository {
    let manifest_digest = |i: usize| digest_of(&format!("manifest-{}-{i}", spec.salt));
    let signature_digest = |i: usize| digest_of(&format!("signature-{}-{i}", spec.salt));
    let count = spec.manifests.len();
    let mut repository = Repository::default();
    let subject_digest = |subject: &SubjectSpec, repository: &mut Repository| -> Digest {
        match subject {
            SubjectSpec::Local(i) => manifest_digest(i % count),
            SubjectSpec::Signature(i) if !spec.signatures.is_empty() => {
                signature_digest(i % spec.signatures.len())
            }
            SubjectSpec::Signature(i) => manifest_digest(i % count),
            SubjectSpec::Gone(n) => {
                repository.subjects.insert(outside_digest(*n), false);
                outside_digest(*n)
            }
            SubjectSpec::Present(n) => {
                repository.subjects.insert(outside_digest(*n), true);
                outside_digest(*n)
            }
            SubjectSpec::Unchecked(n) => outside_digest(*n + 100),
        }
    };
    let mut fallback: BTreeMap<Digest, Vec<Digest>> = BTreeMap::new();
    for (i, manifest) in spec.manifests.iter().enumerate() {
        let (media_type, artifact_type) = match &manifest.kind {
            KindSpec::Image if i % 2 == 0 => (MediaType::DockerManifest, None),
            KindSpec::Image => (MediaType::OciManifest, None),
            KindSpec::Index(_) if i % 2 == 0 => (MediaType::OciIndex, None),
            KindSpec::Index(_) => (MediaType::DockerManifestList, None),
            KindSpec::Schema1 => (MediaType::DockerSchema1Signed, None),
            KindSpec::Unknown => (MediaType::Other("application/x-unknown".into()), None),
            KindSpec::Chart => (
                MediaType::OciManifest,
                Some("application/vnd.cncf.helm.config.v1+json".to_owned()),
            ),
        };
        let mut image = Image::simple(media_type.clone(), created(manifest.age), 100 + i as u64);
        image.kind = ImageKind::of(&media_type, artifact_type.as_deref());
        image.artifact_type = artifact_type;
        image.manifest_size = 10 + i as u64;
        image.blobs = manifest.blobs.iter().map(|b| blob_digest(*b)).collect();
        if let KindSpec::Index(children) = &manifest.kind {
            image.blobs.clear();
            image.created_from = image.created.map(|_| DateSource::NewestChild);
            image.children = children
                .iter()
                .enumerate()
                .map(|(n, child)| Child {
                    digest: manifest_digest(child % count),
                    platform: (n % 2 == 0).then(|| Platform {
                        os: "linux".into(),
                        architecture: if n == 0 { "amd64" } else { "arm64" }.into(),
                        variant: None,
                    }),
                })
                .collect();
            if manifest.lost_child {
                image.children.push(Child {
                    digest: digest_of(&format!("lost-{}-{i}", spec.salt)),
                    platform: None,
                });
            }
        }
        if let Some((subject, listed)) = &manifest.subject {
            let subject = subject_digest(subject, &mut repository);
            if *listed {
                fallback
                    .entry(subject.clone())
                    .or_default()
                    .push(manifest_digest(i));
            }
            image.subject = Some(subject);
        }
        repository.images.insert(manifest_digest(i), image);
    }
    for (name, target) in &spec.tags {
        repository
            .tags
            .insert(tag(name), manifest_digest(target % count));
    }
    for (i, signature) in spec.signatures.iter().enumerate() {
        let digest = signature_digest(i);
        let mut image = Image::simple(MediaType::OciManifest, created(signature.age), 5);
        image.artifact_type = Some("application/vnd.dev.cosign.artifact.sig.v1+json".into());
        image.kind = ImageKind::Artifact;
        image.blobs = vec![digest_of(&format!("signature-blob-{}-{i}", spec.salt))];
        if !signature.missing {
            repository.images.insert(digest.clone(), image);
        }
        let subject = subject_digest(&signature.subject, &mut repository);
        let suffix = [".sig", ".att", ".sbom", ""][usize::from(signature.suffix % 4)];
        repository.tags.insert(
            tag(&format!("sha256-{}{suffix}", subject.hex())),
            digest.clone(),
        );
        if let Some(plain) = &signature.plain_tag {
            repository.tags.insert(tag(plain), digest);
        }
    }
    // A referrers fallback index per subject, tagged `sha256-<hex>`.
    for (subject, referrers) in fallback {
        let mut index = Image::simple(MediaType::OciIndex, None, 0);
        index.children = referrers
            .into_iter()
            .map(|digest| Child {
                digest,
                platform: None,
            })
            .collect();
        let digest = digest_of(&format!("fallback-{}-{}", spec.salt, subject.hex()));
        repository.images.insert(digest.clone(), index);
        repository
            .tags
            .insert(tag(&format!("sha256-{}", subject.hex())), digest);
    }
    for (name, n) in &spec.dangling {
        repository
            .tags
            .insert(tag(name), digest_of(&format!("dangling-{n}")));
    }
    let tagged: BTreeSet<Digest> = repository.tags.values().cloned().collect();
    for (i, how, pushed) in &spec.untagged {
        let digest = manifest_digest(i % count);
        if tagged.contains(&digest) {
            continue;
        }
        let found = match how % 3 {
            0 => vec![Found::History],
            1 => vec![Found::Storage],
            _ => vec![Found::History, Found::Storage],
        };
        let from_storage = found.contains(&Found::Storage);
        repository.untagged.insert(
            digest,
            Untagged {
                found,
                last_tags: vec![tag("main")],
                last_in_use: created(Some(3)),
                pushed: pushed
                    .filter(|_| from_storage)
                    .map(|minutes| NOW - time::Duration::minutes(minutes)),
            },
        );
    }
    repository
}

fn build_inventory(specs: &BTreeMap<usize, RepoSpec>) -> Inventory {
    let mut inventory = Inventory {
        whole_registry: specs.len().is_multiple_of(2),
        ..Inventory::default()
    };
    for (name, spec) in specs {
        let name: RepositoryName = REPOSITORY_NAMES[*name].parse().unwrap();
        inventory.repositories.insert(name, build_repository(spec));
    }
    for repository in inventory.repositories.values() {
        for image in repository.images.values() {
            for blob in &image.blobs {
                let size = 1000 + u64::from(blob.hex().as_bytes()[0]);
                inventory.blobs.insert(blob.clone(), size);
            }
        }
    }
    inventory
}

fn inventory() -> impl Strategy<Value = Inventory> {
    prop::collection::btree_map(0..REPOSITORY_NAMES.len(), repo_spec(), 1..4)
        .prop_map(|specs| build_inventory(&specs))
}

// ---------------------------------------------------------------------------
// Policies.

fn tag_pattern() -> impl Strategy<Value = TagPattern> {
    prop::sample::select(TAG_PATTERNS).prop_map(|p| TagPattern::new(p).unwrap())
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        prop::option::weighted(0.75, 0..5usize),
        prop::option::weighted(0.3, 1..120u32),
        prop::option::weighted(0.25, -5..120i64),
        prop::collection::vec(tag_pattern(), 0..2),
        prop::option::weighted(0.25, tag_pattern()),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.3),
        (
            prop::bool::weighted(0.4),
            prop::option::weighted(0.3, tag_pattern()),
            prop::option::weighted(
                0.3,
                prop_oneof![Just(ReleaseLine::Major), Just(ReleaseLine::MajorMinor)],
            ),
            prop::collection::vec(tag_pattern(), 0..2),
            prop::bool::weighted(0.25),
        ),
    )
        .prop_map(
            |(
                keep_newest,
                days,
                since,
                keep_tags,
                only_tags,
                shared,
                unknown,
                (delete_untagged, remove_tags, keep_newest_per, exclude_tags, beyond_age),
            )| Rule {
                keep_newest,
                keep_newest_per,
                keep_younger_than_days: days.and_then(NonZeroU32::new),
                keep_newer_than: since.map(|days| Since(NOW - time::Duration::days(days))),
                keep_tags,
                exclude_tags,
                keep_newest_beyond_age: beyond_age,
                only_tags,
                skip_shared_digests: shared,
                delete_unknown_age: unknown,
                delete_untagged,
                remove_tags,
            },
        )
}

fn repository_pattern() -> impl Strategy<Value = RepositoryPattern> {
    prop_oneof![
        prop::sample::select(REPOSITORY_NAMES),
        prop::sample::select(REPOSITORY_GLOBS),
    ]
    .prop_map(|p| p.parse().unwrap())
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        rule(),
        prop::collection::btree_map(repository_pattern(), rule(), 0..4),
    )
        .prop_map(|(default, repositories)| Policy {
            default,
            repositories,
        })
}

/// Only `keep_newest`, in the default rule and in every repository rule.
fn keep_newest_policy() -> impl Strategy<Value = Policy> {
    (
        0..6usize,
        prop::collection::btree_map(repository_pattern(), 0..6usize, 0..4),
    )
        .prop_map(|(default, repositories)| Policy {
            default: Rule::keep_newest(default),
            repositories: repositories
                .into_iter()
                .map(|(pattern, n)| (pattern, Rule::keep_newest(n)))
                .collect(),
        })
}

/// An inventory and a policy, shown compactly when a property fails.
#[derive(Clone)]
struct Case {
    inventory: Inventory,
    policy: Policy,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "policy: {}", self.policy.to_json_pretty())?;
        write!(f, "{}", describe(&self.inventory))
    }
}

/// A case where, one time in three, some manifests are in use (any kind:
/// images, children, attachments, untagged), so every guarantee also holds
/// with `in_use` set.
fn case() -> impl Strategy<Value = Case> {
    (
        inventory(),
        policy(),
        prop::option::weighted(
            0.35,
            prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        ),
    )
        .prop_map(|(mut inventory, policy, pins)| {
            for pin in pins.unwrap_or_default() {
                let manifests: Vec<(RepositoryName, Digest)> = inventory
                    .repositories
                    .iter()
                    .flat_map(|(name, repository)| {
                        repository
                            .images
                            .keys()
                            .map(move |digest| (name.clone(), digest.clone()))
                    })
                    .collect();
                if manifests.is_empty() {
                    break;
                }
                let (name, digest) = pin.get(&manifests).clone();
                let repository = inventory.repositories.get_mut(&name).unwrap();
                repository.in_use.insert(digest, "pods.json".into());
            }
            Case { inventory, policy }
        })
}

fn keep_newest_case() -> impl Strategy<Value = Case> {
    (inventory(), keep_newest_policy()).prop_map(|(inventory, policy)| Case { inventory, policy })
}

/// One line per tag, manifest and subject, digests shortened.
fn describe(inventory: &Inventory) -> String {
    let mut out = String::new();
    for (name, repository) in &inventory.repositories {
        out.push_str(&format!("repository {name}\n"));
        for (tag, digest) in &repository.tags {
            out.push_str(&format!("  tag {tag} -> {}\n", digest.short()));
        }
        for digest in repository.in_use.keys() {
            out.push_str(&format!("  in use {}\n", digest.short()));
        }
        for (digest, image) in &repository.images {
            let children: Vec<&str> = image.children.iter().map(|c| c.digest.short()).collect();
            out.push_str(&format!(
                "  manifest {} {:?} created {:?}{}{}\n",
                digest.short(),
                image.kind,
                image.created.map(|c| (NOW - c).whole_days()),
                if children.is_empty() {
                    String::new()
                } else {
                    format!(" children {children:?}")
                },
                image
                    .subject
                    .as_ref()
                    .map(|s| format!(" subject {}", s.short()))
                    .unwrap_or_default(),
            ));
        }
        for (subject, exists) in &repository.subjects {
            out.push_str(&format!("  subject {} exists {exists}\n", subject.short()));
        }
        for (digest, found) in &repository.untagged {
            out.push_str(&format!(
                "  untagged {} found {:?} pushed {:?} minutes ago\n",
                digest.short(),
                found.found,
                found.pushed.map(|p| (NOW - p).whole_minutes())
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Reading plans.

fn tags_by_digest(repository: &Repository) -> BTreeMap<&Digest, Vec<&Tag>> {
    let mut tags: BTreeMap<&Digest, Vec<&Tag>> = BTreeMap::new();
    for (tag, digest) in &repository.tags {
        tags.entry(digest).or_default().push(tag);
    }
    tags
}

type Key<'a> = (&'a RepositoryName, &'a Digest);

/// The manifest entries (not the tag entries) by repository and digest.
fn entries_by_key(plan: &Plan) -> BTreeMap<Key<'_>, &PlanEntry> {
    plan.entries
        .iter()
        .filter(|e| !e.role.is_tag())
        .map(|e| ((&e.repository, &e.digest), e))
        .collect()
}

fn show(entry: &PlanEntry) -> String {
    let tags: Vec<&str> = entry.tags.iter().map(Tag::as_str).collect();
    format!(
        "{}@{} {:?} [{}] {:?}: {}",
        entry.repository,
        entry.digest.short(),
        entry.kind,
        tags.join(","),
        entry.role,
        entry.decision
    )
}

/// Plays a plan against the inventory as a registry would end up after it,
/// and as the next scan would read it: deleted manifests and their tags are
/// gone, and a subject that was deleted while something still refers to it
/// is recorded as gone.
fn apply(inventory: &Inventory, plan: &Plan) -> Inventory {
    let mut after = inventory.clone();
    for entry in plan.deletes() {
        let repository = after
            .repositories
            .get_mut(&entry.repository)
            .expect("a delete names a scanned repository");
        repository.images.remove(&entry.digest);
        repository.untagged.remove(&entry.digest);
        repository.tags.retain(|_, digest| *digest != entry.digest);
    }
    for entry in plan.untags() {
        let repository = after
            .repositories
            .get_mut(&entry.repository)
            .expect("an untag names a scanned repository");
        for tag in &entry.tags {
            repository.tags.remove(tag);
        }
    }
    for (name, repository) in &mut after.repositories {
        let before = &inventory.repositories[name];
        let tags = tags_by_digest(repository);
        let mut referred: BTreeSet<Digest> = BTreeSet::new();
        let digests: BTreeSet<&Digest> = repository
            .images
            .keys()
            .chain(tags.keys().copied())
            .collect();
        for digest in digests {
            let subject = repository
                .images
                .get(digest)
                .and_then(|i| i.subject.as_ref());
            let own: Vec<Tag> = tags
                .get(digest)
                .into_iter()
                .flatten()
                .map(|t| (*t).clone())
                .collect();
            if let Some((subject, _)) = cleanreg_core::attachment(subject, &own) {
                referred.insert(subject);
            }
        }
        for subject in referred {
            if !repository.images.contains_key(&subject) && before.images.contains_key(&subject) {
                repository.subjects.insert(subject, false);
            }
        }
    }
    after
}

// ---------------------------------------------------------------------------
// The guarantees.

proptest! {
    #![proptest_config(config())]

    /// Every manifest of the inventory has exactly one entry (besides the
    /// entries of its tags).
    #[test]
    fn every_manifest_has_exactly_one_entry(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        let mut seen: BTreeSet<Key<'_>> = BTreeSet::new();
        for entry in plan.entries.iter().filter(|e| !e.role.is_tag()) {
            prop_assert!(
                seen.insert((&entry.repository, &entry.digest)),
                "{} has two entries", show(entry)
            );
        }
        for (name, repository) in &input.inventory.repositories {
            for digest in repository.images.keys() {
                prop_assert!(
                    seen.contains(&(name, digest)),
                    "manifest {name}@{} has no entry", digest.short()
                );
            }
        }
    }

    /// 1. No digest a kept tag points at is deleted: a delete lists every
    /// tag of its digest, and none of them is on a kept entry.
    #[test]
    fn no_kept_tag_loses_its_digest(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        let mut kept_tags: BTreeSet<(&RepositoryName, &Tag)> = BTreeSet::new();
        let mut kept: BTreeSet<Key<'_>> = BTreeSet::new();
        for entry in plan.entries.iter().filter(|e| !e.decision.is_delete()) {
            kept.insert((&entry.repository, &entry.digest));
            kept_tags.extend(entry.tags.iter().map(|t| (&entry.repository, t)));
        }
        for entry in plan.deletes() {
            let repository = &input.inventory.repositories[&entry.repository];
            let all: Vec<&Tag> = tags_by_digest(repository)
                .remove(&entry.digest)
                .unwrap_or_default();
            let listed: Vec<&Tag> = entry.tags.iter().collect();
            prop_assert_eq!(
                &listed, &all,
                "delete {} must list every tag of its digest", show(entry)
            );
            prop_assert!(
                !kept.contains(&(&entry.repository, &entry.digest)),
                "{} is deleted and also kept", show(entry)
            );
            for tag in &entry.tags {
                prop_assert!(
                    !kept_tags.contains(&(&entry.repository, tag)),
                    "delete {} takes kept tag {tag} along", show(entry)
                );
            }
        }
    }

    /// 2. No manifest a kept index lists is deleted.
    #[test]
    fn no_child_of_a_kept_index_is_deleted(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        let entries = entries_by_key(&plan);
        for entry in plan.entries.iter().filter(|e| !e.decision.is_delete()) {
            let repository = &input.inventory.repositories[&entry.repository];
            let Some(index) = repository.images.get(&entry.digest) else { continue };
            for child in &index.children {
                if let Some(listed) = entries.get(&(&entry.repository, &child.digest)) {
                    prop_assert!(
                        !listed.decision.is_delete(),
                        "kept index {} lists deleted {}", show(entry), show(listed)
                    );
                }
            }
        }
    }

    /// 3. Under a pure keep-N rule, the newest min(N, dated images) tagged,
    /// dated, interpreted images of each repository are kept, and every
    /// other such image is deleted unless a kept index lists it.
    #[test]
    fn keep_newest_keeps_exactly_the_newest(input in keep_newest_case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        for name in input.inventory.repositories.keys() {
            let (_, rule) = input.policy.rule_for(name);
            let keep = rule.keep_newest.expect("every rule sets keep_newest");
            let mut ranked: Vec<&PlanEntry> = plan
                .entries
                .iter()
                .filter(|e| {
                    e.repository == *name
                        && e.role == Role::Image
                        && !e.tags.is_empty()
                        && e.created.is_some()
                        && e.kind.is_interpreted()
                })
                .collect();
            ranked.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.digest.cmp(&b.digest)));
            for (i, entry) in ranked.iter().enumerate() {
                if i < keep {
                    prop_assert!(
                        !entry.decision.is_delete(),
                        "keep_newest {keep}: #{} {} must be kept", i + 1, show(entry)
                    );
                } else {
                    prop_assert!(
                        entry.decision.is_delete()
                            || matches!(
                                entry.decision,
                                Decision::Keep { reason: KeepReason::InKeptIndex { .. } }
                            ),
                        "keep_newest {keep}: #{} {} must be deleted", i + 1, show(entry)
                    );
                }
            }
        }
    }

    /// 4. Same inputs, same plan, in the same order; an inventory built in
    /// another insertion order plans the same.
    #[test]
    fn same_inputs_same_plan(input in case()) {
        let first = plan(&input.inventory, &input.policy, NOW);
        let second = plan(&input.inventory, &input.policy, NOW);
        prop_assert_eq!(&first, &second, "planning twice differs");

        let mut rebuilt = Inventory {
            whole_registry: input.inventory.whole_registry,
            ..Inventory::default()
        };
        for (name, repository) in input.inventory.repositories.iter().rev() {
            let mut copy = Repository::default();
            for (digest, exists) in repository.subjects.iter().rev() {
                copy.subjects.insert(digest.clone(), *exists);
            }
            for (digest, image) in repository.images.iter().rev() {
                copy.images.insert(digest.clone(), image.clone());
            }
            for (tag, digest) in repository.tags.iter().rev() {
                copy.tags.insert(tag.clone(), digest.clone());
            }
            for (digest, found) in repository.untagged.iter().rev() {
                copy.untagged.insert(digest.clone(), found.clone());
            }
            for (digest, source) in repository.in_use.iter().rev() {
                copy.in_use.insert(digest.clone(), source.clone());
            }
            rebuilt.repositories.insert(name.clone(), copy);
        }
        for (blob, size) in input.inventory.blobs.iter().rev() {
            rebuilt.blobs.insert(blob.clone(), *size);
        }
        let mut policy = Policy { default: input.policy.default.clone(), ..Policy::default() };
        for (pattern, rule) in input.policy.repositories.iter().rev() {
            policy.repositories.insert(pattern.clone(), rule.clone());
        }
        prop_assert_eq!(&first, &plan(&rebuilt, &policy, NOW), "insertion order changed the plan");
    }

    /// 5. Every delete is a manifest of the inventory; an attachment is
    /// deleted only with its subject or when the subject is gone, and a
    /// kept subject keeps its attachments.
    #[test]
    fn deletes_exist_and_attachments_follow_their_subject(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        let entries = entries_by_key(&plan);
        for entry in plan.deletes() {
            let repository = input.inventory.repositories.get(&entry.repository);
            prop_assert!(
                repository.is_some_and(|r| r.images.contains_key(&entry.digest)),
                "delete {} is not a manifest of the inventory", show(entry)
            );
        }
        for entry in &plan.entries {
            let Role::Attachment { subject, .. } = &entry.role else { continue };
            let repository = &input.inventory.repositories[&entry.repository];
            let subject_entry = entries.get(&(&entry.repository, subject));
            if entry.decision.is_delete() {
                let subject_deleted = subject_entry.is_some_and(|s| s.decision.is_delete());
                let subject_gone = !repository.images.contains_key(subject)
                    && repository.subjects.get(subject) == Some(&false);
                prop_assert!(
                    subject_deleted || subject_gone,
                    "attachment {} is deleted though its subject {} stays ({})",
                    show(entry),
                    subject.short(),
                    subject_entry.map_or("no entry".to_owned(), |s| show(s))
                );
            }
            if let Some(subject_entry) = subject_entry
                && !subject_entry.decision.is_delete()
            {
                prop_assert!(
                    !entry.decision.is_delete(),
                    "kept subject {} loses attachment {}", show(subject_entry), show(entry)
                );
            }
        }
    }

    /// A manifest in use is neither deleted nor untagged, whatever the
    /// policy; and it says why.
    #[test]
    fn a_manifest_in_use_is_never_deleted_or_untagged(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        for entry in &plan.entries {
            let pinned = input.inventory.repositories[&entry.repository]
                .in_use
                .contains_key(&entry.digest);
            if pinned {
                prop_assert!(!entry.decision.is_change(), "{} is in use", show(entry));
                if !entry.role.is_tag() && !matches!(
                    entry.decision,
                    Decision::Keep { reason: KeepReason::InKeptIndex { .. } }
                ) {
                    prop_assert_eq!(entry.decision.to_string(), "kept: in use (pods.json)");
                }
            }
        }
    }

    /// `exclude_tags` and `keep_newest_beyond_age`, which imports use for
    /// exact mappings, only keep more: without them the plan deletes every
    /// digest it deletes with them; and an image with an excluded tag is
    /// kept (an attachment whose subject is gone still goes).
    #[test]
    fn excluded_tags_and_counting_beyond_age_only_keep_more(input in case()) {
        let with = plan(&input.inventory, &input.policy, NOW);
        let mut plain = input.policy.clone();
        for rule in std::iter::once(&mut plain.default).chain(plain.repositories.values_mut()) {
            rule.exclude_tags.clear();
            rule.keep_newest_beyond_age = false;
        }
        let without = plan(&input.inventory, &plain, NOW);
        let deleted_without: BTreeSet<(&RepositoryName, &Digest)> =
            without.deletes().map(|e| (&e.repository, &e.digest)).collect();
        for entry in with.deletes() {
            prop_assert!(
                deleted_without.contains(&(&entry.repository, &entry.digest)),
                "{} is deleted only with the import fields", show(entry)
            );
            let (_, rule) = input.policy.rule_for(&entry.repository);
            prop_assert!(
                entry.role != Role::Image
                    || !entry.tags.iter().any(|tag| rule.exclude_tags.iter().any(|p| p.matches(tag.as_str()))),
                "{} carries an excluded tag", show(entry)
            );
        }
    }

    /// 6. After the plan is carried out, planning again with the same
    /// policy and the same moment deletes nothing more.
    #[test]
    fn a_second_plan_deletes_nothing_more(input in case()) {
        let first = plan(&input.inventory, &input.policy, NOW);
        let after = apply(&input.inventory, &first);
        let second = plan(&after, &input.policy, NOW);
        let again: Vec<String> = second.deletes().map(show).collect();
        prop_assert!(
            again.is_empty(),
            "after applying {} deletes, the second plan deletes {:#?}",
            first.deletes().count(),
            again
        );
    }

    /// Every reason says something, and a plan survives a JSON round trip.
    #[test]
    fn reasons_render_and_plans_round_trip_through_json(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        for entry in &plan.entries {
            let reason = entry.decision.reason();
            prop_assert!(!reason.trim().is_empty(), "{} has an empty reason", show(entry));
            prop_assert!(!entry.decision.to_string().trim().is_empty());
        }
        let json = serde_json::to_string(&plan).expect("a plan serialises");
        let back: Plan = serde_json::from_str(&json)
            .map_err(|e| TestCaseError::fail(format!("the plan's JSON does not read back: {e}")))?;
        prop_assert_eq!(&back, &plan, "the plan changed through JSON");
    }

    /// Deletes come in an order apply can follow: a deleted index before
    /// every manifest it lists, a deleted subject before its attachments.
    #[test]
    fn deletes_come_after_what_they_belong_to(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        let position: BTreeMap<Key<'_>, usize> = plan
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.role.is_tag())
            .map(|(i, e)| ((&e.repository, &e.digest), i))
            .collect();
        for (i, entry) in plan.entries.iter().enumerate() {
            if !entry.decision.is_delete() {
                continue;
            }
            let repository = &input.inventory.repositories[&entry.repository];
            for (index, image) in &repository.images {
                if !image.children.iter().any(|c| c.digest == entry.digest) {
                    continue;
                }
                let at = position[&(&entry.repository, index)];
                prop_assert!(
                    !plan.entries[at].decision.is_delete() || at < i,
                    "{} is deleted before its deleted index {}", show(entry), show(&plan.entries[at])
                );
            }
            if let Role::Attachment { subject, .. } = &entry.role
                && let Some(&at) = position.get(&(&entry.repository, subject))
            {
                prop_assert!(
                    !plan.entries[at].decision.is_delete() || at < i,
                    "{} is deleted before its deleted subject {}", show(entry), show(&plan.entries[at])
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// 7. An untagged manifest is deleted only as its rule's
    /// `delete_untagged` says, never while an index that stays lists it or a
    /// subject that stays has it attached, and never when it was pushed
    /// moments ago; its own attachments and children go with it.
    #[test]
    fn untagged_manifests_go_only_as_their_rule_says(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        let entries = entries_by_key(&plan);
        for entry in &plan.entries {
            let repository = &input.inventory.repositories[&entry.repository];
            let tagged = repository.tags.values().any(|d| *d == entry.digest);
            if let Role::Untagged(found) = &entry.role {
                prop_assert!(!tagged, "{} is tagged", show(entry));
                prop_assert!(repository.untagged.contains_key(&entry.digest));
                let (_, rule) = input.policy.rule_for(&entry.repository);
                if entry.decision.is_delete() {
                    prop_assert!(rule.delete_untagged, "{} deleted without delete_untagged", show(entry));
                    prop_assert_eq!(&entry.decision, &Decision::Delete { reason: DeleteReason::Untagged });
                    prop_assert!(
                        found.pushed.is_none_or(|at| at <= NOW - cleanreg_core::UNTAGGED_GRACE),
                        "{} was pushed moments ago", show(entry)
                    );
                } else if rule.delete_untagged
                    && entry.kind.is_interpreted()
                    && !repository.in_use.contains_key(&entry.digest)
                {
                    prop_assert!(
                        matches!(entry.decision, Decision::Keep { reason: KeepReason::PushedRecently { .. } }),
                        "{} must go", show(entry)
                    );
                }
            }
            if !entry.decision.is_delete() || !repository.untagged.contains_key(&entry.digest) {
                continue;
            }
            for (index, image) in &repository.images {
                if image.children.iter().any(|c| c.digest == entry.digest) {
                    let listing = entries[&(&entry.repository, index)];
                    prop_assert!(
                        listing.decision.is_delete(),
                        "untagged {} is deleted while {} lists it", show(entry), show(listing)
                    );
                }
            }
            if let Some(subject) = repository.images.get(&entry.digest).and_then(|i| i.subject.as_ref())
                && let Some(subject_entry) = entries.get(&(&entry.repository, subject))
            {
                prop_assert!(
                    subject_entry.decision.is_delete(),
                    "untagged {} leaves its kept subject {}", show(entry), show(subject_entry)
                );
            }
        }
    }

    /// 8. A tag removal takes one tag off a kept image and nothing else:
    /// the tag points at the image, matches `remove_tags` and no
    /// `keep_tags` or `exclude_tags`, the image keeps a tag of its own, and after the plan
    /// every other tag resolves to what it resolved to before.
    #[test]
    fn an_untag_never_changes_what_another_tag_resolves_to(input in case()) {
        let plan = plan(&input.inventory, &input.policy, NOW);
        let entries = entries_by_key(&plan);
        let mut removed: BTreeSet<(&RepositoryName, &Tag)> = BTreeSet::new();
        for entry in plan.untags() {
            let repository = &input.inventory.repositories[&entry.repository];
            let (_, rule) = input.policy.rule_for(&entry.repository);
            prop_assert_eq!(entry.tags.len(), 1);
            let tag = &entry.tags[0];
            prop_assert_eq!(repository.tags.get(tag), Some(&entry.digest), "{}", show(entry));
            prop_assert!(rule.remove_tags.as_ref().is_some_and(|p| p.matches(tag.as_str())));
            prop_assert!(!rule.kept_tag_patterns().iter().any(|p| p.matches(tag.as_str())), "{} keeps {tag}", show(entry));
            let image = entries[&(&entry.repository, &entry.digest)];
            prop_assert_eq!(&image.role, &Role::Image, "untag of {}", show(image));
            prop_assert!(!image.decision.is_delete(), "untag of deleted {}", show(image));
            let Role::Tag { remaining } = &entry.role else {
                return Err(TestCaseError::fail(format!("{} is not a tag entry", show(entry))));
            };
            prop_assert!(!remaining.contains(tag));
            prop_assert!(
                remaining.iter().any(|t| attachment_tag(t).is_none()),
                "{} leaves no tag of its own on the image", show(entry)
            );
            removed.insert((&entry.repository, tag));
        }
        let after = apply(&input.inventory, &plan);
        for (name, repository) in &input.inventory.repositories {
            for (tag, digest) in &repository.tags {
                if removed.contains(&(name, tag)) {
                    prop_assert!(!after.repositories[name].tags.contains_key(tag));
                    continue;
                }
                if let Some(now) = after.repositories[name].tags.get(tag) {
                    prop_assert_eq!(now, digest, "tag {} moved", tag);
                } else {
                    let deleted = entries[&(name, digest)].decision.is_delete();
                    prop_assert!(deleted, "tag {tag} vanished without its digest being deleted");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Regressions found by the properties above.

fn hex_digest(c: char) -> Digest {
    format!("sha256:{}", c.to_string().repeat(64))
        .parse()
        .unwrap()
}

fn position(plan: &Plan, digest: &Digest) -> usize {
    plan.entries
        .iter()
        .position(|e| e.digest == *digest)
        .unwrap_or_else(|| panic!("{} is not in the plan", digest.short()))
}

/// A signature on an orphaned signature: both go, the orphan first, or
/// apply skips the second ("its subject was not deleted").
#[test]
fn a_signature_on_an_orphan_comes_after_it() {
    let (image, signature, orphan, gone) = (
        hex_digest('1'),
        hex_digest('a'),
        hex_digest('b'),
        hex_digest('f'),
    );
    let mut repository = Repository::default();
    repository.images.insert(
        image.clone(),
        Image::simple(MediaType::OciManifest, created(Some(1)), 1),
    );
    repository.tags.insert(tag("v1"), image);
    for (digest, subject) in [(&orphan, &gone), (&signature, &orphan)] {
        let mut artifact = Image::simple(MediaType::OciManifest, created(Some(1)), 1);
        artifact.artifact_type = Some("application/vnd.dev.cosign.artifact.sig.v1+json".into());
        artifact.kind = ImageKind::Artifact;
        repository.images.insert(digest.clone(), artifact);
        repository.tags.insert(
            tag(&format!("sha256-{}.sig", subject.hex())),
            digest.clone(),
        );
    }
    repository.subjects.insert(gone, false);
    let inventory = Inventory {
        repositories: [("app".parse().unwrap(), repository)].into(),
        ..Inventory::default()
    };
    let plan = plan(&inventory, &Policy::keep_newest(1), NOW);
    let deleted: Vec<&Digest> = plan.deletes().map(|e| &e.digest).collect();
    assert_eq!(deleted, [&orphan, &signature], "the orphan goes first");
}

/// A child two deleted indexes list goes after both of them, or apply
/// skips it ("its index was not deleted").
#[test]
fn a_child_of_two_deleted_indexes_comes_after_both() {
    let (shared, old, new, newest) = (
        hex_digest('1'),
        hex_digest('2'),
        hex_digest('3'),
        hex_digest('4'),
    );
    let mut repository = Repository::default();
    repository.images.insert(
        shared.clone(),
        Image::simple(MediaType::OciManifest, created(Some(9)), 1),
    );
    for (digest, age, name) in [(&old, 9, "old"), (&new, 8, "new")] {
        let mut index = Image::simple(MediaType::OciIndex, created(Some(age)), 1);
        index.children = vec![Child {
            digest: shared.clone(),
            platform: None,
        }];
        repository.images.insert(digest.clone(), index);
        repository.tags.insert(tag(name), digest.clone());
    }
    repository.images.insert(
        newest.clone(),
        Image::simple(MediaType::OciManifest, created(Some(1)), 1),
    );
    repository.tags.insert(tag("newest"), newest);
    let inventory = Inventory {
        repositories: [("app".parse().unwrap(), repository)].into(),
        ..Inventory::default()
    };
    let plan = plan(&inventory, &Policy::keep_newest(1), NOW);
    let deleted: Vec<&Digest> = plan.deletes().map(|e| &e.digest).collect();
    assert_eq!(deleted.len(), 3);
    assert!(
        position(&plan, &shared) > position(&plan, &old)
            && position(&plan, &shared) > position(&plan, &new),
        "the shared child must follow both indexes: {deleted:?}"
    );
}

proptest! {
    #![proptest_config(config())]

    /// A plan made a few repositories at a time (as the browser makes it)
    /// is the plan made at once, and the per-repository freed bytes add up
    /// to the plan's.
    #[test]
    fn a_plan_made_in_steps_is_the_same_plan(input in case(), step in 1_usize..4) {
        let whole = plan(&input.inventory, &input.policy, NOW);
        let mut builder = cleanreg_core::PlanBuilder::new(&input.inventory, &input.policy, NOW);
        while builder.plan_repositories(step) > 0 {}
        while builder.settle(step) > 0 {}
        let (stepped, by_repository) = builder.finish();
        prop_assert_eq!(&stepped, &whole);
        prop_assert_eq!(by_repository.len(), input.inventory.repositories.len());
        prop_assert_eq!(
            by_repository.iter().map(|r| r.bytes).sum::<u64>(),
            whole.reclaimable.bytes
        );
    }
}
