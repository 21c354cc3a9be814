//! The `cleanreg` binary run as a user would: its own state, cache and
//! working directories, kept across runs so history carries from one run
//! to the next.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// Variables of the test's own environment that would change what the
/// child does; every run starts without them.
const SCRUBBED_ENV: [&str; 10] = [
    "CLEANREG_PASSWORD",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "XDG_CONFIG_HOME",
];

/// One user of the binary: `$XDG_STATE_HOME`, `$XDG_CACHE_HOME` and the
/// working directory (where default recovery files land) in a temporary
/// directory.
pub struct Cleanreg {
    home: TempDir,
}

/// What one run gave.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Cleanreg {
    pub fn new() -> Cleanreg {
        let home = tempfile::tempdir().expect("a temporary directory");
        for dir in ["state", "cache", "work"] {
            std::fs::create_dir(home.path().join(dir)).unwrap();
        }
        Cleanreg { home }
    }

    /// The working directory of every run.
    pub fn work(&self) -> PathBuf {
        self.home.path().join("work")
    }

    /// `$XDG_STATE_HOME` of every run.
    pub fn state(&self) -> PathBuf {
        self.home.path().join("state")
    }

    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_with_stdin(args, "")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Ran {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cleanreg"));
        command
            .args(args)
            .current_dir(self.work())
            .env("HOME", self.home.path())
            .env("XDG_STATE_HOME", self.state())
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        let mut child = command.spawn().expect("run cleanreg");
        // A run that exits before reading its input closes the pipe.
        let _ = child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes());
        let output = child.wait_with_output().expect("wait for cleanreg");
        Ran {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Ran {
    pub fn shown(&self) -> String {
        format!(
            "status {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit status.
    pub fn exits(self, code: i32) -> Ran {
        assert_eq!(self.code, Some(code), "{}", self.shown());
        self
    }

    /// Stdout as one JSON document (`--json`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.shown()))
    }

    /// Stdout and stderr together.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The stdout line of the printed plan that shows `digest` with `kind`
    /// (the KIND column's start), if any.
    pub fn plan_row(&self, digest: &str, kind: &str) -> Option<String> {
        self.text()
            .lines()
            .find(|line| {
                line.split_once(digest)
                    .is_some_and(|(_, rest)| rest.trim_start().starts_with(kind))
            })
            .map(str::to_owned)
    }
}

/// `(repository, digest)` of the plan entries (`--json`) whose decision is
/// `decision`, e.g. `delete`.
pub fn planned(json: &Value, decision: &str) -> std::collections::BTreeSet<(String, String)> {
    json["plan"]["entries"]
        .as_array()
        .expect("plan entries")
        .iter()
        .filter(|entry| entry["decision"]["decision"] == decision)
        .map(|entry| {
            (
                entry["repository"].as_str().unwrap().to_owned(),
                entry["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `(repository, digest)` of the outcomes (`--json`) that ended as `outcome`.
pub fn outcomes(json: &Value, outcome: &str) -> std::collections::BTreeSet<(String, String)> {
    json["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .filter(|entry| entry["outcome"] == outcome)
        .map(|entry| {
            (
                entry["repository"].as_str().unwrap().to_owned(),
                entry["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A path as an argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
