//! `--in-use FILE`: what pods run is never deleted, whatever the policy. A
//! `kubectl get pods -A -o json` file names one image by tag, one by the
//! digest the node pulled and one platform manifest of a multi-platform
//! image; a keep-2 run deletes everything else old, and the registry API
//! shows exactly those three (and the newest two) still there.

use crate::common::{arg, cleanreg};
use cleanreg_testkit::{Fixture, ImageFormat, ImageSpec, IndexSpec, Seeder};
use time::OffsetDateTime;

fn days_ago(days: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::now_utc() - time::Duration::days(days))
}

/// Pushes `v1` (oldest) to `v{count}` (newest) into `repo`, a day apart;
/// returns their digests in that order.
fn push_versions(seeder: &Seeder, repo: &str, count: i64) -> Vec<String> {
    (1..=count)
        .map(|n| {
            let tag = format!("v{n}");
            seeder
                .push_image(repo, &ImageSpec::new(&tag, days_ago(10 - n)), &[&tag])
                .unwrap()
                .digest
        })
        .collect()
}

#[test]
fn images_pods_run_are_kept_and_the_rest_goes() {
    let Fixture { registry, .. } = Fixture::open().start();
    let url = registry.url();
    let host = url.trim_start_matches("http://");
    let seeder = Seeder::new(&url, None);
    let repo = "team/web";
    // v1 oldest ... v6 newest; an older multi-platform image besides.
    let images = push_versions(&seeder, repo, 6);
    let index = IndexSpec::new(
        ImageFormat::Oci,
        [
            ImageSpec::new("multi-amd64", days_ago(20)).with_platform("amd64", "linux"),
            ImageSpec::new("multi-arm64", days_ago(20)).with_platform("arm64", "linux"),
        ],
    )
    .with_tag("multi-1");
    let pushed = seeder.push_index(repo, &index).unwrap();
    let children = pushed.child_digests();

    let cli = cleanreg();
    let pods = cli.work().join("pods.json");
    std::fs::write(
        &pods,
        format!(
            r#"{{"apiVersion": "v1", "kind": "List", "items": [
              {{"metadata": {{"name": "web-1"}},
                "spec": {{"containers": [{{"name": "web", "image": "{host}/{repo}:v2"}}],
                          "initContainers": [{{"name": "migrate", "image": "{host}/{repo}@{child}"}}]}},
                "status": {{"containerStatuses": [
                  {{"name": "web", "imageID": "docker-pullable://{host}/{repo}@{v1}"}}]}}}},
              {{"metadata": {{"name": "proxy"}},
                "spec": {{"containers": [
                  {{"name": "nginx", "image": "nginx:1.27"}},
                  {{"name": "old", "image": "{host}/{repo}:gone"}}]}}}}
            ]}}"#,
            child = children[0],
            v1 = images[0],
        ),
    )
    .unwrap();

    // Keep-2, applied, with the pods file: the same run both times.
    let keep_two = || {
        cli.run(&[
            "-r",
            &url,
            "-n",
            repo,
            "-k",
            "2",
            "-y",
            "--in-use",
            arg(&pods),
        ])
        .exits(0)
    };
    let ran = keep_two();
    let source = pods.display().to_string();
    assert!(
        ran.stderr.contains(&format!(
            "in use ({source}): 3 references to this registry keep 3 manifests; 1 reference to \
             other registries left aside"
        )),
        "{}",
        ran.shown()
    );
    assert!(
        ran.stderr.contains(&format!(
            "not found: {host}/{repo}:gone: the tag does not exist"
        )),
        "{}",
        ran.shown()
    );
    assert!(
        ran.stderr
            .contains("another registry: docker.io/library/nginx:1.27"),
        "{}",
        ran.shown()
    );
    assert!(
        ran.stdout.contains(&format!("in use ({source})")),
        "the plan says why: {}",
        ran.shown()
    );

    // Through the registry API: what runs and the newest two are there.
    let exists = |digest: &str| seeder.manifest_exists(repo, digest).unwrap();
    for (n, digest) in images.iter().enumerate() {
        let kept = matches!(n + 1, 1 | 2 | 5 | 6);
        assert_eq!(exists(digest), kept, "v{}", n + 1);
    }
    assert!(!exists(&pushed.digest), "the index no pod names goes");
    assert!(
        exists(&children[0]),
        "the platform manifest a pod runs stays"
    );
    assert!(!exists(&children[1]), "its sibling goes with the index");
    let mut tags = seeder.tags(repo).unwrap();
    tags.sort();
    assert_eq!(tags, ["v1", "v2", "v5", "v6"]);

    // A second run changes nothing more.
    let again = keep_two();
    assert!(
        again.stdout.contains("Nothing to delete."),
        "{}",
        again.shown()
    );
}

#[test]
fn a_bad_in_use_line_stops_the_run_before_anything_is_asked() {
    let cli = cleanreg();
    let refs = cli.work().join("refs.txt");
    std::fs::write(&refs, "# what runs\n127.0.0.1:5000/app:1\nNot/A:ref\n").unwrap();
    // No registry listens there: the file is checked first.
    let ran = cli
        .run(&[
            "-r",
            "http://127.0.0.1:9",
            "-n",
            "app",
            "-k",
            "1",
            "--in-use",
            arg(&refs),
        ])
        .exits(2);
    assert!(
        ran.stderr
            .contains(&format!("{}: line 3: ", refs.display())),
        "{}",
        ran.shown()
    );
}

/// `--in-use-host`: the pods know the registry by another name than the
/// URL cleanreg is given. Without the name their image is another
/// registry's and goes; with it, it stays. A name with a scheme stops the
/// run before the registry is asked.
#[test]
fn the_registry_s_other_name_in_the_files_is_given_with_in_use_host() {
    let Fixture { registry, .. } = Fixture::open().start();
    let url = registry.url();
    let seeder = Seeder::new(&url, None);
    let repo = "team/api";
    let images = push_versions(&seeder, repo, 3);
    let cli = cleanreg();
    let refs = cli.work().join("running.txt");
    // The cluster pulls through a DNS name; cleanreg is given the address.
    std::fs::write(&refs, format!("registry.cluster.test:5000/{repo}:v1\n")).unwrap();
    let keep_one = |extra: &[&str]| {
        let mut args = vec!["-r", &url, "-n", repo, "-k", "1", "--in-use", arg(&refs)];
        args.extend_from_slice(extra);
        cli.run(&args)
    };

    let dry = keep_one(&["--dry-run"]).exits(0);
    assert!(
        dry.stderr
            .contains("another registry: registry.cluster.test:5000/team/api:v1"),
        "{}",
        dry.shown()
    );
    let refused = keep_one(&["--in-use-host", "https://registry.cluster.test:5000", "-y"]).exits(2);
    assert!(
        refused.stderr_has("without the scheme"),
        "{}",
        refused.shown()
    );
    assert!(
        seeder.manifest_exists(repo, &images[0]).unwrap(),
        "nothing deleted yet"
    );

    let ran = keep_one(&["--in-use-host", "Registry.Cluster.Test:5000", "-y"]).exits(0);
    assert!(
        ran.stderr
            .contains("1 reference to this registry keeps 1 manifest"),
        "{}",
        ran.shown()
    );
    let exists = |digest: &str| seeder.manifest_exists(repo, digest).unwrap();
    assert!(exists(&images[0]), "v1 runs");
    assert!(!exists(&images[1]), "v2 goes");
    assert!(exists(&images[2]), "v3 is the newest");
}
