//! The demo (the test run is in `test.rs`, the benchmark in `bench.rs`).
//!
//! `cargo xtask demo` runs `deploy/same-origin.conf` as shipped (through
//! testkit's `deploy`) in front of a basic-auth registry seeded with the
//! demo images, on loopback addresses only.

use std::path::PathBuf;

use cleanreg_testkit::{
    Nginx, NginxOptions, Registry, RegistryOptions, Seeder, demo as seed_demo, demo_multiarch,
    deploy,
};

use crate::run::{Result, cmd, root, run};
use crate::setup;

const DEMO_USER: &str = "demo";
const DEMO_PASSWORD: &str = "demo-password";

/// The command that builds the dashboard's release bundle into `dist/`.
pub fn release_command() -> std::process::Command {
    cmd("trunk", &["build", "--release", "--offline"])
}

/// Builds the dashboard's release bundle into `dist/`.
pub fn build_release() -> Result<PathBuf> {
    run(release_command())?;
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
