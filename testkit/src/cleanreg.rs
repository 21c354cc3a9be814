//! The `cleanreg` binary run by tests as a user would: its own home, state,
//! cache and working directories, a scrubbed environment, and what a run
//! printed. Every test that runs the binary goes through [`Cleanreg`].

use std::collections::BTreeSet;
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

/// One user of the binary: `$HOME`, `$XDG_STATE_HOME`, `$XDG_CACHE_HOME`
/// and the working directory (where default recovery files land) in a
/// temporary directory, kept across runs so history carries from one run to
/// the next. A test that wants nothing carried takes a new one per run.
pub struct Cleanreg {
    binary: PathBuf,
    home: TempDir,
}

/// What one run gave.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Cleanreg {
    /// A new user of the binary at `binary` (in the CLI's own tests
    /// `env!("CARGO_BIN_EXE_cleanreg")`).
    pub fn new(binary: impl Into<PathBuf>) -> Cleanreg {
        let binary = binary.into();
        assert!(
            binary.exists(),
            "{} is missing: `cargo build -p cleanreg` (cargo test --workspace builds it)",
            binary.display()
        );
        let home = tempfile::Builder::new()
            .prefix("cleanreg-user-")
            .tempdir()
            .expect("a temporary directory");
        for dir in ["state", "cache", "work"] {
            std::fs::create_dir(home.path().join(dir)).expect("a directory of the user");
        }
        Cleanreg { binary, home }
    }

    /// The working directory of every run.
    pub fn work(&self) -> PathBuf {
        self.home.path().join("work")
    }

    /// `$XDG_STATE_HOME` of every run.
    pub fn state(&self) -> PathBuf {
        self.home.path().join("state")
    }

    /// `$XDG_CACHE_HOME` of every run.
    pub fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    /// The binary this user runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// `cleanreg ARGS` with nothing on standard input.
    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_with(args, &[], "")
    }

    /// `cleanreg ARGS` with `stdin` on standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Ran {
        self.run_with(args, &[], stdin)
    }

    /// `cleanreg ARGS` with `env` added to the scrubbed environment (or
    /// replacing this user's directories) and `stdin` on standard input.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Ran {
        self.finish(self.command(args), env, stdin)
    }

    /// `sh -c SCRIPT` as cron runs it, with `$CLEANREG` naming the binary,
    /// in this user's directories and scrubbed environment.
    pub fn shell(&self, script: &str) -> Ran {
        let mut command = self.prepared(Command::new("sh"));
        command.arg("-c").arg(script).env("CLEANREG", &self.binary);
        self.finish(command, &[], "")
    }

    /// The command a run starts, for a test that drives the process itself:
    /// this user's directories, the scrubbed environment, all three
    /// standard streams piped.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = self.prepared(Command::new(&self.binary));
        command.args(args);
        command
    }

    fn prepared(&self, mut command: Command) -> Command {
        command
            .current_dir(self.work())
            .env("HOME", self.home.path())
            .env("XDG_STATE_HOME", self.state())
            .env("XDG_CACHE_HOME", self.cache())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        command
    }

    fn finish(&self, mut command: Command, env: &[(&str, &str)], stdin: &str) -> Ran {
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("run cleanreg");
        // A run that exits before reading its input closes the pipe: not an error.
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
    /// Status and both streams, for assertion messages.
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

    /// Stdout as one JSON document (`--json`); fails when anything else is on it.
    pub fn json(&self) -> Value {
        assert!(
            self.stdout.starts_with('{') || self.stdout.starts_with('['),
            "stdout carries only the JSON document: {}",
            self.shown()
        );
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.shown()))
    }

    /// Stdout and stderr together.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    pub fn stdout_has(&self, text: &str) -> bool {
        self.stdout.contains(text)
    }

    pub fn stderr_has(&self, text: &str) -> bool {
        self.stderr.contains(text)
    }

    pub fn either_has(&self, text: &str) -> bool {
        self.stdout_has(text) || self.stderr_has(text)
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
pub fn planned(json: &Value, decision: &str) -> BTreeSet<(String, String)> {
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
pub fn outcomes(json: &Value, outcome: &str) -> BTreeSet<(String, String)> {
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
