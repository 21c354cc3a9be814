// A hosting config of deploy/ in Chromium: the page comes with the security
// headers (CSP, no foreign framing, nosniff, no referrer), the dashboard
// connects, scans, plans keep-N and deletes under that CSP without one
// violation, and the CSP is shown to be enforced (a fetch outside
// connect-src is refused; another origin cannot frame the page).
//
// Env: CLEANREG_URL (the page), CLEANREG_REGISTRY (registry URL to type;
// unset: the page's default, its own origin), CLEANREG_USER,
// CLEANREG_PASSWORD, CLEANREG_KEEP, CLEANREG_EXPECT_DELETE,
// CLEANREG_CONNECT_SRC (the expected connect-src), CLEANREG_BLOCKED_URL (a
// URL outside it), CLEANREG_FOREIGN_ORIGIN (a page of another origin).
//
// Prints `PLAN {...}`, `OUTCOMES {...}` and `HEADERS {...}` lines.

import { byDecision, count, env, scenario } from './lib.mjs';

const run = scenario('deploy');
const pageUrl = env('CLEANREG_URL');
const registry = env('CLEANREG_REGISTRY', { required: false }) || undefined;
const user = env('CLEANREG_USER', { required: false });
const password = env('CLEANREG_PASSWORD', { required: false });
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');
const connectSrc = env('CLEANREG_CONNECT_SRC');
const blockedUrl = env('CLEANREG_BLOCKED_URL');
const foreignOrigin = env('CLEANREG_FOREIGN_ORIGIN');

await run.main(async () => {
  await run.open(pageUrl);
  const headers = await run.checkSecurityHeaders(connectSrc);
  run.print('HEADERS', headers);

  await run.connect({ registry, user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  const plan = byDecision(rows);
  run.print('PLAN', plan);
  const { outcomes } = await run.apply(expectDelete);
  await run.screenshot('deploy-applied.png');
  const pick = (name) => outcomes.filter((o) => o.outcome === name).map(({ repository, digest }) => ({ repository, digest }));
  run.print('OUTCOMES', { deleted: pick('deleted'), skipped: pick('skipped'), failed: pick('failed') });
  const notDeleted = outcomes.filter((o) => o.outcome !== 'deleted');
  if (outcomes.length !== expectDelete || notDeleted.length > 0) {
    await run.fail(`expected ${expectDelete} deleted outcomes, got ${JSON.stringify(outcomes)}`);
  }

  const violations = await run.cspViolations();
  if (violations.length > 0) await run.fail(`Content-Security-Policy violations during the workflow: ${JSON.stringify(violations)}`);
  run.log('the whole workflow ran without a Content-Security-Policy violation');
  await run.proveConnectBlocked(blockedUrl);
  await run.proveNoForeignFraming(pageUrl, foreignOrigin);
});
