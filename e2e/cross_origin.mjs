// Anonymous registry on another origin than the page, with CORS headers for
// the page's origin: connect by URL, scan, plan keep-N, apply.
//
// Env: CLEANREG_URL (the page), CLEANREG_REGISTRY (the registry's base URL),
// CLEANREG_KEEP, CLEANREG_EXPECT_DELETE; optional CLEANREG_SCREENSHOT_DIR,
// CLEANREG_TIMEOUT_MS. Prints PLAN and OUTCOMES lines.

import { byDecision, count, env, scenario } from './lib.mjs';

const run = scenario('cross-origin');
const pageUrl = env('CLEANREG_URL');
const registry = env('CLEANREG_REGISTRY');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');

await run.main(async () => {
  if (new URL(pageUrl).origin === new URL(registry).origin) {
    await run.fail('CLEANREG_URL and CLEANREG_REGISTRY must be different origins for this scenario');
  }
  await run.open(pageUrl);
  await run.connect({ registry });
  run.log(await run.waitForDone('scan-status', 'the cross-origin scan'));
  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  run.print('PLAN', byDecision(rows));
  await run.screenshot('cross-origin-plan.png');
  const { outcomes } = await run.apply(expectDelete);
  run.print('OUTCOMES', outcomes);
  const notDeleted = outcomes.filter((o) => o.outcome !== 'deleted');
  if (outcomes.length !== expectDelete) await run.fail(`${outcomes.length} outcome rows, expected ${expectDelete}`);
  if (notDeleted.length > 0) await run.fail(`not every delete succeeded: ${JSON.stringify(notDeleted)}`);
  await run.need('gc-hint', 'the garbage-collect command after apply');
});
