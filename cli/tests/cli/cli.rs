//! The `cleanreg` binary, run as a user would, against a real registry.

use crate::common::{PASSWORD, Ran, USER, seeded, with_auth};

/// One run by a new user (its own working, state and cache directories).
fn cleanreg(args: &[&str], stdin: &str) -> Ran {
    crate::common::cleanreg().run_with_stdin(args, stdin)
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
    let shown = output.shown();
    println!("{shown}");
    assert!(output.code == Some(0), "{shown}");
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
    let shown = dry.shown();
    assert!(dry.code == Some(0), "{shown}");
    assert_eq!(shown.matches("DELETE ").count(), 4, "{shown}");
    assert!(
        shown.contains("5th newest, only the newest 1 is kept"),
        "{shown}"
    );
    assert!(shown.contains("Dry run: nothing was deleted."), "{shown}");

    let declined = cleanreg(&base, "n\n");
    let shown = declined.shown();
    assert!(
        shown.contains("[y/N]") && shown.contains("Nothing deleted."),
        "{shown}"
    );
    let no_answer = cleanreg(&base, "");
    assert!(no_answer.shown().contains("Nothing deleted."));
    seeded.assert_newest_remain(5);

    let accepted = cleanreg(&base, "y\n");
    assert!(accepted.code == Some(0), "{}", accepted.shown());
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
    let shown = wrong.shown();
    assert_eq!(wrong.code, Some(1), "a registry error exits 1: {shown}");
    assert!(
        shown.contains("UNAUTHORIZED") && shown.contains("username and password"),
        "{shown}"
    );
    assert!(!shown.contains("nope"), "{shown}");

    let bad_name = cleanreg(&["-r", &url, "-n", "Team/App", "-k", "1"], "");
    assert_eq!(bad_name.code, Some(2), "a usage error exits 2");
    assert!(
        bad_name
            .shown()
            .contains("invalid repository name \"Team/App\""),
        "{}",
        bad_name.shown()
    );
    let bad_url = cleanreg(&["-r", "127.0.0.1:5000", "-n", "a", "-k", "1"], "");
    assert!(
        bad_url.shown().contains("invalid registry URL"),
        "{}",
        bad_url.shown()
    );
    let no_password = cleanreg(&["-r", &url, "-n", "a", "-k", "1", "-u", USER], "");
    assert!(
        no_password.shown().contains("CLEANREG_PASSWORD"),
        "{}",
        no_password.shown()
    );
    seeded.assert_newest_remain(5);
}
