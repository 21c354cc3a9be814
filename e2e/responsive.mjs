// The page stays free during a scan of a few thousand tags: while the scan
// runs, the user switches tabs and types the policy's "keep newest", and
// each input must show before the scan ends; afterwards the plan must use
// what was typed. The long tasks (main thread busy over 50 ms at a stretch,
// from a PerformanceObserver) from connect to the finished plan are
// returned for the Rust side to judge.
//
// Env: CLEANREG_URL, CLEANREG_KEEP. Prints `RESPONSIVE {inputs, scanMs,
// planMs, longTasks: [{phase, ms}], totals: {label: value}}`; each input is
// {what, ms, duringScan}.

import { byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('responsive');
const pageUrl = env('CLEANREG_URL');
const keep = count('CLEANREG_KEEP');

/// Records every long task with its start, in every document.
function recordLongTasks() {
  window.__tasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__tasks.push({ start: entry.startTime, ms: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
}

await run.main(async () => {
  const page = await run.open(pageUrl, { initScripts: [recordLongTasks] });
  const scanDone = () =>
    page.evaluate(() => (document.querySelector('[data-testid="scan-status"]')?.textContent ?? '').includes('done'));
  const connectAt = await page.evaluate(() => performance.now());
  await run.connect({});

  // Input while the scan runs: each step is a click or typing, then the
  // page's answer to it; `duringScan` says whether the scan was still
  // running once the answer showed.
  const inputs = [];
  const answered = async (what, act, shown) => {
    const started = Date.now();
    await act();
    await page.waitForFunction(shown[0], shown[1], { polling: 'raf' });
    inputs.push({ what, ms: Date.now() - started, duringScan: !(await scanDone()) });
  };
  // Let the scan get going (the catalog read, the first tag lists).
  await page.waitForFunction(() => document.querySelector('[data-testid="scan-progress"]') !== null, [], { polling: 'raf' });
  for (let round = 0; round < 3 && !(await scanDone()); round += 1) {
    await answered(
      'open the Policy tab',
      () => page.locator(byTestId('tab-policy')).click(),
      [() => document.querySelector('[data-testid="tab-policy"]')?.getAttribute('aria-selected') === 'true', []],
    );
    const typed = String(keep + 2 - round);
    await answered(
      `type keep ${typed}`,
      () => page.locator(byTestId('keep-count')).fill(typed),
      [(value) => document.querySelector('[data-testid="keep-count"]')?.value === value, typed],
    );
    await answered(
      'open the Inventory tab',
      () => page.locator(byTestId('tab-inventory')).click(),
      [() => document.querySelector('[data-testid="tab-inventory"]')?.getAttribute('aria-selected') === 'true', []],
    );
  }
  // The value the plan must use.
  await page.locator(byTestId('tab-policy')).click();
  await page.locator(byTestId('keep-count')).fill(String(keep));
  run.log(await run.waitForDone('scan-status', 'the scan'));
  const scanEndAt = await page.evaluate(() => performance.now());
  await page.locator(byTestId('tab-plan')).click();
  await page.waitForSelector('[data-testid="plan-status"][data-state="ready"]', { timeout: 300_000 });
  const planEndAt = await page.evaluate(() => performance.now());
  // Let the observer deliver the entries of the last tasks.
  await page.waitForTimeout(200);
  const tasks = await page.evaluate(() => window.__tasks);
  const longTasks = tasks
    .filter((task) => task.start >= connectAt)
    .map((task) => ({ phase: task.start < scanEndAt ? 'scan' : 'plan', ms: Math.round(task.ms) }));
  const totals = await page.evaluate(() => {
    const pairs = {};
    const list = document.querySelector('[data-testid="plan-totals"]');
    for (const term of list?.querySelectorAll('dt') ?? []) pairs[term.textContent.trim()] = term.nextElementSibling?.textContent.trim();
    return pairs;
  });
  await run.screenshot('responsive-plan.png');
  run.print('RESPONSIVE', {
    inputs,
    scanMs: Math.round(scanEndAt - connectAt),
    planMs: Math.round(planEndAt - connectAt),
    longTasks,
    totals,
  });
});
