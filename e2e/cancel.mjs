// Stop during an apply: each DELETE is held ~1 s by the proxy in front of
// the registry, Stop is pressed while the first one is in flight, and the
// page must finish that one, report it, send no further DELETE and report
// the rest as cancelled.
//
// Env: CLEANREG_URL, CLEANREG_KEEP, CLEANREG_EXPECT_DELETE. Prints
// `OUTCOMES [{repository, digest, outcome, detail}]`.

import { byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('cancel');
const pageUrl = env('CLEANREG_URL');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');

await run.main(async () => {
  const page = await run.open(pageUrl);
  await run.connect({});
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(keep);
  await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);

  let deletesSent = 0;
  page.on('request', (request) => {
    if (request.method() === 'DELETE') deletesSent += 1;
  });
  await page.locator(byTestId('apply')).click();
  await run.download('recovery-download', 'the recovery file');
  await page.locator(byTestId('confirm-count')).fill(String(expectDelete));
  await page.locator(byTestId('confirm-apply')).click();
  // The first DELETE is out (and held by the proxy): stop now.
  const start = Date.now();
  while (deletesSent === 0 && Date.now() - start < 30_000) await page.waitForTimeout(20);
  if (deletesSent === 0) await run.fail('no DELETE was sent within 30 s of confirming');
  await page.locator(byTestId('stop-apply')).click();
  const atStop = deletesSent;
  await run.waitForApplyDone('the stopped apply');
  await page.waitForTimeout(1_500);
  const outcomes = await run.outcomes();
  await run.screenshot('cancel-stopped.png');
  run.log(`${atStop} DELETE(s) sent before Stop, ${deletesSent} in all`);
  if (deletesSent !== atStop) await run.fail(`${deletesSent - atStop} DELETE(s) were sent after Stop`);
  if (outcomes.length !== expectDelete) await run.fail(`${outcomes.length} outcome rows, expected ${expectDelete}`);
  run.print('OUTCOMES', outcomes);
});
