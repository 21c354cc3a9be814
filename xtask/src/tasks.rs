//! The demo and the full test run (the benchmark is in `bench.rs`).

use std::path::PathBuf;

use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, demo as seed_demo, demo_multiarch,
    deploy,
};

use crate::fuzz;
use crate::phases::Phases;
use crate::run::{Result, cmd, root, run};
use crate::setup;

const DEMO_USER: &str = "demo";
const DEMO_PASSWORD: &str = "demo-password";

/// Builds the dashboard's release bundle into `dist/`.
pub fn build_release() -> Result<PathBuf> {
    run(cmd("trunk", &["build", "--release", "--offline"]))?;
    Ok(root().join("dist"))
}

pub fn demo(args: &[String]) -> Result {
    let port = match args {
        [] => 8080,
        [flag, port] if flag == "--port" => port
            .parse()
            .map_err(|_| format!("--port wants a number, got {port:?}"))?,
        _ => return Err("usage: cargo xtask demo [--port N]".into()),
    };
    setup::install_demo()?;
    let dist = build_release()?;
    let registry = Registry::start(RegistryOptions {
        basic_auth: Some((DEMO_USER.into(), DEMO_PASSWORD.into())),
        ..RegistryOptions::default()
    })
    .map_err(|e| format!("starting the demo registry: {e}"))?;
    let seeder = Seeder::new(&registry.url(), registry.credentials());
    let now = time::OffsetDateTime::now_utc();
    let repos = seed_demo(&seeder, now).map_err(|e| format!("seeding the demo registry: {e}"))?;
    let indexes = demo_multiarch(&seeder, now)
        .map_err(|e| format!("seeding the demo registry's multi-platform images: {e}"))?;
    // The same-origin deployment of deploy/same-origin.conf, as an admin
    // would run it: a site at /, the dashboard at /cleanreg/, the registry
    // (basic auth) at /v2/.
    let nginx = Nginx::start(NginxOptions {
        port: Some(port),
        site: Some(deploy::same_origin(
            &dist.to_string_lossy(),
            &deploy::registry_ui_site().to_string_lossy(),
            &registry.url(),
        )),
        ..NginxOptions::default()
    })
    .map_err(|e| format!("starting nginx on 127.0.0.1:{port}: {e}"))?;
    let images: usize = repos.iter().map(|r| r.images.len()).sum::<usize>() + indexes.len();
    println!(
        "
cleanreg demo is running, deployed as deploy/same-origin.conf describes.

  Dashboard:       {url}/cleanreg/
  Username:        {DEMO_USER}
  Password:        {DEMO_PASSWORD}
  Plugin example:  {url}/cleanreg/plugin/example/
  Registry UI:     {url}/ (a stand-in page)

The demo registry holds {repositories} repositories and {images} images, built over the last
year (acme/gateway: signed multi-platform indexes), served at {url}/v2/ (same origin as the page,
with basic auth) and directly at {registry}.
Try the CLI on it:
  cargo run -q -p cleanreg -- -r {url} -n acme/api -k 3 -u {DEMO_USER} -pw {DEMO_PASSWORD} --dry-run

Press Ctrl-C to stop; the registry's storage is temporary.",
        url = nginx.url(),
        repositories = repos.len() + 1,
        registry = registry.url(),
    );
    let (stop, stopped) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    let _ = stopped.recv();
    // Dropping them stops both servers and removes their temporary storage.
    drop(nginx);
    drop(registry);
    println!("cleanreg demo stopped.");
    Ok(())
}

/// Every check and test; the time of each phase is printed at the end,
/// also when one fails.
pub fn test() -> Result {
    let mut phases = Phases::default();
    let result = test_phases(&mut phases);
    println!("\n{}", phases.report());
    result
}

fn test_phases(phases: &mut Phases) -> Result {
    phases.time("setup", setup::install)?;
    phases.time("fmt", || {
        run(cmd("cargo", &["fmt", "--all", "--", "--check"]))
    })?;
    phases.time("clippy (native)", || {
        run(cmd(
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ))
    })?;
    phases.time("clippy (wasm)", || {
        run(cmd(
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
    phases.time("release bundle", build_release)?;
    // The browser tests are ignored in a plain `cargo test`: they need dist/.
    // The e2e scenarios run one test binary at a time, each one scenario.
    let mut counts = TestCounts::default();
    // The commands the tests run keep their scan cache, scan history and
    // recovery files in directories of this run, not in the user's.
    let cache_home = root().join("target/test-cache-home");
    let state_home = root().join("target/test-state-home");
    let _ = std::fs::remove_dir_all(&cache_home);
    let _ = std::fs::remove_dir_all(&state_home);
    let mut native = cmd("cargo", &["test", "--workspace", "--", "--include-ignored"]);
    native.env("XDG_CACHE_HOME", &cache_home);
    native.env("XDG_STATE_HOME", &state_home);
    let native = phases.time("native and browser tests", || {
        run_counting_tests(native, &mut counts)
    });
    // Component tests: the dashboard mounted in headless Chromium through
    // wasm-bindgen-test-runner (the runner set in .cargo/config.toml).
    let mut wasm = cmd(
        "cargo",
        &[
            "test",
            "-p",
            "cleanreg-app",
            "--target",
            "wasm32-unknown-unknown",
        ],
    );
    wasm.env("CHROMEDRIVER", CHROMEDRIVER);
    let components = phases.time("component tests (wasm)", || {
        run_counting_tests(wasm, &mut counts)
    });
    // A short pass of every fuzz target (`cargo xtask fuzz` runs long ones).
    let fuzzed = phases.time("fuzz smoke", || {
        if fuzz::nightly_available() {
            let result = fuzz::run_targets(&fuzz::TARGETS, fuzz::SMOKE_SECONDS);
            match &result {
                Ok(results) => {
                    fuzz::report(results);
                    counts.passed += results.len() as u64;
                }
                Err(_) => counts.failed += 1,
            }
            result.map(|_| ())
        } else {
            println!("fuzz smoke skipped: no nightly toolchain");
            counts.ignored += fuzz::TARGETS.len() as u64;
            Ok(())
        }
    });
    println!(
        "\ntests: {} passed, {} failed, {} skipped (native, in the browser, and fuzz smoke \
         targets)",
        counts.passed, counts.failed, counts.ignored
    );
    native.and(components).and(fuzzed)
}

/// Test results added up over several `cargo test` runs.
#[derive(Default)]
struct TestCounts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Debian's chromedriver (package chromium-driver), matching its Chromium.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Runs `cargo test`, passing its output through, and adds every test
/// binary's `test result:` line to `counts` (wasm-bindgen-test prints the
/// same line).
fn run_counting_tests(mut command: std::process::Command, counts: &mut TestCounts) -> Result {
    use std::io::{BufRead, BufReader};
    eprintln!("$ {command:?}");
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cargo test: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
        println!("{line}");
        let Some(result) = line.strip_prefix("test result: ") else {
            continue;
        };
        for part in result.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let number: u64 = number.parse().unwrap_or(0);
            match label {
                "passed" => counts.passed += number,
                "failed" => counts.failed += number,
                "ignored" => counts.ignored += number,
                _ => {}
            }
        }
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
