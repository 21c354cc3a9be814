//! Installs what the project needs, skipping what is already there.

use crate::run::{Result, cmd, output_line, root, run};

pub const TRUNK: &str = "0.21.14";
pub const WASM_BINDGEN: &str = "0.2.130";
pub const CARGO_FUZZ: &str = "0.13.2";
/// What the demo needs: the registry, nginx, and htpasswd for its basic
/// auth.
const DEMO_APT_PACKAGES: [&str; 3] = ["docker-registry", "nginx", "apache2-utils"];
/// What the tests need besides: Chromium and its driver, and an independent
/// client that pushes images in the CLI's tests.
const TEST_APT_PACKAGES: [&str; 3] = ["chromium", "chromium-driver", "skopeo"];

/// Everything the tests and the benchmark need (`cargo xtask setup`).
pub fn install() -> Result {
    install_demo()?;
    apt_packages(&TEST_APT_PACKAGES)?;
    cargo_tool(
        "cargo-fuzz",
        CARGO_FUZZ,
        &["install", "--locked", "cargo-fuzz", "--version", CARGO_FUZZ],
    )?;
    eprintln!("setup: everything is installed");
    Ok(())
}

/// What `cargo xtask demo` needs to build the dashboard and serve it with
/// a seeded registry, and nothing more.
pub fn install_demo() -> Result {
    apt_packages(&DEMO_APT_PACKAGES)?;
    wasm_target()?;
    cargo_tool(
        "trunk",
        TRUNK,
        &["install", "--locked", "trunk", "--version", TRUNK],
    )?;
    // Without --locked: its lockfile pins a crate version the index lacks.
    cargo_tool(
        "wasm-bindgen",
        WASM_BINDGEN,
        &["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN],
    )?;
    npm_packages()
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

fn wasm_target() -> Result {
    let targets = cmd("rustup", &["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if String::from_utf8_lossy(&targets.stdout).contains("wasm32-unknown-unknown") {
        return Ok(());
    }
    run(cmd("rustup", &["target", "add", "wasm32-unknown-unknown"]))
}

fn cargo_tool(binary: &str, version: &str, install: &[&str]) -> Result {
    let found = output_line(binary, &["--version"]);
    if found
        .as_deref()
        .is_some_and(|line| line.split_whitespace().nth(1) == Some(version))
    {
        return Ok(());
    }
    eprintln!(
        "setup: {binary} {version} is missing (found {found:?}); building it, this takes minutes"
    );
    let mut command = cmd("cargo", install);
    // These tools run briefly and do little work: a build without
    // link-time optimisation and with parallel code generation takes a
    // fraction of the time their own release profiles ask for (trunk's:
    // fat LTO, one codegen unit).
    command
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    run(command)
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
