//! `cargo xtask fuzz`: the cargo-fuzz targets of `fuzz/` (libFuzzer, nightly)
//! over the parsers of untrusted input (repository files, policies,
//! `WWW-Authenticate`, `Link`, manifests, error envelopes, token answers,
//! referrers answers). Each target starts from
//! `fuzz/seeds/<target>/` and keeps what it finds in `fuzz/corpus/<target>/`;
//! a crash is saved under `fuzz/artifacts/<target>/` and fails the run.
//! `cargo xtask test` runs a short smoke pass of every target.

use crate::run::{Result, cmd, output_line, root};

pub const TARGETS: [&str; 8] = [
    "reposfile",
    "policy",
    "www_authenticate",
    "link",
    "manifest",
    "error_envelope",
    "token",
    "referrers",
];

/// Seconds per target of the smoke pass in `cargo xtask test`.
pub const SMOKE_SECONDS: u32 = 8;
const DEFAULT_SECONDS: u32 = 300;

/// What one target's run did.
pub struct Fuzzed {
    pub target: &'static str,
    pub executions: u64,
    pub seconds: u32,
}

/// Whether the nightly toolchain cargo fuzz needs is there.
pub fn nightly_available() -> bool {
    output_line("rustup", &["run", "nightly", "rustc", "--version"]).is_some()
}

pub fn command(args: &[String]) -> Result {
    let mut seconds = DEFAULT_SECONDS;
    let mut only: Option<String> = None;
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds wants a number")?;
                seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds wants a number, got {value:?}"))?;
            }
            "--target" => only = Some(args.next().ok_or("--target wants a name")?.clone()),
            _ => {
                return Err(format!(
                    "usage: cargo xtask fuzz [--seconds N] [--target {}]",
                    TARGETS.join("|")
                ));
            }
        }
    }
    if let Some(name) = &only
        && !TARGETS.contains(&name.as_str())
    {
        return Err(format!(
            "no fuzz target {name}; there are {}",
            TARGETS.join(", ")
        ));
    }
    let targets: Vec<&'static str> = TARGETS
        .into_iter()
        .filter(|t| only.as_deref().is_none_or(|name| name == *t))
        .collect();
    let results = run_targets(&targets, seconds)?;
    print!("{}", report(&results));
    Ok(())
}

/// One line per target and the total.
pub fn report(results: &[Fuzzed]) -> String {
    let mut text = String::new();
    for fuzzed in results {
        text.push_str(&format!(
            "fuzz {:<16} {:>12} executions in {} s, 0 crashes\n",
            fuzzed.target, fuzzed.executions, fuzzed.seconds
        ));
    }
    let total: u64 = results.iter().map(|f| f.executions).sum();
    text.push_str(&format!(
        "fuzz: {} targets, {total} executions, 0 crashes\n",
        results.len()
    ));
    text
}

/// The command that builds every target at once (`cargo fuzz run` then
/// finds its target built, with the same options).
pub fn build_command() -> std::process::Command {
    cmd("cargo", &["+nightly", "fuzz", "build"])
}

/// Runs each target for `seconds`; fails on the first crash, naming the
/// saved input.
pub fn run_targets(targets: &[&'static str], seconds: u32) -> Result<Vec<Fuzzed>> {
    if !nightly_available() {
        return Err(
            "cargo fuzz needs the nightly toolchain (`rustup toolchain install nightly`)".into(),
        );
    }
    let fuzz = root().join("fuzz");
    let mut results = Vec::new();
    for &target in targets {
        let corpus = fuzz.join("corpus").join(target);
        let artifacts = fuzz.join("artifacts").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        std::fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
        let mut command = cmd("cargo", &["+nightly", "fuzz", "run", target]);
        command
            .current_dir(root())
            .arg(&corpus)
            .arg(fuzz.join("seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1");
        eprintln!("$ cargo +nightly fuzz run {target} (for {seconds} s)");
        let output = command
            .output()
            .map_err(|e| format!("cannot start cargo fuzz (cargo xtask setup installs it): {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "fuzz target {target} failed ({}); its input is saved in {}:\n{}",
                output.status,
                artifacts.display(),
                tail.join("\n")
            ));
        }
        results.push(Fuzzed {
            target,
            executions: executions(&log).ok_or_else(|| {
                format!("cargo fuzz run {target} printed no execution count:\n{log}")
            })?,
            seconds,
        });
    }
    Ok(results)
}

/// libFuzzer's `stat::number_of_executed_units: N` (with -print_final_stats).
fn executions(log: &str) -> Option<u64> {
    log.lines().find_map(|line| {
        line.strip_prefix("stat::number_of_executed_units:")
            .and_then(|n| n.trim().parse().ok())
    })
}
