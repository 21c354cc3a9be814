//! `cargo xtask test`: every check and test, as CI runs it.
//!
//! After setup and fmt, the work that only needs the processor runs in
//! three lanes side by side, each writing to its own log (printed whole
//! when the lane ends): the native lane lints and builds every native
//! target in one pass; the wasm lane builds the release bundle, lints the
//! wasm crates and runs the component tests; the fuzz lane builds the fuzz
//! targets and runs each briefly. The lanes fill each other's
//! single-threaded stretches (the release wasm's link, wasm-opt, a
//! libFuzzer run). The native and browser tests run last, alone: they start
//! registries, nginx and Chromium. The time of each phase is
//! printed at the end, also when one fails.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::fuzz;
use crate::phases::Phases;
use crate::run::{Result, cmd, root, run_logged};
use crate::setup;

/// `-D warnings` in the form clippy's driver reads from `CLIPPY_ARGS`
/// (each argument followed by this separator; `cargo clippy` passes its
/// arguments after `--` the same way).
const CLIPPY_ARGS: &str = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__";

/// Debian's chromedriver (package chromium-driver), matching its Chromium.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The browser test that runs after the others, on its own.
const ALONE: &str = "responsive::a_scan_of_thousands_of_tags_leaves_the_page_free";

pub fn test() -> Result {
    let phases = Phases::default();
    let result = test_phases(&phases);
    println!("\n{}", phases.report());
    result
}

fn test_phases(phases: &Phases) -> Result {
    phases.time("setup", setup::install)?;
    phases.time("fmt", || {
        crate::run::run(cmd("cargo", &["fmt", "--all", "--", "--check"]))
    })?;
    let logs = root().join("target/xtask-logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    // The commands the tests run keep their scan cache, scan history and
    // recovery files in directories of this run, not in the user's.
    let cache_home = root().join("target/test-cache-home");
    let state_home = root().join("target/test-state-home");
    let _ = std::fs::remove_dir_all(&cache_home);
    let _ = std::fs::remove_dir_all(&state_home);
    // The native code is linted and built in one pass: clippy's driver
    // compiles the workspace's crates (as `cargo clippy` has it do for a
    // check) while cargo builds the tests, so no second compilation only
    // for the lints. It builds into a target directory of its own, never
    // waiting for the lock of the wasm lane's, and the tests then run from
    // it with the same settings (so nothing is built again).
    let native_target = root().join("target/checked");
    let native_cargo = |args: &[&str]| {
        let mut command = cmd("cargo", args);
        command
            .env("CARGO_TARGET_DIR", &native_target)
            .env("RUSTC_WORKSPACE_WRAPPER", "clippy-driver")
            .env("CLIPPY_ARGS", CLIPPY_ARGS)
            .env("XDG_CACHE_HOME", &cache_home)
            .env("XDG_STATE_HOME", &state_home);
        command
    };

    let native = Lane::new("native", &logs);
    let wasm = Lane::new("wasm", &logs);
    let fuzzing = Lane::new("fuzz", &logs);
    let (linted, built, fuzzed) = std::thread::scope(|scope| {
        let linted = scope.spawn(|| {
            native.step(phases, "clippy and build (native)", |lane| {
                // Every library and binary as shipped (code outside
                // cfg(test) is linted there), then every test target: last,
                // so that the test run finds each crate built with the
                // tests' features and builds nothing again.
                lane.run(native_cargo(&["build", "--workspace"]))?;
                lane.run(native_cargo(&["test", "--workspace", "--no-run"]))
            })
        });
        let built = scope.spawn(|| {
            wasm.step(phases, "release bundle", |lane| {
                lane.run(crate::tasks::release_command())
            })?;
            wasm.step(phases, "clippy (wasm)", |lane| {
                lane.run(cmd(
                    "cargo",
                    &[
                        "clippy",
                        "-p",
                        "cleanreg-core",
                        "-p",
                        "cleanreg-app",
                        "-p",
                        "cleanreg-plugin",
                        "--target",
                        "wasm32-unknown-unknown",
                        "--",
                        "-D",
                        "warnings",
                    ],
                ))
            })?;
            // Component tests: the dashboard mounted in headless Chromium
            // through wasm-bindgen-test-runner (the runner set in
            // .cargo/config.toml).
            wasm.step(phases, "component tests (wasm)", |lane| {
                let mut components = cmd(
                    "cargo",
                    &[
                        "test",
                        "-p",
                        "cleanreg-app",
                        "--target",
                        "wasm32-unknown-unknown",
                    ],
                );
                components.env("CHROMEDRIVER", CHROMEDRIVER);
                lane.run(components)
            })
        });
        let fuzzed = scope.spawn(|| {
            if !fuzz::nightly_available() {
                fuzzing.note("fuzz smoke skipped: no nightly toolchain\n");
                return Ok(None);
            }
            fuzzing.step(phases, "fuzz build", |lane| lane.run(fuzz::build_command()))?;
            // A short pass of every fuzz target (`cargo xtask fuzz` runs
            // long ones).
            fuzzing
                .step(phases, "fuzz smoke", |lane| {
                    let results = fuzz::run_targets(&fuzz::TARGETS, fuzz::SMOKE_SECONDS)?;
                    lane.note(&fuzz::report(&results));
                    Ok(results.len())
                })
                .map(Some)
        });
        (join(linted), join(built), join(fuzzed))
    });
    let mut counts = TestCounts::default();
    for lane in [&native, &wasm, &fuzzing] {
        lane.print();
        counts.add_from(&lane.text());
    }
    match &fuzzed {
        Ok(Some(targets)) => counts.passed += *targets as u64,
        Ok(None) => counts.ignored += fuzz::TARGETS.len() as u64,
        Err(_) => counts.failed += 1,
    }

    // The browser tests are ignored in a plain `cargo test`: they need
    // dist/, which the wasm lane made.
    let tested = if linted.is_ok() && built.is_ok() {
        let tests = native_cargo(&[
            "test",
            "--workspace",
            "--",
            "--include-ignored",
            "--skip",
            ALONE,
        ]);
        let rest = phases.time("native and browser tests", || {
            run_counting_tests(tests, &mut counts)
        });
        // Its bound is on the page's main-thread time, which is wall time:
        // with the other tests' registries and browsers on the same cores
        // it measures them, not the page.
        // The same build as above (a `-p` selection would resolve features
        // anew and rebuild); every other test binary filters itself out.
        let alone = native_cargo(&[
            "test",
            "--workspace",
            "--",
            "--include-ignored",
            "--exact",
            ALONE,
        ]);
        let alone = phases.time("the responsiveness test, alone", || {
            run_counting_tests(alone, &mut counts)
        });
        rest.and(alone)
    } else {
        Err("the native and browser tests did not run: a build or check before them failed".into())
    };
    println!(
        "\ntests: {} passed, {} failed, {} skipped (native, in the browser, and fuzz smoke \
         targets)",
        counts.passed, counts.failed, counts.ignored
    );
    let lanes = [("native", linted), ("wasm", built)];
    let mut failures: Vec<String> = lanes
        .into_iter()
        .filter_map(|(lane, result)| result.err().map(|e| format!("{lane}: {e}")))
        .collect();
    if let Err(e) = fuzzed {
        failures.push(format!("fuzz: {e}"));
    }
    if let Err(e) = tested {
        failures.push(format!("native and browser tests: {e}"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// A lane's result; a lane that panicked failed.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    handle
        .join()
        .unwrap_or_else(|_| Err("a lane panicked".into()))
}

/// A sequence of phases on its own thread, their output in one log file.
struct Lane {
    name: &'static str,
    log: PathBuf,
}

impl Lane {
    fn new(name: &'static str, logs: &Path) -> Lane {
        let log = logs.join(format!("{name}.log"));
        let _ = std::fs::remove_file(&log);
        Lane { name, log }
    }

    /// Runs one phase of this lane, timed.
    fn step<T>(
        &self,
        phases: &Phases,
        phase: &'static str,
        work: impl FnOnce(&Lane) -> Result<T>,
    ) -> Result<T> {
        eprintln!("[{}] {phase}: started", self.name);
        let result = phases.time_in(self.name, phase, || work(self));
        match &result {
            Ok(_) => eprintln!("[{}] {phase}: done", self.name),
            Err(e) => {
                eprintln!("[{}] {phase}: FAILED ({e})", self.name);
                self.note(&format!("{phase} failed: {e}\n"));
            }
        }
        result
    }

    fn file(&self) -> Result<File> {
        File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))
    }

    /// Runs a command with its output in the lane's log.
    fn run(&self, command: Command) -> Result {
        run_logged(command, &self.log)
    }

    /// Adds a line of our own to the log.
    fn note(&self, text: &str) {
        use std::io::Write;
        if let Ok(mut file) = self.file() {
            let _ = file.write_all(text.as_bytes());
        }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Prints the whole log under a heading.
    fn print(&self) {
        println!("\n===== lane {} ({}) =====", self.name, self.log.display());
        print!("{}", self.text());
    }
}

/// Test results added up over several `cargo test` runs.
#[derive(Default)]
struct TestCounts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl TestCounts {
    /// Adds every `test result:` line of `output` (wasm-bindgen-test prints
    /// the same line as libtest).
    fn add_from(&mut self, output: &str) {
        for line in output.lines() {
            self.add_line(line);
        }
    }

    fn add_line(&mut self, line: &str) {
        let Some(result) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in result.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let number: u64 = number.parse().unwrap_or(0);
            match label {
                "passed" => self.passed += number,
                "failed" => self.failed += number,
                "ignored" => self.ignored += number,
                _ => {}
            }
        }
    }
}

/// Runs `cargo test`, passing its output through, and adds every test
/// binary's `test result:` line to `counts`.
fn run_counting_tests(mut command: Command, counts: &mut TestCounts) -> Result {
    use std::io::{BufRead, BufReader};
    eprintln!("$ {command:?}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cargo test: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
        println!("{line}");
        counts.add_line(&line);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo test: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_every_result_line() {
        let mut counts = TestCounts::default();
        counts.add_from(
            "running 3 tests\n\
             test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n\
             noise\n\
             test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n",
        );
        assert_eq!((counts.passed, counts.failed, counts.ignored), (5, 1, 1));
    }
}
