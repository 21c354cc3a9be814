// A registry on another origin that sends no CORS headers: the browser blocks
// the page's requests, and the page must say so (`diagnosis`
// data-kind="cors") with the registry config snippet naming this page's
// origin.
//
// Env: CLEANREG_URL (the page), CLEANREG_REGISTRY; optional
// CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS. Prints a DIAGNOSIS line.

import { env, scenario } from './lib.mjs';

const run = scenario('diagnose-cors');
const pageUrl = env('CLEANREG_URL');
const registry = env('CLEANREG_REGISTRY');
const registryOrigin = new URL(registry).origin;
const pageOrigin = new URL(pageUrl).origin;

// What Chromium logs for a blocked cross-origin fetch: expected here, and only
// for requests to the registry.
run.allowConsole(({ text, url }) =>
  (text.includes('blocked by CORS policy') && text.includes(registryOrigin)) ||
  (text.includes('net::ERR_FAILED') && url.startsWith(registryOrigin)),
);

await run.main(async () => {
  await run.open(pageUrl);
  await run.connect({ registry });
  const diagnosis = await run.waitForDiagnosis('connecting to a registry without CORS headers');
  run.print('DIAGNOSIS', diagnosis);
  await run.screenshot('diagnose-cors.png');
  if (diagnosis.kind !== 'cors') {
    await run.fail(`diagnosis data-kind is ${JSON.stringify(diagnosis.kind)}, expected "cors": ${diagnosis.text}`);
  }
  if (diagnosis.snippet === null) await run.fail('no data-testid="diagnosis-snippet" with the registry config to paste');
  if (!diagnosis.snippet.includes(pageOrigin)) {
    await run.fail(`the snippet does not name this page's origin ${pageOrigin}: ${diagnosis.snippet}`);
  }
  if (!/Access-Control-Allow-Origin/.test(diagnosis.snippet)) {
    await run.fail(`the snippet sets no Access-Control-Allow-Origin: ${diagnosis.snippet}`);
  }
  if ((await run.page.locator('[data-testid="repo-row"]').count()) > 0) {
    await run.fail('repositories are listed although nothing could be read');
  }
});
