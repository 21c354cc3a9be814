// Another registry's policy: connects with the Repositories field set,
// picks a GitLab cleanup policy on the Policy tab (`policy-file`), reads
// the import report (`import-report-item` rows), waits for the plan, exports
// the policy as TOML (`policy-export-toml`) and reads the cron line
// (`cron-line`) after naming the policy file and recovery directory
// (`cron-policy-file`, `cron-recovery-dir`). Nothing is deleted here.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_SCOPE (the
// Repositories field), CLEANREG_POLICY_FILE, CLEANREG_DELETES (delete rows
// expected), CLEANREG_EXPORT_PATH, CLEANREG_RECOVERY_DIR; optional
// CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS. Prints REPORT, PLAN, EXPORT
// and CRON lines.

import { byDecision, byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('imported-policy');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const scope = env('CLEANREG_SCOPE');
const policyFile = env('CLEANREG_POLICY_FILE');
const deletes = count('CLEANREG_DELETES');
const exportPath = env('CLEANREG_EXPORT_PATH');
const recoveryDir = env('CLEANREG_RECOVERY_DIR');

await run.main(async () => {
  const page = await run.open(pageUrl);
  await (await run.need('repositories', 'the Repositories field')).fill(scope);
  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));

  await page.locator(byTestId('tab-policy')).click();
  const picker = await run.need('policy-file', 'the policy file picker');
  await picker.setInputFiles(policyFile);
  try {
    await page.locator(byTestId('import-report')).first().waitFor({ state: 'visible', timeout: 10_000 });
  } catch {
    await run.fail(`no import-report after picking ${policyFile}; policy-error: ${JSON.stringify(await run.text('policy-error'))}`);
  }
  const rows = await page.locator(byTestId('import-report-item')).evaluateAll((items) =>
    items.map((item) => ({
      mapping: item.getAttribute('data-mapping'),
      source: item.querySelector('code')?.textContent ?? '',
      text: item.textContent,
    })),
  );
  run.print('REPORT', { status: await run.text('policy-import-status'), rows });
  await run.screenshot('imported-policy-report.png');

  const planRows = await run.waitForPlan(deletes, 'the plan under the imported GitLab policy');
  run.print('PLAN', byDecision(planRows));

  await page.locator(byTestId('tab-policy')).click();
  const exported = await run.download('policy-export-toml', 'the policy as TOML');
  run.print('EXPORT', exported);

  await (await run.need('cron-policy-file', 'the cron policy file field')).fill(exportPath);
  await (await run.need('cron-recovery-dir', 'the cron recovery directory field')).fill(recoveryDir);
  const line = await run.need('cron-line', 'the cron line');
  run.print('CRON', { line: (await line.innerText()).trim() });
  await run.screenshot('imported-policy-cron.png');
});
