// The dashboard benchmark (not a test): in headless Chromium, time from
// navigation to the connect form visible, and from pressing connect to a
// finished plan (`scan-status` contains done and `plan-status`
// data-state="ready"). No thresholds.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD; optional
// CLEANREG_TIMEOUT_MS (default 30 minutes); CLEANREG_SPKI, the base64
// sha256 of the https server certificate's public key, which Chromium then
// trusts for this run (a certificate it accepts this way is a valid one, so
// the HTTP cache works as with a real certificate, unlike with ignored
// certificate errors); CLEANREG_WARM=1 to scan a second time in the same
// profile: the Rust side is told when the first plan is ready (`STEP cold`,
// answered with a line on stdin), then the page is opened again (its files
// from the HTTP cache) and the scan runs with the IndexedDB cache the
// first one filled.
//
// Prints a BENCH line ({form_ms, load_ms, plan_ms, scan_ms, status,
// plan_totals, protocol, registry_protocols, ..., warm}) with the registry
// requests of the scan and the page's long tasks (over 50 ms) from connect
// to the finished plan: their count, how many took over 200 ms, the longest
// in ms, in all and split into scan and plan. `load_ms` is the time from
// navigation to an enabled connect button, by the page's own clock;
// `protocol` the one the page came over (`h2`, `http/1.1`) and
// `registry_protocols` those of its registry requests. `warm` holds the
// same figures for the second load and scan, with `cached_files`: how many
// of the page's files came from the HTTP cache.
//
// CLEANREG_APPLY=1 (instead of warm) sets keep 10, as the CLI runs do,
// and applies the first plan as an admin would: the recovery file
// downloaded, the number of changes typed, confirmed. The Rust side is told
// before the confirmation opens (`STEP apply`, answered with a line on
// stdin); `apply` in the BENCH line holds {changes, apply_ms (from pressing
// confirm to done), status (the counts of deleted, skipped and failed)}.

import { byTestId, env, scenario } from './lib.mjs';

process.env.CLEANREG_TIMEOUT_MS ||= String(30 * 60_000);
const run = scenario('bench');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER', { required: false });
const password = env('CLEANREG_PASSWORD', { required: false });
const spki = env('CLEANREG_SPKI', { required: false });
const warm = env('CLEANREG_WARM', { required: false }) === '1';
const applying = env('CLEANREG_APPLY', { required: false }) === '1';
const LONG_MS = Number(process.env.CLEANREG_TIMEOUT_MS);

/// Records, in every document, when the connect button is first there and
/// enabled (performance.now(), from navigation start).
function recordConnectEnabled() {
  window.__connectEnabledAt = null;
  const check = () => {
    const button = document.querySelector('[data-testid="connect"]');
    if (button && !button.disabled) window.__connectEnabledAt = performance.now();
    return window.__connectEnabledAt !== null;
  };
  const observer = new MutationObserver(() => {
    if (check()) observer.disconnect();
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled'] });
}

/// How the document loaded: navigation to an enabled connect button, the
/// protocol of the page, and how many of its files came from the HTTP cache.
async function loaded(page) {
  await page.waitForFunction(() => window.__connectEnabledAt !== null, [], { timeout: LONG_MS, polling: 50 });
  return page.evaluate(() => {
    const navigation = performance.getEntriesByType('navigation')[0];
    const files = performance
      .getEntriesByType('resource')
      .filter((entry) => !new URL(entry.name).pathname.startsWith('/v2/'));
    return {
      load_ms: Math.round(window.__connectEnabledAt),
      protocol: navigation?.nextHopProtocol ?? null,
      files: files.length,
      // transferSize 0: served from the cache without asking the server.
      cached_files: files.filter((entry) => entry.transferSize === 0).length,
    };
  });
}

/// Connects, waits for the scan and then the plan; the figures of that run.
async function scanAndPlan(page) {
  await page.locator(byTestId('username')).fill(user);
  await page.locator(byTestId('password')).fill(password);
  // Long tasks (the page's main thread busy over 50 ms at a stretch), from
  // lib.mjs's recorder: those before connect belong to loading the page.
  const longTasksBefore = await page.evaluate(() => window.__longTasks.length);
  const longTasksSince = (from) => page.evaluate((from) => window.__longTasks.slice(from), from);
  // Registry requests the scan sends (everything under /v2/ until scan done).
  let registryRequests = 0;
  let counting = true;
  const onFinished = (request) => {
    if (counting && new URL(request.url()).pathname.startsWith('/v2/')) registryRequests += 1;
  };
  page.on('requestfinished', onFinished);
  const pressed = performance.now();
  await page.locator(byTestId('connect')).click();
  let scanMs = null;
  let scanTasks = [];
  let scanRequests = 0;
  try {
    await page.waitForFunction(
      () => {
        const status = document.querySelector('[data-testid="scan-status"]');
        return (status && status.textContent.includes('done')) || document.querySelector('[data-testid="error"]');
      },
      [],
      { timeout: LONG_MS, polling: 200 },
    );
    scanMs = performance.now() - pressed;
    scanRequests = registryRequests;
    counting = false;
    page.off('requestfinished', onFinished);
    scanTasks = await longTasksSince(longTasksBefore);
    if ((await page.locator(byTestId('error')).count()) > 0) await run.fail(`the scan failed: ${await run.text('error')}`);
    // A page without plan-status (the skeleton) counts the first plan rows.
    await page.waitForFunction(
      () => {
        const status = document.querySelector('[data-testid="plan-status"]');
        if (status) return status.dataset.state === 'ready';
        return document.querySelector('[data-testid="plan-row"]') !== null;
      },
      [],
      { timeout: LONG_MS, polling: 200 },
    );
  } catch (error) {
    await run.fail(`no finished plan within ${LONG_MS} ms: ${error.message}; scan-status: ${await run.text('scan-status')}`);
  }
  const planMs = performance.now() - pressed;
  // Let the observer deliver the entries of the last tasks.
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
  const allTasks = await longTasksSince(longTasksBefore);
  const planTasks = allTasks.slice(scanTasks.length);
  const longest = (tasks) => Math.round(Math.max(0, ...tasks));
  const over200 = (tasks) => tasks.filter((ms) => ms > 200).length;
  // The protocols of the registry requests still in the resource timing
  // buffer (the first few hundred of the scan).
  const registryProtocols = await page.evaluate(() => [
    ...new Set(
      performance
        .getEntriesByType('resource')
        .filter((entry) => new URL(entry.name).pathname.startsWith('/v2/'))
        .map((entry) => entry.nextHopProtocol),
    ),
  ]);
  return {
    scan_ms: Math.round(scanMs),
    plan_ms: Math.round(planMs),
    status: await run.text('scan-status'),
    plan_signal: (await page.locator(byTestId('plan-status')).count()) > 0 ? 'plan-status ready' : 'first plan-row',
    plan_totals: (await page.locator(byTestId('plan-totals')).count()) > 0 ? await run.text('plan-totals') : null,
    registry_protocols: registryProtocols,
    scan_requests: scanRequests,
    scan_requests_per_s: scanMs ? Math.round((scanRequests / scanMs) * 1000) : null,
    long_tasks: allTasks.length,
    long_tasks_over_200ms: over200(allTasks),
    longest_task_ms: longest(allTasks),
    scan_long_tasks: scanTasks.length,
    scan_long_tasks_over_200ms: over200(scanTasks),
    scan_longest_task_ms: longest(scanTasks),
    plan_long_tasks: planTasks.length,
    plan_long_tasks_over_200ms: over200(planTasks),
    plan_longest_task_ms: longest(planTasks),
  };
}

await run.main(async () => {
  const started = performance.now();
  const page = await run.open(pageUrl, {
    chromiumArgs: spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : [],
    initScripts: [recordConnectEnabled],
  });
  const formMs = performance.now() - started;
  run.log(`connect form visible after ${formMs.toFixed(0)} ms`);
  const load = await loaded(page);
  // The CLI's policy, keep the newest 10, typed before connecting.
  if (applying) await run.setKeep(10);
  const cold = await scanAndPlan(page);
  const result = { form_ms: Math.round(formMs), ...load, ...cold };
  if (warm) {
    await run.step('cold', { plan_ms: cold.plan_ms });
    // As an admin opening the dashboard again: a new document, the page's
    // files from the HTTP cache, the scan cache in IndexedDB.
    await page.goto(pageUrl, { waitUntil: 'load' });
    await page.locator(byTestId('registry-url')).waitFor({ state: 'visible' });
    const again = await loaded(page);
    result.warm = { ...again, ...(await scanAndPlan(page)) };
  }
  if (applying) {
    const changes = Number(await page.locator(byTestId('plan-totals')).getAttribute('data-changes'));
    await run.step('apply', { changes });
    await page.locator(byTestId('tab-plan')).click();
    // run.apply times the download and the typing too; the figure wanted
    // is the run itself, from confirm to done.
    let confirmed = null;
    await page.exposeFunction('__benchConfirmed', () => {
      confirmed ??= performance.now();
    });
    await page.evaluate(() =>
      document.addEventListener(
        'click',
        (event) => {
          if (event.target.closest?.('[data-testid="confirm-apply"]')) window.__benchConfirmed();
        },
        true,
      ),
    );
    const { recovery } = await run.apply(changes, { doneWithinMs: LONG_MS });
    const done = performance.now();
    // The outcome table is paged, so the 404s that confirm deletes are
    // matched against the recovery file, which lists every manifest that
    // was to go.
    const planned = new Set((recovery?.entries ?? []).map((e) => `${e.repository}@${e.digest}`));
    run.allowGone((g) => planned.has(`${g.repository}@${g.digest}`));
    result.apply = {
      changes,
      apply_ms: confirmed === null ? null : Math.round(done - confirmed),
      status: await run.text('apply-status'),
    };
  }
  run.print('BENCH', result);
});
