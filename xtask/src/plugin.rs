//! `cargo xtask plugin [--out DIR]`: the planner as an ES module for other
//! pages, `cleanreg.js` + `cleanreg_bg.wasm` + `cleanreg.d.ts`, with the JSON
//! Schemas and the example page. Trunk runs it after every build (see the
//! hook in Trunk.toml), so the release build's `dist/plugin/` holds it.

use std::path::{Path, PathBuf};

use crate::run::{Result, cmd, root, run, target_dir};

const CRATE: &str = "cleanreg-plugin";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The module's name: `cleanreg.js`, `cleanreg_bg.wasm`, `cleanreg.d.ts`.
const MODULE: &str = "cleanreg";

pub fn build(args: &[String]) -> Result {
    // Under trunk: its staging directory and profile; alone: dist/plugin, release.
    let staging = std::env::var_os("TRUNK_STAGING_DIR").map(PathBuf::from);
    let release = std::env::var("TRUNK_PROFILE").map_or(true, |p| p == "release");
    let out = match args {
        [] => staging
            .map(|dir| dir.join("plugin"))
            .unwrap_or_else(|| root().join("dist/plugin")),
        [flag, dir] if flag == "--out" => PathBuf::from(dir),
        _ => return Err("usage: cargo xtask plugin [--out DIR]".into()),
    };
    let mut build = vec!["build", "--quiet", "-p", CRATE, "--target", WASM_TARGET];
    if release {
        build.push("--release");
    }
    run(cmd("cargo", &build))?;
    let wasm = target_dir()
        .join(WASM_TARGET)
        .join(if release { "release" } else { "debug" })
        .join(format!("{}.wasm", CRATE.replace('-', "_")));

    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| format!("clearing {}: {e}", out.display()))?;
    }
    let mut bindgen = cmd(
        "wasm-bindgen",
        &["--target", "web", "--out-name", MODULE, "--out-dir"],
    );
    bindgen.arg(&out).arg(&wasm);
    run(bindgen)?;
    // The glue's own typings of the raw wasm exports are of no use to a caller.
    let _ = std::fs::remove_file(out.join(format!("{MODULE}_bg.wasm.d.ts")));
    if release {
        // npm's binaryen (node_modules/.bin first on PATH), as trunk uses.
        let module = out.join(format!("{MODULE}_bg.wasm"));
        let mut opt = cmd("wasm-opt", &["-Oz", "--output"]);
        opt.arg(&module).arg(&module);
        run(opt)?;
    }
    copy_dir(&root().join("plugin/schema"), &out.join("schema"))?;
    copy_dir(&root().join("plugin/example"), &out.join("example"))?;
    eprintln!("plugin: {}", out.display());
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("reading {}: {e}", from.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", from.display()))?
            .path();
        if path.is_file() {
            let name = path.file_name().expect("a file has a name");
            std::fs::copy(&path, to.join(name))
                .map_err(|e| format!("copying {}: {e}", path.display()))?;
        }
    }
    Ok(())
}
