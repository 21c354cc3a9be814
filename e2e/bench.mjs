// The dashboard benchmark (not a test): in headless Chromium, time from
// navigation to the connect form visible, and from pressing connect to a
// finished plan (`scan-status` contains done and `plan-status`
// data-state="ready"). No thresholds.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD; optional
// CLEANREG_TIMEOUT_MS (default 30 minutes). Prints a BENCH line
// ({form_ms, plan_ms, scan_ms, status, plan_totals, ...}) with the registry
// requests of the scan and the page's long tasks (over 50 ms) from connect
// to the finished plan: their count, how many took over 200 ms, the longest
// in ms, in all and split into scan and plan.

import { byTestId, env, scenario } from './lib.mjs';

process.env.CLEANREG_TIMEOUT_MS ||= String(30 * 60_000);
const run = scenario('bench');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER', { required: false });
const password = env('CLEANREG_PASSWORD', { required: false });
const LONG_MS = Number(process.env.CLEANREG_TIMEOUT_MS);

await run.main(async () => {
  const started = performance.now();
  const page = await run.open(pageUrl);
  const formMs = performance.now() - started;
  run.log(`connect form visible after ${formMs.toFixed(0)} ms`);

  await page.locator(byTestId('username')).fill(user);
  await page.locator(byTestId('password')).fill(password);
  // Long tasks (the page's main thread busy over 50 ms at a stretch), from
  // lib.mjs's recorder: those before connect belong to loading the page.
  const longTasksBefore = await page.evaluate(() => window.__longTasks.length);
  const longTasksSince = (from) => page.evaluate((from) => window.__longTasks.slice(from), from);
  // Registry requests the scan sends (everything under /v2/ until scan done).
  let registryRequests = 0;
  let counting = true;
  page.on('requestfinished', (request) => {
    if (counting && new URL(request.url()).pathname.startsWith('/v2/')) registryRequests += 1;
  });
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
  run.print('BENCH', {
    form_ms: Math.round(formMs),
    scan_ms: Math.round(scanMs),
    plan_ms: Math.round(planMs),
    status: await run.text('scan-status'),
    plan_signal: (await page.locator(byTestId('plan-status')).count()) > 0 ? 'plan-status ready' : 'first plan-row',
    plan_totals: (await page.locator(byTestId('plan-totals')).count()) > 0 ? await run.text('plan-totals') : null,
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
  });
});
