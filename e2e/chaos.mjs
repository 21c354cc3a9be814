// The dashboard through a proxy that injects faults (testkit's ChaosProxy
// between nginx and the registry): the scan either completes or shows an
// error naming what failed (then Connect is pressed again, as a user would,
// up to CLEANREG_ATTEMPTS times); once it completes, keep-N is planned and
// applied through the same faults. The Rust test checks every reported
// outcome against the registry afterwards.
//
// Env: CLEANREG_URL, CLEANREG_KEEP, CLEANREG_EXPECT_DELETE, CLEANREG_ATTEMPTS.
// Prints `SCANS {"completed": bool, "errors": [...]}` and
// `OUTCOMES [{repository, digest, outcome, detail}]`.

import { byTestId, count, env, scenario, STEP_TIMEOUT_MS } from './lib.mjs';

const run = scenario('chaos');
const pageUrl = env('CLEANREG_URL');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');
const attempts = count('CLEANREG_ATTEMPTS');

// The faults themselves show up as failed loads in the console.
run.allowConsole(({ text }) => /Failed to load resource|net::ERR_/.test(text));

await run.main(async () => {
  const page = await run.open(pageUrl);
  const errors = [];
  let completed = false;
  for (let attempt = 1; attempt <= attempts && !completed; attempt += 1) {
    await page.locator(byTestId('connect')).click();
    await page.waitForFunction(
      () => {
        const status = document.querySelector('[data-testid="scan-status"]');
        return (
          (status && status.textContent.includes('done')) ||
          document.querySelector('[data-testid="error"]') !== null ||
          document.querySelector('[data-testid="diagnosis"]') !== null
        );
      },
      [],
      { timeout: 4 * STEP_TIMEOUT_MS, polling: 100 },
    );
    const status = await run.text('scan-status');
    if (status.includes('done')) {
      completed = true;
      break;
    }
    const shown = (await page.locator(byTestId('error')).count()) > 0 ? await run.text('error') : await run.text('diagnosis');
    errors.push(shown);
  }
  run.print('SCANS', { completed, errors });
  if (!completed) return;

  await run.setKeep(keep);
  await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  const { outcomes } = await run.apply(expectDelete);
  await run.screenshot('chaos-outcomes.png');
  run.print('OUTCOMES', outcomes);
});
