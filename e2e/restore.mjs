// Undo until garbage collection, in the browser: apply keep N with the
// recovery file downloaded first, then open Restore, pick that file and put
// everything back. Every `restore-row` must say `restored`.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_KEEP,
// CLEANREG_EXPECT_DELETE; optional CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS.
// Prints OUTCOMES and RESTORED lines.

import { byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('restore');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');
const origin = new URL(pageUrl).origin;

// Before putting a tag back, restore asks where it points now; a deleted
// tag answers 404. Allowed only for the tags the recovery file holds.
const recoveredTags = new Set();
run.allowConsole(({ url, status }) => status === 404 && recoveredTags.has(url));

await run.main(async () => {
  const page = await run.open(pageUrl);
  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(keep);
  await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  const { recovery, outcomes } = await run.apply(expectDelete);
  run.print('OUTCOMES', outcomes);
  if (!recovery || (recovery.entries ?? []).length !== expectDelete) {
    await run.fail(`the recovery file holds ${recovery?.entries?.length} entries, expected ${expectDelete}`);
  }

  for (const entry of recovery.entries) {
    for (const tag of entry.tags ?? []) recoveredTags.add(`${origin}/v2/${entry.repository}/manifests/${tag}`);
  }

  await page.locator(byTestId('tab-restore')).click();
  const picker = await run.need('restore-file', 'the recovery file picker');
  await picker.setInputFiles({
    name: 'cleanreg-recovery.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(recovery)),
  });
  const start = await run.need('restore-run', 'the restore button');
  await start.waitFor({ state: 'visible' });
  if (!(await start.isEnabled())) {
    const blocked = (await page.locator(byTestId('restore-blocked')).count()) > 0 ? await run.text('restore-blocked') : '';
    await run.fail(`restore-run is disabled: ${JSON.stringify(blocked)}`);
  }
  await start.click();
  run.log(await run.waitForDone('restore-status', 'the restore'));
  await run.screenshot('restored.png');
  const rows = await page.locator(byTestId('restore-row')).evaluateAll((trs) =>
    trs.map((tr) => ({ repository: tr.dataset.repository, digest: tr.dataset.digest, result: tr.dataset.result })),
  );
  run.print('RESTORED', rows);
  if (rows.length !== expectDelete) await run.fail(`${rows.length} restore rows, expected ${expectDelete}`);
  const notRestored = rows.filter((r) => r.result !== 'restored');
  if (notRestored.length > 0) await run.fail(`not every entry was restored: ${JSON.stringify(notRestored)}`);
});
