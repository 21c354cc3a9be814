//! `--policy` with another registry's policy: the example of each format
//! (docs/import-examples/) is detected, its report goes to stderr, and the
//! plan it gives on a seeded registry is the one the source would make.
//! The GitLab and ECR policies are applied and the registry API checked.

use std::collections::BTreeMap;

use crate::common::{arg, cleanreg};
use cleanreg_testkit::{Fixture, ImageSpec, Seeder, planned};
use time::OffsetDateTime;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/import-examples/");

/// Pushes one image per `(tags, days old)` and returns tag -> digest.
fn seed(seeder: &Seeder, repo: &str, images: &[(&[&str], i64)]) -> BTreeMap<String, String> {
    let mut digests = BTreeMap::new();
    for (tags, days) in images {
        let created = OffsetDateTime::now_utc() - time::Duration::days(*days);
        let pushed = seeder
            .push_image(
                repo,
                &ImageSpec::new(format!("{repo}-{}", tags[0]), Some(created)),
                tags,
            )
            .unwrap();
        for tag in *tags {
            digests.insert((*tag).to_owned(), pushed.digest.clone());
        }
    }
    digests
}

fn example(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(EXAMPLES).join(name)
}

#[test]
fn each_format_imports_reports_and_plans_as_its_source_would() {
    let Fixture { registry, .. } = Fixture::open().start();
    let url = registry.url();
    let seeder = Seeder::new(&url, None);
    let gitlab = seed(
        &seeder,
        "gl/app",
        &[
            (&["main-1"], 70),
            (&["main-2"], 65),
            (&["main-3"], 60),
            (&["release-1.0"], 55),
            (&["main-4"], 50),
            (&["main-5"], 45),
            (&["main-6"], 40),
            (&["main-7"], 35),
            (&["main-8"], 20),
            (&["main-9", "latest"], 2),
        ],
    );
    let ecr = seed(
        &seeder,
        "ecr/svc",
        &[
            (&["prod-0", "stable"], 60),
            (&["dev-1"], 50),
            (&["prod-1"], 40),
            (&["prod-2"], 30),
            (&["prod-3"], 20),
            (&["prod-4"], 10),
        ],
    );
    let harbor = seed(
        &seeder,
        "harbor/web",
        &[
            (&["v1.0"], 60),
            (&["v2.3"], 50),
            (&["x1"], 40),
            (&["x2"], 30),
            (&["x3"], 20),
            (&["x4"], 10),
            (&["x5"], 5),
        ],
    );
    let zot = seed(
        &seeder,
        "infra/db",
        &[
            (&["1.0-stable"], 60),
            (&["b1"], 50),
            (&["b2"], 40),
            (&["b3"], 30),
            (&["b4"], 5),
        ],
    );
    let acr = seed(
        &seeder,
        "shop/web",
        &[
            (&["release-1"], 40),
            (&["build-1"], 30),
            (&["build-2"], 20),
            (&["build-3"], 15),
            (&["build-4"], 10),
            (&["build-5"], 3),
        ],
    );

    let cli = cleanreg();
    let run = |file: &str, repo: &str, extra: &[&str]| {
        let path = example(file);
        let mut args = vec!["-r", &url, "-n", repo, "--policy", arg(&path)];
        args.extend_from_slice(extra);
        cli.run(&args).exits(0)
    };
    let deleted_tags = |json: &serde_json::Value, digests: &BTreeMap<String, String>| {
        let doomed: Vec<String> = planned(json, "delete")
            .into_iter()
            .map(|(_, digest)| digest)
            .collect();
        let mut tags: Vec<String> = digests
            .iter()
            .filter(|(_, digest)| doomed.contains(digest))
            .map(|(tag, _)| tag.clone())
            .collect();
        tags.sort();
        tags
    };

    // Plans first (nothing deleted yet), each checked against the source's
    // own rules worked out by hand in the comments.
    // GitLab: latest and release-* out of the count; the newest 5 of the
    // rest, and those younger than 30 days; the rest goes.
    let plan = run("gitlab.json", "gl/app", &["--dry-run", "--json"]);
    assert!(
        plan.stderr_has("imported (GitLab cleanup policy): "),
        "{}",
        plan.shown()
    );
    assert!(
        plan.stderr_has("not mapped: container_expiration_policy.cadence"),
        "{}",
        plan.shown()
    );
    assert_eq!(
        deleted_tags(&plan.json(), &gitlab),
        ["main-1", "main-2", "main-3"]
    );
    // ECR: the newest 3 prod images; prod-0 also carries stable, so it is
    // kept (ECR would expire it: the report says so).
    let plan = run("ecr.json", "ecr/svc", &["--dry-run", "--json"]);
    assert!(
        plan.stderr_has("imported (ECR lifecycle policy): "),
        "{}",
        plan.shown()
    );
    assert!(
        plan.stderr_has("not mapped: rules[1] (untagged"),
        "{}",
        plan.shown()
    );
    assert_eq!(deleted_tags(&plan.json(), &ecr), ["prod-1"]);
    // Harbor: the 4 most recent everywhere, v1/v2 tags always in web
    // (read as */web here).
    let plan = run("harbor.json", "harbor/web", &["--dry-run", "--json"]);
    assert!(
        plan.stderr_has("Harbor tag retention rules"),
        "{}",
        plan.shown()
    );
    assert_eq!(deleted_tags(&plan.json(), &harbor), ["x1"]);
    // zot: -stable tags kept outside the count, the newest 2 others.
    let plan = run("zot.json", "infra/db", &["--dry-run", "--json"]);
    assert!(
        plan.stderr_has("not mapped: storage.retention.policies[1].keepTags[0].pulledWithin"),
        "{}",
        plan.shown()
    );
    assert_eq!(deleted_tags(&plan.json(), &zot), ["b1", "b2"]);
    // acr purge: build-* only; build-5 is younger than 7 days; the newest 2
    // older ones stay.
    let plan = run("acr.sh", "shop/web", &["--dry-run", "--json"]);
    assert!(plan.stderr_has("acr purge command"), "{}", plan.shown());
    assert_eq!(deleted_tags(&plan.json(), &acr), ["build-1", "build-2"]);

    // Applied: the registry API shows what the source would have left.
    run("gitlab.json", "gl/app", &["-y"]);
    let mut tags = seeder.tags("gl/app").unwrap();
    tags.sort();
    assert_eq!(
        tags,
        [
            "latest",
            "main-4",
            "main-5",
            "main-6",
            "main-7",
            "main-8",
            "main-9",
            "release-1.0"
        ]
    );
    for tag in ["main-1", "main-2", "main-3"] {
        assert!(
            !seeder.manifest_exists("gl/app", &gitlab[tag]).unwrap(),
            "{tag}"
        );
    }
    // ECR, this time with the format named and the repositories given as
    // a prefix (the catalog read, then only ecr/…).
    let applied = run("ecr.json", "ecr/", &["-y", "--policy-format", "ecr"]);
    assert!(!applied.stdout_has("gl/app"), "{}", applied.shown());
    let mut tags = seeder.tags("ecr/svc").unwrap();
    tags.sort();
    assert_eq!(
        tags,
        ["dev-1", "prod-0", "prod-2", "prod-3", "prod-4", "stable"]
    );
    assert!(!seeder.manifest_exists("ecr/svc", &ecr["prod-1"]).unwrap());
    // A second run deletes nothing more.
    let again = run("ecr.json", "ecr/svc", &["-y"]);
    assert!(again.stdout_has("Nothing to delete."), "{}", again.shown());
}

#[test]
fn a_named_format_that_does_not_fit_stops_before_the_registry_is_asked() {
    let cli = cleanreg();
    let path = example("gitlab.json");
    // No registry listens there: the policy is read first.
    let ran = cli
        .run(&[
            "-r",
            "http://127.0.0.1:9",
            "--policy",
            arg(&path),
            "--policy-format",
            "ecr",
        ])
        .exits(2);
    assert!(
        ran.stderr_has("rules: an ECR lifecycle policy has a list of rules"),
        "{}",
        ran.shown()
    );
}
