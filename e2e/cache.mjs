// The dashboard's scan cache in IndexedDB, in Chromium against a basic-auth
// registry served same-origin: scan, reload, scan again (the manifests and
// configs must come from the cache: one manifest HEAD per tag and no
// manifest or blob GET), then forget the cache, reload and scan a third
// time (the GETs are back).
//
// Env: CLEANREG_URL (page), CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_KEEP,
// CLEANREG_EXPECT_DELETE, CLEANREG_SCREENSHOT_DIR (optional).
//
// Prints `PLAN {"keep":[...],"delete":[...]}` of the first scan and
// `CACHE {"scans":[{status, totals, plan, requests, headTags, getTags}, ...],
// "forgotten"}` with one entry per scan; any page or console error fails.

import { byDecision, byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('cache');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER', { required: false });
const password = env('CLEANREG_PASSWORD', { required: false });
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');

/// What a registry request is for: `catalog`, `tags`, `manifest` or
/// `blob` (with the reference), `ping`; `null` for anything else.
function classify(url) {
  const path = new URL(url).pathname;
  if (path === '/v2/' || path === '/v2') return { kind: 'ping' };
  if (path === '/v2/_catalog') return { kind: 'catalog' };
  let match = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (match) return { kind: 'tags', repository: match[1] };
  match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (match) return { kind: 'manifest', repository: match[1], reference: decodeURIComponent(match[2]) };
  match = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(path);
  if (match) return { kind: 'blob', repository: match[1], reference: match[2] };
  return null;
}

/// Registry requests since the last `take()`, counted by `METHOD kind`,
/// and manifest requests by tag (`repository:tag`) per method.
function counter() {
  let requests = {};
  let headTags = {};
  let getTags = {};
  return {
    see(request) {
      const what = classify(request.url());
      if (!what) return;
      const method = request.method();
      const key = `${method} ${what.kind}`;
      requests[key] = (requests[key] ?? 0) + 1;
      if (what.kind === 'manifest' && !what.reference.startsWith('sha256:')) {
        const tags = method === 'HEAD' ? headTags : getTags;
        const tag = `${what.repository}:${what.reference}`;
        tags[tag] = (tags[tag] ?? 0) + 1;
      }
    },
    take() {
      const taken = { requests, headTags, getTags };
      requests = {};
      headTags = {};
      getTags = {};
      return taken;
    },
  };
}

await run.main(async () => {
  const page = await run.open(pageUrl);
  const seen = counter();
  page.on('request', (request) => seen.see(request));

  /// Connects, scans and plans; returns what the page showed and the
  /// registry requests the scan sent.
  async function scan(label) {
    seen.take();
    await run.connect({ user, password });
    const status = await run.waitForDone('scan-status', `the ${label} scan`);
    run.log(`${label}: ${status}`);
    const taken = seen.take();
    await run.setKeep(keep);
    const rows = await run.waitForPlan(expectDelete, `the plan after the ${label} scan`);
    const totals = await run.text('plan-totals');
    await run.screenshot(`cache-${label}.png`);
    run.log(`${label}: ${JSON.stringify(taken.requests)}`);
    return { status, totals, plan: byDecision(rows), ...taken };
  }

  async function reload() {
    await page.reload({ waitUntil: 'load' });
    await page.locator(byTestId('registry-url')).waitFor({ state: 'visible' });
  }

  const first = await scan('first');
  await reload();
  const second = await scan('second');

  const manifestGets = second.requests['GET manifest'] ?? 0;
  const blobGets = second.requests['GET blob'] ?? 0;
  if (manifestGets !== 0 || blobGets !== 0) {
    await run.fail(
      `the scan after a reload sent ${manifestGets} manifest GETs and ${blobGets} blob GETs, expected none: ${JSON.stringify(second.requests)}`,
    );
  }
  const firstTags = Object.keys(first.getTags).sort();
  const headed = Object.keys(second.headTags).sort();
  if (JSON.stringify(firstTags) !== JSON.stringify(headed)) {
    await run.fail(`the tags asked for with HEAD ${JSON.stringify(headed)} are not those of the first scan ${JSON.stringify(firstTags)}`);
  }
  const twice = Object.entries(second.headTags).filter(([, n]) => n !== 1);
  if (twice.length > 0) await run.fail(`tags asked for more than once: ${JSON.stringify(twice)}`);
  if (second.totals !== first.totals) {
    await run.fail(`the plan totals differ: ${JSON.stringify(first.totals)} then ${JSON.stringify(second.totals)}`);
  }

  const forget = await run.need('forget-cache', 'the button that deletes the scan cache');
  await forget.click();
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="cache-status"]')?.textContent ?? '').includes('deleted'),
    [],
    { timeout: 10_000, polling: 100 },
  ).catch(() => run.fail('cache-status never said the cache was deleted'));
  const forgotten = await run.text('cache-status');
  run.log(`forget: ${forgotten}`);
  await reload();
  const third = await scan('third');
  if ((third.requests['GET manifest'] ?? 0) === 0) {
    await run.fail(`after forgetting the cache the scan sent no manifest GET: ${JSON.stringify(third.requests)}`);
  }

  run.print('PLAN', first.plan);
  run.print('CACHE', { scans: [first, second, third], forgotten });
});
