//! Running commands with the project's tool paths.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
        .join("bin")
}

/// PATH with cargo-installed tools and npm's binaries (wasm-opt) first.
pub fn path_env() -> std::ffi::OsString {
    let mut paths = vec![root().join("node_modules/.bin"), cargo_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).expect("PATH entries are valid")
}

/// Cargo's target folder: `CARGO_TARGET_DIR` (a relative one is resolved
/// from the root, as cargo does here) or `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root().join(dir))
        .unwrap_or_else(|| root().join("target"))
}

/// A command in the workspace root with the project's PATH.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(root())
        .env("PATH", path_env());
    command
}

/// Runs a command, echoing it; fails with its name when it fails.
pub fn run(mut command: Command) -> Result {
    let shown = format!("{command:?}");
    eprintln!("$ {}", shown.replace('"', ""));
    let status = command
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// Runs a command with its output (and the command, first) appended to
/// `log`, whose folder is made if missing; fails with its name when it
/// fails.
pub fn run_logged(mut command: Command, log: &Path) -> Result {
    use std::io::Write;
    let shown = format!("{command:?}").replace('"', "");
    let at = |e: std::io::Error| format!("{}: {e}", log.display());
    if let Some(folder) = log.parent() {
        std::fs::create_dir_all(folder).map_err(at)?;
    }
    let mut out = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(at)?;
    writeln!(out, "$ {shown}").map_err(at)?;
    let err = out.try_clone().map_err(at)?;
    let status = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// The first line a command prints, or `None` when it cannot run.
pub fn output_line(program: &str, args: &[&str]) -> Option<String> {
    let output = cmd(program, args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .map(|line| line.trim().to_owned())
}
