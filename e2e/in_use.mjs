// Images in use: sets keep 1, picks a file of image references on the Plan
// tab (`in-use-file`), waits for the plan to keep the pinned digests with
// "in use", reads the file's report (`in-use-report`), then applies.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_IN_USE_FILE,
// CLEANREG_DELETES (delete rows expected with the file), CLEANREG_PINNED
// (the pinned digests, comma-separated); optional CLEANREG_IN_USE_HOSTS
// (typed in `in-use-hosts` first), CLEANREG_SCREENSHOT_DIR,
// CLEANREG_TIMEOUT_MS. Prints PLAN, REPORT and OUTCOMES lines.

import { byDecision, byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('in-use');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const file = env('CLEANREG_IN_USE_FILE');
const deletes = count('CLEANREG_DELETES');
const pinned = env('CLEANREG_PINNED').split(',');

await run.main(async () => {
  const page = await run.open(pageUrl);
  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(1);
  await page.locator(byTestId('tab-plan')).click();
  const hosts = process.env.CLEANREG_IN_USE_HOSTS;
  if (hosts) {
    const field = await run.need('in-use-hosts', "the registry's other names field");
    await field.fill(hosts);
    await field.press('Tab');
  }
  const picker = await run.need('in-use-file', 'the images-in-use file picker');
  await picker.setInputFiles(file);
  const rows = await run.waitForPlan(deletes, 'the plan with the images in use');
  for (const digest of pinned) {
    const row = page.locator(`${byTestId('plan-row')}[data-digest="${digest}"]`).first();
    const decision = await row.getAttribute('data-decision');
    const text = await row.innerText();
    if (decision !== 'keep' || !text.includes('in use (')) {
      await run.fail(`${digest} is not kept as in use: ${decision} ${JSON.stringify(text)}`);
    }
  }
  run.print('PLAN', byDecision(rows));
  run.print('REPORT', { text: await run.text('in-use-report') });
  await run.screenshot('in-use-plan.png');
  const { outcomes } = await run.apply(deletes);
  run.print('OUTCOMES', outcomes);
});
