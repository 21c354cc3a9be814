//! The planner's tests: decisions, order, reasons, reclaimable bytes, and
//! plans made in steps or on threads against the plan made at once.

use super::*;
use crate::inventory::Image;
use crate::inventory::Repository;
use std::collections::BTreeMap;
use time::macros::datetime;

fn digest(n: u8) -> Digest {
    Digest::sha256_of(&[n])
}

fn image(created: Option<OffsetDateTime>) -> Image {
    Image::simple(MediaType::DockerManifest, created, 10)
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
        ..Inventory::default()
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
        "deleted: 3rd newest, only the newest 2 are kept"
    );
    assert_eq!(plan.totals().deleted_images, 3);
}

#[test]
fn denied_repositories_keep_their_deletes_blocked_and_counted_apart() {
    // The same layer in both repositories: deletes in `a` free it only
    // if `b`'s copy goes too, and `b` may not delete.
    let mut repo = repository(4);
    for image in repo.images.values_mut() {
        image.manifest_size = 100;
    }
    let inv = inventory(vec![("a", repo.clone()), ("b", repo)]);
    let policy = Policy::keep_newest(1);
    let open = plan(&inv, &policy, NOW);
    let mut permissions = DeletePermissions::none_denied();
    permissions.deny("b".parse().unwrap());
    let made = plan_with(&inv, &policy, NOW, &permissions);
    // The same decisions; only `b`'s changes are marked.
    assert_eq!(
        made.entries
            .iter()
            .map(|e| (&e.digest, &e.decision))
            .collect::<Vec<_>>(),
        open.entries
            .iter()
            .map(|e| (&e.digest, &e.decision))
            .collect::<Vec<_>>()
    );
    for entry in &made.entries {
        let expected =
            (entry.repository.as_str() == "b" && entry.decision.is_change()).then(|| {
                Blocked::NoDeletePermission {
                    repository: "b".parse().unwrap(),
                }
            });
        assert_eq!(entry.blocked, expected, "{entry:?}");
    }
    let blocked = made.blocked().next().unwrap().blocked.clone().unwrap();
    assert_eq!(
        blocked.to_string(),
        "cannot delete: no delete permission in b"
    );
    assert!(made.deletes().all(|e| e.repository.as_str() == "a"));
    let (open_totals, totals) = (open.totals(), made.totals());
    assert_eq!(totals.deleted_manifests, 3);
    assert_eq!(totals.blocked, 3);
    assert_eq!(totals.changes(), 3);
    assert_eq!(open_totals.changes(), 6);
    // Both repositories' images are the same digests: nothing `b` keeps
    // can be freed, so nothing at all is.
    assert_eq!(open.reclaimable.bytes, 300);
    assert_eq!(made.reclaimable.bytes, 0);
    // The browser's builder agrees.
    let (built, _) = PlanBuilder::new(&inv, &policy, NOW)
        .with_permissions(&permissions)
        .finish();
    assert_eq!(built, made);
    // A saved plan keeps the marks.
    let json = serde_json::to_string(&made).unwrap();
    assert!(json.contains(r#""blocked":{"reason":"no_delete_permission","repository":"b"}"#));
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), made);
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
    repo.tags.insert("undated".parse().unwrap(), digest(10));
    repo.tags.insert("schema1".parse().unwrap(), digest(11));
    repo.images.insert(
        digest(11),
        Image::simple(MediaType::DockerSchema1Signed, Some(NOW), 0),
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
        repo.tags
            .insert(format!("t{i}").parse().unwrap(), digest(i));
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

fn at(day: i64) -> Option<OffsetDateTime> {
    Some(datetime!(2026-01-01 0:00 UTC) + time::Duration::days(day))
}

fn index(children: &[&Digest]) -> Image {
    let mut index = Image::simple(MediaType::OciIndex, None, 0);
    index.children = children
        .iter()
        .map(|digest| crate::inventory::Child {
            digest: (*digest).clone(),
            platform: None,
        })
        .collect();
    index
}

fn decision_of<'p>(plan: &'p Plan, digest: &Digest) -> &'p Decision {
    &plan
        .entries
        .iter()
        .find(|e| e.digest == *digest)
        .unwrap_or_else(|| panic!("{digest} not in the plan"))
        .decision
}

#[test]
fn an_index_counts_once_and_its_children_follow_it_unless_a_kept_index_lists_them() {
    let (amd_old, arm_old, shared, arm_new) = (digest(1), digest(2), digest(3), digest(4));
    let (old, new) = (digest(10), digest(11));
    let mut repo = Repository::default();
    for (child, day) in [(&amd_old, 1), (&arm_old, 1), (&shared, 1), (&arm_new, 4)] {
        repo.images.insert(child.clone(), image(at(day)));
    }
    let mut old_index = index(&[&amd_old, &arm_old, &shared]);
    old_index.created = at(1);
    let mut new_index = index(&[&shared, &arm_new]);
    new_index.created = at(5);
    repo.images.insert(old.clone(), old_index);
    repo.images.insert(new.clone(), new_index);
    repo.tags.insert("v1".parse().unwrap(), old.clone());
    repo.tags.insert("v2".parse().unwrap(), new.clone());
    // A child that is also tagged, and older than the newest 1.
    repo.tags
        .insert("arm-only".parse().unwrap(), arm_new.clone());
    let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(1), NOW);

    assert!(decision_of(&plan, &old).is_delete());
    assert_eq!(
        decision_of(&plan, &amd_old),
        &Decision::Delete {
            reason: DeleteReason::WithDeletedIndex { index: old.clone() }
        }
    );
    assert!(decision_of(&plan, &arm_old).is_delete());
    assert_eq!(
        decision_of(&plan, &shared),
        &Decision::Keep {
            reason: KeepReason::InKeptIndex { index: new.clone() }
        }
    );
    assert_eq!(
        decision_of(&plan, &arm_new),
        &Decision::Keep {
            reason: KeepReason::InKeptIndex { index: new.clone() }
        }
    );
    let totals = plan.totals();
    assert_eq!((totals.kept_images, totals.deleted_images), (2, 1));
    assert_eq!(totals.deleted_manifests, 3);
    // Each index is followed by its children.
    let order: Vec<&Digest> = plan.entries.iter().map(|e| &e.digest).collect();
    let position = |d: &Digest| order.iter().position(|o| *o == d).unwrap();
    assert!(position(&old) < position(&amd_old));
    assert!(position(&new) < position(&shared));
    assert!(matches!(
        plan.entries[position(&amd_old)].role,
        Role::Child { .. }
    ));
}

#[test]
fn attachments_follow_their_subject_and_orphans_go() {
    let sig_tag = |d: &Digest, suffix: &str| -> Tag {
        format!("sha256-{}{suffix}", d.hex()).parse().unwrap()
    };
    let mut repo = repository(3); // v1 (oldest) .. v3
    let (old, newest) = (digest(1), digest(3));
    let gone = Digest::sha256_of(b"gone");
    let untracked = Digest::sha256_of(b"untagged but present");
    let attachments = [
        (digest(20), sig_tag(&old, ".sig")),
        (digest(21), sig_tag(&newest, ".sig")),
        (digest(22), sig_tag(&newest, ".att")),
        (digest(23), sig_tag(&gone, ".sig")),
        (digest(24), sig_tag(&untracked, ".sbom")),
    ];
    for (attachment, tag) in &attachments {
        repo.images.insert(attachment.clone(), image(at(100)));
        repo.tags.insert(tag.clone(), attachment.clone());
    }
    // An OCI referrer with a subject, untagged, listed by the fallback index.
    let mut referrer = image(at(100));
    referrer.subject = Some(old.clone());
    repo.images.insert(digest(25), referrer);
    repo.images.insert(digest(26), index(&[&digest(25)]));
    repo.tags.insert(sig_tag(&old, ""), digest(26));
    repo.subjects.insert(gone.clone(), false);
    repo.subjects.insert(untracked.clone(), true);

    let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(2), NOW);
    let with_deleted = Decision::Delete {
        reason: DeleteReason::WithDeletedSubject {
            subject: old.clone(),
        },
    };
    assert_eq!(decision_of(&plan, &digest(20)), &with_deleted);
    assert_eq!(decision_of(&plan, &digest(25)), &with_deleted);
    assert_eq!(decision_of(&plan, &digest(26)), &with_deleted);
    assert!(!decision_of(&plan, &digest(21)).is_delete());
    assert!(!decision_of(&plan, &digest(22)).is_delete());
    assert_eq!(
        decision_of(&plan, &digest(23)),
        &Decision::Delete {
            reason: DeleteReason::Orphan { subject: gone }
        }
    );
    assert_eq!(
        decision_of(&plan, &digest(24)),
        &Decision::Keep {
            reason: KeepReason::SubjectUntracked { subject: untracked }
        }
    );
    // Attachments do not take places among the newest 2.
    assert!(!decision_of(&plan, &digest(2)).is_delete());
    let totals = plan.totals();
    assert_eq!((totals.kept_images, totals.deleted_images), (2, 1));
    assert_eq!(totals.deleted_manifests, 5);
    // The subject comes before what is attached to it.
    let order: Vec<&Digest> = plan.entries.iter().map(|e| &e.digest).collect();
    let position = |d: &Digest| order.iter().position(|o| *o == d).unwrap();
    assert!(position(&old) < position(&digest(20)));
    assert!(position(&digest(26)) < position(&digest(25)));
}

#[test]
fn reclaimable_bytes_count_only_blobs_nothing_remaining_references() {
    let (shared, only_old, only_new) = (digest(50), digest(51), digest(52));
    let mut blobs = BTreeMap::new();
    blobs.insert(shared.clone(), 1000);
    blobs.insert(only_old.clone(), 300);
    blobs.insert(only_new.clone(), 7);
    let with_blobs = |created, list: &[&Digest]| {
        let mut image = image(created);
        image.manifest_size = 20;
        image.blobs = list.iter().map(|d| (*d).clone()).collect();
        image
    };
    let mut a = Repository::default();
    a.images
        .insert(digest(1), with_blobs(at(1), &[&shared, &only_old]));
    a.images.insert(digest(2), with_blobs(at(2), &[&only_new]));
    a.tags.insert("old".parse().unwrap(), digest(1));
    a.tags.insert("new".parse().unwrap(), digest(2));
    let mut b = Repository::default();
    b.images.insert(digest(3), with_blobs(at(1), &[&shared]));
    b.tags.insert("only".parse().unwrap(), digest(3));
    let mut inv = inventory(vec![("a", a), ("b", b)]);
    inv.blobs = blobs;
    inv.whole_registry = true;
    let plan = plan(&inv, &Policy::keep_newest(1), NOW);
    assert_eq!(plan.deletes().count(), 1);
    // The old manifest (20 bytes) and its own layer; the shared one stays.
    assert_eq!(
        plan.reclaimable,
        Reclaimable {
            bytes: 320,
            blobs: 2,
            whole_registry: true
        }
    );
    assert_eq!(plan.totals().reclaimable_bytes, 320);
}

#[test]
fn a_tagged_child_of_a_deleted_index_comes_after_it() {
    let child = digest(1);
    let index_digest = digest(2);
    let mut repo = Repository::default();
    repo.images.insert(child.clone(), image(at(3)));
    let mut listing = index(&[&child]);
    listing.created = at(1);
    repo.images.insert(index_digest.clone(), listing);
    repo.images.insert(digest(3), image(at(10)));
    repo.tags.insert("child".parse().unwrap(), child.clone());
    repo.tags
        .insert("index".parse().unwrap(), index_digest.clone());
    repo.tags.insert("new".parse().unwrap(), digest(3));
    let plan = plan(&inventory(vec![("a", repo)]), &Policy::keep_newest(1), NOW);
    let deletes: Vec<&Digest> = plan.deletes().map(|e| &e.digest).collect();
    assert_eq!(deletes, [&index_digest, &child]);
}

fn reasons(plan: &Plan) -> Vec<(String, String)> {
    plan.entries
        .iter()
        .map(|e| {
            let tags: Vec<String> = e.tags.iter().map(Tag::to_string).collect();
            (tags.join(","), e.decision.to_string())
        })
        .collect()
}

fn policy(toml: &str) -> Policy {
    Policy::from_toml(toml).unwrap()
}

#[test]
fn keep_clauses_add_up_and_each_decision_says_which_held() {
    // v1..v6, created Jan 2..Jan 7; now is Jan 10.
    let mut repo = repository(6);
    repo.tags.insert("latest".parse().unwrap(), digest(1));
    let now = datetime!(2026-01-10 0:00 UTC);
    let plan = plan(
        &inventory(vec![("a", repo)]),
        &policy("[default]\nkeep_newest = 2\nkeep_younger_than_days = 5\nkeep_tags = ['latest']\n"),
        now,
    );
    assert_eq!(
        reasons(&plan),
        [
            ("v6", "kept: newest 2, this is #1"),
            ("v5", "kept: newest 2, this is #2"),
            ("v4", "kept: younger than 5 days"),
            (
                "v3",
                "deleted: 4th newest, only the newest 2 are kept, older than 5 days"
            ),
            (
                "v2",
                "deleted: 5th newest, only the newest 2 are kept, older than 5 days"
            ),
            ("latest,v1", "kept: tag latest matches latest"),
        ]
        .map(|(t, r)| (t.to_string(), r.to_string()))
    );
}

#[test]
fn an_age_limit_alone_deletes_what_is_older() {
    let now = datetime!(2026-01-10 0:00 UTC);
    let plan = plan(
        &inventory(vec![("a", repository(4))]),
        &policy("[default]\nkeep_newer_than = \"2026-01-04\"\n"),
        now,
    );
    assert_eq!(
        reasons(&plan),
        [
            ("v4", "kept: created since 2026-01-04"),
            ("v3", "kept: created since 2026-01-04"),
            ("v2", "deleted: 3rd newest, created before 2026-01-04"),
            ("v1", "deleted: 4th newest, created before 2026-01-04"),
        ]
        .map(|(t, r)| (t.to_string(), r.to_string()))
    );
}

#[test]
fn only_tags_limits_what_is_considered_and_ranked() {
    let mut repo = Repository::default();
    for (i, tag) in [(1u8, "ci-1"), (2, "release"), (3, "ci-3"), (4, "ci-4")] {
        let created = datetime!(2026-01-01 0:00 UTC) + time::Duration::days(i.into());
        repo.images.insert(digest(i), image(Some(created)));
        repo.tags.insert(tag.parse().unwrap(), digest(i));
    }
    // ci-3 also carries "stable": deleting it would take stable along.
    repo.tags.insert("stable".parse().unwrap(), digest(3));
    let plan = plan(
        &inventory(vec![("a", repo)]),
        &policy("[default]\nkeep_newest = 1\nonly_tags = 'ci-.*'\n"),
        NOW,
    );
    assert_eq!(
        reasons(&plan),
        [
            ("ci-4", "kept: newest 1, this is #1"),
            (
                "ci-3,stable",
                "kept: shares its digest with kept tag stable"
            ),
            (
                "release",
                "kept: tag release is outside ci-.*, which the rule cleans"
            ),
            ("ci-1", "deleted: 2nd newest, only the newest 1 is kept"),
        ]
        .map(|(t, r)| (t.to_string(), r.to_string()))
    );
}

#[test]
fn shared_digests_unknown_ages_and_rules_without_limits() {
    let mut repo = repository(3);
    repo.tags.insert("also".parse().unwrap(), digest(1));
    repo.images.insert(digest(9), image(None));
    repo.tags.insert("undated".parse().unwrap(), digest(9));
    let inv = inventory(vec![("a", repo.clone()), ("b", repo)]);
    let plan = plan(
        &inv,
        &policy(
            "[repositories.a]\nkeep_newest = 0\nskip_shared_digests = true\ndelete_unknown_age = true\n",
        ),
        NOW,
    );
    let in_a: Vec<_> = reasons(&plan).into_iter().take(4).collect();
    assert_eq!(
        in_a,
        [
            ("v3", "deleted: 1st newest, only the newest 0 are kept"),
            ("v2", "deleted: 2nd newest, only the newest 0 are kept"),
            (
                "also,v1",
                "kept: 2 tags share this digest, and shared digests are skipped"
            ),
            (
                "undated",
                "deleted: build date unknown, and its rule deletes such images"
            ),
        ]
        .map(|(t, r)| (t.to_string(), r.to_string()))
    );
    assert!(
        plan.entries[..4]
            .iter()
            .all(|e| e.rule.as_ref().map(|p| p.as_str()) == Some("a"))
    );
    // b falls to the empty default rule: nothing goes.
    assert!(plan.entries[4..].iter().all(|e| e.rule.is_none()
        && e.decision.to_string() == "kept: its rule sets no count or age limit"));
}

fn untagged(found: &[crate::inventory::Found]) -> Untagged {
    Untagged {
        found: found.to_vec(),
        ..Untagged::default()
    }
}

#[test]
fn untagged_manifests_follow_delete_untagged_and_take_their_kin_along() {
    use crate::inventory::Found;
    // main moved from 1 to 3 and from 3 to 5; 1 is an index with a
    // child 2, 4 is a signature of 3 (tagged with its cosign tag), 6 a
    // referrer of 1 (untagged itself), 7 a child that kept index 5 lists
    // and that untagged index 8 lists too; 9 was pushed a minute ago.
    let mut repo = Repository::default();
    let mut old_index = index(&[&digest(2)]);
    old_index.created = at(1);
    repo.images.insert(digest(1), old_index);
    repo.images.insert(digest(2), image(at(1)));
    repo.images.insert(digest(3), image(at(3)));
    let mut signature = image(at(3));
    signature.kind = ImageKind::Artifact;
    repo.images.insert(digest(4), signature);
    let mut current = index(&[&digest(7)]);
    current.created = at(5);
    repo.images.insert(digest(5), current);
    let mut referrer = image(at(1));
    referrer.subject = Some(digest(1));
    repo.images.insert(digest(6), referrer);
    repo.images.insert(digest(7), image(at(5)));
    repo.images.insert(digest(8), index(&[&digest(7)]));
    repo.images.insert(digest(9), image(at(9)));
    repo.tags.insert("main".parse().unwrap(), digest(5));
    repo.tags.insert(
        format!("sha256-{}.sig", digest(3).hex()).parse().unwrap(),
        digest(4),
    );
    for n in [1, 2, 3, 6, 8] {
        repo.untagged.insert(digest(n), untagged(&[Found::History]));
    }
    let mut recent = untagged(&[Found::Storage]);
    recent.pushed = Some(NOW - time::Duration::minutes(1));
    repo.untagged.insert(digest(9), recent);
    let inv = inventory(vec![("a", repo)]);

    let kept = plan(&inv, &policy("[default]\nkeep_newest = 1\n"), NOW);
    assert_eq!(kept.deletes().count(), 0, "delete_untagged is off");
    assert_eq!(
        decision_of(&kept, &digest(3)).to_string(),
        "kept: no tag points at it, and its rule does not delete untagged manifests"
    );
    let totals = kept.totals();
    assert_eq!((totals.kept_images, totals.kept_untagged), (1, 4));

    let made = plan(
        &inv,
        &policy("[default]\nkeep_newest = 1\ndelete_untagged = true\n"),
        NOW,
    );
    let untagged = Decision::Delete {
        reason: DeleteReason::Untagged,
    };
    assert_eq!(decision_of(&made, &digest(1)), &untagged);
    assert_eq!(decision_of(&made, &digest(3)), &untagged);
    assert_eq!(decision_of(&made, &digest(8)), &untagged);
    assert_eq!(
        decision_of(&made, &digest(2)),
        &Decision::Delete {
            reason: DeleteReason::WithDeletedIndex { index: digest(1) }
        }
    );
    assert_eq!(
        decision_of(&made, &digest(4)),
        &Decision::Delete {
            reason: DeleteReason::WithDeletedSubject { subject: digest(3) }
        }
    );
    assert_eq!(
        decision_of(&made, &digest(6)),
        &Decision::Delete {
            reason: DeleteReason::WithDeletedSubject { subject: digest(1) }
        }
    );
    assert_eq!(
        decision_of(&made, &digest(7)),
        &Decision::Keep {
            reason: KeepReason::InKeptIndex { index: digest(5) }
        },
        "the current image's child stays though an untagged index lists it"
    );
    assert!(matches!(
        decision_of(&made, &digest(9)),
        Decision::Keep {
            reason: KeepReason::PushedRecently { .. }
        }
    ));
    let role_of = |n: u8| {
        made.entries
            .iter()
            .find(|e| e.digest == digest(n))
            .map(|e| e.role.clone())
            .unwrap()
    };
    assert!(matches!(role_of(3), Role::Untagged(found) if found.found == [Found::History]));
    assert!(matches!(role_of(2), Role::Child { .. }));
    let totals = made.totals();
    assert_eq!((totals.deleted_untagged, totals.kept_untagged), (3, 1));
    assert_eq!(totals.deleted_manifests, 6);
    // Untagged manifests come after the images, newest first; what
    // belongs to them after them.
    let order: Vec<Digest> = made.entries.iter().map(|e| e.digest.clone()).collect();
    let position = |n: u8| order.iter().position(|d| *d == digest(n)).unwrap();
    assert!(position(5) < position(9) && position(9) < position(3));
    assert!(position(3) < position(4) && position(1) < position(2));
    assert!(position(1) < position(6));
}

#[test]
fn remove_tags_takes_tags_off_kept_images_but_never_the_last() {
    let mut repo = Repository::default();
    for (n, tags) in [
        (1u8, &["pr-1", "sha-aaa"][..]),
        (2, &["v1.0.0", "sha-bbb", "pr-2"][..]),
        (3, &["v2.0.0", "sha-ccc", "stable"][..]),
        (4, &["pr-4"][..]),
    ] {
        repo.images.insert(digest(n), image(at(i64::from(n))));
        for tag in tags {
            repo.tags.insert(tag.parse().unwrap(), digest(n));
        }
    }
    let made = plan(
        &inventory(vec![("a", repo)]),
        &policy(
            "[default]\nkeep_newest = 2\nkeep_tags = ['v.*', 'sha-ccc']\nremove_tags = 'sha-.*|pr-.*'\n",
        ),
        NOW,
    );
    assert_eq!(
        reasons(&made),
        [
            ("pr-4", "kept: newest 2, this is #1"),
            (
                "pr-4",
                "kept: matches remove_tags sha-.*|pr-.*, but it is the image's last tag: \
                 removing it would leave the image untagged"
            ),
            ("sha-ccc,stable,v2.0.0", "kept: newest 2, this is #2"),
            (
                "sha-ccc",
                "kept: matches remove_tags, but also keep_tags sha-ccc"
            ),
            ("pr-2,sha-bbb,v1.0.0", "kept: tag v1.0.0 matches v.*"),
            ("pr-2", "tag removed: matches remove_tags sha-.*|pr-.*"),
            ("sha-bbb", "tag removed: matches remove_tags sha-.*|pr-.*"),
            (
                "pr-1,sha-aaa",
                "deleted: 4th newest, only the newest 2 are kept"
            ),
        ]
        .map(|(t, r)| (t.to_string(), r.to_string()))
    );
    let tag_entry = &made.entries[5];
    assert_eq!(
        tag_entry.role,
        Role::Tag {
            remaining: vec!["v1.0.0".parse().unwrap()]
        }
    );
    assert_eq!(made.totals().removed_tags, 2);
    assert_eq!(made.totals().kept_images, 3);
    assert_eq!(made.untags().count(), 2);
    assert_eq!(made.changes().count(), 3);
}

#[test]
fn an_image_is_judged_by_the_tags_it_keeps() {
    // ci-1 also carries pr-1, which only_tags does not match: without
    // remove_tags it is kept for it; with pr-1 removed it is a CI image
    // like the others and the count deletes it in the same plan.
    let mut repo = Repository::default();
    for (n, tags) in [(1u8, &["ci-1", "pr-1"][..]), (2, &["ci-2"][..])] {
        repo.images.insert(digest(n), image(at(i64::from(n))));
        for tag in tags {
            repo.tags.insert(tag.parse().unwrap(), digest(n));
        }
    }
    let inv = inventory(vec![("a", repo)]);
    let rule = "[default]\nkeep_newest = 1\nonly_tags = 'ci-.*'\n";
    let without = plan(&inv, &policy(rule), NOW);
    assert!(!decision_of(&without, &digest(1)).is_delete());
    let with = plan(
        &inv,
        &policy(&format!("{rule}remove_tags = 'pr-.*'\n")),
        NOW,
    );
    assert!(decision_of(&with, &digest(1)).is_delete());
    assert_eq!(
        with.untags().count(),
        0,
        "a deleted image loses its tags anyway"
    );
}

/// Repositories of every size, a digest and layers shared across them,
/// and rules that delete in some and not in others.
fn mixed_inventory() -> (Inventory, Policy) {
    let mut repos = Vec::new();
    let names: Vec<String> = (0..23).map(|i| format!("r{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let mut repo = repository((i % 7 + 1) as u8);
        repo.tags.insert("shared".parse().unwrap(), digest(1));
        for (at, image) in repo.images.values_mut().enumerate() {
            image.blobs.push(digest(200 + (at % 3) as u8));
            image.blobs.push(digest(100 + i as u8));
        }
        repos.push((name.as_str(), repo));
    }
    let mut inv = inventory(repos);
    for n in (100..123).chain(200..203) {
        inv.blobs.insert(digest(n), 1_000 + u64::from(n));
    }
    let policy = policy("[default]\nkeep_newest = 2\n[repositories.\"r1*\"]\nkeep_newest = 0\n");
    (inv, policy)
}

#[test]
fn a_plan_made_in_steps_equals_the_plan_made_at_once() {
    let (inv, policy) = mixed_inventory();
    let whole = plan(&inv, &policy, NOW);
    assert!(whole.deletes().count() > 20);
    assert!(whole.reclaimable.bytes > 0);
    for step in [1, 2, 5, 22, 23, 1_000] {
        let mut builder = PlanBuilder::new(&inv, &policy, NOW);
        assert_eq!(builder.repository_count(), 23);
        let mut steps = 0;
        assert_eq!(builder.settle(5), 0, "nothing to settle before the end");
        while builder.plan_repositories(step) > 0 {
            steps += 1;
            assert!(builder.planned() <= 23);
        }
        assert!(builder.is_done());
        assert_eq!(steps, 23_usize.div_ceil(step));
        // Part of the settling done in steps (the rest by finish).
        let mut settled = 0;
        for _ in 0..step.min(30) {
            settled += builder.settle(step);
        }
        assert!(settled > 0);
        let (stepped, by_repository) = builder.finish();
        assert_eq!(stepped, whole, "steps of {step}");
        assert_eq!(by_repository.len(), 23);
        assert_eq!(
            by_repository.iter().map(|r| r.bytes).sum::<u64>(),
            whole.reclaimable.bytes
        );
        assert_eq!(
            by_repository.iter().map(|r| r.blobs).sum::<usize>(),
            whole.reclaimable.blobs
        );
    }
    // Finishing plans what is left.
    let mut builder = PlanBuilder::new(&inv, &policy, NOW);
    builder.plan_repositories(3);
    assert_eq!(builder.finish().0, whole);
}

#[test]
fn freed_bytes_are_counted_in_the_first_repository_that_frees_them() {
    // Two repositories delete everything; they share layer 9, which
    // only the first counts; a third keeps layer 8, so nobody frees it.
    let mut inv = Inventory::default();
    for (name, layers) in [("a", [7, 9]), ("b", [9, 8]), ("c", [8, 8])] {
        let mut repo = Repository::default();
        let mut image = image(Some(datetime!(2026-01-02 0:00 UTC)));
        image.manifest_size = 10;
        image.blobs = layers.iter().map(|&n| digest(n)).collect();
        let own = Digest::sha256_of(name.as_bytes());
        repo.images.insert(own.clone(), image);
        repo.tags.insert("v1".parse().unwrap(), own);
        inv.repositories.insert(name.parse().unwrap(), repo);
    }
    for n in [7, 8, 9] {
        inv.blobs.insert(digest(n), u64::from(n) * 100);
    }
    let policy = policy("[default]\nkeep_newest = 0\n[repositories.c]\nkeep_newest = 1\n");
    let (made, by_repository) = PlanBuilder::new(&inv, &policy, NOW).finish();
    let figures: Vec<(String, u64, usize)> = by_repository
        .iter()
        .map(|r| (r.repository.to_string(), r.bytes, r.blobs))
        .collect();
    assert_eq!(
        figures,
        [
            ("a".to_owned(), 10 + 700 + 900, 3),
            ("b".to_owned(), 10, 1),
            ("c".to_owned(), 0, 0)
        ]
    );
    assert_eq!(made.reclaimable.bytes, 1_620);
    assert_eq!(made, plan(&inv, &policy, NOW));
}

#[test]
fn threads_change_nothing_in_the_plan() {
    let mut repos = Vec::new();
    let names: Vec<String> = (0..23).map(|i| format!("r{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let mut repo = repository((i % 7 + 1) as u8);
        // A digest every repository shares, for the reclaimable bytes.
        repo.tags.insert("shared".parse().unwrap(), digest(1));
        repos.push((name.as_str(), repo));
    }
    let inv = inventory(repos);
    let policy = policy("[default]\nkeep_newest = 2\n[repositories.\"r1*\"]\nkeep_newest = 0\n");
    let one = plan_on_threads(&inv, &policy, NOW, &DeletePermissions::none_denied(), 1);
    let (mixed, mixed_policy) = mixed_inventory();
    let mixed_one = plan_on_threads(
        &mixed,
        &mixed_policy,
        NOW,
        &DeletePermissions::none_denied(),
        1,
    );
    for workers in [2, 3, 5, 40] {
        assert_eq!(
            plan_on_threads(
                &mixed,
                &mixed_policy,
                NOW,
                &DeletePermissions::none_denied(),
                workers
            ),
            mixed_one,
            "{workers} threads, shared layers"
        );
    }
    assert!(one.deletes().count() > 20);
    for workers in [2, 3, 5, 40] {
        assert_eq!(
            plan_on_threads(
                &inv,
                &policy,
                NOW,
                &DeletePermissions::none_denied(),
                workers
            ),
            one,
            "{workers} threads"
        );
    }
}
