//! Development tasks: `cargo xtask <setup|demo|test|bench|plugin|fuzz>`.

mod bench;
mod bench_network;
mod bench_peer;
mod bench_untagged;
mod fuzz;
mod phases;
mod plugin;
mod run;
mod setup;
mod tasks;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

  setup   install what is missing (apt packages, wasm target, trunk, wasm-bindgen,
          cargo-fuzz, npm packages)
  demo    install what the demo needs (the registry, nginx, trunk, wasm-bindgen, npm
          packages), build the dashboard, start a seeded demo registry and serve both on
          http://127.0.0.1:8080 (--port N to change)
  test    set up, then run every check and test: fmt, clippy, unit and registry tests,
          the release build, the browser end-to-end scenarios against it (e2e/*.mjs),
          and the component tests in headless Chromium (wasm-bindgen-test); the time of
          each phase is printed at the end
  plugin  build the planner as an ES module (cleanreg.js, .wasm, .d.ts) with its JSON
          Schemas and example page into dist/plugin/ (--out DIR); trunk runs it after
          every build
  fuzz    run the cargo-fuzz targets of fuzz/ (nightly) over the parsers of untrusted
          input, 300 s each (--seconds N, --target NAME); prints executions per target
  bench   seed a registry with htpasswd (50 repositories x 200 tags: Docker and OCI,
          multi-platform indexes, shared tags), measure its own ceiling per request
          kind, then time the CLI's scan+plan (cold, then warm cache), its keep-10
          apply on a copy and the dashboard's scan+plan in headless Chromium, each
          against its floor (requests / ceiling); the CLI's peak memory for 100k
          tags; the release wasm size (--smoke: a tiny run; --repositories N,
          --tags N, --concurrency N, --ceiling-seconds S, --memory-tags N (0 skips),
          --no-dashboard, --planner: also time the planner on 10k to 1M tags);
          --untagged: push main --pushes N times (10) in each of --repositories N (20),
          then measure --delete-untagged through history and through --storage: requests
          per untagged manifest and the bytes garbage collection frees";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::install(),
        Some("demo") => tasks::demo(&args[1..]),
        Some("test") => test::test(),
        Some("bench") => bench::bench(&args[1..]),
        Some("plugin") => plugin::build(&args[1..]),
        Some("fuzz") => fuzz::command(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
