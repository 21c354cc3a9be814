// Starts the dashboard: imports the wasm-bindgen module that trunk built and
// runs its wasm. It is a file of its own rather than trunk's inline loader,
// so the page runs under `Content-Security-Policy: script-src 'self'
// 'wasm-unsafe-eval'` (see deploy/). The built file names come from the
// <meta name="cleanreg-build"> element Trunk.toml's pattern_script writes.
const build = document.querySelector('meta[name="cleanreg-build"]');
if (!build) {
  throw new Error('cleanreg: index.html has no <meta name="cleanreg-build">; rebuild with trunk');
}
const base = document.baseURI;
const { default: init } = await import(new URL(build.dataset.js, base).href);
await init({ module_or_path: new URL(build.dataset.wasm, base).href });
