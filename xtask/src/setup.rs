//! Installs what the project needs, skipping what is already there.
//!
//! `setup` installs the pinned tools idempotently: apt packages, the
//! `wasm32-unknown-unknown` target, trunk, wasm-bindgen-cli and cargo-fuzz at
//! the versions below, and the npm packages, among them wasm-opt from npm's
//! `binaryen` 132 (Debian's binaryen 108 breaks the release build). The
//! cargo tools are built without LTO and with 16 codegen units, a fraction
//! of their own release build's time. The demo installs only what it needs
//! ([`install_demo`]).

use crate::run::{Result, cmd, output_line, root, run, run_logged};

pub const TRUNK: &str = "0.21.14";
pub const WASM_BINDGEN: &str = "0.2.130";
pub const CARGO_FUZZ: &str = "0.13.2";
/// What the demo needs: the registry, nginx, and htpasswd for its basic
/// auth.
const DEMO_APT_PACKAGES: [&str; 3] = ["docker-registry", "nginx", "apache2-utils"];
/// What the tests need besides: Chromium and its driver, and an independent
/// client that pushes images in the CLI's tests.
const TEST_APT_PACKAGES: [&str; 3] = ["chromium", "chromium-driver", "skopeo"];

/// A tool built from source with `cargo install`.
struct CargoTool {
    binary: &'static str,
    version: &'static str,
    install: &'static [&'static str],
}

const TRUNK_TOOL: CargoTool = CargoTool {
    binary: "trunk",
    version: TRUNK,
    install: &["install", "--locked", "trunk", "--version", TRUNK],
};
// Without --locked: its lockfile pins a crate version the index lacks.
const WASM_BINDGEN_TOOL: CargoTool = CargoTool {
    binary: "wasm-bindgen",
    version: WASM_BINDGEN,
    install: &["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN],
};
const CARGO_FUZZ_TOOL: CargoTool = CargoTool {
    binary: "cargo-fuzz",
    version: CARGO_FUZZ,
    install: &["install", "--locked", "cargo-fuzz", "--version", CARGO_FUZZ],
};

/// Everything the tests and the benchmark need (`cargo xtask setup`).
pub fn install() -> Result {
    let mut packages = DEMO_APT_PACKAGES.to_vec();
    packages.extend(TEST_APT_PACKAGES);
    install_all(&packages, &[TRUNK_TOOL, WASM_BINDGEN_TOOL, CARGO_FUZZ_TOOL])?;
    eprintln!("setup: everything is installed");
    Ok(())
}

/// What `cargo xtask demo` needs to build the dashboard and serve it with
/// a seeded registry, and nothing more.
pub fn install_demo() -> Result {
    install_all(&DEMO_APT_PACKAGES, &[TRUNK_TOOL, WASM_BINDGEN_TOOL])
}

/// Installs what is missing side by side: the apt and npm packages (mostly
/// downloads) on one thread, each cargo tool on its own (their builds fill
/// each other's single-threaded stretches, such as the final link).
fn install_all(packages: &[&'static str], tools: &[CargoTool]) -> Result {
    rust_target("wasm32-unknown-unknown")?;
    std::thread::scope(|scope| {
        let system = scope.spawn(|| apt_packages(packages).and_then(|()| npm_packages()));
        let built: Vec<_> = tools
            .iter()
            .map(|tool| scope.spawn(move || cargo_tool(tool)))
            .collect();
        let mut failures = Vec::new();
        for handle in std::iter::once(system).chain(built) {
            match handle.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failures.push(e),
                Err(_) => failures.push("an install thread panicked".to_owned()),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("\n"))
        }
    })
}

fn installed(package: &str) -> bool {
    output_line("dpkg-query", &["-W", "-f=${Status}", package])
        .is_some_and(|status| status.ends_with(" installed"))
}

fn apt_packages(packages: &[&'static str]) -> Result {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sudo = output_line("id", &["-u"]).as_deref() != Some("0");
    let apt = |args: &[&str]| {
        let mut full: Vec<&str> = Vec::new();
        if sudo {
            full.push("apt-get");
        }
        full.extend_from_slice(args);
        let mut command = cmd(if sudo { "sudo" } else { "apt-get" }, &full);
        command.env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run(apt(&["update", "-q"]))?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(&missing);
    run(apt(&install))
}

/// Adds the Rust target `name` unless it is installed.
pub(crate) fn rust_target(name: &str) -> Result {
    let targets = cmd("rustup", &["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if String::from_utf8_lossy(&targets.stdout)
        .lines()
        .any(|line| line.trim() == name)
    {
        return Ok(());
    }
    run(cmd("rustup", &["target", "add", name]))
}

fn cargo_tool(tool: &CargoTool) -> Result {
    let CargoTool {
        binary,
        version,
        install,
    } = *tool;
    let found = output_line(binary, &["--version"]);
    if found
        .as_deref()
        .is_some_and(|line| line.split_whitespace().nth(1) == Some(version))
    {
        return Ok(());
    }
    eprintln!(
        "setup: {binary} {version} is missing (found {found:?}); building it, this takes minutes \
         (output in target/xtask-logs/install-{binary}.log)"
    );
    let mut command = cmd("cargo", install);
    // These tools run briefly and do little work: a build without
    // link-time optimisation, with parallel code generation and light
    // optimisation takes a fraction of the time their own release profiles
    // ask for (trunk's: fat LTO, one codegen unit).
    command
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1");
    let log = root().join(format!("target/xtask-logs/install-{binary}.log"));
    let _ = std::fs::remove_file(&log);
    match run_logged(command, &log) {
        Ok(()) => {
            eprintln!("setup: {binary} {version} installed");
            Ok(())
        }
        Err(e) => {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Err(format!(
                "installing {binary} {version}: {e} ({}):\n{}",
                log.display(),
                tail.join("\n")
            ))
        }
    }
}

fn npm_packages() -> Result {
    let lock_ok = root().join("node_modules/.package-lock.json").exists()
        && cmd("npm", &["ls", "--depth=0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if lock_ok {
        return Ok(());
    }
    run(cmd("npm", &["ci", "--no-audit", "--no-fund"]))
}
