//! The inventory as table rows, every cell already text: repositories with
//! their counts and sizes, filtered, sorted and paged; one repository's
//! images with tags, dates, platforms and what is attached to them; its
//! untagged manifests with how they were found and the tags they last had.

use std::collections::{BTreeMap, BTreeSet};

use cleanreg_core::format;
use cleanreg_core::{AttachmentKind, Digest, Image, Inventory, Repository, attachment};
use time::OffsetDateTime;

use crate::widgets::paging::{page_count, page_range};

/// What the repository size counts, said once beside the table.
pub const SIZE_MEANS: &str = "Size: the config and layer blobs its manifests reference, each \
counted once. Blobs shared with other repositories count in each of them, so the sizes do not \
add up to what the registry stores.";

/// One repository of the table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoRow {
    pub name: String,
    pub tags: usize,
    /// Distinct tagged manifests that are not attached to another one.
    pub images: usize,
    /// Manifests no tag points at, found through scan history.
    pub untagged: usize,
    pub size: u64,
    pub size_text: String,
}

impl RepoRow {
    pub fn new(name: &str, repo: &Repository, blob_sizes: &BTreeMap<Digest, u64>) -> RepoRow {
        let blobs: BTreeSet<&Digest> = repo.images.values().flat_map(|i| &i.blobs).collect();
        let size = blobs.into_iter().filter_map(|d| blob_sizes.get(d)).sum();
        RepoRow {
            name: name.to_owned(),
            tags: repo.tag_count(),
            images: repo.image_count(),
            untagged: repo.untagged.len(),
            size,
            size_text: format::bytes(size),
        }
    }

    /// Every repository, in name order.
    pub fn all(inventory: &Inventory) -> Vec<RepoRow> {
        inventory
            .repositories
            .iter()
            .map(|(name, repo)| RepoRow::new(name.as_str(), repo, &inventory.blobs))
            .collect()
    }
}

/// The column a table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Tags,
    Images,
    Untagged,
    Size,
}

/// A column and a direction; what the sort select offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    pub const ALL: [Sort; 10] = [
        Sort::new(SortKey::Name, false),
        Sort::new(SortKey::Name, true),
        Sort::new(SortKey::Tags, true),
        Sort::new(SortKey::Tags, false),
        Sort::new(SortKey::Images, true),
        Sort::new(SortKey::Images, false),
        Sort::new(SortKey::Untagged, true),
        Sort::new(SortKey::Untagged, false),
        Sort::new(SortKey::Size, true),
        Sort::new(SortKey::Size, false),
    ];

    pub const fn new(key: SortKey, descending: bool) -> Sort {
        Sort { key, descending }
    }

    /// `name-asc`, `size-desc`, …: the select's values.
    pub fn key(self) -> String {
        let column = match self.key {
            SortKey::Name => "name",
            SortKey::Tags => "tags",
            SortKey::Images => "images",
            SortKey::Untagged => "untagged",
            SortKey::Size => "size",
        };
        format!("{column}-{}", if self.descending { "desc" } else { "asc" })
    }

    pub fn label(self) -> &'static str {
        match (self.key, self.descending) {
            (SortKey::Name, false) => "Name, A to Z",
            (SortKey::Name, true) => "Name, Z to A",
            (SortKey::Tags, true) => "Most tags first",
            (SortKey::Tags, false) => "Fewest tags first",
            (SortKey::Images, true) => "Most images first",
            (SortKey::Images, false) => "Fewest images first",
            (SortKey::Untagged, true) => "Most untagged first",
            (SortKey::Untagged, false) => "Fewest untagged first",
            (SortKey::Size, true) => "Largest first",
            (SortKey::Size, false) => "Smallest first",
        }
    }

    pub fn from_key(key: &str) -> Sort {
        Sort::ALL
            .into_iter()
            .find(|sort| sort.key() == key)
            .unwrap_or_default()
    }
}

impl Default for Sort {
    fn default() -> Sort {
        Sort::new(SortKey::Name, false)
    }
}

/// The rows whose name contains `filter` (ignoring case; blanks around it
/// are dropped), sorted; ties go by name.
pub fn filter_sort(rows: &[RepoRow], filter: &str, sort: Sort) -> Vec<RepoRow> {
    let needle = filter.trim().to_lowercase();
    let mut out: Vec<RepoRow> = rows
        .iter()
        .filter(|row| needle.is_empty() || row.name.to_lowercase().contains(&needle))
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        let by_key = match sort.key {
            SortKey::Name => a.name.cmp(&b.name),
            SortKey::Tags => a.tags.cmp(&b.tags),
            SortKey::Images => a.images.cmp(&b.images),
            SortKey::Untagged => a.untagged.cmp(&b.untagged),
            SortKey::Size => a.size.cmp(&b.size),
        };
        let by_key = if sort.descending {
            by_key.reverse()
        } else {
            by_key
        };
        by_key.then_with(|| a.name.cmp(&b.name))
    });
    out
}

/// One page of a list: the items and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// 0-based, clamped to the last page.
    pub index: usize,
    pub count: usize,
    pub total: usize,
    /// "Showing 51–100 of 500".
    pub label: String,
}

pub fn page<T: Clone>(all: &[T], index: usize, size: usize) -> Page<T> {
    let count = page_count(all.len(), size);
    let index = index.min(count - 1);
    let range = page_range(all.len(), size, index);
    let label = if all.is_empty() {
        "Nothing to show".to_owned()
    } else {
        format!("Showing {}–{} of {}", range.start + 1, range.end, all.len())
    };
    Page {
        items: all[range].to_vec(),
        index,
        count,
        total: all.len(),
        label,
    }
}

impl<T> Page<T> {
    /// The pager's line: "Showing 51–100 of 500 (page 2 of 10)".
    pub fn position(&self) -> String {
        format!("{} (page {} of {})", self.label, self.index + 1, self.count)
    }
}

/// One tagged manifest of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRow {
    pub repository: String,
    pub digest: String,
    pub digest_short: String,
    pub tags: Vec<String>,
    /// `image`, `multi-platform index`, `signature of 1a2b3c4d5e6f`, …
    pub kind: String,
    /// True for a signature, attestation, SBOM or referrer.
    pub attached_to_other: bool,
    /// `3 days ago`, or `unknown`.
    pub age: String,
    /// `2026-06-01 00:00 UTC`, empty when unknown.
    pub date: String,
    /// `from the config`, `from the newest child`, `from the annotation`,
    /// or why it is unknown.
    pub date_source: String,
    pub size: String,
    /// `linux/amd64, linux/arm64`, empty for a single-platform image.
    pub platforms: String,
    /// What is attached to it: `signature 1a2b3c4d5e6f`,
    /// `referrer 1a2b3c4d5e6f (application/spdx+json)`, …
    pub attachments: Vec<String>,
}

impl ImageRow {
    /// Every tagged manifest of `repo`, newest first (unknown dates last,
    /// then by digest).
    pub fn all(name: &str, repo: &Repository, now: OffsetDateTime) -> Vec<ImageRow> {
        let by_digest = repo.tags_by_digest();
        // Subject -> what is attached to it, found once.
        let mut attached: BTreeMap<Digest, Vec<(AttachmentKind, &Digest)>> = BTreeMap::new();
        let mut attachment_of: BTreeMap<&Digest, (Digest, AttachmentKind)> = BTreeMap::new();
        for (digest, image) in &repo.images {
            let tags = by_digest.get(digest).map(Vec::as_slice).unwrap_or(&[]);
            if let Some((subject, kind)) = attachment(image.subject.as_ref(), tags) {
                attached
                    .entry(subject.clone())
                    .or_default()
                    .push((kind, digest));
                attachment_of.insert(digest, (subject, kind));
            }
        }
        for (digest, tags) in &by_digest {
            if !repo.images.contains_key(*digest)
                && let Some((subject, kind)) = attachment(None, tags)
            {
                attached
                    .entry(subject.clone())
                    .or_default()
                    .push((kind, digest));
                attachment_of.insert(digest, (subject, kind));
            }
        }
        let mut rows: Vec<(Option<OffsetDateTime>, ImageRow)> = by_digest
            .iter()
            .map(|(digest, tags)| {
                let image = repo.images.get(*digest);
                let created = image.and_then(|i| i.created);
                let Dates {
                    age,
                    date,
                    source: date_source,
                } = Dates::of(image, now);
                let kind = match (attachment_of.get(digest), image) {
                    (Some((subject, kind)), _) => {
                        format!("{kind} of {}{}", subject.short(), typed(image))
                    }
                    (None, Some(image)) => image.kind.label().to_owned(),
                    (None, None) => "not read".to_owned(),
                };
                let platforms = image.map(platforms_of).unwrap_or_default();
                let attachments = attached
                    .get(*digest)
                    .map(|list| {
                        list.iter()
                            .map(|(kind, digest)| {
                                format!(
                                    "{kind} {}{}",
                                    digest.short(),
                                    typed(repo.images.get(*digest))
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let row = ImageRow {
                    repository: name.to_owned(),
                    digest: digest.to_string(),
                    digest_short: digest.short().to_owned(),
                    tags: tags.iter().map(|t| t.as_str().to_owned()).collect(),
                    kind,
                    attached_to_other: attachment_of.contains_key(digest),
                    age,
                    date,
                    date_source,
                    size: image.map_or_else(String::new, |i| format::bytes(i.size)),
                    platforms,
                    attachments,
                };
                (created, row)
            })
            .collect();
        rows.sort_by(|(a, ra), (b, rb)| newest_first((a, &ra.digest), (b, &rb.digest)));
        rows.into_iter().map(|(_, row)| row).collect()
    }
}

/// Newest first, unknown dates last, ties by digest.
fn newest_first(
    (a, a_digest): (&Option<OffsetDateTime>, &String),
    (b, b_digest): (&Option<OffsetDateTime>, &String),
) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.cmp(a).then_with(|| a_digest.cmp(b_digest)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a_digest.cmp(b_digest),
    }
}

/// A manifest's build date as the tables show it.
struct Dates {
    /// `3 days ago`, or `unknown`.
    age: String,
    /// `2026-06-01 00:00 UTC`, empty when unknown.
    date: String,
    /// Where it came from, or why it is unknown.
    source: String,
}

impl Dates {
    fn of(image: Option<&Image>, now: OffsetDateTime) -> Dates {
        match (image, image.and_then(|i| i.created)) {
            (Some(image), Some(created)) => Dates {
                age: format::age(created, now),
                date: format::date(created),
                source: image.created_from.map_or_else(
                    || "source not recorded".to_owned(),
                    |source| format!("from the {source}"),
                ),
            },
            (Some(_), None) => Dates {
                age: "unknown".to_owned(),
                date: String::new(),
                source: "no build date in the image".to_owned(),
            },
            (None, _) => Dates {
                age: "unknown".to_owned(),
                date: String::new(),
                source: "manifest not read".to_owned(),
            },
        }
    }
}

/// `linux/amd64, linux/arm64` for an index, empty otherwise.
/// ` (application/spdx+json)`: the artifact type of a manifest that has
/// one, as the referrers API names it; empty otherwise.
fn typed(image: Option<&Image>) -> String {
    image
        .and_then(|image| image.artifact_type.as_deref())
        .map(|artifact_type| format!(" ({artifact_type})"))
        .unwrap_or_default()
}

fn platforms_of(image: &Image) -> String {
    image
        .platforms()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One manifest of a repository that no tag points at, found through scan
/// history (or the registry's storage).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UntaggedRow {
    pub repository: String,
    pub digest: String,
    pub digest_short: String,
    /// `image`, `multi-platform index`,
    /// `referrer of 1a2b3c4d5e6f (application/spdx+json)`, …
    pub kind: String,
    pub platforms: String,
    pub age: String,
    pub date: String,
    pub date_source: String,
    pub size: String,
    /// `history`, `storage`, `referrers API`, or several joined by `and`.
    pub found: String,
    /// The tags it had when a scan last saw it tagged; empty when not known.
    pub last_tags: Vec<String>,
    /// `last seen in use 2 days ago (2026-06-01 00:00 UTC)`, or empty.
    pub last_in_use: String,
    /// `pushed 1 hour ago (…)` from the registry's storage, or empty.
    pub pushed: String,
}

impl UntaggedRow {
    /// Every untagged manifest of `repo`, newest first (unknown dates last,
    /// then by digest).
    pub fn all(name: &str, repo: &Repository, now: OffsetDateTime) -> Vec<UntaggedRow> {
        let mut rows: Vec<(Option<OffsetDateTime>, UntaggedRow)> = repo
            .untagged
            .iter()
            .map(|(digest, untagged)| {
                let image = repo.images.get(digest);
                let Dates { age, date, source } = Dates::of(image, now);
                let when = |what: &str, at: Option<OffsetDateTime>| {
                    at.map(|at| format!("{what} {} ({})", format::age(at, now), format::date(at)))
                        .unwrap_or_default()
                };
                let row = UntaggedRow {
                    repository: name.to_owned(),
                    digest: digest.to_string(),
                    digest_short: digest.short().to_owned(),
                    kind: match image {
                        None => "not read".to_owned(),
                        Some(image) => match &image.subject {
                            Some(subject) => format!(
                                "{} of {}{}",
                                AttachmentKind::Referrer,
                                subject.short(),
                                typed(Some(image))
                            ),
                            None => format!("{}{}", image.kind.label(), typed(Some(image))),
                        },
                    },
                    platforms: image.map(platforms_of).unwrap_or_default(),
                    age,
                    date,
                    date_source: source,
                    size: image.map_or_else(String::new, |i| format::bytes(i.size)),
                    found: untagged.found_label(),
                    last_tags: untagged
                        .last_tags
                        .iter()
                        .map(|t| t.as_str().to_owned())
                        .collect(),
                    last_in_use: when("last seen in use", untagged.last_in_use),
                    pushed: when("pushed", untagged.pushed),
                };
                (image.and_then(|i| i.created), row)
            })
            .collect();
        rows.sort_by(|(a, ra), (b, rb)| newest_first((a, &ra.digest), (b, &rb.digest)));
        rows.into_iter().map(|(_, row)| row).collect()
    }

    /// `was main, edge` when history knows its last tags, else empty.
    pub fn was(&self) -> String {
        if self.last_tags.is_empty() {
            String::new()
        } else {
            format!("was {}", self.last_tags.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleanreg_core::{Child, DateSource, Found, ImageKind, MediaType, Platform, Untagged};
    use time::macros::datetime;

    fn digest(seed: &str) -> Digest {
        Digest::sha256_of(seed.as_bytes())
    }

    fn image(created: Option<OffsetDateTime>, blobs: &[&Digest]) -> Image {
        let mut image = Image::simple(MediaType::OciManifest, created, 1_500);
        image.blobs = blobs.iter().map(|d| (*d).clone()).collect();
        image
    }

    /// `app`: v1 and latest on one image, v0 on an older one, a cosign
    /// signature of the newest, and an index with two platforms.
    fn repository() -> (Repository, BTreeMap<Digest, u64>) {
        let (layer, config_a, config_b) = (digest("layer"), digest("ca"), digest("cb"));
        let (new, old, sig, index) = (digest("new"), digest("old"), digest("sig"), digest("idx"));
        let mut repo = Repository::default();
        repo.images.insert(
            new.clone(),
            image(Some(datetime!(2026-05-31 0:00 UTC)), &[&layer, &config_a]),
        );
        repo.images.insert(
            old.clone(),
            image(Some(datetime!(2026-01-01 0:00 UTC)), &[&layer, &config_b]),
        );
        repo.images.insert(sig.clone(), image(None, &[]));
        let mut multi = image(None, &[]);
        multi.kind = ImageKind::Index;
        multi.children = ["amd64", "arm64"]
            .into_iter()
            .map(|arch| Child {
                digest: digest(arch),
                platform: Some(Platform {
                    os: "linux".into(),
                    architecture: arch.into(),
                    variant: None,
                }),
            })
            .collect();
        multi.created = Some(datetime!(2026-03-01 0:00 UTC));
        multi.created_from = Some(DateSource::NewestChild);
        repo.images.insert(index.clone(), multi);
        for (tag, target) in [
            ("latest", &new),
            ("v1", &new),
            ("v0", &old),
            ("multi", &index),
        ] {
            repo.tags.insert(tag.parse().unwrap(), target.clone());
        }
        let sig_tag = format!("sha256-{}.sig", new.hex());
        repo.tags.insert(sig_tag.parse().unwrap(), sig.clone());
        let sizes = BTreeMap::from([(layer, 1_000_000), (config_a, 1_000), (config_b, 2_000)]);
        (repo, sizes)
    }

    /// `app` of [`repository`] after `main` moved twice: the two manifests
    /// it left, one of which history knows the tags of.
    fn with_untagged() -> Repository {
        let (mut repo, _) = repository();
        let (first, second) = (digest("main-1"), digest("main-2"));
        repo.images.insert(
            first.clone(),
            image(Some(datetime!(2026-05-01 0:00 UTC)), &[]),
        );
        repo.images.insert(
            second.clone(),
            image(Some(datetime!(2026-05-20 0:00 UTC)), &[]),
        );
        repo.untagged.insert(
            first,
            Untagged {
                found: vec![Found::History],
                last_tags: vec!["main".parse().unwrap(), "edge".parse().unwrap()],
                last_in_use: Some(datetime!(2026-05-20 0:00 UTC)),
                pushed: None,
            },
        );
        repo.untagged.insert(
            second,
            Untagged {
                found: vec![Found::History, Found::Storage],
                pushed: Some(datetime!(2026-06-02 0:00 UTC)),
                ..Untagged::default()
            },
        );
        repo
    }

    #[test]
    fn untagged_manifests_are_their_own_rows_and_counted() {
        let repo = with_untagged();
        let now = datetime!(2026-06-03 0:00 UTC);
        let row = RepoRow::new("app", &repo, &BTreeMap::new());
        assert_eq!((row.images, row.untagged), (3, 2));
        let rows = UntaggedRow::all("app", &repo, now);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].digest, digest("main-2").to_string(), "newest first");
        assert_eq!(rows[0].found, "history and storage");
        assert_eq!(rows[0].was(), "");
        assert_eq!(rows[0].pushed, "pushed 1 day ago (2026-06-02 00:00 UTC)");
        assert_eq!(rows[1].found, "history");
        assert_eq!(rows[1].was(), "was main, edge");
        assert_eq!(rows[1].date, "2026-05-01 00:00 UTC");
        assert_eq!(rows[1].date_source, "from the config");
        assert!(
            rows[1]
                .last_in_use
                .starts_with("last seen in use 14 days ago"),
            "{}",
            rows[1].last_in_use
        );
        assert_eq!(rows[1].kind, "image");
        // The tagged rows are as before: untagged manifests are not images.
        assert_eq!(ImageRow::all("app", &repo, now).len(), 4);
    }

    #[test]
    fn untagged_referrers_show_their_artifact_type_under_their_subject_and_as_rows() {
        let (mut repo, _) = repository();
        let new = digest("new");
        let sbom = digest("sbom");
        let mut referrer = image(None, &[]);
        referrer.kind = ImageKind::Artifact;
        referrer.subject = Some(new.clone());
        referrer.artifact_type = Some("application/spdx+json".into());
        repo.images.insert(sbom.clone(), referrer);
        repo.untagged.insert(
            sbom.clone(),
            Untagged {
                found: vec![Found::Referrers],
                ..Untagged::default()
            },
        );
        let now = datetime!(2026-06-03 0:00 UTC);
        let rows = ImageRow::all("app", &repo, now);
        let newest = rows
            .iter()
            .find(|row| row.digest == new.to_string())
            .unwrap();
        assert!(
            newest.attachments.contains(&format!(
                "referrer {} (application/spdx+json)",
                sbom.short()
            )),
            "{:?}",
            newest.attachments
        );
        assert_eq!(RepoRow::new("app", &repo, &BTreeMap::new()).images, 3);
        let untagged = UntaggedRow::all("app", &repo, now);
        assert_eq!(untagged.len(), 1);
        assert_eq!(
            untagged[0].kind,
            format!("referrer of {} (application/spdx+json)", new.short())
        );
        assert_eq!(untagged[0].found, "referrers API");
    }

    #[test]
    fn a_repository_row_counts_images_not_tags_and_blobs_once() {
        let (repo, sizes) = repository();
        let row = RepoRow::new("app", &repo, &sizes);
        assert_eq!(row.tags, 5);
        assert_eq!(
            row.images, 3,
            "two tags on one image, the signature is attached"
        );
        assert_eq!(row.size, 1_003_000, "the shared layer counts once");
        assert_eq!(row.size_text, "1.0 MB");
    }

    #[test]
    fn image_rows_carry_dates_platforms_and_attachments() {
        let (repo, _) = repository();
        let now = datetime!(2026-06-03 0:00 UTC);
        let rows = ImageRow::all("app", &repo, now);
        let tags: Vec<Vec<String>> = rows.iter().map(|r| r.tags.clone()).collect();
        assert_eq!(tags.len(), 4);
        assert_eq!(tags[0], ["latest", "v1"], "newest first");
        assert_eq!(tags[1], ["multi"]);
        assert_eq!(tags[2], ["v0"]);
        let newest = &rows[0];
        assert_eq!(newest.age, "3 days ago");
        assert_eq!(newest.date, "2026-05-31 00:00 UTC");
        assert_eq!(newest.date_source, "from the config");
        assert_eq!(
            newest.attachments,
            [format!("signature {}", digest("sig").short())]
        );
        assert_eq!(newest.digest_short, digest("new").short());
        assert_eq!(rows[1].platforms, "linux/amd64, linux/arm64");
        assert_eq!(rows[1].date_source, "from the newest child");
        let sig = &rows[3];
        assert!(sig.attached_to_other);
        assert_eq!(sig.kind, format!("signature of {}", digest("new").short()));
        assert_eq!(
            (sig.age.as_str(), sig.date_source.as_str()),
            ("unknown", "no build date in the image")
        );
    }

    fn row(name: &str, tags: usize, size: u64) -> RepoRow {
        RepoRow {
            name: name.into(),
            tags,
            images: tags,
            untagged: size as usize % 7,
            size,
            size_text: String::new(),
        }
    }

    #[test]
    fn filter_and_sort_both_ways() {
        let rows = vec![
            row("team/api", 3, 10),
            row("web", 9, 5),
            row("Team/db", 3, 99),
        ];
        let names = |rows: Vec<RepoRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
        assert_eq!(
            names(filter_sort(&rows, " TEAM ", Sort::default())),
            ["Team/db", "team/api"]
        );
        assert_eq!(
            names(filter_sort(&rows, "", Sort::new(SortKey::Tags, true))),
            ["web", "Team/db", "team/api"],
            "ties by name"
        );
        assert_eq!(
            names(filter_sort(&rows, "", Sort::from_key("size-asc"))),
            ["web", "team/api", "Team/db"]
        );
        assert_eq!(
            names(filter_sort(&rows, "", Sort::from_key("name-desc")))[0],
            "web"
        );
        // Untagged: 10 % 7 = 3, 5 % 7 = 5, 99 % 7 = 1.
        assert_eq!(
            names(filter_sort(&rows, "", Sort::from_key("untagged-desc"))),
            ["web", "team/api", "Team/db"]
        );
        assert_eq!(Sort::from_key("bogus"), Sort::default());
        for sort in Sort::ALL {
            assert_eq!(Sort::from_key(&sort.key()), sort);
        }
    }

    #[test]
    fn pages_are_clamped() {
        let all: Vec<usize> = (0..120).collect();
        let second = page(&all, 1, 50);
        assert_eq!(
            (second.items[0], second.items.len(), second.count),
            (50, 50, 3)
        );
        assert_eq!(second.label, "Showing 51–100 of 120");
        let past = page(&all, 9, 50);
        assert_eq!((past.index, past.items.len()), (2, 20));
        let none = page::<usize>(&[], 3, 50);
        assert_eq!(
            (none.index, none.count, none.label.as_str()),
            (0, 1, "Nothing to show")
        );
    }
}
