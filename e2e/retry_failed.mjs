// Apply with one delete made to fail (a proxy between nginx and the registry
// answers 500 to the first DELETE of one digest): that `outcome-row` must be
// `failed`, every other `deleted`; `retry-failed` then deletes it. The
// recovery file offered before the first delete is downloaded and checked.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_KEEP,
// CLEANREG_EXPECT_DELETE, CLEANREG_FAIL_DIGEST; optional
// CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS.
// Prints PLAN, RECOVERY, OUTCOMES and RETRIED lines.

import { byDecision, byTestId, count, env, scenario, STEP_TIMEOUT_MS } from './lib.mjs';

const run = scenario('retry-failed');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');
const failDigest = env('CLEANREG_FAIL_DIGEST');
const origin = new URL(pageUrl).origin;

// The injected 500, for that digest's DELETE only.
run.allowConsole(
  ({ url, status }) => status === 500 && url.startsWith(`${origin}/v2/`) && url.endsWith(`/manifests/${failDigest}`),
);

await run.main(async () => {
  const page = await run.open(pageUrl);
  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  const plan = byDecision(rows);
  run.print('PLAN', plan);
  if (!plan.delete.some((d) => d.digest === failDigest)) {
    await run.fail(`the plan does not delete ${failDigest}, the digest the proxy fails`);
  }

  const { recovery, outcomes } = await run.apply(expectDelete);
  const entries = recovery?.entries ?? [];
  run.print('RECOVERY', {
    format: recovery?.format,
    registry: recovery?.registry,
    entries: entries.map((e) => ({ repository: e.repository, digest: e.digest, tags: e.tags, bytes: e.manifest?.length ?? 0 })),
  });
  run.print('OUTCOMES', outcomes);
  await run.screenshot('retry-failed-outcomes.png');
  if (outcomes.length !== expectDelete) await run.fail(`${outcomes.length} outcome rows, expected ${expectDelete}`);
  const failed = outcomes.filter((o) => o.outcome === 'failed');
  if (failed.length !== 1 || failed[0].digest !== failDigest) {
    await run.fail(`expected exactly ${failDigest} failed, got failed: ${JSON.stringify(failed)}`);
  }
  const others = outcomes.filter((o) => o.digest !== failDigest && o.outcome !== 'deleted');
  if (others.length > 0) await run.fail(`other deletes did not succeed: ${JSON.stringify(others)}`);
  if (!/500|fail|error/i.test(failed[0].detail)) {
    await run.fail(`the failed row does not say why: ${JSON.stringify(failed[0].detail)}`);
  }

  await (await run.need('retry-failed', 'retry of the failed deletes')).click();
  const row = `[data-testid="outcome-row"][data-digest="${failDigest}"]`;
  try {
    await page.waitForFunction(
      ([row]) => {
        const rows = document.querySelectorAll(row);
        const status = document.querySelector('[data-testid="apply-status"]');
        return (
          rows.length > 0 &&
          [...rows].every((r) => r.dataset.outcome === 'deleted') &&
          status &&
          status.textContent.includes('done')
        );
      },
      [row],
      { timeout: STEP_TIMEOUT_MS, polling: 100 },
    );
  } catch {
    const now = await page.locator(row).evaluateAll((rows) => rows.map((r) => r.dataset.outcome));
    await run.fail(`after retry-failed the outcome of ${failDigest} is ${JSON.stringify(now)}, expected deleted`);
  }
  const retried = await run.outcomes();
  run.print('RETRIED', retried);
  const left = retried.filter((o) => o.outcome !== 'deleted');
  if (left.length > 0) await run.fail(`after the retry some outcomes are not deleted: ${JSON.stringify(left)}`);
  await run.need('gc-hint', 'the garbage-collect command after apply');
  await page.locator(byTestId('gc-hint')).first().waitFor({ state: 'visible' });
});
