// The OCI 1.1 referrers API in the dashboard's release build, in Chromium,
// same-origin (deploy/same-origin.conf) with the real registry behind
// testkit's ReferrersFront. The images' signatures and SBOMs were pushed by
// digest with no tag, so only the API finds them: the inventory must show
// each under its image with its artifact type and as an untagged row found
// through the referrers API; keep-N then deletes the old images with theirs.
//
// Env: CLEANREG_URL (page), CLEANREG_REPOSITORY, CLEANREG_KEEP,
// CLEANREG_EXPECT_DELETE (plan rows expected with data-decision=delete),
// CLEANREG_SCREENSHOT_DIR (optional).
//
// Prints INVENTORY {images: [{digest, attached}], untagged: [{digest,
// found, kind}]}, PLAN {keep, delete} and OUTCOMES [{digest, outcome}].

import { byDecision, byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('referrers');
const pageUrl = env('CLEANREG_URL');
const repository = env('CLEANREG_REPOSITORY');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');

await run.main(async () => {
  const page = await run.open(pageUrl);
  await run.connect({});
  run.log(await run.waitForDone('scan-status', 'the scan'));
  if (run.referrersProbes.length > 0) {
    await run.fail(`the registry serves the referrers API, yet it answered 404: ${JSON.stringify(run.referrersProbes)}`);
  }

  await page.locator(byTestId('tab-inventory')).click();
  const repo = page.locator(`${byTestId('repo-row')}[data-repository="${repository}"]`);
  await repo.waitFor({ state: 'visible' });
  await repo.locator(byTestId('repo-open')).click();
  await page.locator(byTestId('repo-images')).waitFor({ state: 'visible' });
  const images = await page.locator(byTestId('image-row')).evaluateAll((rows) =>
    rows.map((row) => ({
      digest: row.dataset.digest,
      attached: (row.querySelector('.attached')?.textContent ?? '').trim(),
    })),
  );
  const untagged = await page.locator(byTestId('untagged-row')).evaluateAll((rows) =>
    rows.map((row) => ({
      digest: row.dataset.digest,
      found: row.dataset.found,
      kind: (row.querySelector('.kind')?.textContent ?? '').trim(),
    })),
  );
  run.print('INVENTORY', { images, untagged });
  await run.screenshot('referrers-inventory.png');

  await run.setKeep(keep);
  const rows = await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  run.print('PLAN', byDecision(rows));
  await run.screenshot('referrers-plan.png');
  const { outcomes } = await run.apply(expectDelete);
  run.print(
    'OUTCOMES',
    outcomes.map(({ digest, outcome }) => ({ digest, outcome })),
  );
});
