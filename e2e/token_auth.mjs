// A registry with token auth, same origin behind nginx (the token realm is
// nginx's /token): connect with the token server's user, scan, keep-N, apply.
//
// Env: CLEANREG_URL (the page), CLEANREG_USER, CLEANREG_PASSWORD,
// CLEANREG_KEEP, CLEANREG_EXPECT_DELETE; optional CLEANREG_SCREENSHOT_DIR,
// CLEANREG_TIMEOUT_MS. Prints PLAN and OUTCOMES lines.

import { byDecision, count, env, scenario } from './lib.mjs';

const run = scenario('token-auth');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');
const origin = new URL(pageUrl).origin;

// The Bearer flow starts with the registry's 401 challenge that names the
// realm; Chromium logs each such 401. Only those, from this origin's /v2/.
run.allowConsole(
  ({ url, status }) => status === 401 && url.startsWith(`${origin}/v2/`),
);

await run.main(async () => {
  await run.open(pageUrl);
  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan with token auth'));
  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  run.print('PLAN', byDecision(rows));
  const { outcomes } = await run.apply(expectDelete);
  run.print('OUTCOMES', outcomes);
  const notDeleted = outcomes.filter((o) => o.outcome !== 'deleted');
  if (outcomes.length !== expectDelete) await run.fail(`${outcomes.length} outcome rows, expected ${expectDelete}`);
  if (notDeleted.length > 0) await run.fail(`not every delete succeeded: ${JSON.stringify(notDeleted)}`);
});
