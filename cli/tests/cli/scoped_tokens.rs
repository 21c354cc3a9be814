//! A registry whose token server is scoped like GitLab's: the account gets
//! no catalog, `pull` and `delete` on one repository and `pull` only on the
//! other. The real registry (`auth: token`) checks every token; what it
//! served and what the token server was asked are read from their logs.
//! Also the basic-auth rule: the first 401/403 on a DELETE in a repository
//! skips the rest of it (a real nginx in front refuses DELETE in one
//! repository, as admins do with a `limit_except`-style location).

use crate::common::block_on;
use std::collections::BTreeSet;

use crate::common::cleanreg;
use cleanreg_core::{Credentials, DeletePermissions, Outcome, Policy, ScanScope, plan};
use cleanreg_testkit::{
    Fixture, Nginx, NginxOptions, TokenServerOptions, TokenUser, assert_newest_remain,
};
use serde_json::Value;
use time::OffsetDateTime;

const DEV: &str = "dev";
const DEV_PASSWORD: &str = "dev-pw";
const PERMITTED: &str = "team/app";
const PULL_ONLY: &str = "team/tool";

/// The registry behind a GitLab-like token server: `admin` may do
/// anything, [`DEV`] gets no catalog, pull and delete on [`PERMITTED`] and
/// pull only on [`PULL_ONLY`]; two repositories of five images; the
/// registry's access log on.
fn scoped_registry() -> Fixture {
    Fixture::open()
        .token_auth(
            TokenServerOptions {
                users: vec![
                    TokenUser::admin("admin", "admin-pw"),
                    TokenUser::scoped(
                        DEV,
                        DEV_PASSWORD,
                        &[(PERMITTED, &["pull", "delete"]), (PULL_ONLY, &["pull"])],
                    ),
                ],
                ..TokenServerOptions::default()
            },
            ("admin", "admin-pw"),
        )
        .access_log()
        .two_repos()
        .start()
}

/// Requests the registry logged whose request line starts with this,
/// e.g. `DELETE /v2/team/tool/`.
fn logged(setup: &Fixture, start: &str) -> usize {
    let log = std::fs::read_to_string(setup.registry.log_path()).unwrap();
    log.lines()
        .filter(|line| line.contains(&format!("\"{start}")))
        .count()
}

/// Token requests by `dev` that asked for this scope.
fn asked(setup: &Fixture, scope: &str) -> usize {
    setup
        .tokens()
        .requests()
        .iter()
        .filter(|r| r.username.as_deref() == Some(DEV))
        .filter(|r| r.scopes.iter().any(|s| s == scope))
        .count()
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_policy_of_globs_without_the_catalog_says_why_and_how() {
    let setup = scoped_registry();
    let cli = cleanreg();
    let policy = write(
        &cli.work(),
        "policy.toml",
        "[repositories.\"team/*\"]\nkeep_newest = 2\n",
    );
    let url = setup.registry.url();
    let ran = cli
        .run(&[
            "-r",
            &url,
            "-u",
            DEV,
            "-pw",
            DEV_PASSWORD,
            "--policy",
            &policy,
            "-y",
        ])
        .exits(1);
    let text = ran.stderr.clone();
    assert!(
        text.contains("does not list its repositories to this account"),
        "{text}"
    );
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("team/*"), "the glob is named: {text}");
    assert!(text.contains("-n NAME"), "the fix is named: {text}");
    assert!(text.contains("nothing was deleted"), "{text}");
    // The catalog was asked for (and refused), nothing else was deleted.
    assert!(asked(&setup, "registry:catalog:*") >= 1);
    assert_eq!(logged(&setup, "DELETE "), 0);
    assert_newest_remain(&setup.seeder, &setup.repos, 5);

    // The same policy with the repositories named works, catalog unread.
    let catalog_before = logged(&setup, "GET /v2/_catalog");
    let asked_before = asked(&setup, "registry:catalog:*");
    cli.run(&[
        "-r",
        &url,
        "-u",
        DEV,
        "-pw",
        DEV_PASSWORD,
        "--policy",
        &policy,
        "-n",
        PERMITTED,
        "-n",
        PULL_ONLY,
        "--dry-run",
    ])
    .exits(0);
    assert_eq!(logged(&setup, "GET /v2/_catalog"), catalog_before);
    assert_eq!(asked(&setup, "registry:catalog:*"), asked_before);
}

fn entries_of<'a>(json: &'a Value, repository: &str) -> Vec<&'a Value> {
    json["plan"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["repository"] == repository)
        .collect()
}

#[test]
fn deletes_without_permission_are_marked_before_apply_and_never_sent() {
    let setup = scoped_registry();
    let cli = cleanreg();
    let url = setup.registry.url();
    let args = [
        "-r",
        url.as_str(),
        "-u",
        DEV,
        "-pw",
        DEV_PASSWORD,
        "-n",
        PERMITTED,
        "-n",
        PULL_ONLY,
        "-k",
        "2",
    ];

    // The plan alone: marked before anything is sent.
    let mut dry: Vec<&str> = args.to_vec();
    dry.extend(["--dry-run", "--json"]);
    let ran = cli.run(&dry).exits(0);
    let json = ran.json();
    let blocked: Vec<&Value> = entries_of(&json, PULL_ONLY)
        .into_iter()
        .filter(|e| e["decision"]["decision"] == "delete")
        .collect();
    assert_eq!(blocked.len(), 3, "{}", ran.shown());
    for entry in &blocked {
        assert_eq!(entry["blocked"]["reason"], "no_delete_permission");
        assert_eq!(entry["blocked"]["repository"], PULL_ONLY);
    }
    for entry in entries_of(&json, PERMITTED) {
        assert!(entry.get("blocked").is_none(), "{entry}");
    }
    assert_eq!(json["totals"]["deleted_manifests"], 3);
    assert_eq!(json["totals"]["blocked"], 3);
    assert!(
        ran.stderr.contains("3 changes not sent")
            && ran.stderr.contains("no delete permission in team/tool"),
        "{}",
        ran.shown()
    );
    let row = ran
        .plan_row(&setup.repo(PULL_ONLY).images[4].image.digest, "image")
        .expect("the oldest image's row");
    assert!(
        row.contains("BLOCKED") && row.contains("cannot delete: no delete permission in team/tool"),
        "{row}"
    );
    assert_eq!(logged(&setup, "DELETE "), 0);
    // One token request per repository for its delete scope.
    assert_eq!(asked(&setup, &format!("repository:{PULL_ONLY}:delete")), 1);
    assert_eq!(asked(&setup, &format!("repository:{PERMITTED}:delete")), 1);

    // Apply: the permitted repository's deletes happen, the others are
    // skipped with the reason and never sent.
    let tokens_before = asked(&setup, &format!("repository:{PULL_ONLY}:delete"));
    let mut apply: Vec<&str> = args.to_vec();
    apply.extend(["-y", "--json"]);
    let ran = cli.run(&apply).exits(0);
    let json = ran.json();
    let outcomes = json["outcomes"].as_array().unwrap();
    let of = |repository: &str| -> Vec<&Value> {
        outcomes
            .iter()
            .filter(|o| o["repository"] == repository)
            .collect()
    };
    assert_eq!(of(PERMITTED).len(), 3);
    assert!(of(PERMITTED).iter().all(|o| o["outcome"] == "deleted"));
    assert_eq!(of(PULL_ONLY).len(), 3, "{}", ran.shown());
    for outcome in of(PULL_ONLY) {
        assert_eq!(outcome["outcome"], "skipped");
        assert_eq!(
            outcome["reason"],
            "cannot delete: no delete permission in team/tool"
        );
    }
    assert_eq!(json["counts"]["deleted"], 3);
    assert_eq!(json["counts"]["skipped"], 3);
    assert_eq!(logged(&setup, &format!("DELETE /v2/{PULL_ONLY}/")), 0);
    assert_eq!(logged(&setup, &format!("DELETE /v2/{PERMITTED}/")), 3);
    // The second run asked its own token (a new process) once more.
    assert_eq!(
        asked(&setup, &format!("repository:{PULL_ONLY}:delete")),
        tokens_before + 1
    );
    // The registry: two newest of team/app remain, team/tool untouched.
    assert_newest_remain(&setup.seeder, &[setup.repo(PERMITTED).clone()], 2);
    assert_newest_remain(&setup.seeder, &[setup.repo(PULL_ONLY).clone()], 5);
    assert_eq!(logged(&setup, "GET /v2/_catalog"), 0);
}

#[test]
fn unknown_permissions_leave_it_to_the_registry_and_stop_at_its_first_refusal() {
    // The core API without asking the token server first: the plan marks
    // nothing, and the registry's own 401 on the first DELETE in team/tool
    // skips the rest of team/tool.
    let setup = scoped_registry();
    let client = crate::common::client(
        &setup.registry.url(),
        Some(Credentials::new(DEV, DEV_PASSWORD)),
    );
    block_on(client.ping()).unwrap();
    let scope = ScanScope::parse_list("team/app\nteam/tool\n").unwrap();
    let inventory = block_on(client.scan(&scope, &mut |_| {})).unwrap();
    let made = plan(
        &inventory,
        &Policy::keep_newest(2),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(made.blocked().count(), 0);
    assert_eq!(made.deletes().count(), 6);
    let report = block_on(client.apply(&made, &mut |_, _| {}));
    let tool: Vec<&Outcome> = report
        .outcomes
        .iter()
        .filter(|o| o.repository.as_str() == PULL_ONLY)
        .map(|o| &o.outcome)
        .collect();
    assert_eq!(tool.len(), 3);
    match tool[0] {
        Outcome::Failed { reason } => {
            assert!(
                reason.starts_with("no delete permission in team/tool: ")
                    && reason.contains("HTTP 401"),
                "{reason}"
            );
        }
        other => panic!("the first DELETE is refused: {other:?}"),
    }
    for later in &tool[1..] {
        match later {
            Outcome::Skipped { reason } => assert!(
                reason.starts_with("cannot delete: no delete permission in team/tool"),
                "{reason}"
            ),
            other => panic!("the rest is skipped: {other:?}"),
        }
    }
    // One manifest was asked to go (the registry's 401 and the client's
    // one retry with a token for the scope it names), none after it.
    let log = std::fs::read_to_string(setup.registry.log_path()).unwrap();
    let refused: BTreeSet<&str> = log
        .lines()
        .filter_map(|line| line.split_once(&format!("\"DELETE /v2/{PULL_ONLY}/")))
        .map(|(_, rest)| rest.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_newest_remain(&setup.seeder, &[setup.repo(PERMITTED).clone()], 2);
    assert_newest_remain(&setup.seeder, &[setup.repo(PULL_ONLY).clone()], 5);

    // Asked now, the token server's answer is read from its token.
    let permissions = block_on(client.delete_permissions(inventory.repositories.keys()));
    let mut expected = DeletePermissions::none_denied();
    expected.deny(PULL_ONLY.parse().unwrap());
    assert_eq!(permissions, expected);
    let denied: BTreeSet<&str> = permissions.denied().map(|n| n.as_str()).collect();
    assert_eq!(denied, BTreeSet::from([PULL_ONLY]));
}

#[test]
fn a_catalog_refusal_names_the_prefixes_it_cannot_expand() {
    let setup = scoped_registry();
    let client = crate::common::client(
        &setup.registry.url(),
        Some(Credentials::new(DEV, DEV_PASSWORD)),
    );
    block_on(client.ping()).unwrap();
    let scope = ScanScope::parse_list("team/\nteam/app\n").unwrap();
    let error = block_on(client.scan(&scope, &mut |_| {})).unwrap_err();
    assert!(error.refuses_catalog(), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("the name prefix team/ cannot be listed without the catalog"),
        "{text}"
    );
    // The admin can list everything: the prefix filters the catalog.
    let admin = crate::common::client(
        &setup.registry.url(),
        Some(Credentials::new("admin", "admin-pw")),
    );
    block_on(admin.ping()).unwrap();
    let scope = ScanScope::parse_list("other/\nteam/app\n").unwrap();
    let inventory = block_on(admin.scan(&scope, &mut |_| {})).unwrap();
    let names: Vec<&str> = inventory.repositories.keys().map(|n| n.as_str()).collect();
    assert_eq!(names, [PERMITTED]);
    let scope = ScanScope::parse_list("team/\n").unwrap();
    let inventory = block_on(admin.scan(&scope, &mut |_| {})).unwrap();
    assert_eq!(inventory.repositories.len(), 2);
    assert!(!inventory.whole_registry);
}

/// nginx in front of a basic-auth registry that answers DELETE under
/// `/v2/team/tool/` with 403 `DENIED` (the registry's error format), as a
/// path-restricted proxy does; everything else goes to the registry.
fn refusing_front(upstream: &str, access_log: &std::path::Path) -> String {
    format!(
        "server {{
    listen 80;
    access_log {log};
    client_max_body_size 0;
    location /v2/team/tool/ {{
        default_type application/json;
        if ($request_method = DELETE) {{
            return 403 '{{\"errors\":[{{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}}]}}';
        }}
        proxy_pass {upstream};
        proxy_set_header Host $http_host;
    }}
    location / {{
        proxy_pass {upstream};
        proxy_set_header Host $http_host;
    }}
}}
",
        log = access_log.display()
    )
}

#[test]
fn with_basic_auth_the_first_refused_delete_skips_the_rest_of_its_repository() {
    let seeded = crate::common::seeded(crate::common::with_auth());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("front.log");
    let front = Nginx::start(NginxOptions {
        site: Some(refusing_front(&seeded.registry.url(), &log)),
        ..NginxOptions::default()
    })
    .expect("start nginx");
    let cli = cleanreg();
    let url = front.url();
    let ran = cli
        .run(&[
            "-r",
            &url,
            "-u",
            crate::common::USER,
            "-pw",
            crate::common::PASSWORD,
            "-n",
            PERMITTED,
            "-n",
            PULL_ONLY,
            "-k",
            "2",
            "-y",
            "--json",
        ])
        .exits(3);
    let json = ran.json();
    let outcomes = json["outcomes"].as_array().unwrap();
    let tool: Vec<&Value> = outcomes
        .iter()
        .filter(|o| o["repository"] == PULL_ONLY)
        .collect();
    assert_eq!(tool.len(), 3, "{}", ran.shown());
    assert_eq!(tool[0]["outcome"], "failed");
    let first = tool[0]["reason"].as_str().unwrap();
    assert!(
        first.contains("no delete permission in team/tool") && first.contains("HTTP 403 DENIED"),
        "{first}"
    );
    for later in &tool[1..] {
        assert_eq!(later["outcome"], "skipped");
        let reason = later["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("cannot delete: no delete permission in team/tool (the registry refused the delete of ")
                && reason.contains("HTTP 403"),
            "{reason}"
        );
    }
    let app: Vec<&Value> = outcomes
        .iter()
        .filter(|o| o["repository"] == PERMITTED)
        .collect();
    assert_eq!(app.len(), 3);
    assert!(app.iter().all(|o| o["outcome"] == "deleted"), "{app:?}");
    assert!(
        ran.stdout.len() > 2 && ran.stderr.contains("Skipped:"),
        "{}",
        ran.shown()
    );
    // Exactly one DELETE reached the front for team/tool.
    let front_log = std::fs::read_to_string(&log).unwrap();
    let tool_deletes = front_log
        .lines()
        .filter(|l| l.contains("\"DELETE /v2/team/tool/"))
        .count();
    assert_eq!(tool_deletes, 1, "{front_log}");
    assert_newest_remain(&seeded.seeder, &[seeded.repo(PERMITTED).clone()], 2);
    assert_newest_remain(&seeded.seeder, &[seeded.repo(PULL_ONLY).clone()], 5);
}
