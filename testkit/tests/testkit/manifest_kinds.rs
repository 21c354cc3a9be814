//! Every manifest kind the seeder makes, against Debian's Distribution 2.8.2:
//! the registry accepts the PUT and a GET accepting all four manifest types
//! returns the same bytes, whose sha256 is the digest.

use std::time::Duration;

use cleanreg_testkit::{
    ArtifactBlob, ArtifactSpec, COSIGN_SIGNATURE_ANNOTATION, CREATED_ANNOTATION, CosignKind,
    Descriptor, EMPTY_JSON, EMPTY_JSON_DIGEST, ImageFormat, ImageSpec, IndexSpec, Registry,
    RegistryOptions, SeedError, Seeder, cosign_tag, media_types, referrers_tag, sha256_digest,
};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

fn start() -> (Registry, Seeder) {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    (registry, seeder)
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

/// GET by `reference` and by digest with all four Accept types: same bytes,
/// digest = sha256 of them = `Docker-Content-Digest`, `Content-Type` = the
/// manifest's media type.
fn assert_round_trip(seeder: &Seeder, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) {
    let digest = sha256_digest(bytes);
    for reference in [reference, digest.as_str()] {
        let fetched = seeder
            .fetch_manifest(repo, reference)
            .unwrap()
            .unwrap_or_else(|| panic!("{repo}:{reference} is missing"));
        assert_eq!(fetched.status, 200);
        assert!(
            fetched.body == bytes,
            "{repo}:{reference} came back as {}",
            String::from_utf8_lossy(&fetched.body)
        );
        assert_eq!(sha256_digest(&fetched.body), digest);
        assert_eq!(
            fetched.docker_content_digest.as_deref(),
            Some(digest.as_str()),
            "{repo}:{reference}"
        );
        assert_eq!(
            fetched.content_type.as_deref(),
            Some(media_type),
            "{repo}:{reference}"
        );
    }
    assert!(seeder.manifest_exists(repo, &digest).unwrap());
}

#[test]
fn oci_index_round_trips_with_untagged_children() {
    let (_registry, seeder) = start();
    let repo = "kinds/oci-index";
    let amd64 = ImageSpec::new("amd64", Some(NOW - time::Duration::days(2)));
    let arm64 = ImageSpec::new("arm64", Some(NOW - time::Duration::days(1)))
        .with_platform("arm64", "linux")
        .with_variant("v8");
    let spec = IndexSpec::new(ImageFormat::Oci, [amd64, arm64])
        .with_created_annotation(NOW - time::Duration::days(1))
        .with_tag("v1")
        .with_tag("latest");
    let index = seeder.push_index(repo, &spec).unwrap();

    assert_eq!(index.media_type, media_types::OCI_INDEX);
    assert_eq!(index.digest, sha256_digest(&index.manifest));
    assert_round_trip(&seeder, repo, "v1", media_types::OCI_INDEX, &index.manifest);
    assert_round_trip(
        &seeder,
        repo,
        "latest",
        media_types::OCI_INDEX,
        &index.manifest,
    );
    for child in &index.children {
        assert_eq!(child.media_type, media_types::OCI_MANIFEST);
        assert_round_trip(
            &seeder,
            repo,
            &child.digest,
            media_types::OCI_MANIFEST,
            &child.manifest,
        );
    }
    // The children are untagged.
    assert_eq!(sorted(seeder.tags(repo).unwrap()), ["latest", "v1"]);

    let document = json(&index.manifest);
    assert_eq!(document["schemaVersion"], 2);
    assert_eq!(document["mediaType"], media_types::OCI_INDEX);
    assert_eq!(
        document["annotations"][CREATED_ANNOTATION],
        "2026-03-09T12:00:00Z"
    );
    let entries = document["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0]["platform"],
        serde_json::json!({"architecture": "amd64", "os": "linux"})
    );
    assert_eq!(
        entries[1]["platform"],
        serde_json::json!({"architecture": "arm64", "os": "linux", "variant": "v8"})
    );
    for (entry, child) in entries.iter().zip(&index.children) {
        assert_eq!(entry["digest"], child.digest.as_str());
        assert_eq!(entry["size"], child.manifest.len());
        assert_eq!(entry["mediaType"], media_types::OCI_MANIFEST);
    }
    assert_eq!(
        index.size,
        index.children.iter().map(|child| child.size).sum::<u64>()
    );
    assert_eq!(
        index.newest_child_created(),
        Some(NOW - time::Duration::days(1))
    );
    let arm_config = json(
        &seeder
            .fetch_blob(repo, &index.children[1].config_digest)
            .unwrap()
            .unwrap(),
    );
    assert_eq!(arm_config["variant"], "v8");
    assert_eq!(arm_config["architecture"], "arm64");

    // 2.8.2 refuses to serve an OCI index to a client that does not accept
    // it (404), rather than picking a child.
    let images_only = [media_types::OCI_MANIFEST, media_types::DOCKER_MANIFEST].join(", ");
    assert_eq!(
        seeder.fetch_manifest_as(repo, "v1", &images_only).unwrap(),
        None
    );
}

#[test]
fn docker_manifest_list_round_trips() {
    let (_registry, seeder) = start();
    let repo = "kinds/docker-list";
    let amd64 = ImageSpec::new("list-amd64", Some(NOW));
    let arm = ImageSpec::new("list-arm", None)
        .with_created_raw("not a date")
        .with_platform("arm", "linux")
        .with_variant("v7");
    let spec = IndexSpec::new(ImageFormat::Docker, [amd64, arm]).with_tag("1.0");
    let list = seeder.push_index(repo, &spec).unwrap();

    assert_eq!(list.media_type, media_types::DOCKER_MANIFEST_LIST);
    assert_round_trip(
        &seeder,
        repo,
        "1.0",
        media_types::DOCKER_MANIFEST_LIST,
        &list.manifest,
    );
    for child in &list.children {
        assert_eq!(child.media_type, media_types::DOCKER_MANIFEST);
        assert_round_trip(
            &seeder,
            repo,
            &child.digest,
            media_types::DOCKER_MANIFEST,
            &child.manifest,
        );
    }
    assert_eq!(seeder.tags(repo).unwrap(), ["1.0"]);
    let document = json(&list.manifest);
    assert_eq!(document["mediaType"], media_types::DOCKER_MANIFEST_LIST);
    assert!(document.get("annotations").is_none());
    assert_eq!(document["manifests"][1]["platform"]["variant"], "v7");
    assert_eq!(list.newest_child_created(), Some(NOW));

    // A client accepting only schema2 gets the linux/amd64 child instead
    // (the registry picks a child when the index type is not accepted): the
    // substitution a cleaner must avoid.
    let substituted = seeder
        .fetch_manifest_as(repo, "1.0", media_types::DOCKER_MANIFEST)
        .unwrap()
        .unwrap();
    assert_eq!(substituted.body, list.children[0].manifest);
    assert_eq!(
        substituted.docker_content_digest.as_deref(),
        Some(list.children[0].digest.as_str())
    );
}

#[test]
fn equal_specs_give_equal_digests() {
    let (_registry, seeder) = start();
    let child =
        |arch: &str| ImageSpec::new(format!("same-{arch}"), Some(NOW)).with_platform(arch, "linux");
    let spec = IndexSpec::new(ImageFormat::Oci, [child("amd64"), child("arm64")])
        .with_created_annotation(NOW)
        .with_tag("x");
    let first = seeder.push_index("same/one", &spec).unwrap();
    let second = seeder.push_index("same/two", &spec).unwrap();
    let again = seeder.push_index("same/one", &spec).unwrap();
    assert_eq!(first, second);
    assert_eq!(first, again);
    let other = seeder
        .push_index("same/one", &spec.clone().with_annotation("extra", "1"))
        .unwrap();
    assert_ne!(other.digest, first.digest);
    // Same children: the second index reuses them.
    assert_eq!(other.child_digests(), first.child_digests());

    let artifact = ArtifactSpec::helm_chart("c", "1.0.0");
    assert_eq!(
        seeder.push_artifact("same/one", &artifact).unwrap(),
        seeder.push_artifact("same/two", &artifact).unwrap()
    );
    let subject = first.children[0].digest.clone();
    assert_eq!(
        seeder
            .push_cosign("same/one", &subject, CosignKind::Signature)
            .unwrap()
            .digest,
        seeder
            .push_cosign("same/one", &subject, CosignKind::Signature)
            .unwrap()
            .digest
    );
}

#[test]
fn raw_dates_and_manifest_annotations_round_trip() {
    let (_registry, seeder) = start();
    let repo = "kinds/dates";
    let cases = [
        (
            "epoch",
            ImageSpec::new("epoch", None).with_created_raw("1970-01-01T00:00:00Z"),
        ),
        (
            "bad",
            ImageSpec::new("bad", None)
                .with_created_raw("not a date")
                .with_format(ImageFormat::Oci),
        ),
        (
            "annotated",
            ImageSpec::new("annotated", None)
                .with_format(ImageFormat::Oci)
                .with_created_annotation(NOW),
        ),
        ("undated", ImageSpec::new("undated", None)),
    ];
    for (tag, spec) in cases {
        let image = seeder.push_image(repo, &spec, &[tag]).unwrap();
        assert_round_trip(&seeder, repo, tag, &image.media_type, &image.manifest);
        let config = json(
            &seeder
                .fetch_blob(repo, &image.config_digest)
                .unwrap()
                .unwrap(),
        );
        let manifest = json(&image.manifest);
        match tag {
            "epoch" => {
                assert_eq!(config["created"], "1970-01-01T00:00:00Z");
                assert_eq!(image.created, Some(OffsetDateTime::UNIX_EPOCH));
            }
            "bad" => {
                assert_eq!(config["created"], "not a date");
                assert_eq!(image.created, None);
                assert_eq!(image.created_raw.as_deref(), Some("not a date"));
            }
            "annotated" => {
                assert!(config.get("created").is_none());
                assert_eq!(
                    manifest["annotations"][CREATED_ANNOTATION],
                    "2026-03-10T12:00:00Z"
                );
                assert_eq!(image.created, None);
            }
            _ => {
                assert!(config.get("created").is_none());
                assert!(manifest.get("annotations").is_none());
            }
        }
    }
}

#[test]
fn artifacts_round_trip_and_subject_is_not_checked() {
    let (registry, seeder) = start();
    let repo = "kinds/artifacts";

    let chart = seeder
        .push_artifact(
            repo,
            &ArtifactSpec::helm_chart("mychart", "1.0.0").with_tag("chart-1.0.0"),
        )
        .unwrap();
    assert_round_trip(
        &seeder,
        repo,
        "chart-1.0.0",
        media_types::OCI_MANIFEST,
        &chart.manifest,
    );
    let document = json(&chart.manifest);
    assert_eq!(document["config"]["mediaType"], media_types::HELM_CONFIG);
    assert!(document.get("artifactType").is_none());
    assert_eq!(
        document["layers"][0]["mediaType"],
        media_types::HELM_CHART_CONTENT
    );
    let config = json(
        &seeder
            .fetch_blob(repo, &chart.config_digest)
            .unwrap()
            .unwrap(),
    );
    assert_eq!(config["name"], "mychart");
    assert_eq!(
        chart.descriptor().artifact_type.as_deref(),
        Some(media_types::HELM_CONFIG)
    );

    // artifactType over the empty config, no layers: the empty descriptor.
    let bare = seeder
        .push_artifact(
            repo,
            &ArtifactSpec::typed("application/vnd.example.thing.v1")
                .with_annotation("a", "b")
                .with_tag("bare"),
        )
        .unwrap();
    assert_round_trip(
        &seeder,
        repo,
        "bare",
        media_types::OCI_MANIFEST,
        &bare.manifest,
    );
    let document = json(&bare.manifest);
    assert_eq!(document["artifactType"], "application/vnd.example.thing.v1");
    assert_eq!(
        document["config"],
        serde_json::to_value(Descriptor::empty()).unwrap()
    );
    assert_eq!(document["layers"][0]["digest"], EMPTY_JSON_DIGEST);
    assert_eq!(document["annotations"]["a"], "b");
    assert_eq!(
        seeder
            .fetch_blob(repo, EMPTY_JSON_DIGEST)
            .unwrap()
            .as_deref(),
        Some(EMPTY_JSON)
    );

    // A referrer with `subject`, pushed by digest (untagged).
    let image = seeder
        .push_image(repo, &ImageSpec::new("subject", Some(NOW)), &["img"])
        .unwrap();
    let referrer = seeder
        .push_artifact(
            repo,
            &ArtifactSpec::typed("application/spdx+json")
                .with_blob(ArtifactBlob::new(
                    "application/spdx+json",
                    b"{\"spdxVersion\":\"SPDX-2.3\"}".to_vec(),
                ))
                .with_subject(image.descriptor()),
        )
        .unwrap();
    assert_eq!(referrer.subject.as_deref(), Some(image.digest.as_str()));
    assert_eq!(referrer.tag, None);
    assert_round_trip(
        &seeder,
        repo,
        &referrer.digest,
        media_types::OCI_MANIFEST,
        &referrer.manifest,
    );
    let document = json(&referrer.manifest);
    assert_eq!(document["subject"]["digest"], image.digest.as_str());
    assert_eq!(
        document["subject"]["mediaType"],
        media_types::DOCKER_MANIFEST
    );
    assert_eq!(
        sorted(seeder.tags(repo).unwrap()),
        ["bare", "chart-1.0.0", "img"]
    );

    // 2.8.2 does not check the subject exists, and sends no OCI-Subject.
    let missing = Descriptor::of(media_types::OCI_MANIFEST, b"never pushed");
    let dangling = seeder
        .push_artifact(
            repo,
            &ArtifactSpec::typed("application/vnd.example.thing.v1").with_subject(missing),
        )
        .unwrap();
    assert!(seeder.manifest_exists(repo, &dangling.digest).unwrap());
    let response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
        .put(format!(
            "{}/v2/{repo}/manifests/{}",
            registry.url(),
            referrer.digest
        ))
        .header("Content-Type", media_types::OCI_MANIFEST)
        .send(&referrer.manifest[..])
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers().get("OCI-Subject"), None);
}

#[test]
fn cosign_attachments_round_trip_even_for_missing_subjects() {
    let (_registry, seeder) = start();
    let repo = "kinds/signed";
    let image = seeder
        .push_image(
            repo,
            &ImageSpec::new("signed", Some(NOW)).with_format(ImageFormat::Oci),
            &["v1"],
        )
        .unwrap();
    let hex = image.digest.trim_start_matches("sha256:");
    let kinds = [
        (CosignKind::Signature, media_types::COSIGN_SIMPLE_SIGNING),
        (CosignKind::Attestation, media_types::DSSE_ENVELOPE),
        (CosignKind::Sbom, media_types::SPDX_JSON),
    ];
    for (kind, layer_type) in kinds {
        let pushed = seeder.push_cosign(repo, &image.digest, kind).unwrap();
        let tag = format!("sha256-{hex}.{}", kind.suffix());
        assert_eq!(pushed.tag.as_deref(), Some(tag.as_str()));
        assert_eq!(cosign_tag(&image.digest, kind), tag);
        assert_eq!(pushed.attached_to.as_deref(), Some(image.digest.as_str()));
        assert_eq!(pushed.subject, None);
        assert_round_trip(
            &seeder,
            repo,
            &tag,
            media_types::OCI_MANIFEST,
            &pushed.manifest,
        );
        let document = json(&pushed.manifest);
        assert!(document.get("subject").is_none());
        assert!(document.get("artifactType").is_none());
        assert_eq!(document["config"]["mediaType"], media_types::OCI_CONFIG);
        assert_eq!(document["layers"].as_array().unwrap().len(), 1);
        assert_eq!(document["layers"][0]["mediaType"], layer_type);
        assert_eq!(
            document["layers"][0]["annotations"]
                .get(COSIGN_SIGNATURE_ANNOTATION)
                .is_some(),
            kind != CosignKind::Sbom
        );
        let config = json(
            &seeder
                .fetch_blob(repo, &pushed.config_digest)
                .unwrap()
                .unwrap(),
        );
        assert!(config.get("created").is_none());
        let layer = seeder
            .fetch_blob(repo, &pushed.layer_digests[0])
            .unwrap()
            .unwrap();
        if kind == CosignKind::Signature {
            assert_eq!(
                json(&layer)["critical"]["image"]["docker-manifest-digest"],
                image.digest.as_str()
            );
        }
    }

    // An orphan: the subject was never pushed.
    let orphan = sha256_digest(b"not in the registry");
    let pushed = seeder
        .push_cosign(repo, &orphan, CosignKind::Signature)
        .unwrap();
    assert!(!seeder.manifest_exists(repo, &orphan).unwrap());
    assert_eq!(
        seeder
            .tag_digest(repo, &cosign_tag(&orphan, CosignKind::Signature))
            .unwrap(),
        Some(pushed.digest)
    );
    assert_eq!(seeder.tags(repo).unwrap().len(), 5);

    match seeder.push_cosign(repo, "sha256:nothex", CosignKind::Signature) {
        Err(SeedError::Invalid { .. }) => {}
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn referrers_fallback_index_round_trips_and_there_is_no_referrers_api() {
    let (_registry, seeder) = start();
    let repo = "kinds/referrers";
    let image = seeder
        .push_image(
            repo,
            &ImageSpec::new("referred", Some(NOW)).with_format(ImageFormat::Oci),
            &["v1"],
        )
        .unwrap();
    let sbom = seeder
        .push_artifact(
            repo,
            &ArtifactSpec::typed("application/spdx+json")
                .with_subject(image.descriptor())
                .with_annotation(CREATED_ANNOTATION, "2026-03-10T12:00:00Z"),
        )
        .unwrap();
    let signature = seeder
        .push_artifact(
            repo,
            &ArtifactSpec::typed("application/vnd.dev.cosign.artifact.sig.v1+json")
                .with_blob(ArtifactBlob::new(
                    media_types::COSIGN_SIMPLE_SIGNING,
                    b"{}".to_vec(),
                ))
                .with_subject(image.descriptor()),
        )
        .unwrap();
    let referrers = [sbom.descriptor(), signature.descriptor()];
    let index = seeder
        .push_referrers_index(repo, &image.digest, &referrers)
        .unwrap();
    assert_eq!(index.tag, referrers_tag(&image.digest));
    assert_eq!(
        index.tag,
        format!("sha256-{}", image.digest.trim_start_matches("sha256:"))
    );
    assert_round_trip(
        &seeder,
        repo,
        &index.tag,
        media_types::OCI_INDEX,
        &index.manifest,
    );
    let document = json(&index.manifest);
    let entries = document["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["digest"], sbom.digest.as_str());
    assert_eq!(entries[0]["artifactType"], "application/spdx+json");
    assert_eq!(
        entries[0]["annotations"][CREATED_ANNOTATION],
        "2026-03-10T12:00:00Z"
    );
    assert_eq!(entries[1]["mediaType"], media_types::OCI_MANIFEST);
    assert!(entries[0].get("platform").is_none());

    // A referrer must be in the repository before an index lists it.
    let absent = Descriptor::of(media_types::OCI_MANIFEST, b"absent");
    match seeder.push_referrers_index(repo, &sbom.digest, &[absent]) {
        Err(SeedError::Status {
            status: 400, body, ..
        }) => {
            assert!(body.contains("MANIFEST_BLOB_UNKNOWN"), "{body}")
        }
        other => panic!("expected 400 MANIFEST_BLOB_UNKNOWN, got {other:?}"),
    }

    // Distribution 2.8.2 has no referrers API.
    for accept in [None, Some(media_types::OCI_INDEX)] {
        let answer = seeder
            .get(&format!("/v2/{repo}/referrers/{}", image.digest), accept)
            .unwrap();
        eprintln!(
            "referrers API, Accept {accept:?}: {} {:?} {}",
            answer.status,
            answer.content_type,
            String::from_utf8_lossy(&answer.body).trim()
        );
        assert_eq!(
            answer.status,
            404,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    // Nor does it accept the artifactType filter query.
    let answer = seeder
        .get(
            &format!(
                "/v2/{repo}/referrers/{}?artifactType=application%2Fspdx%2Bjson",
                image.digest
            ),
            None,
        )
        .unwrap();
    assert_eq!(answer.status, 404);
}
