// The dashboard benchmark (not a test): in headless Chromium, time from
// navigation to the connect form visible, and from pressing connect to a
// finished plan (`scan-status` contains done and `plan-status`
// data-state="ready"). No thresholds.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD; optional
// CLEANREG_TIMEOUT_MS (default 30 minutes). Prints a BENCH line
// ({form_ms, plan_ms, scan_ms, status, plan_totals}).

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
  const pressed = performance.now();
  await page.locator(byTestId('connect')).click();
  let scanMs = null;
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
  run.print('BENCH', {
    form_ms: Math.round(formMs),
    scan_ms: Math.round(scanMs),
    plan_ms: Math.round(planMs),
    status: await run.text('scan-status'),
    plan_signal: (await page.locator(byTestId('plan-status')).count()) > 0 ? 'plan-status ready' : 'first plan-row',
    plan_totals: (await page.locator(byTestId('plan-totals')).count()) > 0 ? await run.text('plan-totals') : null,
  });
});
