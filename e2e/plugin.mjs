// The planner plugin (dist/plugin/cleanreg.js) in Chromium, on its example
// page served by a deploy/ config (so under the dashboard's CSP): the page
// plans its sample; the same page plans the inventory of a real registry
// through its form; and the module's four calls are made directly.
//
// Env: CLEANREG_URL (the example page), CLEANREG_VERSION (expected
// version()), CLEANREG_INVENTORY_FILE (a real scan's inventory JSON),
// CLEANREG_POLICY (TOML), CLEANREG_NOW, CLEANREG_REPOSFILE_TEXT,
// CLEANREG_REPOSFILE_YAML, CLEANREG_BAD_POLICY (JSON text),
// CLEANREG_BAD_REPOSFILE.
//
// Prints `PLUGIN {...}`: the plans, policies and error messages the module
// returned, for the Rust test to compare with the native planner and the CLI.

import { readFileSync } from 'node:fs';
import { byTestId, env, scenario } from './lib.mjs';
import { validate } from './schema.mjs';

const run = scenario('plugin');
const pageUrl = env('CLEANREG_URL');
const expectedVersion = env('CLEANREG_VERSION');
const inventoryText = readFileSync(env('CLEANREG_INVENTORY_FILE'), 'utf8');
const policy = env('CLEANREG_POLICY');
const now = env('CLEANREG_NOW');
const reposfileText = env('CLEANREG_REPOSFILE_TEXT');
const reposfileYaml = env('CLEANREG_REPOSFILE_YAML');
const badPolicy = env('CLEANREG_BAD_POLICY');
const badReposfile = env('CLEANREG_BAD_REPOSFILE');

async function checkSchema(name, value) {
  const problems = validate(name, value);
  if (problems) await run.fail(`the ${name} does not match plugin/schema/${name}.schema.json:\n${problems}`);
}

/// Clicks Plan and returns the rows, or fails with the page's error.
async function planThroughTheForm(what) {
  const page = run.page;
  await page.locator(byTestId('plan-button')).click();
  await page.waitForFunction(
    () => !document.getElementById('result').hidden || !document.getElementById('error').hidden,
    [],
    { polling: 50 },
  );
  if (await page.locator(byTestId('plugin-error')).isVisible()) {
    await run.fail(`${what}: the example page shows an error: ${await run.text('plugin-error')}`);
  }
  const rows = await page.locator(byTestId('plan-entry')).evaluateAll((rows) =>
    rows.map((row) => ({ digest: row.dataset.digest, decision: row.dataset.decision })),
  );
  return { rows, summary: await run.text('plan-summary') };
}

await run.main(async () => {
  const page = await run.open(pageUrl, { ready: 'plugin-version' });
  await page.waitForFunction(() => document.querySelector('[data-testid="plugin-version"]').textContent !== '…');
  const shownVersion = await run.text('plugin-version');
  if (shownVersion !== expectedVersion) await run.fail(`version() says ${shownVersion}, expected ${expectedVersion}`);

  // The page's own sample, as a visitor sees it.
  await page.waitForFunction(() => document.getElementById('inventory').value.length > 0);
  const sample = await planThroughTheForm('the sample inventory');
  if (sample.rows.length === 0 || !sample.rows.some((r) => r.decision === 'delete')) {
    await run.fail(`the sample plan deletes nothing: ${JSON.stringify(sample)}`);
  }
  run.log(`sample: ${sample.summary}`);
  await run.screenshot('plugin-sample.png');

  // A real registry's inventory through the form.
  await page.locator(byTestId('inventory-input')).fill(inventoryText);
  await page.locator(byTestId('policy-input')).fill(policy);
  await page.locator(byTestId('now-input')).fill(now);
  const real = await planThroughTheForm('the scanned inventory');
  run.log(`scanned registry: ${real.summary}`);

  // An error as the form shows it.
  await page.locator(byTestId('policy-input')).fill(badPolicy);
  await page.locator(byTestId('plan-button')).click();
  await page.locator(byTestId('plugin-error')).waitFor({ state: 'visible' });
  const formError = await run.text('plugin-error');

  // The module's calls, made directly (the instance the page loaded).
  const direct = await page.evaluate(
    async ({ inventoryText, policy, now, reposfileText, reposfileYaml, badPolicy, badReposfile }) => {
      const cleanreg = await import(new URL('../cleanreg.js', location.href).href);
      const thrown = (call) => {
        try {
          call();
          return null;
        } catch (error) {
          return { isError: error instanceof Error, message: error.message };
        }
      };
      const inventory = JSON.parse(inventoryText);
      const validated = cleanreg.validatePolicy(policy);
      return {
        version: cleanreg.version(),
        validated,
        plan: cleanreg.plan(inventory, policy, now),
        planFromObject: cleanreg.plan(inventory, validated, now),
        reposfileText: cleanreg.parseReposfile(reposfileText),
        reposfileYaml: cleanreg.parseReposfile(reposfileYaml, { regex: true, keep: 4 }),
        badPolicy: thrown(() => cleanreg.validatePolicy(JSON.parse(badPolicy))),
        badPolicyInPlan: thrown(() => cleanreg.plan(inventory, JSON.parse(badPolicy), now)),
        badReposfile: thrown(() => cleanreg.parseReposfile(badReposfile)),
        imported: cleanreg.importPolicy(
          '{"container_expiration_policy": {"keep_n": 2, "name_regex": ".*", "name_regex_keep": "v.*", "cadence": "7d"}}',
        ),
        importedNamed: thrown(() => cleanreg.importPolicy('[default]\nkeep_newest = 1\n', 'ecr')),
        badNow: thrown(() => cleanreg.plan(inventory, validated, 'last tuesday')),
        stillWorks: cleanreg.plan(inventory, validated, now).entries.length,
      };
    },
    { inventoryText, policy, now, reposfileText, reposfileYaml, badPolicy, badReposfile },
  );

  await checkSchema('inventory', JSON.parse(inventoryText));
  await checkSchema('plan', direct.plan);
  await checkSchema('policy', direct.validated);
  await checkSchema('policy', direct.imported.policy);
  await checkSchema('policy', direct.reposfileText);
  await checkSchema('policy', direct.reposfileYaml);
  if (!validate('policy', JSON.parse(badPolicy))) await run.fail('the schema accepts the invalid policy');

  const violations = await run.cspViolations();
  if (violations.length > 0) await run.fail(`Content-Security-Policy violations: ${JSON.stringify(violations)}`);
  run.print('PLUGIN', { ...direct, formRows: real.rows, formError });
});
