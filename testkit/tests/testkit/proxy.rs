//! The failing proxy in front of a real registry: it forwards reads, writes
//! and deletes unchanged, except the first DELETE of a chosen digest.

use cleanreg_testkit::{
    FailingProxy, MANIFEST_ACCEPT, Registry, RegistryOptions, Seeder, two_repos_five_images,
};
use time::OffsetDateTime;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

#[test]
fn the_first_delete_of_the_chosen_digest_fails_and_the_next_goes_through() {
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some(("admin".into(), "proxy-pw".into())),
        ..RegistryOptions::default()
    })
    .unwrap();
    let seeder = Seeder::new(&registry.url(), registry.credentials());
    let repos = two_repos_five_images(&seeder, OffsetDateTime::now_utc()).unwrap();
    let doomed = repos[0].images[4].image.digest.clone();
    let other = repos[0].images[3].image.digest.clone();
    let proxy = FailingProxy::start(&registry.url(), &[doomed.as_str()]).unwrap();
    // Everything through the proxy: auth, reads and writes pass unchanged.
    let through = Seeder::new(&proxy.url(), registry.credentials());
    assert_eq!(through.catalog().unwrap(), ["team/app", "team/tool"]);
    assert_eq!(
        through.tag_digest("team/app", "v1").unwrap().as_deref(),
        Some(doomed.as_str())
    );
    let fetched = through
        .fetch_manifest("team/app", &doomed)
        .unwrap()
        .unwrap();
    assert_eq!(fetched.body, repos[0].images[4].image.manifest);

    // HEAD keeps the upstream's length and digest.
    let head = agent()
        .head(format!("{}/v2/team/app/manifests/{doomed}", proxy.url()))
        .header("Accept", MANIFEST_ACCEPT.join(", "))
        .header("Authorization", "Basic YWRtaW46cHJveHktcHc=")
        .call()
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["Content-Length"],
        repos[0].images[4].image.manifest.len().to_string().as_str()
    );
    assert_eq!(head.headers()["Docker-Content-Digest"], doomed.as_str());

    let delete = |digest: &str| {
        let mut response = agent()
            .delete(format!("{}/v2/team/app/manifests/{digest}", proxy.url()))
            .header("Authorization", "Basic YWRtaW46cHJveHktcHc=")
            .call()
            .unwrap();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (response.status().as_u16(), body)
    };
    let (status, body) = delete(&doomed);
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("injected failure"), "{body}");
    assert!(seeder.manifest_exists("team/app", &doomed).unwrap());
    assert_eq!(delete(&other).0, 202, "other digests are never failed");
    assert_eq!(delete(&doomed).0, 202, "the second delete goes through");
    assert!(!seeder.manifest_exists("team/app", &doomed).unwrap());
    assert_eq!(proxy.failed_deletes().len(), 1);
    assert_eq!(proxy.deletes().len(), 3);
}
