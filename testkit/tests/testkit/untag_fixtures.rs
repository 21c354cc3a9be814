//! The fixtures of the untagged-manifest and tag-removal tests against the
//! real registry: the Distribution 3 tag delete front, skopeo pushes, the
//! garbage collection's parsed output, and storage snapshots.

use std::collections::BTreeSet;

use cleanreg_testkit::{
    GcOptions, ImageSpec, OciImage, Registry, RegistryOptions, Seeder, TagDelete, TagDeleteFront,
    TreeSnapshot, garbage_collect, skopeo_push,
};
use time::OffsetDateTime;

const USER: &str = "admin";
const PASSWORD: &str = "correct horse";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Status, headers and body of one request.
fn ask(
    method: &str,
    url: &str,
    authorization: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let mut response = agent().run(request.body(()).unwrap()).unwrap();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

#[test]
fn the_front_removes_only_the_tag_as_distribution_3_does() {
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .unwrap();
    let front = TagDeleteFront::start(&registry).unwrap();
    let credentials = Some((USER.to_owned(), PASSWORD.to_owned()));
    // Pushed through the front: uploads follow the Location it hands out.
    let seeder = Seeder::new(&front.url(), credentials.clone());
    let image = seeder
        .push_image(
            "team/app",
            &ImageSpec::new("app", Some(OffsetDateTime::now_utc())),
            &["v1", "v2"],
        )
        .unwrap();
    // skopeo streams its uploads through the front too.
    let pushed = skopeo_push(
        &front.url(),
        credentials.clone(),
        "team/app",
        "v3",
        &OciImage::new("through the front", OffsetDateTime::now_utc()),
    )
    .unwrap();
    assert!(
        Seeder::new(&registry.url(), credentials.clone())
            .manifest_exists("team/app", &pushed)
            .unwrap()
    );
    let basic = "Basic YWRtaW46Y29ycmVjdCBob3JzZQ==";
    let (status, headers, _) = ask(
        "POST",
        &format!("{}/v2/team/app/blobs/uploads/", front.url()),
        Some(basic),
    );
    assert_eq!(status, 202);
    let location = header(&headers, "Location").unwrap();
    assert!(
        location.starts_with(&front.url()),
        "the registry names the front in {location}"
    );

    // No credentials: the registry's own challenge, as it sent it.
    let tag_url = format!("{}/v2/team/app/manifests/v1", front.url());
    let (status, headers, body) = ask("DELETE", &tag_url, None);
    assert_eq!(status, 401, "{body}");
    assert!(
        header(&headers, "WWW-Authenticate").is_some_and(|value| value.starts_with("Basic")),
        "{headers:?}"
    );
    assert!(body.contains("UNAUTHORIZED"), "{body}");

    let (status, headers, body) = ask("DELETE", &tag_url, Some(basic));
    assert_eq!((status, body.as_str()), (202, ""));
    assert_eq!(
        header(&headers, "Docker-Distribution-Api-Version"),
        Some("registry/2.0")
    );
    let direct = Seeder::new(&registry.url(), credentials);
    assert_eq!(direct.tags("team/app").unwrap(), ["v2", "v3"]);
    assert_eq!(
        direct.tag_digest("team/app", "v2").unwrap().as_deref(),
        Some(image.digest.as_str())
    );
    assert!(direct.manifest_exists("team/app", &image.digest).unwrap());

    let (status, headers, body) = ask("DELETE", &tag_url, Some(basic));
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "Content-Type"), Some("application/json"));
    assert_eq!(
        body,
        "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\
         \"detail\":{\"Path\":\"/docker/registry/v2/repositories/team/app/_manifests/tags/v1\",\
         \"DriverName\":\"filesystem\"}}]}\n"
    );

    // A delete by digest is the registry's own.
    let (status, _, _) = ask(
        "DELETE",
        &format!("{}/v2/team/app/manifests/{}", front.url(), image.digest),
        Some(basic),
    );
    assert_eq!(status, 202);
    assert!(!direct.manifest_exists("team/app", &image.digest).unwrap());
    assert_eq!(
        front.tag_deletes(),
        [401, 202, 404].map(|status| TagDelete {
            repository: "team/app".into(),
            tag: "v1".into(),
            status,
        })
    );
}

#[test]
fn without_the_delete_switch_the_front_answers_unsupported() {
    let registry = Registry::start(RegistryOptions {
        delete_enabled: false,
        ..RegistryOptions::default()
    })
    .unwrap();
    let front = TagDeleteFront::start(&registry).unwrap();
    let seeder = Seeder::new(&registry.url(), None);
    seeder
        .push_image("app", &ImageSpec::new("app", None), &["v1"])
        .unwrap();
    let before = TreeSnapshot::take(registry.storage_root()).unwrap();
    let (status, headers, body) = ask(
        "DELETE",
        &format!("{}/v2/app/manifests/v1", front.url()),
        None,
    );
    assert_eq!(status, 405);
    assert_eq!(header(&headers, "Content-Type"), Some("application/json"));
    assert_eq!(
        body,
        "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"The operation is unsupported.\"}]}\n"
    );
    let after = TreeSnapshot::take(registry.storage_root()).unwrap();
    assert_eq!(before.differences(&after), Vec::<String>::new());
    assert_eq!(seeder.tags("app").unwrap(), ["v1"]);
}

#[test]
fn skopeo_pushes_and_garbage_collection_marks_what_is_linked() {
    let registry = Registry::start(RegistryOptions::default()).unwrap();
    let url = registry.url();
    let first = skopeo_push(
        &url,
        None,
        "app",
        "main",
        &OciImage::new("first", OffsetDateTime::now_utc()),
    )
    .unwrap();
    let second = skopeo_push(
        &url,
        None,
        "app",
        "main",
        &OciImage::new("second", OffsetDateTime::now_utc()),
    )
    .unwrap();
    assert_ne!(first, second);
    let seeder = Seeder::new(&url, None);
    assert_eq!(
        seeder.tag_digest("app", "main").unwrap().as_deref(),
        Some(second.as_str())
    );
    let manifest = seeder.fetch_manifest("app", &second).unwrap().unwrap();
    let document: serde_json::Value = serde_json::from_slice(&manifest.body).unwrap();
    let config = document["config"]["digest"].as_str().unwrap();
    let layer = document["layers"][0]["digest"].as_str().unwrap();

    let options = GcOptions {
        dry_run: true,
        delete_untagged: false,
    };
    let all = garbage_collect(registry.config_path(), options).unwrap();
    assert_eq!(all.repositories, ["app"]);
    assert_eq!(
        all.marked("app"),
        BTreeSet::from([first.clone(), second.clone()])
    );
    assert!(all.marked_blobs["app"].contains(config));
    assert!(all.marked_blobs["app"].contains(layer));
    assert!(all.eligible_blobs.is_empty());
    assert_eq!(all.counts.2, 0);

    let untagged = garbage_collect(
        registry.config_path(),
        GcOptions {
            delete_untagged: true,
            ..options
        },
    )
    .unwrap();
    assert_eq!(untagged.marked("app"), BTreeSet::from([second.clone()]));
    assert_eq!(
        untagged.eligible_manifests["app"],
        BTreeSet::from([first.clone()])
    );
    assert!(untagged.eligible_blobs.contains(&first));
    assert_eq!(untagged.counts.2, 1);
    assert_eq!(untagged.counts.1, untagged.eligible_blobs.len());
    // A dry run removes nothing.
    assert!(seeder.manifest_exists("app", &first).unwrap());
}
