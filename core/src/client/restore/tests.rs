//! Tests of restore order, putting manifests back and restore outcomes.

use super::*;
use crate::protocol::RegistryUrl;
use crate::recovery::tests::{image_manifest, index_manifest, repo, tag};

#[test]
fn children_come_before_their_index_and_subjects_before_attachments() {
    let arm = image_manifest("arm");
    let amd = image_manifest("amd");
    let (arm_digest, amd_digest) = (Digest::sha256_of(&arm), Digest::sha256_of(&amd));
    let index = index_manifest(&[&amd_digest, &arm_digest]);
    let index_digest = Digest::sha256_of(&index);
    let signature = image_manifest("signature");
    let sig_tag = tag(&format!("sha256-{}.sig", index_digest.hex()));
    let other = image_manifest("other");
    let entry = |bytes: &[u8], tags: Vec<Tag>, media_type: MediaType| {
        RecoveryEntry::new(repo("team/app"), media_type, tags, bytes)
    };
    // Plan order: the index, its children, its signature, then another image.
    let entries = vec![
        entry(&index, vec![tag("2.0")], MediaType::OciIndex),
        entry(&amd, vec![], MediaType::OciManifest),
        entry(&arm, vec![], MediaType::OciManifest),
        entry(&signature, vec![sig_tag], MediaType::OciManifest),
        entry(&other, vec![tag("1.0")], MediaType::OciManifest),
    ];
    let found: Vec<Links> = entries.iter().map(links).collect();
    assert_eq!(found[3].subject.as_ref(), Some(&index_digest));
    assert_eq!(restore_order(&entries, &found), [1, 2, 0, 3, 4]);

    // The same manifests in another repository are not related to these.
    let mut elsewhere = entries.clone();
    elsewhere[1].repository = repo("team/other");
    let found: Vec<Links> = elsewhere.iter().map(links).collect();
    assert_eq!(restore_order(&elsewhere, &found), [2, 0, 1, 3, 4]);
}

#[test]
fn a_loop_of_references_still_restores_every_entry_once() {
    let a = image_manifest("a");
    let entries = vec![
        RecoveryEntry::new(repo("x"), MediaType::OciManifest, vec![], &a),
        RecoveryEntry::new(repo("x"), MediaType::OciManifest, vec![], &a),
    ];
    let links = vec![
        Links {
            children: vec![entries[1].digest.clone()],
            subject: None,
        },
        Links {
            children: vec![entries[0].digest.clone()],
            subject: None,
        },
    ];
    let mut order = restore_order(&entries, &links);
    order.sort();
    assert_eq!(order, [0, 1]);
}

#[test]
fn a_put_sends_the_exact_bytes_and_needs_201_with_the_same_digest() {
    let registry = RegistryUrl::parse("http://r:1").unwrap();
    let bytes = image_manifest("put");
    let digest = Digest::sha256_of(&bytes);
    let request = protocol::put_manifest(
        &registry,
        &repo("team/app"),
        &Reference::Tag(tag("1.0")),
        &MediaType::DockerManifest,
        bytes.clone(),
    )
    .unwrap();
    assert_eq!(request.method(), http::Method::PUT);
    assert_eq!(request.uri(), "http://r:1/v2/team/app/manifests/1.0");
    assert_eq!(
        request.headers()["content-type"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(request.body(), &bytes);
    assert!(
        crate::auth::scope_for(request.method(), request.uri().path())
            .is_some_and(|scope| scope == "repository:team/app:pull,push")
    );
    for unusable in [
        MediaType::Other(String::new()),
        MediaType::Other("a\nb".into()),
    ] {
        let refused = protocol::put_manifest(
            &registry,
            &repo("team/app"),
            &Reference::Digest(digest.clone()),
            &unusable,
            bytes.clone(),
        );
        assert!(refused.is_err(), "{unusable:?}");
    }

    let answer = |status: u16, header: Option<&str>, body: &str| {
        let mut builder = http::Response::builder().status(status);
        if let Some(value) = header {
            builder = builder.header("docker-content-digest", value);
        }
        builder.body(body.as_bytes().to_vec()).unwrap()
    };
    let text = digest.to_string();
    let put = |response| protocol::parse_put_manifest("PUT x", &digest, &response);
    assert!(put(answer(201, Some(&text), "")).is_ok());
    assert!(
        put(answer(201, None, "")).is_ok(),
        "a browser may not see it"
    );
    let other = Digest::sha256_of(b"other").to_string();
    let moved = put(answer(201, Some(&other), "")).unwrap_err().to_string();
    assert!(moved.contains(&format!("stored it as {other}")), "{moved}");
    assert!(put(answer(200, Some(&text), "")).is_err());
    assert!(put(answer(201, Some("sha256:nope"), "")).is_err());
    let gone = put(answer(
        400,
        None,
        r#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
    ))
    .unwrap_err();
    assert_eq!(gone.registry_code(), Some(&ErrorCode::ManifestBlobUnknown));
}

#[test]
fn every_outcome_prints_as_one_line() {
    let digest = Digest::sha256_of(b"a");
    let named = format!("team/app@sha256:{}…", digest.short());
    let line = |tags: &[&str], result| {
        RestoreOutcome {
            index: 0,
            repository: repo("team/app"),
            digest: digest.clone(),
            tags: tags.iter().map(|t| tag(t)).collect(),
            result,
        }
        .to_string()
    };
    let restored = RestoreResult::Restored {
        tags_repointed: vec![tag("1.0"), tag("latest")],
    };
    assert_eq!(
        line(&["1.0", "latest"], restored),
        format!("restored {named} tags 1.0, latest")
    );
    let untagged = RestoreResult::Restored {
        tags_repointed: vec![],
    };
    assert_eq!(line(&[], untagged), format!("restored {named} (untagged)"));
    let present = RestoreResult::AlreadyPresent {
        tags_repointed: vec![tag("1.0")],
    };
    assert_eq!(
        line(&["1.0"], present),
        format!("already present {named}, re-pointed tags 1.0")
    );
    let partial = RestoreResult::Partial {
        was_present: true,
        tags_repointed: vec![],
        tags_skipped: vec![SkippedTag {
            tag: tag("latest"),
            reason: "left alone: it points at sha256:0123… now".into(),
            points_to: None,
        }],
    };
    assert_eq!(
        line(&["latest"], partial),
        format!(
            "partly restored {named}: manifest was still there; tag latest left alone: it points at sha256:0123… now"
        )
    );
    let failed = RestoreResult::Failed {
        reason: "why".into(),
    };
    assert_eq!(line(&[], failed), format!("failed {named}: why"));
}

#[test]
fn reports_count_every_kind_of_outcome() {
    let outcome = |result| RestoreOutcome {
        index: 0,
        repository: repo("a"),
        digest: Digest::sha256_of(b"a"),
        tags: vec![],
        result,
    };
    let report = RestoreReport {
        outcomes: vec![
            outcome(RestoreResult::Restored {
                tags_repointed: vec![],
            }),
            outcome(RestoreResult::AlreadyPresent {
                tags_repointed: vec![],
            }),
            outcome(RestoreResult::Partial {
                was_present: false,
                tags_repointed: vec![],
                tags_skipped: vec![],
            }),
            outcome(RestoreResult::Failed { reason: "x".into() }),
            outcome(RestoreResult::Failed { reason: "y".into() }),
        ],
    };
    assert_eq!(
        report.counts(),
        RestoreCounts {
            total: 5,
            restored: 1,
            already_present: 1,
            partial: 1,
            failed: 2
        }
    );
    let json = serde_json::to_value(&report.outcomes[3]).unwrap();
    assert_eq!(json["outcome"], "failed");
    assert_eq!(json["reason"], "x");
}
