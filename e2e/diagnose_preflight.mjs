// A basic-auth registry on another origin that sends CORS headers but, like
// every Distribution 2.8, answers the preflight OPTIONS with 401: the page
// must recognise the failed preflight (`diagnosis` data-kind="preflight") and
// offer both fixes (a proxy that answers OPTIONS, or serving the page from
// the registry's origin).
//
// Env: CLEANREG_URL (the page), CLEANREG_REGISTRY, CLEANREG_USER,
// CLEANREG_PASSWORD; optional CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS.
// Prints a DIAGNOSIS line.

import { env, scenario } from './lib.mjs';

const run = scenario('diagnose-preflight');
const pageUrl = env('CLEANREG_URL');
const registry = env('CLEANREG_REGISTRY');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const registryOrigin = new URL(registry).origin;

// Chromium logs the refused preflight and the failed fetch (and a 401 to an
// unauthenticated probe, if the page makes one): expected, from the registry only.
run.allowConsole(({ text, url, status }) =>
  (text.includes('blocked by CORS policy') && text.includes(registryOrigin)) ||
  (url.startsWith(registryOrigin) && (text.includes('net::ERR_FAILED') || status === 401)),
);

await run.main(async () => {
  await run.open(pageUrl);
  await run.connect({ registry, user, password });
  const diagnosis = await run.waitForDiagnosis('connecting with credentials to a registry whose preflight fails');
  run.print('DIAGNOSIS', diagnosis);
  await run.screenshot('diagnose-preflight.png');
  if (diagnosis.kind !== 'preflight') {
    await run.fail(`diagnosis data-kind is ${JSON.stringify(diagnosis.kind)}, expected "preflight": ${diagnosis.text}`);
  }
  const all = `${diagnosis.text}\n${diagnosis.snippet ?? ''}`;
  if (!/OPTIONS/.test(all)) await run.fail(`the diagnosis does not explain that OPTIONS is refused: ${all}`);
  if (!/proxy/i.test(all)) await run.fail(`the diagnosis does not offer the proxy fix: ${all}`);
  if (!/origin/i.test(all)) await run.fail(`the diagnosis does not offer serving the page from the registry's origin: ${all}`);
});
