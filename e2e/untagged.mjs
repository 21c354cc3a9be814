// Untagged manifests and tag removal, in Chromium against a basic-auth
// registry served same-origin. The Rust test pushes between the steps:
//
//   connect and scan (main = A)             -> STEP scanned   (main pushed again: B)
//   Scan again: A untagged, through history -> STEP rescanned (main pushed again: C)
//   reload, connect and scan: A and B untagged, through the history kept in
//   IndexedDB; the plan keeps them until "Delete untagged manifests" is on;
//   remove_tags takes pr-1 and sha-abc off the release image, while its last
//   tag keeps pr-2 on another; apply with the recovery file -> STEP applied
//   (the registry is checked); then Restore puts everything back.
//
// Env: CLEANREG_URL (page), CLEANREG_USER, CLEANREG_PASSWORD,
// CLEANREG_REPOSITORY (where main moves), CLEANREG_RELEASE (the digest of
// the release image), CLEANREG_KNOWN (every digest the test pushed before
// the page opened, comma separated; each step's answer names the one it
// pushed), CLEANREG_REMOVE_TAGS (the pattern), CLEANREG_SCREENSHOT_DIR
// (optional).
//
// Prints SCANS, PLAN, OUTCOMES and RESTORED lines; any page or console error
// not expected below fails.

import { byTestId, env, scenario, STEP_TIMEOUT_MS } from './lib.mjs';

const run = scenario('untagged');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const repository = env('CLEANREG_REPOSITORY');
const release = env('CLEANREG_RELEASE');
const known = new Set(env('CLEANREG_KNOWN').split(','));
const removeTags = env('CLEANREG_REMOVE_TAGS');
const origin = new URL(pageUrl).origin;
const manifests = `${origin}/v2/${repository}/manifests/`;

// Removing a tag on Distribution 2.8: its tag DELETE answers an error (the
// registry has none), the replacement's blobs are asked for before they are
// pushed (404), and the tag is read once more after it is gone (404); a
// restore reads each removed tag before it puts it back (404). Only for
// the repository's tags, never for a digest.
run.allowConsole(({ url, status }) => {
  if (!url.startsWith(manifests)) {
    return status === 404 && url.startsWith(`${origin}/v2/${repository}/blobs/sha256:`);
  }
  const reference = decodeURIComponent(url.slice(manifests.length));
  return !reference.startsWith('sha256:') && status >= 400 && status < 500;
});
// The check that deletes work asks for a digest nothing has: a 404 for a
// manifest the test never pushed deleted nothing the test knows of.
run.allowGone(({ digest }) => !known.has(digest));

/// Every `plan-row`, with its tag.
async function planRows(page) {
  return page.locator(byTestId('plan-row')).evaluateAll((rows) =>
    rows.map((row) => ({
      repository: row.dataset.repository,
      digest: row.dataset.digest,
      decision: row.dataset.decision,
      role: row.dataset.role,
      tag: row.dataset.tag ?? null,
      reason: (row.querySelector('.reason')?.textContent ?? '').trim(),
    })),
  );
}

/// Waits until the plan is ready and `accept(rows)` holds; returns the rows.
async function planWhere(page, what, accept) {
  await page.locator(byTestId('tab-plan')).click();
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const state = await page.locator(byTestId('plan-status')).getAttribute('data-state');
    const rows = await planRows(page);
    if (state === 'ready' && accept(rows)) return rows;
    if (Date.now() > deadline) await run.fail(`${what}: the plan never showed it; rows: ${JSON.stringify(rows)}`);
    await page.waitForTimeout(100);
  }
}

/// The untagged rows of the inventory for the repository.
async function inventoryUntagged(page) {
  await page.locator(byTestId('tab-inventory')).click();
  const row = page.locator(`${byTestId('repo-row')}[data-repository="${repository}"]`);
  await row.waitFor({ state: 'visible' });
  const counted = Number(await row.getAttribute('data-untagged'));
  await row.locator(byTestId('repo-open')).click();
  await page.locator(byTestId('repo-images')).waitFor({ state: 'visible' });
  const rows = await page.locator(byTestId('untagged-row')).evaluateAll((trs) =>
    trs.map((tr) => ({ digest: tr.dataset.digest, found: tr.dataset.found, lastTags: tr.dataset.lastTags })),
  );
  return { counted, rows };
}

/// Every record of the page's scan history database: {key, text}.
async function historyRecords(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('cleanreg-history');
        open.onerror = () => reject(new Error(`cannot open cleanreg-history: ${open.error}`));
        open.onsuccess = () => {
          const db = open.result;
          const store = db.transaction('entries').objectStore('entries');
          const keys = store.getAllKeys();
          const values = store.getAll();
          values.onsuccess = () => {
            const decoder = new TextDecoder();
            resolve(keys.result.map((key, at) => ({ key, text: decoder.decode(values.result[at].v) })));
            db.close();
          };
          values.onerror = () => reject(new Error(`cannot read cleanreg-history: ${values.error}`));
        };
      }),
  );
}

const sorted = (list) => [...list].sort();
const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

await run.main(async () => {
  const page = await run.open(pageUrl);
  await run.connect({ user, password });
  const first = await run.waitForDone('scan-status', 'the first scan');
  run.log(first);
  if (first.includes('untagged')) await run.fail(`the first scan found untagged manifests: ${first}`);

  const pushedB = await run.step('scanned');
  known.add(pushedB.pushed);
  await page.locator(byTestId('connect')).click();
  const again = await run.waitForDone('scan-status', 'Scan again');
  run.log(again);
  const afterAgain = await inventoryUntagged(page);
  if (afterAgain.counted !== 1 || !same(afterAgain.rows.map((r) => r.digest), pushedB.untagged)) {
    await run.fail(`after Scan again the inventory shows ${JSON.stringify(afterAgain)}, expected ${JSON.stringify(pushedB.untagged)}`);
  }

  const pushedC = await run.step('rescanned');
  known.add(pushedC.pushed);
  await page.reload({ waitUntil: 'load' });
  await page.locator(byTestId('registry-url')).waitFor({ state: 'visible' });
  await run.connect({ user, password });
  const reloaded = await run.waitForDone('scan-status', 'the scan after a reload');
  run.log(reloaded);
  const afterReload = await inventoryUntagged(page);
  await run.screenshot('untagged-inventory.png');
  const expected = pushedC.untagged;
  if (afterReload.counted !== expected.length || !same(afterReload.rows.map((r) => r.digest), expected)) {
    await run.fail(`after a reload the inventory shows ${JSON.stringify(afterReload)}, expected ${JSON.stringify(expected)}`);
  }
  const notHistory = afterReload.rows.filter((r) => r.found !== 'history' || r.lastTags !== 'main');
  if (notHistory.length > 0) {
    await run.fail(`untagged rows not found through history with their last tag main: ${JSON.stringify(notHistory)}`);
  }
  run.print('SCANS', { first, again, reloaded, inventory: afterReload });

  // The history holds digests, tags and the registry's URL under hashed
  // keys: never a credential.
  const history = await historyRecords(page);
  const basic = Buffer.from(`${user}:${password}`).toString('base64');
  const leaked = history.filter((r) => [password, basic, user].some((secret) => r.text.includes(secret) || r.key.includes(secret)));
  const badKeys = history.filter((r) => !/^history\/sha256:[0-9a-f]{64}$/.test(r.key));
  if (history.length === 0 || leaked.length > 0 || badKeys.length > 0) {
    await run.fail(`the scan history in IndexedDB: ${history.length} records, ${leaked.length} with credentials, keys ${JSON.stringify(badKeys.map((r) => r.key))}`);
  }
  run.print('HISTORY', history);

  // Kept until the policy deletes untagged manifests.
  await run.setKeep(5);
  const untaggedRows = (rows) => rows.filter((r) => r.role === 'untagged');
  const kept = await planWhere(page, 'untagged manifests kept', (rows) => untaggedRows(rows).length === expected.length);
  const keptWrongly = untaggedRows(kept).filter((r) => r.decision !== 'keep' || !r.reason.includes('does not delete untagged'));
  if (keptWrongly.length > 0 || kept.some((r) => r.decision !== 'keep')) {
    await run.fail(`before delete_untagged every row must be kept, untagged ones for that reason: ${JSON.stringify(kept)}`);
  }

  await page.locator(byTestId('tab-policy')).click();
  await (await run.need('default-delete_untagged', 'the switch "Delete untagged manifests"')).check();
  const deleting = await planWhere(page, 'untagged manifests deleted', (rows) =>
    untaggedRows(rows).every((r) => r.decision === 'delete') && rows.filter((r) => r.decision === 'delete').length === expected.length,
  );
  if (!same(deleting.filter((r) => r.decision === 'delete').map((r) => r.digest), expected)) {
    await run.fail(`the plan deletes other than the untagged manifests: ${JSON.stringify(deleting)}`);
  }

  await page.locator(byTestId('tab-policy')).click();
  await (await run.need('default-remove_tags', 'the remove_tags field')).fill(removeTags);
  await run.screenshot('untagged-policy.png');
  const plan = await planWhere(page, 'tags removed', (rows) => rows.filter((r) => r.decision === 'untag').length === 2);
  const untags = plan.filter((r) => r.decision === 'untag');
  if (!untags.every((r) => r.digest === release && r.role === 'tag') || !same(untags.map((r) => r.tag), ['pr-1', 'sha-abc'])) {
    await run.fail(`the tag removals are not pr-1 and sha-abc of ${release}: ${JSON.stringify(untags)}`);
  }
  const lastTag = plan.find((r) => r.role === 'tag' && r.decision === 'keep');
  if (!lastTag || lastTag.tag !== 'pr-2' || !lastTag.reason.includes("image's last tag")) {
    await run.fail(`pr-2, the last tag of its image, is not kept with the reason: ${JSON.stringify(lastTag)}`);
  }
  const totals = page.locator(byTestId('plan-totals'));
  const changes = Number(await totals.getAttribute('data-changes'));
  if (changes !== expected.length + 2) await run.fail(`plan-totals data-changes is ${changes}`);
  await run.screenshot('untagged-plan.png');
  run.print('PLAN', plan);

  const { recovery, outcomes } = await run.apply(changes);
  const rows = await page.locator(byTestId('outcome-row')).evaluateAll((trs) =>
    trs.map((tr) => ({
      repository: tr.dataset.repository,
      digest: tr.dataset.digest,
      outcome: tr.dataset.outcome,
      tags: tr.dataset.tags,
      detail: (tr.querySelector('.reason')?.textContent ?? '').trim(),
    })),
  );
  run.print('OUTCOMES', rows);
  await run.screenshot('untagged-outcomes.png');
  if (outcomes.length !== changes) await run.fail(`${outcomes.length} outcome rows, expected ${changes}`);
  const status = await run.text('apply-status');
  if (!status.includes(`${expected.length} deleted, 2 tags removed, 0 skipped, 0 failed`)) {
    await run.fail(`apply-status: ${JSON.stringify(status)}`);
  }
  const blobs = await run.need('replacement-blobs', 'the note on the blobs replacements left');
  const note = ((await blobs.textContent()) ?? '').trim();
  if (!note.includes(`${repository}: sha256:`)) await run.fail(`replacement-blobs: ${JSON.stringify(note)}`);

  await run.step('applied', { outcomes: rows, recovery });

  await page.locator(byTestId('tab-restore')).click();
  await (await run.need('restore-file', 'the recovery file picker')).setInputFiles({
    name: 'cleanreg-recovery.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(recovery)),
  });
  await page.locator(byTestId('recovery-entry')).first().waitFor({ state: 'attached' });
  const held = await page.locator(byTestId('recovery-entry')).evaluateAll((trs) =>
    trs.map((tr) => ({ digest: tr.dataset.digest, tagsOnly: tr.dataset.tagsOnly })),
  );
  if (held.filter((e) => e.tagsOnly === 'true').length !== 1) {
    await run.fail(`the recovery file should list one image whose tags were removed: ${JSON.stringify(held)}`);
  }
  await (await run.need('restore-run', 'the restore button')).click();
  run.log(await run.waitForDone('restore-status', 'the restore'));
  await run.screenshot('untagged-restored.png');
  const restored = await page.locator(byTestId('restore-row')).evaluateAll((trs) =>
    trs.map((tr) => ({ digest: tr.dataset.digest, result: tr.dataset.result, tagsOnly: tr.dataset.tagsOnly })),
  );
  run.print('RESTORED', restored);
});
