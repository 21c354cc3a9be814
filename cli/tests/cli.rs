//! The `cleanreg` binary, run as a user would, against a real registry.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{PASSWORD, USER, seeded, with_auth};

fn cleanreg(args: &[&str], stdin: &str) -> Output {
    // Recovery files land in the working directory: keep them out of the tree.
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cleanreg"))
        .args(args)
        .current_dir(workdir.path())
        // Scan history of other runs (another registry on the same port) stays out.
        .env("XDG_STATE_HOME", workdir.path().join("state"))
        .env_remove("CLEANREG_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cleanreg");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn deletes_all_but_the_newest_two_with_the_original_flags() {
    let seeded = seeded(with_auth());
    let url = seeded.registry.url();
    let args = [
        "-r",
        &url,
        "-n",
        "team/app",
        "-n",
        "team/tool",
        "-k",
        "2",
        "-u",
        USER,
        "-pw",
        PASSWORD,
        "-y",
    ];
    let output = cleanreg(&args, "");
    let shown = text(&output);
    println!("{shown}");
    assert!(output.status.success(), "{shown}");
    assert!(
        shown.contains("Summary: 6 deleted, 0 skipped, 0 failed (of 6)"),
        "{shown}"
    );
    assert!(shown.contains("garbage-collect"), "{shown}");
    assert!(
        shown.contains("latest,v5"),
        "the plan lists every tag of a digest: {shown}"
    );
    assert!(
        !shown.contains(PASSWORD),
        "the password never shows: {shown}"
    );
    seeded.assert_newest_remain(2);
}

#[test]
fn prints_the_plan_and_deletes_nothing_on_dry_run_or_a_no() {
    let seeded = seeded(with_auth());
    let url = seeded.registry.url();
    let base = [
        "-r",
        &url,
        "-n",
        "team/tool",
        "-k",
        "1",
        "-u",
        USER,
        "-pw",
        PASSWORD,
    ];

    let dry = cleanreg(&[&base[..], &["--dry-run"]].concat(), "");
    let shown = text(&dry);
    assert!(dry.status.success(), "{shown}");
    assert_eq!(shown.matches("DELETE ").count(), 4, "{shown}");
    assert!(
        shown.contains("5th newest, only the newest 1 is kept"),
        "{shown}"
    );
    assert!(shown.contains("Dry run: nothing was deleted."), "{shown}");

    let declined = cleanreg(&base, "n\n");
    let shown = text(&declined);
    assert!(
        shown.contains("[y/N]") && shown.contains("Nothing deleted."),
        "{shown}"
    );
    let no_answer = cleanreg(&base, "");
    assert!(text(&no_answer).contains("Nothing deleted."));
    seeded.assert_newest_remain(5);

    let accepted = cleanreg(&base, "y\n");
    assert!(accepted.status.success(), "{}", text(&accepted));
    let tool = seeded.repo("team/tool");
    for (rank, image) in tool.images.iter().enumerate() {
        let exists = seeded
            .seeder
            .manifest_exists("team/tool", &image.image.digest)
            .unwrap();
        assert_eq!(exists, rank == 0, "team/tool #{}", rank + 1);
    }
}

#[test]
fn bad_input_gets_a_clear_error_and_nothing_is_deleted() {
    let seeded = seeded(with_auth());
    let url = seeded.registry.url();

    let wrong = cleanreg(
        &[
            "-r", &url, "-n", "team/app", "-k", "0", "-u", USER, "-pw", "nope", "-y",
        ],
        "",
    );
    let shown = text(&wrong);
    assert_eq!(
        wrong.status.code(),
        Some(1),
        "a registry error exits 1: {shown}"
    );
    assert!(
        shown.contains("UNAUTHORIZED") && shown.contains("username and password"),
        "{shown}"
    );
    assert!(!shown.contains("nope"), "{shown}");

    let bad_name = cleanreg(&["-r", &url, "-n", "Team/App", "-k", "1"], "");
    assert_eq!(bad_name.status.code(), Some(2), "a usage error exits 2");
    assert!(
        text(&bad_name).contains("invalid repository name \"Team/App\""),
        "{}",
        text(&bad_name)
    );
    let bad_url = cleanreg(&["-r", "127.0.0.1:5000", "-n", "a", "-k", "1"], "");
    assert!(
        text(&bad_url).contains("invalid registry URL"),
        "{}",
        text(&bad_url)
    );
    let no_password = cleanreg(&["-r", &url, "-n", "a", "-k", "1", "-u", USER], "");
    assert!(
        text(&no_password).contains("CLEANREG_PASSWORD"),
        "{}",
        text(&no_password)
    );
    seeded.assert_newest_remain(5);
}
