// A token-auth registry whose token server is scoped like GitLab's: no
// catalog, pull+delete on one repository, pull only on the other. Connect
// with the Repositories field empty: the diagnosis explains the refused
// catalog and asks for names. Name the two repositories, connect again: the
// plan marks the pull-only repository's deletes before apply, the
// confirmation counts only what is sent, and apply skips them.
//
// Env: CLEANREG_URL (the page), CLEANREG_USER, CLEANREG_PASSWORD,
// CLEANREG_KEEP, CLEANREG_REPOSITORIES (one a line), CLEANREG_PERMITTED,
// CLEANREG_PULL_ONLY, CLEANREG_EXPECT_SENT, CLEANREG_EXPECT_BLOCKED;
// optional CLEANREG_SCREENSHOT_DIR, CLEANREG_TIMEOUT_MS. Prints DIAGNOSIS,
// PLAN, BLOCKED, FRAGMENT and OUTCOMES lines.

import { byDecision, byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('scoped-tokens');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const keep = count('CLEANREG_KEEP');
const repositories = env('CLEANREG_REPOSITORIES');
const permitted = env('CLEANREG_PERMITTED');
const pullOnly = env('CLEANREG_PULL_ONLY');
const expectSent = count('CLEANREG_EXPECT_SENT');
const expectBlocked = count('CLEANREG_EXPECT_BLOCKED');
const origin = new URL(pageUrl).origin;

// The Bearer flow starts with the registry's 401 challenge, and the refused
// catalog is a 401 too; Chromium logs each. Only those, from /v2/.
run.allowConsole(({ url, status }) => status === 401 && url.startsWith(`${origin}/v2/`));

await run.main(async () => {
  await run.open(pageUrl);
  await run.connect({ user, password });
  const diagnosis = await run.waitForDiagnosis('connecting without naming repositories');
  run.print('DIAGNOSIS', diagnosis);
  if (diagnosis.kind !== 'no-catalog') await run.fail(`diagnosis ${diagnosis.kind}, expected no-catalog`);
  if (!diagnosis.text.includes('Repositories field')) await run.fail(`the diagnosis does not ask for names: ${diagnosis.text}`);

  await run.page.locator(byTestId('repositories')).fill(repositories);
  await run.page.locator(byTestId('connect')).click();
  run.log(await run.waitForDone('scan-status', 'the scan of the named repositories'));
  run.print('FRAGMENT', await run.page.evaluate(() => window.location.hash));
  const note = await run.text('permissions-note');
  if (!note.includes(pullOnly)) await run.fail(`the permissions note does not name ${pullOnly}: ${note}`);

  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectSent + expectBlocked, `the plan with keep ${keep}`);
  run.print('PLAN', byDecision(rows));
  const blocked = await run.page.locator(`${byTestId('plan-row')}[data-blocked]`).evaluateAll((rows) =>
    rows.map((row) => ({
      repository: row.dataset.repository,
      digest: row.dataset.digest,
      decision: row.dataset.decision,
      blocked: row.dataset.blocked,
      badge: (row.querySelector('.badge')?.textContent ?? '').trim(),
    })),
  );
  run.print('BLOCKED', blocked);
  if (blocked.length !== expectBlocked) await run.fail(`${blocked.length} blocked rows, expected ${expectBlocked}`);
  for (const row of blocked) {
    if (row.repository !== pullOnly || row.blocked !== `cannot delete: no delete permission in ${pullOnly}` || row.badge !== 'blocked') {
      await run.fail(`a wrong blocked row: ${JSON.stringify(row)}`);
    }
  }
  const totals = await run.page.locator(byTestId('plan-totals')).first();
  const changes = Number(await totals.getAttribute('data-changes'));
  if (changes !== expectSent) await run.fail(`plan-totals data-changes=${changes}, expected ${expectSent}`);

  // The typed count is what will be sent, not the blocked ones.
  const { outcomes } = await run.apply(expectSent);
  run.print('OUTCOMES', outcomes);
  const deleted = outcomes.filter((o) => o.outcome === 'deleted');
  const skipped = outcomes.filter((o) => o.outcome === 'skipped');
  if (deleted.length !== expectSent || deleted.some((o) => o.repository !== permitted)) {
    await run.fail(`deleted: ${JSON.stringify(deleted)}`);
  }
  if (skipped.length !== expectBlocked || skipped.some((o) => o.repository !== pullOnly || !o.detail.includes(`no delete permission in ${pullOnly}`))) {
    await run.fail(`skipped: ${JSON.stringify(skipped)}`);
  }
});
