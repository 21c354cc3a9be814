// The plan's downloads: JSON (the CLI's --apply-plan file) and CSV, captured
// through playwright's download event. Same-origin basic auth; the page
// deletes nothing: the Rust test hands the JSON to the real CLI.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_KEEP,
// CLEANREG_EXPECT_DELETE, CLEANREG_OUT_DIR (where the JSON is written as
// plan.json); optional CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS.
// Prints PLAN, PLAN_JSON ({path}) and CSV ({header, rows}) lines.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { byDecision, count, env, scenario } from './lib.mjs';

const run = scenario('plan-export');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');
const outDir = env('CLEANREG_OUT_DIR');

await run.main(async () => {
  await run.open(pageUrl);
  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  run.print('PLAN', byDecision(rows));

  const json = await run.download('plan-export-json', 'the plan as JSON');
  let parsed;
  try {
    parsed = JSON.parse(json.text);
  } catch (error) {
    await run.fail(`plan-export-json gave ${json.name}, not JSON: ${error}`);
  }
  if (json.text.includes(password)) await run.fail('the exported plan contains the password');
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, 'plan.json');
  writeFileSync(path, json.text);
  run.print('PLAN_JSON', { path, name: json.name, keys: Object.keys(parsed) });

  const csv = await run.download('plan-export-csv', 'the plan as CSV');
  const lines = csv.text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length < 2) await run.fail(`the CSV has no rows: ${JSON.stringify(csv.text.slice(0, 500))}`);
  const deleteDigests = byDecision(rows).delete.map((d) => d.digest);
  const missing = deleteDigests.filter((digest) => !csv.text.includes(digest));
  if (missing.length > 0) await run.fail(`the CSV lacks deleted digests ${JSON.stringify(missing)}`);
  run.print('CSV', { name: csv.name, header: lines[0], rows: lines.length - 1 });
});
