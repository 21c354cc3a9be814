// A hostile registry stand-in (testkit's hostile_registry) behind nginx:
// HTML and script in platform names, annotations, artifact and media types,
// and in error messages. The dashboard must show them as text: no payload
// runs (window.__pwned stays unset, no page error), no element of theirs
// appears, and their text is on the page. With CLEANREG_FILLER repositories
// in the catalog (paged by Link), the scan must page through them while
// the page keeps drawing its progress.
//
// Env: CLEANREG_URL, CLEANREG_EXPECT (`inventory`: the scan completes;
// `error`: it stops with the registry's message; `catalog`: the catalog is
// listed whole and the first 1,000 repositories read), CLEANREG_FILLER.
// Prints `HOSTILE {...}`.

import { byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('hostile');
const pageUrl = env('CLEANREG_URL');
const expect = env('CLEANREG_EXPECT');
const filler = count('CLEANREG_FILLER');

// The payloads' <img src=x> would 404 if they ever became elements; the
// scan's 404s for missing manifests are expected too.
run.allowConsole(({ status }) => status === 404 || status === 403);

const inert = () =>
  run.page.evaluate(() => ({
    pwned: window.__pwned ?? null,
    injectedImages: document.querySelectorAll('img[src="x"]').length,
    injectedScripts: [...document.scripts].filter((s) => s.textContent.includes('__pwned')).length,
  }));

await run.main(async () => {
  const page = await run.open(pageUrl);
  const started = Date.now();
  await page.locator(byTestId('connect')).click();
  // Watch the progress while the catalog pages through.
  const progressTexts = new Set();
  const total = filler + 1;
  let listedMs = null;
  for (;;) {
    const status = await run.text('scan-status');
    const failed = (await page.locator(byTestId('error')).count()) > 0;
    if (status.includes('done') || failed) break;
    // Read without waiting: the progress disappears when the scan ends.
    const progress = await page.evaluate(
      () => document.querySelector('[data-testid="scan-progress"]')?.textContent ?? null,
    );
    if (progress !== null) {
      progressTexts.add(progress);
      // `catalog`: the whole catalog listed, then 1,000 repositories read
      // while the page keeps drawing: enough to show it pages through.
      const listed = /Repositories listed: (\d+) of (\d+)/.exec(progress);
      if (listed && Number(listed[2]) === total && listedMs === null) listedMs = Date.now() - started;
      if (expect === 'catalog' && listed && Number(listed[2]) === total && Number(listed[1]) >= 1_000) break;
    }
    if (Date.now() - started > 600_000) await run.fail('the scan took more than 10 minutes');
    await page.waitForTimeout(200);
  }
  const scanMs = Date.now() - started;
  const longTasks = await page.evaluate(() => window.__longTasks ?? []);
  const result = {
    scanMs,
    listedMs,
    progressUpdates: progressTexts.size,
    longestTaskMs: Math.max(0, ...longTasks),
    longTasks: longTasks.length,
  };

  if (expect === 'catalog') {
    result.progress = [...progressTexts].pop();
    if (listedMs === null) await run.fail(`the catalog of ${total} repositories was never listed whole`);
  } else if (expect === 'error') {
    const shown = (await page.locator(byTestId('error')).count()) > 0 ? await run.text('error') : '';
    result.error = shown;
    if (!shown.includes('onerror')) await run.fail(`the registry's message is not shown as text: ${JSON.stringify(shown)}`);
  } else {
    const status = await run.text('scan-status');
    if (!status.includes('done')) await run.fail(`the scan did not complete: ${status}`);
    result.status = status;
    // Open the hostile repository and the plan, where the payloads are shown.
    await page.locator(byTestId('repo-filter')).fill('hostile/app');
    await page.locator(byTestId('repo-open')).first().click();
    await page.locator(byTestId('image-row')).first().waitFor();
    result.inventoryShowsPayloadText = (await page.locator('body').innerText()).includes('onerror');
    await run.screenshot('hostile-inventory.png');
    await page.locator(byTestId('tab-plan')).click();
    await page.waitForSelector('[data-testid="plan-status"][data-state="ready"]', { timeout: 120_000 });
    result.planShowsPayloadText = (await page.locator('body').innerText()).includes('onerror');
    if (!result.inventoryShowsPayloadText) await run.fail('the hostile platform names are not on the page as text');
  }
  await page.waitForTimeout(500);
  Object.assign(result, await inert());
  run.print('HOSTILE', result);
  if (result.pwned !== null || result.injectedImages > 0 || result.injectedScripts > 0) {
    await run.fail(`a payload became markup: ${JSON.stringify(result)}`);
  }
  if (filler > 0 && result.progressUpdates < 2) await run.fail(`the progress was drawn ${result.progressUpdates} time(s) during the scan`);
});
