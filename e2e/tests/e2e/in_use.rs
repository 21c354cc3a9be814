//! Images in use in the dashboard: a file of image references picked on the
//! Plan tab pins an old image of each repository (one by tag, one by
//! digest, one by tag through another name of the registry typed in the
//! page) against keep-1; the report names what matched and what is
//! another registry's, the plan keeps the two with "in use", and after
//! apply the registry API shows exactly them and the newest still there.

use cleanreg_e2e::{dashboard, digests, expected_plan, run_script};
use cleanreg_testkit::{Fixture, RegistryOptions};

/// Another name of the registry, given in the page's "other names" field.
const ALIAS: &str = "registry.cluster.test:5000";

#[test]
#[ignore = "needs the release build in dist/ and Chromium: run `cargo xtask test`"]
fn a_file_of_images_in_use_keeps_them_through_apply() {
    let fixture = Fixture::with(RegistryOptions {
        basic_auth: Some(("admin".into(), "in-use-password".into())),
        ..RegistryOptions::default()
    })
    .two_repos()
    .page(dashboard())
    .start();
    let repos = &fixture.repos;
    // The dashboard reaches the registry on the page's origin.
    let page = fixture.page_url();
    let host = page
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let (app, tool) = (&repos[0], &repos[1]);
    let by_tag = app.images.last().unwrap();
    let by_digest = tool.images.last().unwrap();
    // The cluster also knows the registry by a name the page is not given.
    let by_alias = &app.images[app.images.len() - 2];
    let refs = format!(
        "# what the cluster runs\n{host}/{}:{}\n{host}/{}@{}\nghcr.io/team/other:1.0\n\
         {ALIAS}/{}:{}\n",
        app.name, by_tag.tags[0], tool.name, by_digest.image.digest, app.name, by_alias.tags[0]
    );
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("running.txt");
    std::fs::write(&file, refs).unwrap();

    let (mut kept, mut deleted) = expected_plan(repos, |_| 1);
    let pinned = [
        &by_tag.image.digest,
        &by_digest.image.digest,
        &by_alias.image.digest,
    ];
    deleted.retain(|digest| !pinned.contains(&digest));
    kept.extend(pinned.iter().map(|d| d.to_string()));
    kept.sort();

    let printed = run_script(
        "in_use.mjs",
        &[
            ("CLEANREG_URL", page.clone()),
            ("CLEANREG_USER", "admin".to_owned()),
            ("CLEANREG_PASSWORD", "in-use-password".to_owned()),
            ("CLEANREG_IN_USE_FILE", file.display().to_string()),
            ("CLEANREG_DELETES", deleted.len().to_string()),
            ("CLEANREG_PINNED", pinned.map(String::as_str).join(",")),
            ("CLEANREG_IN_USE_HOSTS", ALIAS.to_owned()),
        ],
    );
    let plan = printed.json("PLAN");
    assert_eq!(digests(&plan["keep"]), kept, "kept digests");
    assert_eq!(digests(&plan["delete"]), deleted, "deleted digests");
    let report = printed.json("REPORT");
    let report = report["text"].as_str().unwrap();
    assert!(
        report.contains(
            "in use (running.txt): 3 references to this registry keep 3 manifests; 1 \
             reference to other registries left aside"
        ) && report.contains("another registry: ghcr.io/team/other:1.0"),
        "{report}"
    );

    // Through the registry API: the newest and the two in use remain.
    for repo in repos {
        for (rank, image) in repo.images.iter().enumerate() {
            let exists = fixture
                .seeder
                .manifest_exists(&repo.name, &image.image.digest)
                .unwrap();
            let expected = rank == 0 || pinned.contains(&&image.image.digest);
            assert_eq!(
                exists,
                expected,
                "{} #{} {:?}",
                repo.name,
                rank + 1,
                image.tags
            );
        }
    }
}
