//! The planner: inventory + policy + now -> a decision for every image.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::inventory::{Image, Inventory};
use crate::media_type::{ManifestKind, MediaType};
use crate::name::{RepositoryName, Tag};
use crate::policy::Policy;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The moment the plan was made; ages in reasons are relative to it.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    pub policy: Policy,
    /// Per repository in name order; within one, newest first, undated last.
    pub entries: Vec<PlanEntry>,
}

/// One image of one repository and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub repository: RepositoryName,
    pub digest: Digest,
    /// Every tag of the repository that points at this digest: deleting the
    /// digest removes all of them.
    pub tags: Vec<Tag>,
    pub media_type: MediaType,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created: Option<OffsetDateTime>,
    pub size: u64,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Keep { reason: KeepReason },
    Delete { reason: DeleteReason },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum KeepReason {
    /// Among the newest `keep` images; `rank` 1 is the newest.
    Newest { rank: usize, keep: usize },
    /// No usable build date: a count rule never deletes it.
    UnknownAge,
    /// A manifest kind this version does not interpret (schema1, unknown).
    NotInterpreted { media_type: MediaType },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum DeleteReason {
    /// Older than the newest `keep` images; `rank` 1 is the newest.
    BeyondNewest { rank: usize, keep: usize },
}

impl Decision {
    pub fn is_delete(&self) -> bool {
        matches!(self, Decision::Delete { .. })
    }

    /// Why, without the `kept:`/`deleted:` prefix.
    pub fn reason(&self) -> String {
        match self {
            Decision::Keep { reason } => reason.to_string(),
            Decision::Delete { reason } => reason.to_string(),
        }
    }

    /// `keep` or `delete`, as the dashboard and exports name it.
    pub fn label(&self) -> &'static str {
        match self {
            Decision::Keep { .. } => "keep",
            Decision::Delete { .. } => "delete",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Keep { reason } => write!(f, "kept: {reason}"),
            Decision::Delete { reason } => write!(f, "deleted: {reason}"),
        }
    }
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::Newest { rank, keep } => write!(f, "newest {keep}, this is #{rank}"),
            KeepReason::UnknownAge => {
                f.write_str("build date unknown, so a count rule never deletes it")
            }
            KeepReason::NotInterpreted { media_type } => {
                write!(f, "{media_type} is not read by this version")
            }
        }
    }
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteReason::BeyondNewest { rank, keep } => {
                write!(f, "#{rank} newest, only the newest {keep} are kept")
            }
        }
    }
}

/// Counts over a plan, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTotals {
    pub kept_images: usize,
    pub deleted_images: usize,
    pub deleted_tags: usize,
    /// Config and layer bytes of the deleted images; garbage collection frees
    /// at most this much (blobs shared with kept images stay).
    pub deleted_bytes: u64,
}

impl Plan {
    pub fn deletes(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| e.decision.is_delete())
    }

    pub fn totals(&self) -> PlanTotals {
        let mut totals = PlanTotals::default();
        for entry in &self.entries {
            if entry.decision.is_delete() {
                totals.deleted_images += 1;
                totals.deleted_tags += entry.tags.len();
                totals.deleted_bytes += entry.size;
            } else {
                totals.kept_images += 1;
            }
        }
        totals
    }
}

/// Decides every image of `inventory`. Pure: same inputs, same plan.
pub fn plan(inventory: &Inventory, policy: &Policy, now: OffsetDateTime) -> Plan {
    let mut entries = Vec::new();
    for (name, repository) in &inventory.repositories {
        let entry = |digest: &Digest, image: &Image, decision| PlanEntry {
            repository: name.clone(),
            digest: digest.clone(),
            tags: repository.tags_of(digest),
            media_type: image.media_type.clone(),
            created: image.created,
            size: image.size,
            decision,
        };

        let mut dated: Vec<(&Digest, &Image, OffsetDateTime)> = Vec::new();
        let mut undated = Vec::new();
        for (digest, image) in &repository.images {
            let interpreted = matches!(
                image.media_type.manifest_kind(),
                ManifestKind::Image | ManifestKind::Index
            );
            match image.created {
                Some(created) if interpreted => dated.push((digest, image, created)),
                _ => undated.push((digest, image)),
            }
        }
        // Newest first; equal dates fall back to digest order so plans are stable.
        dated.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(b.0)));

        let keep = policy.keep_newest;
        for (index, (digest, image, _)) in dated.into_iter().enumerate() {
            let rank = index + 1;
            let decision = if rank <= keep {
                Decision::Keep {
                    reason: KeepReason::Newest { rank, keep },
                }
            } else {
                Decision::Delete {
                    reason: DeleteReason::BeyondNewest { rank, keep },
                }
            };
            entries.push(entry(digest, image, decision));
        }
        for (digest, image) in undated {
            let reason = match image.media_type.manifest_kind() {
                ManifestKind::Image | ManifestKind::Index => KeepReason::UnknownAge,
                _ => KeepReason::NotInterpreted {
                    media_type: image.media_type.clone(),
                },
            };
            entries.push(entry(digest, image, Decision::Keep { reason }));
        }
    }
    Plan {
        now,
        policy: *policy,
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Repository;
    use time::macros::datetime;

    fn digest(n: u8) -> Digest {
        Digest::sha256_of(&[n])
    }

    fn image(created: Option<OffsetDateTime>) -> Image {
        Image {
            media_type: MediaType::DockerManifest,
            created,
            size: 10,
        }
    }

    /// One repository with images 1..=n, image i created i days after the base.
    fn repository(count: u8) -> Repository {
        let mut repository = Repository::default();
        for i in 1..=count {
            let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(i.into());
            repository.images.insert(digest(i), image(Some(created)));
            repository
                .tags
                .insert(format!("v{i}").parse().unwrap(), digest(i));
        }
        repository
    }

    fn inventory(repos: Vec<(&str, Repository)>) -> Inventory {
        Inventory {
            repositories: repos
                .into_iter()
                .map(|(name, repo)| (name.parse().unwrap(), repo))
                .collect(),
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-06-01 0:00 UTC);

    fn decisions(plan: &Plan) -> Vec<(String, &'static str)> {
        plan.entries
            .iter()
            .map(|e| {
                (
                    e.tags
                        .iter()
                        .map(Tag::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    e.decision.label(),
                )
            })
            .collect()
    }

    #[test]
    fn keeps_the_newest_n_and_deletes_the_rest_newest_first() {
        let plan = plan(
            &inventory(vec![("team/app", repository(5))]),
            &Policy::keep_newest(2),
            NOW,
        );
        assert_eq!(
            decisions(&plan),
            [
                ("v5", "keep"),
                ("v4", "keep"),
                ("v3", "delete"),
                ("v2", "delete"),
                ("v1", "delete")
            ]
            .map(|(t, d)| (t.to_string(), d))
        );
        assert_eq!(
            plan.entries[1].decision.to_string(),
            "kept: newest 2, this is #2"
        );
        assert_eq!(
            plan.entries[2].decision.to_string(),
            "deleted: #3 newest, only the newest 2 are kept"
        );
        assert_eq!(plan.totals().deleted_images, 3);
    }

    #[test]
    fn a_delete_lists_every_tag_of_its_digest() {
        let mut repo = repository(3);
        repo.tags.insert("old".parse().unwrap(), digest(1));
        let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(1), NOW);
        let last = plan.entries.last().unwrap();
        assert_eq!(last.digest, digest(1));
        assert_eq!(last.tags, ["old".parse().unwrap(), "v1".parse().unwrap()]);
        assert!(last.decision.is_delete());
        assert_eq!(plan.totals().deleted_tags, 3);
    }

    #[test]
    fn keep_zero_deletes_everything_dated_and_keep_more_than_all_deletes_nothing() {
        let inv = inventory(vec![("a", repository(3))]);
        assert_eq!(
            plan(&inv, &Policy::keep_newest(0), NOW).deletes().count(),
            3
        );
        assert_eq!(
            plan(&inv, &Policy::keep_newest(9), NOW).deletes().count(),
            0
        );
    }

    #[test]
    fn images_of_unknown_age_and_unread_kinds_are_kept() {
        let mut repo = repository(2);
        repo.images.insert(digest(10), image(None));
        repo.images.insert(
            digest(11),
            Image {
                media_type: MediaType::DockerSchema1Signed,
                created: Some(NOW),
                size: 0,
            },
        );
        let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(0), NOW);
        let kept: Vec<_> = plan
            .entries
            .iter()
            .filter(|e| !e.decision.is_delete())
            .collect();
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().any(|e| e.decision
            == Decision::Keep {
                reason: KeepReason::UnknownAge
            }));
    }

    #[test]
    fn equal_dates_are_ordered_by_digest_and_repositories_are_independent() {
        let mut repo = Repository::default();
        for i in 1..=4 {
            repo.images.insert(digest(i), image(Some(NOW)));
        }
        let inv = inventory(vec![("a", repo.clone()), ("b", repository(1))]);
        let first = plan(&inv, &Policy::keep_newest(1), NOW);
        assert_eq!(first, plan(&inv, &Policy::keep_newest(1), NOW));
        let mut sorted: Vec<_> = (1..=4).map(digest).collect();
        sorted.sort();
        assert_eq!(first.entries[0].digest, sorted[0]);
        assert_eq!(first.deletes().count(), 3);
        assert!(
            !first.entries[4].decision.is_delete(),
            "b's only image is kept"
        );
    }
}
