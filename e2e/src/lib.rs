//! Helpers of the dashboard's end-to-end tests (`e2e/tests/*.rs`): each test
//! starts real fixtures, runs one `e2e/<scenario>.mjs` script in Chromium
//! against the release build in `dist/`, reads the `PREFIX {json}` lines it
//! prints and checks the registry through its API.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use cleanreg_testkit::{Cleanreg, Nginx, Page, SeededRepo};
use serde_json::Value;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e lives in the workspace")
        .to_path_buf()
}

/// `dist/`, after checking it holds a build.
pub fn dist() -> PathBuf {
    let dist = workspace().join("dist");
    assert!(
        dist.join("index.html").exists(),
        "no release build in {}: run `trunk build --release --offline` (cargo xtask test does)",
        dist.display()
    );
    dist
}

/// Where the running scenario puts its screenshots and downloads:
/// `target/e2e-screenshots/<test>` of the workspace, one directory per test
/// (named after the test's thread, `module.test`), so scenarios running side
/// by side never write the same file.
pub fn artifacts() -> PathBuf {
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" => name.replace("::", "."),
        _ => format!("process-{}", std::process::id()),
    };
    let dir = workspace().join("target/e2e-screenshots").join(test);
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

/// The dashboard (`dist/`) served by nginx's generated server with the
/// registry at `/v2/`, its `WWW-Authenticate` hidden (no login dialog).
pub fn dashboard() -> Page {
    Page::Dashboard {
        root: dist(),
        hide_www_authenticate: true,
    }
}

/// `deploy/same-origin.conf` as shipped: the release build at `/cleanreg/`,
/// the stand-in registry UI at `/`, the registry at `/v2/`.
pub fn same_origin() -> Page {
    Page::SameOrigin { dist: dist() }
}

/// nginx running `deploy/same-origin.conf` with `registry` (a base URL, a
/// front of the real registry) at `/v2/`.
pub fn same_origin_nginx(registry: &str) -> Nginx {
    same_origin()
        .serve(registry)
        .expect("start nginx with deploy/same-origin.conf")
}

/// A new user of this build's `cleanreg` binary (`target/<profile>/cleanreg`,
/// next to the test binary's `deps/`; `cargo test --workspace` builds it),
/// with directories of its own.
pub fn cleanreg() -> Cleanreg {
    let exe = std::env::current_exe().expect("the test binary's path");
    let binary = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("cleanreg"))
        .expect("the test binary lives in target/<profile>/deps");
    Cleanreg::new(binary)
}

/// What a scenario script printed.
#[derive(Debug)]
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
}

impl Printed {
    /// The JSON of the first `PREFIX {json}` line.
    pub fn json(&self, prefix: &str) -> Value {
        let with_space = format!("{prefix} ");
        let line = self
            .stdout
            .lines()
            .find_map(|line| line.strip_prefix(with_space.as_str()))
            .unwrap_or_else(|| {
                panic!(
                    "the script printed no {prefix} line:\n{}\n{}",
                    self.stdout, self.stderr
                )
            });
        serde_json::from_str(line.trim()).expect("valid JSON")
    }
}

/// Runs `node e2e/<script>` with these variables (plus the screenshot
/// directory) and panics with its output unless it exits 0.
pub fn run_script(script: &str, vars: &[(&str, String)]) -> Printed {
    let mut command = Command::new("node");
    command
        .arg(workspace().join("e2e").join(script))
        .current_dir(workspace())
        .env("CLEANREG_SCREENSHOT_DIR", artifacts());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("run node e2e/{script}: {e}"));
    let printed = Printed {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        output.status.success(),
        "e2e/{script} failed ({}):\n{}\n{}",
        output.status,
        printed.stdout,
        printed.stderr
    );
    printed
}

/// Like [`run_script`], for a script that hands control back in between:
/// each `STEP name {json}` line it prints (`run.step` in `e2e/lib.mjs`)
/// calls `on_step(name, json)`, whose answer goes back as one JSON line, so
/// the test can change the registry while the page stays open.
pub fn run_script_steps(
    script: &str,
    vars: &[(&str, String)],
    mut on_step: impl FnMut(&str, &Value) -> Value,
) -> Printed {
    let mut command = Command::new("node");
    command
        .arg(workspace().join("e2e").join(script))
        .current_dir(workspace())
        .env("CLEANREG_SCREENSHOT_DIR", artifacts())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("run node e2e/{script}: {e}"));
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut running = Running {
        stdin: child.stdin.take(),
        child,
    };
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap_or_else(|e| panic!("read e2e/{script}'s output: {e}"));
        printed.push_str(&line);
        printed.push('\n');
        let Some(step) = line.strip_prefix("STEP ") else {
            continue;
        };
        let (name, json) = step.split_once(' ').unwrap_or((step, "{}"));
        let value: Value = serde_json::from_str(json).expect("a step's JSON");
        let answer = on_step(name, &value);
        let stdin = running
            .stdin
            .as_mut()
            .expect("stdin stays open until the end");
        writeln!(stdin, "{answer}").expect("answer the script");
        stdin.flush().expect("answer the script");
    }
    let status = running.finish();
    let printed = Printed {
        stdout: printed,
        stderr: errors.join().unwrap_or_default(),
    };
    assert!(
        status.success(),
        "e2e/{script} failed ({status}):\n{}\n{}",
        printed.stdout,
        printed.stderr
    );
    printed
}

/// A script run by [`run_script_steps`]. Dropped early (a failed check in a
/// step), it closes the script's stdin, so the script fails the step and
/// closes its browser itself, and kills it only if it does not end.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Running {
    fn finish(&mut self) -> std::process::ExitStatus {
        self.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    let _ = self.child.kill();
                    return self.child.wait().expect("wait for the script");
                }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.finish();
        }
    }
}

/// The sorted `digest` fields of a JSON list of rows.
pub fn digests(value: &Value) -> Vec<String> {
    let mut digests: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("a list, got {value}"))
        .iter()
        .map(|row| row["digest"].as_str().expect("a digest").to_owned())
        .collect();
    digests.sort();
    digests
}

/// Sorted digests that keep-newest-`keep` per repository keeps and deletes,
/// with `keep_of(repository)` overriding `keep` per repository.
pub fn expected_plan(
    repos: &[SeededRepo],
    keep_of: impl Fn(&str) -> usize,
) -> (Vec<String>, Vec<String>) {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for repo in repos {
        let n = keep_of(&repo.name);
        for (rank, image) in repo.images.iter().enumerate() {
            let list = if rank < n { &mut keep } else { &mut delete };
            list.push(image.image.digest.clone());
        }
    }
    keep.sort();
    delete.sort();
    (keep, delete)
}

/// Checks the `PLAN` line against keep-newest-`keep` on `repos`.
pub fn assert_plan(printed: &Printed, repos: &[SeededRepo], keep: usize) {
    let plan = printed.json("PLAN");
    let (expected_keep, expected_delete) = expected_plan(repos, |_| keep);
    assert_eq!(digests(&plan["keep"]), expected_keep, "kept digests");
    assert_eq!(digests(&plan["delete"]), expected_delete, "deleted digests");
}

/// How many images keep-newest-`keep` deletes.
pub fn deletes(repos: &[SeededRepo], keep: usize) -> usize {
    repos
        .iter()
        .map(|r| r.images.len().saturating_sub(keep))
        .sum()
}
