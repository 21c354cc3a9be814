//! Undo until garbage collection, on the real registry: a recovery file is
//! taken before a plan's deletes, the deletes are applied, and the restore
//! puts back every manifest byte for byte with its tags, leaves a re-pushed
//! tag alone, and names what cannot come back because its blobs are gone.

use crate::common::block_on;
use std::path::{Path, PathBuf};

use crate::common::{PASSWORD, USER, with_auth};
use cleanreg::NativeTransport;
use cleanreg::restore::{read_recovery, restore_from, write_recovery};
use cleanreg_core::{
    Client, Credentials, Inventory, Plan, Policy, RecoveryFile, RestoreReport, ScanScope,
    Transport, parse_manifest, plan as make_plan,
};
use cleanreg_testkit::{
    CosignKind, Fixture, ImageFormat, ImageSpec, IndexSpec, PushedImage, Seeder, cosign_tag,
    sha256_digest,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const REPO: &str = "team/app";

fn credentials() -> Credentials {
    Credentials::new(USER, PASSWORD)
}

fn client(url: &str) -> Client<NativeTransport> {
    crate::common::client(url, Some(credentials())).with_concurrency(4)
}

fn scan(client: &Client<NativeTransport>) -> Inventory {
    block_on(client.scan(&ScanScope::Catalog, &mut |_| {})).expect("scan")
}

fn keep_newest(inventory: &Inventory, keep: usize) -> Plan {
    make_plan(
        inventory,
        &Policy::keep_newest(keep),
        OffsetDateTime::now_utc(),
    )
}

/// A directory of its own under the system's temporary directory.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "cleanreg-restore-{}-{name}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn days_ago(days: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc() - Duration::days(days))
}

fn image(
    seeder: &Seeder,
    seed: &str,
    days: i64,
    format: ImageFormat,
    tags: &[&str],
) -> PushedImage {
    let spec = ImageSpec::new(seed, days_ago(days)).with_format(format);
    seeder.push_image(REPO, &spec, tags).expect("push image")
}

fn multiarch(
    seeder: &Seeder,
    repo: &str,
    seed: &str,
    days: i64,
    format: ImageFormat,
    tag: &str,
) -> cleanreg_testkit::PushedIndex {
    let spec = IndexSpec::new(
        format,
        [
            ImageSpec::new(format!("{seed} amd64"), days_ago(days)).with_platform("amd64", "linux"),
            ImageSpec::new(format!("{seed} arm64"), days_ago(days)).with_platform("arm64", "linux"),
        ],
    )
    .with_tag(tag);
    seeder.push_index(repo, &spec).expect("push index")
}

/// Removes a blob from a repository as garbage collection would (2.8
/// unlinks it; a manifest that needs it can no longer be put).
fn remove_blob(url: &str, repo: &str, digest: &str) {
    let request = http::Request::builder()
        .method("DELETE")
        .uri(format!("{url}/v2/{repo}/blobs/{digest}"))
        .header("authorization", credentials().basic_header())
        .body(Vec::new())
        .unwrap();
    let response = block_on(NativeTransport::new(false).send(request)).unwrap();
    assert_eq!(response.status(), 202, "DELETE blob {digest}");
}

/// An entry's outcome as the report's JSON has it (the `--json` output and
/// what the dashboard reads).
fn outcome_of(report: &RestoreReport, digest: &str) -> Value {
    let all = serde_json::to_value(report).unwrap();
    all["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["digest"] == digest)
        .cloned()
        .unwrap_or_else(|| panic!("no outcome for {digest}: {report:#?}"))
}

fn reason_of(report: &RestoreReport, digest: &str) -> String {
    let outcome = outcome_of(report, digest);
    assert_eq!(outcome["outcome"], "failed", "{outcome:#}");
    outcome["reason"].as_str().unwrap().to_owned()
}

fn short(digest: &str) -> String {
    format!("{}…", &digest[..7 + 12])
}

#[test]
fn a_restore_puts_back_every_deleted_manifest_byte_for_byte_with_its_tags_and_blobs() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::with(with_auth()).start();
    let url = registry.url();
    let oldest = image(&seeder, "app 1", 6, ImageFormat::Docker, &["1.0"]);
    let index = multiarch(&seeder, REPO, "app 2", 5, ImageFormat::Oci, "2.0");
    let index_sig = seeder
        .push_cosign(REPO, &index.digest, CosignKind::Signature)
        .unwrap();
    let third = image(&seeder, "app 3", 4, ImageFormat::Oci, &["3.0", "stable"]);
    let third_sig = seeder
        .push_cosign(REPO, &third.digest, CosignKind::Signature)
        .unwrap();
    let newest = image(&seeder, "app 4", 1, ImageFormat::Docker, &["4.0", "latest"]);
    let newest_sig = seeder
        .push_cosign(REPO, &newest.digest, CosignKind::Signature)
        .unwrap();
    let list = multiarch(
        &seeder,
        "team/tool",
        "tool 1",
        3,
        ImageFormat::Docker,
        "1.0",
    );
    let tool = seeder
        .push_image(
            "team/tool",
            &ImageSpec::new("tool 2", days_ago(1)),
            &["2.0"],
        )
        .unwrap();

    let client = client(&url);
    let before = scan(&client);
    let plan = keep_newest(&before, 1);
    let deleted: Vec<String> = plan.deletes().map(|e| e.digest.to_string()).collect();
    let mut expected: Vec<String> = vec![
        third.digest.clone(),
        third_sig.digest.clone(),
        index.digest.clone(),
        oldest.digest.clone(),
        index_sig.digest.clone(),
        list.digest.clone(),
    ];
    expected.extend(index.child_digests());
    expected.extend(list.child_digests());
    let mut sorted = deleted.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "{plan:#?}");

    // The copy, written to disk and read back.
    let recovery = block_on(client.recovery_for(&plan)).expect("recovery file");
    assert_eq!(recovery.registry, url);
    let listed: Vec<String> = recovery
        .entries
        .iter()
        .map(|e| e.digest.to_string())
        .collect();
    assert_eq!(listed, deleted, "entries in plan order");
    for (entry, planned) in recovery.entries.iter().zip(plan.deletes()) {
        assert_eq!(entry.repository, planned.repository);
        assert_eq!(entry.tags, planned.tags);
        assert_eq!(entry.media_type, planned.media_type);
    }
    let scratch = Scratch::new("round-trip");
    let path = scratch.path("recovery.json");
    write_recovery(&path, &recovery).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads it");
    }
    assert_eq!(read_recovery(&path).unwrap(), recovery);

    let applied = block_on(client.apply(&plan, &mut |_, _| {}));
    assert_eq!(applied.counts().deleted, deleted.len(), "{applied:#?}");
    for entry in &recovery.entries {
        let exists = seeder
            .manifest_exists(entry.repository.as_str(), &entry.digest.to_string())
            .unwrap();
        assert!(!exists, "{} was deleted", entry.digest);
    }
    assert_eq!(seeder.tag_digest(REPO, "stable").unwrap(), None);

    let mut out = Vec::new();
    let report = block_on(restore_from(&client, &path, &mut out)).unwrap();
    let printed = String::from_utf8(out).unwrap();
    let counts = report.counts();
    assert_eq!(
        (
            counts.restored,
            counts.already_present,
            counts.partial,
            counts.failed
        ),
        (deleted.len(), 0, 0, 0),
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "restored {REPO}@{} tags 3.0, stable",
            short(&third.digest)
        )),
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "Summary: {} restored, 0 already present",
            deleted.len()
        )),
        "{printed}"
    );
    // Children went back before their index, subjects before what is attached.
    let position = |digest: &str| {
        report
            .outcomes
            .iter()
            .position(|o| o.digest.to_string() == digest)
            .unwrap()
    };
    for child in index.child_digests() {
        assert!(position(&child) < position(&index.digest));
    }
    for child in list.child_digests() {
        assert!(position(&child) < position(&list.digest));
    }
    assert!(position(&index.digest) < position(&index_sig.digest));
    assert!(position(&third.digest) < position(&third_sig.digest));

    // Byte for byte, with every tag and every blob.
    for entry in &recovery.entries {
        let repo = entry.repository.as_str();
        let digest = entry.digest.to_string();
        let fetched = seeder
            .fetch_manifest(repo, &digest)
            .unwrap()
            .unwrap_or_else(|| panic!("{repo}@{digest} is back"));
        let bytes = entry.manifest_bytes().unwrap();
        assert_eq!(fetched.body, bytes, "{repo}@{digest}");
        for tag in &entry.tags {
            assert_eq!(
                seeder.tag_digest(repo, tag.as_str()).unwrap().as_deref(),
                Some(digest.as_str()),
                "{repo}:{tag}"
            );
        }
        let (_, manifest) = parse_manifest(Some(entry.media_type.as_str()), &bytes).unwrap();
        for blob in manifest.blobs() {
            let pulled = seeder.fetch_blob(repo, &blob.digest.to_string()).unwrap();
            assert!(pulled.is_some(), "{repo} blob {}", blob.digest);
        }
    }
    // And the manifests as the seeder pushed them.
    let pushed: Vec<(&str, &str, &[u8])> = vec![
        (REPO, &oldest.digest, &oldest.manifest),
        (REPO, &index.digest, &index.manifest),
        (REPO, &index_sig.digest, &index_sig.manifest),
        (REPO, &third.digest, &third.manifest),
        (REPO, &third_sig.digest, &third_sig.manifest),
        ("team/tool", &list.digest, &list.manifest),
    ];
    for (repo, digest, bytes) in pushed {
        let fetched = seeder.fetch_manifest(repo, digest).unwrap().unwrap();
        assert_eq!(fetched.body, bytes, "{repo}@{digest}");
    }
    for child in index.children.iter().chain(&list.children) {
        let repo = if list.children.contains(child) {
            "team/tool"
        } else {
            REPO
        };
        let fetched = seeder.fetch_manifest(repo, &child.digest).unwrap().unwrap();
        assert_eq!(fetched.body, child.manifest);
        for blob in std::iter::once(&child.config_digest).chain(&child.layer_digests) {
            assert!(seeder.fetch_blob(repo, blob).unwrap().is_some());
        }
    }
    assert_eq!(
        seeder
            .tag_digest(REPO, &cosign_tag(&index.digest, CosignKind::Signature))
            .unwrap(),
        Some(index_sig.digest.clone())
    );

    // The registry reads exactly as before the delete.
    assert_eq!(scan(&client), before);
    let _ = (newest_sig, tool);

    // A second restore finds everything in place and changes nothing.
    let mut out = Vec::new();
    let again = block_on(restore_from(&client, &path, &mut out)).unwrap();
    assert_eq!(again.counts().already_present, deleted.len(), "{again:#?}");
    for outcome in serde_json::to_value(&again).unwrap()["outcomes"]
        .as_array()
        .unwrap()
    {
        assert_eq!(outcome["outcome"], "already_present", "{outcome:#}");
        assert_eq!(outcome["tags_repointed"], json!([]), "{outcome:#}");
    }
    assert!(
        String::from_utf8(out).unwrap().contains("tags unchanged"),
        "already present lines say so"
    );
}

#[test]
fn a_re_pushed_tag_is_left_alone_and_collected_blobs_are_named() {
    let Fixture {
        registry, seeder, ..
    } = Fixture::with(with_auth()).start();
    let url = registry.url();
    let oldest = image(&seeder, "app 1", 6, ImageFormat::Docker, &["1.0"]);
    let index = multiarch(&seeder, REPO, "app 2", 5, ImageFormat::Oci, "2.0");
    let index_sig = seeder
        .push_cosign(REPO, &index.digest, CosignKind::Signature)
        .unwrap();
    let third = image(&seeder, "app 3", 4, ImageFormat::Docker, &["3.0", "stable"]);
    let fourth = image(&seeder, "app 4", 3, ImageFormat::Oci, &["4.0"]);
    image(&seeder, "app 5", 1, ImageFormat::Docker, &["5.0", "latest"]);

    let client = client(&url);
    let plan = keep_newest(&scan(&client), 1);
    assert_eq!(plan.deletes().count(), 7, "{plan:#?}");
    let recovery = block_on(client.recovery_for(&plan)).unwrap();
    let scratch = Scratch::new("conflicts");
    let path = scratch.path("recovery.json");
    write_recovery(&path, &recovery).unwrap();
    let applied = block_on(client.apply(&plan, &mut |_, _| {}));
    assert_eq!(applied.counts().deleted, 7, "{applied:#?}");

    // Between delete and restore: `stable` is pushed again on a new image,
    // and garbage collection took a layer of the oldest image and one of
    // the index's children.
    let hotfix = image(&seeder, "app hotfix", 0, ImageFormat::Docker, &["stable"]);
    remove_blob(&url, REPO, &oldest.layer_digests[1]);
    let (amd, arm) = (&index.children[0], &index.children[1]);
    remove_blob(&url, REPO, &arm.config_digest);

    let mut out = Vec::new();
    let report = block_on(restore_from(&client, &path, &mut out)).unwrap();
    let printed = String::from_utf8(out).unwrap();
    let counts = report.counts();
    assert_eq!(
        (
            counts.restored,
            counts.already_present,
            counts.partial,
            counts.failed
        ),
        (2, 0, 1, 4),
        "{printed}"
    );

    // `stable` stays on the hotfix; `3.0` comes back.
    let partial = outcome_of(&report, &third.digest);
    assert_eq!(partial["outcome"], "partial", "{partial:#}");
    assert_eq!(partial["was_present"], false);
    assert_eq!(partial["tags"], json!(["3.0", "stable"]));
    assert_eq!(partial["tags_repointed"], json!(["3.0"]));
    let skipped = partial["tags_skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{partial:#}");
    assert_eq!(skipped[0]["tag"], "stable");
    assert_eq!(skipped[0]["points_to"], hotfix.digest.as_str());
    assert_eq!(
        seeder.tag_digest(REPO, "stable").unwrap(),
        Some(hotfix.digest.clone())
    );
    assert_eq!(
        seeder.tag_digest(REPO, "3.0").unwrap(),
        Some(third.digest.clone())
    );
    assert!(
        printed.contains(&format!(
            "partly restored {REPO}@{}: manifest put back, re-pointed tags 3.0; tag stable left alone: it points at {} now",
            short(&third.digest),
            short(&hotfix.digest)
        )),
        "{printed}"
    );

    // The oldest image lost a layer: it cannot come back, and says which.
    let reason = reason_of(&report, &oldest.digest);
    assert!(reason.contains("garbage-collected"), "{reason}");
    assert!(
        reason.contains(&format!("layer {}", short(&oldest.layer_digests[1]))),
        "{reason}"
    );
    assert!(reason.contains("MANIFEST_BLOB_UNKNOWN"), "{reason}");
    assert!(
        printed.contains(&format!(
            "failed {REPO}@{}: its blobs were garbage-collected",
            short(&oldest.digest)
        )),
        "{printed}"
    );

    // The arm64 child lost its config, so the index cannot list it, and the
    // index's signature is not put back alone.
    let reason = reason_of(&report, &arm.digest);
    assert!(
        reason.contains(&format!("config {}", short(&arm.config_digest))),
        "{reason}"
    );
    let reason = reason_of(&report, &index.digest);
    assert!(
        reason.contains(&format!("{} (not restored above)", short(&arm.digest))),
        "{reason}"
    );
    let reason = reason_of(&report, &index_sig.digest);
    assert!(reason.contains("its subject"), "{reason}");

    // The rest came back.
    let restored = outcome_of(&report, &fourth.digest);
    assert_eq!(restored["outcome"], "restored", "{restored:#}");
    assert_eq!(restored["tags_repointed"], json!(["4.0"]));
    let child = outcome_of(&report, &amd.digest);
    assert_eq!(child["outcome"], "restored", "{child:#}");
    assert_eq!(child["tags_repointed"], json!([]));
    assert!(
        printed.contains(&format!(
            "restored {REPO}@{} (untagged)",
            short(&amd.digest)
        )),
        "{printed}"
    );
    let exists = |digest: &str| seeder.manifest_exists(REPO, digest).unwrap();
    assert!(exists(&fourth.digest) && exists(&amd.digest) && exists(&third.digest));
    assert!(!exists(&oldest.digest) && !exists(&arm.digest));
    assert!(!exists(&index.digest) && !exists(&index_sig.digest));
    assert_eq!(seeder.tag_digest(REPO, "1.0").unwrap(), None);
    assert!(
        printed
            .contains("Summary: 2 restored, 0 already present, 1 partly restored, 4 failed (of 7)"),
        "{printed}"
    );
}

/// A file as the dashboard could write it, for the manifest `{}`
/// (base64 `e30=`).
fn sample_file(registry: &str) -> RecoveryFile {
    let text = json!({
        "format": 1,
        "registry": registry,
        "created": "2026-05-04T10:20:30Z",
        "entries": [{
            "repository": REPO,
            "digest": sha256_digest(b"{}"),
            "media_type": "application/vnd.oci.image.index.v1+json",
            "tags": ["1.0"],
            "manifest": "e30=",
        }],
    });
    RecoveryFile::from_json(&text.to_string()).unwrap()
}

fn restore_error(client: &Client<NativeTransport>, path: &Path) -> String {
    let mut out = Vec::new();
    let error = block_on(restore_from(client, path, &mut out)).unwrap_err();
    assert!(out.is_empty(), "nothing attempted");
    error
}

#[test]
fn recovery_files_are_never_overwritten_and_only_restored_where_they_came_from() {
    let scratch = Scratch::new("files");
    let path = scratch.path("recovery.json");
    let file = sample_file("http://127.0.0.1:9");
    write_recovery(&path, &file).unwrap();
    let error = write_recovery(&path, &sample_file("http://127.0.0.1:10")).unwrap_err();
    assert!(error.contains("already exists"), "{error}");
    assert_eq!(read_recovery(&path).unwrap(), file, "the first file stays");
    let leftovers: Vec<_> = std::fs::read_dir(&scratch.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    let missing_dir = scratch.path("no/such/dir/recovery.json");
    assert!(write_recovery(&missing_dir, &file).is_err());

    // Nothing listens on these ports: every refusal comes before a request.
    let elsewhere = client("http://127.0.0.1:10");
    let error = restore_error(&elsewhere, &path);
    assert!(
        error.contains("made for the registry http://127.0.0.1:9, not http://127.0.0.1:10"),
        "{error}"
    );

    let mut damaged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    damaged["entries"][0]["manifest"] = "W10=".into();
    let damaged_path = scratch.path("damaged.json");
    std::fs::write(&damaged_path, damaged.to_string()).unwrap();
    let error = restore_error(&client("http://127.0.0.1:9"), &damaged_path);
    assert!(
        error.contains("damaged.json: entries[0] (team/app@sha256:"),
        "{error}"
    );
    assert!(error.contains("hash to"), "{error}");

    let error = restore_error(&client("http://127.0.0.1:9"), &scratch.path("absent.json"));
    assert!(error.contains("cannot read the recovery file"), "{error}");
}
