// End-to-end run of the cleanreg dashboard in Chromium: connect, scan, plan
// with keep-N, apply, and check every delete succeeded. Same origin: the page
// and the registry's /v2/ behind one nginx, basic auth.
//
// Env: CLEANREG_URL (page), CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_KEEP,
// CLEANREG_EXPECT_DELETE (plan rows expected with data-decision=delete),
// CLEANREG_SCREENSHOT_DIR (optional), CLEANREG_TIMEOUT_MS (optional, whole run).
//
// Prints `PLAN {"keep":[...],"delete":[...]}` and `OUTCOMES {...}` lines on
// stdout ({repository, digest} objects) and exits 0; any page error, console
// error, failed check or timeout exits 1 with a message on stderr.

import { byDecision, byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('dashboard');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER', { required: false });
const password = env('CLEANREG_PASSWORD', { required: false });
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');

await run.main(async () => {
  const page = await run.open(pageUrl);
  const origin = new URL(pageUrl).origin;
  const shown = await page.locator(byTestId('registry-url')).inputValue();
  if (shown !== origin) await run.fail(`registry-url shows ${JSON.stringify(shown)}, expected the page origin ${origin}`);

  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  const plan = byDecision(rows);
  if (plan.keep.length + plan.delete.length !== rows.length) {
    await run.fail(`some plan rows are neither keep nor delete: ${JSON.stringify(rows)}`);
  }
  run.print('PLAN', plan);
  run.log(await run.text('plan-totals'));
  await run.screenshot('plan.png');

  const apply = page.locator(byTestId('apply'));
  if (expectDelete === 0) {
    if (await apply.isEnabled()) await run.fail('apply is enabled although the plan deletes nothing');
    run.print('OUTCOMES', { deleted: [], skipped: [], failed: [] });
    return;
  }
  const { outcomes } = await run.apply(expectDelete, { requireTypedCount: false });
  await run.screenshot('applied.png');
  const pick = (name) =>
    outcomes.filter((o) => o.outcome === name).map(({ repository, digest, detail }) => ({ repository, digest, detail }));
  run.print('OUTCOMES', { deleted: pick('deleted'), skipped: pick('skipped'), failed: pick('failed') });

  if (outcomes.length !== expectDelete) {
    await run.fail(`${outcomes.length} outcome rows, expected one per delete (${expectDelete})`);
  }
  const notDeleted = outcomes.filter((o) => o.outcome !== 'deleted');
  if (notDeleted.length > 0) await run.fail(`not every delete succeeded: ${JSON.stringify(notDeleted)}`);
  const planned = new Set(plan.delete.map((d) => `${d.repository}@${d.digest}`));
  const strays = outcomes.filter((o) => !planned.has(`${o.repository}@${o.digest}`));
  if (strays.length > 0) await run.fail(`outcomes for manifests the plan did not delete: ${JSON.stringify(strays)}`);
  await run.need('gc-hint', 'the garbage-collect command after apply');
  const gcHint = await run.text('gc-hint');
  for (const expected of ['/etc/docker/registry/config.yml', '/etc/distribution/config.yml', '--delete-untagged']) {
    if (!gcHint.includes(expected)) await run.fail(`the garbage-collect hint does not name ${expected}: ${gcHint}`);
  }
  const unplanned404s = run.gone404s.filter((g) => !planned.has(`${g.repository}@${g.digest}`));
  if (unplanned404s.length > 0) {
    await run.fail(`the registry answered 404 for manifests the plan does not delete: ${JSON.stringify(unplanned404s)}`);
  }
  run.log(`${run.gone404s.length} expected 404s (deleted manifests verified gone)`);
});
