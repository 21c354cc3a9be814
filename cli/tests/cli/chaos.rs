//! The CLI's engine (core's client over the CLI's native transport) through
//! a proxy that injects faults from a seed (testkit's `ChaosProxy`: server
//! errors, 429 with and without Retry-After, resets before and after the
//! registry acted, slow answers, cut bodies, a wrong Docker-Content-Digest,
//! HTML pages) at 5 %, 20 % and 50 % of requests, in front of the real
//! registry holding every manifest kind (the protocol zoo).
//!
//! Each run: the scan either completes with exactly the inventory a
//! fault-free scan sees, or stops with an error that names the request (the
//! plan of a fault-free scan is then applied through the faults instead);
//! the apply deletes nothing outside the plan; and every entry's reported
//! outcome matches what the registry holds afterwards, asked directly. A
//! failed delete whose outcome could not be checked says so (`UNVERIFIED`)
//! and is counted apart.
//!
//! `CLEANREG_CHAOS_RUNS=N` sets the runs per rate (default 4); the figures
//! are printed (`cargo test -p cleanreg --test chaos -- --nocapture`).

use crate::common::block_on;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{PASSWORD, USER, with_auth};
use cleanreg::NativeTransport;
use cleanreg_core::{
    ALREADY_GONE, Client, Credentials, Inventory, Outcome, Policy, RetryPolicy, ScanScope,
    UNVERIFIED, plan,
};
use cleanreg_testkit::{ChaosOptions, ChaosProxy, Fault, Fixture};

const RATES: [u32; 3] = [5, 20, 50];

fn client(url: &str) -> Client<NativeTransport> {
    crate::common::client(url, Some(Credentials::new(USER, PASSWORD)))
        // The default waits (0.5 s doubling, Retry-After up to 30 s) make no
        // difference to the outcome; shorter ones keep the runs quick.
        .with_retry(RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        })
}

#[derive(Default)]
struct Tally {
    runs: usize,
    scans_completed: usize,
    scans_stopped: usize,
    entries_checked: usize,
    deleted: usize,
    unverified: usize,
    wrong: Vec<String>,
    faults: BTreeMap<Fault, usize>,
}

/// Whether the registry, asked directly (no faults), still has the manifest.
fn present(direct: &Client<NativeTransport>, repository: &str, digest: &str) -> bool {
    block_on(direct.manifest_exists(&repository.parse().unwrap(), &digest.parse().unwrap()))
        .expect("the registry answers a direct HEAD")
}

fn every_manifest(inventory: &Inventory) -> BTreeSet<(String, String)> {
    inventory
        .repositories
        .iter()
        .flat_map(|(name, repo)| {
            repo.images
                .keys()
                .map(move |digest| (name.to_string(), digest.to_string()))
        })
        .collect()
}

fn one_run(rate: u32, seed: u64, tally: &mut Tally) {
    let Fixture {
        registry,
        seeder: _,
        zoo,
        ..
    } = Fixture::with(with_auth()).zoo().start();
    let zoo = zoo.expect("the zoo");
    let direct = client(&registry.url());
    let truth = block_on(direct.scan(&ScanScope::Catalog, &mut |_| {})).expect("fault-free scan");
    let policy = Policy::keep_newest(1);
    let expected = plan(&truth, &policy, zoo.now);

    let proxy = ChaosProxy::start(
        &registry.url(),
        ChaosOptions {
            seed,
            rate_percent: rate,
            slow: Duration::from_millis(150),
            delete_delay: Duration::ZERO,
        },
    )
    .expect("start the chaos proxy");
    let chaotic = client(&proxy.url());
    tally.runs += 1;
    let before = every_manifest(&truth);
    let report = match block_on(chaotic.scan(&ScanScope::Catalog, &mut |_| {})) {
        Err(error) => {
            // Stopped: the message names the request that failed, and nothing changed.
            let message = error.to_string();
            if !message.contains(&proxy.url()) {
                tally.wrong.push(format!(
                    "rate {rate} seed {seed}: the scan error names no request: {message}"
                ));
            }
            tally.scans_stopped += 1;
            // The apply still runs through the faults, on the plan of the
            // fault-free scan (made before, applied now).
            Some((
                expected.clone(),
                block_on(chaotic.apply(&expected, &mut |_, _| {})),
            ))
        }
        Ok(inventory) => {
            tally.scans_completed += 1;
            if inventory != truth {
                tally.wrong.push(format!(
                    "rate {rate} seed {seed}: the scan through faults completed with another inventory"
                ));
            }
            let planned = plan(&inventory, &policy, zoo.now);
            assert_eq!(planned, expected, "same inventory, same plan");
            Some((
                planned.clone(),
                block_on(chaotic.apply(&planned, &mut |_, _| {})),
            ))
        }
    };
    for (fault, count) in proxy.injected() {
        *tally.faults.entry(fault).or_default() += count;
    }
    drop(proxy);

    // The registry, asked directly.
    let present = |repository: &str, digest: &str| present(&direct, repository, digest);
    let planned: BTreeSet<(String, String)> =
        report.as_ref().map_or_else(BTreeSet::new, |(p, _)| {
            p.deletes()
                .map(|e| (e.repository.to_string(), e.digest.to_string()))
                .collect()
        });
    for (repository, digest) in &before {
        if !planned.contains(&(repository.clone(), digest.clone())) && !present(repository, digest)
        {
            tally.wrong.push(format!(
                "rate {rate} seed {seed}: {repository}@{digest} is gone but was not in the plan"
            ));
        }
    }
    let Some((_, report)) = report else { return };
    for entry in &report.outcomes {
        tally.entries_checked += 1;
        let repository = entry.repository.to_string();
        let digest = entry.digest.to_string();
        let there = present(&repository, &digest);
        let truthful = match &entry.outcome {
            Outcome::Deleted => {
                tally.deleted += 1;
                !there
            }
            Outcome::Skipped { reason } if reason == ALREADY_GONE => !there,
            Outcome::Failed { reason } if reason.starts_with(UNVERIFIED) => {
                tally.unverified += 1;
                true
            }
            Outcome::Skipped { .. } | Outcome::Failed { .. } => there,
            // This run's plans remove no tags.
            Outcome::TagRemoved { .. } => false,
        };
        if !truthful {
            tally.wrong.push(format!(
                "rate {rate} seed {seed}: {repository}@{digest} reported {:?} but the registry {} it",
                entry.outcome,
                if there { "still has" } else { "no longer has" }
            ));
        }
    }
}

#[test]
fn faults_never_cause_a_wrong_delete_or_a_wrong_report() {
    let runs: u64 = std::env::var("CLEANREG_CHAOS_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    let mut by_rate = Vec::new();
    let mut all_wrong = Vec::new();
    for rate in RATES {
        let mut tally = Tally::default();
        for seed in 0..runs {
            one_run(rate, 1_000 * u64::from(rate) + seed, &mut tally);
        }
        let faults: usize = tally.faults.values().sum();
        eprintln!(
            "chaos {rate:>2} %: {} runs, scans completed {} / stopped with a named error {}, \
             {} entries checked ({} deleted, {} unverified), {faults} faults injected {:?}, {} wrong",
            tally.runs,
            tally.scans_completed,
            tally.scans_stopped,
            tally.entries_checked,
            tally.deleted,
            tally.unverified,
            tally.faults,
            tally.wrong.len()
        );
        all_wrong.extend(tally.wrong.iter().cloned());
        by_rate.push((rate, tally));
    }
    assert!(
        all_wrong.is_empty(),
        "wrong results:\n{}",
        all_wrong.join("\n")
    );
    // The runs tested something: faults hit, and at 5 % applies ran and deleted.
    let (_, low) = &by_rate[0];
    assert!(
        low.scans_completed > 0 && low.deleted > 0,
        "no apply ran at 5 %"
    );
    assert!(
        by_rate
            .iter()
            .all(|(_, t)| t.faults.values().sum::<usize>() > 0)
    );
}

/// The `cleanreg` binary itself, as cron runs it (`-cf -k 1 -y --json`,
/// default retry waits), through 20 % faults: it either stops naming the
/// failing request before deleting anything, or its `--json` outcomes match
/// the registry and nothing outside its plan is gone.
#[test]
fn the_cleanreg_command_through_faults() {
    let Fixture {
        registry,
        seeder: _,
        ..
    } = Fixture::with(with_auth()).zoo().start();
    let direct = client(&registry.url());
    let truth = block_on(direct.scan(&ScanScope::Catalog, &mut |_| {})).expect("fault-free scan");
    let before = every_manifest(&truth);
    let proxy = ChaosProxy::start(
        &registry.url(),
        ChaosOptions {
            seed: 2026,
            rate_percent: 20,
            slow: Duration::from_millis(150),
            delete_delay: Duration::ZERO,
        },
    )
    .expect("start the chaos proxy");
    let dir = tempfile::tempdir().unwrap();
    let recovery = dir.path().join("recovery.json");
    let ran = crate::common::cleanreg().run_with(
        &[
            "-r",
            &proxy.url(),
            "-cf",
            "-k",
            "1",
            "-y",
            "--json",
            "-u",
            USER,
            "--recovery-file",
            crate::common::arg(&recovery),
        ],
        &[("CLEANREG_PASSWORD", PASSWORD)],
        "",
    );
    let stderr = &ran.stderr;
    let faults: usize = proxy.injected().values().sum();
    let present = |repository: &str, digest: &str| present(&direct, repository, digest);
    if ran.stdout.is_empty() {
        // Stopped before deleting: named the request; nothing changed.
        assert!(stderr.contains(&proxy.url()), "{stderr}");
        for (repository, digest) in &before {
            assert!(present(repository, digest), "{repository}@{digest} went");
        }
        eprintln!("cleanreg through 20 % faults ({faults} injected): stopped: {stderr}");
        return;
    }
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).expect("--json");
    let planned: BTreeSet<(String, String)> = report["plan"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["decision"]["decision"] == "delete")
        .map(|e| {
            (
                e["repository"].as_str().unwrap().to_owned(),
                e["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (repository, digest) in &before {
        if !planned.contains(&(repository.clone(), digest.clone())) {
            assert!(
                present(repository, digest),
                "{repository}@{digest} went but was not planned"
            );
        }
    }
    let outcomes = report["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), planned.len());
    for entry in outcomes {
        let (repository, digest) = (
            entry["repository"].as_str().unwrap(),
            entry["digest"].as_str().unwrap(),
        );
        let there = present(repository, digest);
        // EntryOutcome flattens its outcome: `outcome` and `reason` beside the digest.
        let reason = entry["reason"].as_str().unwrap_or_default();
        match entry["outcome"].as_str().unwrap() {
            "deleted" => assert!(!there, "{entry}"),
            "failed" if reason.starts_with(UNVERIFIED) => {}
            "skipped" if reason == ALREADY_GONE => assert!(!there, "{entry}"),
            _ => assert!(there, "{entry}"),
        }
    }
    let expected = if outcomes.iter().any(|e| e["outcome"] == "failed") {
        3
    } else {
        0
    };
    assert_eq!(ran.code, Some(expected), "{stderr}");
    eprintln!(
        "cleanreg through 20 % faults ({faults} injected): {} outcomes checked, exit {:?}",
        outcomes.len(),
        ran.code
    );
}
