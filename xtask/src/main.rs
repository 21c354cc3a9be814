//! Development tasks: `cargo xtask <setup|demo|test|bench|plugin|fuzz>`.

mod fuzz;
mod plugin;
mod run;
mod setup;
mod tasks;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

  setup   install what is missing (apt packages, wasm target, trunk, wasm-bindgen, npm packages)
  demo    set up, build the dashboard, start a seeded demo registry and serve both on
          http://127.0.0.1:8080 (--port N to change)
  test    set up, then run every check and test: fmt, clippy, unit and registry tests,
          the release build, the browser end-to-end scenarios against it (e2e/*.mjs),
          and the component tests in headless Chromium (wasm-bindgen-test)
  plugin  build the planner as an ES module (cleanreg.js, .wasm, .d.ts) with its JSON
          Schemas and example page into dist/plugin/ (--out DIR); trunk runs it after
          every build
  fuzz    run the cargo-fuzz targets of fuzz/ (nightly) over the parsers of untrusted
          input, 300 s each (--seconds N, --target NAME); prints executions per target
  bench   set up, print the release wasm size (raw and gzipped); seed 50k tags over
          500 repositories and time the dashboard in headless Chromium (load to
          connect form, connect to finished plan); then time the planner on 10k,
          100k and 1M synthetic tags with its peak memory
          (--repositories N, --images N per repository, --no-planner: a quicker run)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::install(),
        Some("demo") => tasks::demo(&args[1..]),
        Some("test") => tasks::test(),
        Some("bench") => tasks::bench(&args[1..]),
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
