//! cleanreg as a cron job runs it: a shell loop of runs one after another,
//! each with its own recovery file in the state directory, none failing
//! because of another's file; `restore --list` shows them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::{Cleanreg, Ran, arg, cleanreg};
use cleanreg_testkit::{Fixture, GcOptions, ImageSpec, Registry, Seeder, garbage_collect};
use serde_json::Value;
use time::OffsetDateTime;

const REPOSITORIES: usize = 10;

/// `cron/r0` .. `cron/r9`, two images each (`old` a day older than `new`);
/// returns `(name, digest of old, digest of new)`.
fn seed(registry: &Registry) -> Vec<(String, String, String)> {
    let seeder = Seeder::new(&registry.url(), registry.credentials());
    let now = OffsetDateTime::now_utc();
    (0..REPOSITORIES)
        .map(|index| {
            let name = format!("cron/r{index}");
            let old = ImageSpec::new(format!("{name}#old"), Some(now - time::Duration::days(2)))
                .with_layers(vec![512]);
            let new = ImageSpec::new(format!("{name}#new"), Some(now - time::Duration::days(1)))
                .with_layers(vec![512]);
            let old = seeder.push_image(&name, &old, &["old"]).expect("push old");
            let new = seeder.push_image(&name, &new, &["new"]).expect("push new");
            (name, old.digest, new.digest)
        })
        .collect()
}

fn recovery_dir(cli: &Cleanreg) -> PathBuf {
    cli.state().join("cleanreg/recovery")
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[test]
fn a_shell_loop_of_ten_runs_gives_ten_recovery_files_and_restore_lists_them() {
    let Fixture { registry, .. } = Fixture::open().start();
    let url = registry.url();
    let seeded = seed(&registry);
    let cli = cleanreg();
    // An earlier run's file under the old fixed-second name in the working
    // directory, and one in the recovery directory: neither is in the way.
    std::fs::write(
        cli.work().join("cleanreg-recovery-20261205T000000Z.json"),
        "earlier\n",
    )
    .unwrap();
    std::fs::create_dir_all(recovery_dir(&cli)).unwrap();
    let earlier = recovery_dir(&cli).join("cleanreg-recovery-20261205T000000.000000Z-1.json");
    std::fs::write(&earlier, "an earlier run's file\n").unwrap();

    let names: Vec<&str> = seeded.iter().map(|(name, _, _)| name.as_str()).collect();
    let script = format!(
        "for r in {}; do \"$CLEANREG\" -r {url} -n \"$r\" -k 1 -y; echo \"exit $r $?\"; done",
        names.join(" ")
    );
    let started = std::time::Instant::now();
    let Ran {
        code: status,
        stdout,
        stderr,
    } = cli.shell(&script);
    let elapsed = started.elapsed();
    println!("10 runs took {elapsed:?}\n--- stdout\n{stdout}--- stderr\n{stderr}");
    assert_eq!(status, Some(0), "{stderr}");
    for name in &names {
        assert!(
            stdout.contains(&format!("exit {name} 0\n")),
            "{name} exited 0:\n{stdout}{stderr}"
        );
    }

    // Ten new files, each named in the output of its run, each holding
    // exactly its repository's older image.
    let dir = recovery_dir(&cli);
    let mut files = files_in(&dir);
    assert!(files.remove(earlier.file_name().unwrap().to_str().unwrap()));
    assert_eq!(files.len(), REPOSITORIES, "{files:?}");
    let mut covered = BTreeSet::new();
    for file in &files {
        let path = dir.join(file);
        assert!(
            stdout.contains(&format!("Recovery file: {}", path.display())),
            "the path is printed: {file}\n{stdout}"
        );
        let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(saved["registry"], url.as_str());
        let entries = saved["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{saved}");
        let (name, old, _) = seeded
            .iter()
            .find(|(name, _, _)| entries[0]["repository"] == name.as_str())
            .expect("a seeded repository");
        assert_eq!(entries[0]["digest"], old.as_str());
        assert!(covered.insert(name.clone()), "one file per run");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
    assert_eq!(covered.len(), REPOSITORIES);
    assert_eq!(
        std::fs::read_to_string(&earlier).unwrap(),
        "an earlier run's file\n"
    );
    assert_eq!(
        files_in(&cli.work()),
        BTreeSet::from(["cleanreg-recovery-20261205T000000Z.json".to_owned()]),
        "nothing new in the working directory"
    );
    assert!(stdout.contains("/etc/distribution/config.yml"), "{stdout}");
    assert!(
        stdout.contains("/etc/docker/registry/config.yml"),
        "{stdout}"
    );

    // The registry: every repository kept its newer image only.
    let seeder = Seeder::new(&url, None);
    for (name, _, _) in &seeded {
        assert_eq!(seeder.tags(name).unwrap(), ["new"], "{name}");
    }

    // restore --list --storage: each file's blobs are there until a garbage
    // collection (run here on the idle registry) removes them.
    let storage = registry.storage_root().to_path_buf();
    let blob_column = |args: &[&str]| -> Vec<String> {
        let ran = cli.run(args).exits(0);
        ran.stdout
            .lines()
            .filter(|line| line.contains(&url))
            .map(|line| {
                // After PLANNED (3 words), AGE (2), REGISTRY, MANIFESTS and
                // TAGS, before FILE.
                let words: Vec<&str> = line.split_whitespace().collect();
                words[8..words.len() - 1].join(" ")
            })
            .collect()
    };
    let listing = ["restore", "--list", "--storage", arg(&storage)];
    assert_eq!(blob_column(&listing), vec!["all 2 there"; REPOSITORIES]);
    let gc = garbage_collect(registry.config_path(), GcOptions::default()).unwrap();
    assert!(!gc.eligible_blobs.is_empty(), "{gc:?}");
    assert_eq!(blob_column(&listing), vec!["2 of 2 gone"; REPOSITORIES]);

    // restore --list: offline (the registry is stopped), every file listed,
    // nothing removed.
    drop(registry);
    let listed = cli.run(&["restore", "--list"]).exits(0);
    let rows: Vec<&str> = listed
        .stdout
        .lines()
        .filter(|line| line.contains(&url))
        .collect();
    assert_eq!(rows.len(), REPOSITORIES, "{}", listed.shown());
    for row in &rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        // PLANNED is `YYYY-MM-DD HH:MM UTC`; AGE `just now`; then REGISTRY,
        // MANIFESTS, TAGS and FILE.
        assert_eq!(columns[3..5], ["just", "now"], "{row}");
        assert_eq!(columns[5..8], [url.as_str(), "1", "0"], "{row}");
        assert!(files.contains(columns[8]), "{row}");
    }
    assert!(
        listed
            .stdout
            .contains("cleanreg-recovery-20261205T000000.000000Z-1.json (unreadable:"),
        "{}",
        listed.shown()
    );
    assert!(
        listed.stdout.contains("garbage collection"),
        "{}",
        listed.shown()
    );
    let as_json = cli.run(&["restore", "--list", "--json"]).exits(0).json();
    let items = as_json.as_array().unwrap();
    assert_eq!(items.len(), REPOSITORIES + 1);
    assert!(items[..REPOSITORIES].iter().all(|item| {
        item["registry"] == url.as_str() && item["manifests"] == 1 && item["created"].is_string()
    }));
    assert!(items[REPOSITORIES]["unreadable"].is_string());
    assert_eq!(
        files_in(&dir).len(),
        REPOSITORIES + 1,
        "listing prunes nothing"
    );

    // Another directory, and one that does not exist.
    let elsewhere = cli.state().parent().unwrap().join("elsewhere");
    let empty = cli
        .run(&["restore", "--list", "--recovery-dir", arg(&elsewhere)])
        .exits(0);
    assert!(
        empty
            .stdout
            .contains(&format!("No recovery files in {}.", elsewhere.display())),
        "{}",
        empty.shown()
    );
}

#[test]
fn an_explicit_recovery_file_that_exists_still_stops_the_run_and_a_default_one_never_does() {
    let Fixture { registry, .. } = Fixture::open().start();
    let url = registry.url();
    let seeded = seed(&registry);
    let cli = cleanreg();
    let taken = cli.work().join("mine.json");
    std::fs::write(&taken, "kept\n").unwrap();
    let (name, _, _) = &seeded[0];
    let refused = cli
        .run(&[
            "-r",
            &url,
            "-n",
            name,
            "-k",
            "1",
            "-y",
            "--recovery-file",
            arg(&taken),
        ])
        .exits(1);
    assert!(
        refused.stderr.contains("already exists") && refused.stderr.contains("nothing was deleted"),
        "{}",
        refused.shown()
    );
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "kept\n");
    let seeder = Seeder::new(&url, None);
    let mut tags = seeder.tags(name).unwrap();
    tags.sort_unstable();
    assert_eq!(tags, ["new", "old"]);

    // --recovery-dir takes the default-named file; created when missing.
    let dir = cli.work().join("recoveries/deep");
    let ran = cli
        .run(&[
            "-r",
            &url,
            "-n",
            name,
            "-k",
            "1",
            "-y",
            "--json",
            "--recovery-dir",
            arg(&dir),
        ])
        .exits(0);
    let written = ran.json()["recovery_file"].as_str().unwrap().to_owned();
    assert!(written.starts_with(&dir.display().to_string()), "{written}");
    assert!(Path::new(&written).is_file());
    assert_eq!(seeder.tags(name).unwrap(), ["new"]);
}
