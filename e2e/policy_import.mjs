// Policy import from the original cleanreg's repository files: the text
// format by the file picker (`policy-file`), then the YAML format pasted
// (`policy-paste` + `policy-import`); after each the plan must follow it.
// Same-origin basic auth behind nginx; nothing is deleted.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD,
// CLEANREG_TEXT_FILE (path of the text repository file) and
// CLEANREG_TEXT_DELETES (delete rows it gives), CLEANREG_YAML_FILE (path
// of the YAML file, whose content is pasted) and CLEANREG_YAML_DELETES;
// optional CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS.
// Prints PLAN_TEXT and PLAN_YAML lines.

import { readFileSync } from 'node:fs';
import { byDecision, byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('policy-import');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const textFile = env('CLEANREG_TEXT_FILE');
const textDeletes = count('CLEANREG_TEXT_DELETES');
const yamlFile = env('CLEANREG_YAML_FILE');
const yamlDeletes = count('CLEANREG_YAML_DELETES');

/// Chooses the repository-file format when the page offers the choice.
async function chooseReposfileFormat(page) {
  const select = page.locator(byTestId('policy-format'));
  if ((await select.count()) === 0) await run.fail('no data-testid="policy-format" select');
  const values = await select.locator('option').evaluateAll((options) => options.map((o) => o.value));
  if (!values.includes('reposfile')) {
    await run.fail(`policy-format offers ${JSON.stringify(values)}, no "reposfile"`);
  }
  await select.selectOption('reposfile');
}

async function noPolicyError(page, what) {
  // The element may stay in the page, hidden, while there is no error.
  const error = page.locator(byTestId('policy-error')).first();
  if ((await error.count()) > 0 && (await error.isVisible()) && (await run.text('policy-error')) !== '') {
    await run.fail(`${what} was refused: ${await run.text('policy-error')}`);
  }
}

await run.main(async () => {
  const page = await run.open(pageUrl);
  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));

  await page.locator(byTestId('tab-policy')).click();
  await chooseReposfileFormat(page);
  const picker = await run.need('policy-file', 'the policy file picker');
  await picker.setInputFiles(textFile);
  // A picked file may be imported at once; a page that wants the import
  // button pressed after picking gets it pressed.
  const deleteRows = (expected) =>
    page
      .waitForFunction(
        ([expected]) =>
          document.querySelectorAll('[data-testid="plan-row"][data-decision="delete"]').length === expected,
        [expected],
        { timeout: 3_000, polling: 100 },
      )
      .then(
        () => true,
        () => false,
      );
  await noPolicyError(page, 'the text repository file');
  if (!(await deleteRows(textDeletes)) && (await page.locator(byTestId('policy-import')).count()) > 0) {
    run.log('the picked file did not change the plan by itself: pressing policy-import');
    await page.locator(byTestId('policy-import')).first().click();
  }
  await noPolicyError(page, 'the text repository file');
  const textRows = await run.waitForPlan(textDeletes, 'the plan after importing the text repository file');
  run.print('PLAN_TEXT', byDecision(textRows));
  await run.screenshot('policy-import-text.png');

  await page.locator(byTestId('tab-policy')).click();
  await chooseReposfileFormat(page);
  const paste = await run.need('policy-paste', 'the paste area');
  await paste.fill(readFileSync(yamlFile, 'utf8'));
  await (await run.need('policy-import', 'the import button')).click();
  await noPolicyError(page, 'the YAML repository file');
  const yamlRows = await run.waitForPlan(yamlDeletes, 'the plan after pasting the YAML repository file');
  run.print('PLAN_YAML', byDecision(yamlRows));

  // An error must point at its line.
  await page.locator(byTestId('tab-policy')).click();
  await paste.fill('team/app:\n  keepimages: 2\n  nonsense here\n');
  await (await run.need('policy-import', 'the import button')).click();
  try {
    await page.locator(byTestId('policy-error')).first().waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    await run.fail('a broken YAML repository file showed no policy-error');
  }
  const error = await run.text('policy-error');
  if (!/line 3/i.test(error)) await run.fail(`the policy-error does not name line 3: ${JSON.stringify(error)}`);
  run.print('POLICY_ERROR', { text: error });
});
