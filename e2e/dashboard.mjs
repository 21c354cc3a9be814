// End-to-end run of the cleanreg dashboard in Chromium: connect, scan, plan
// with keep-N, apply, and check every delete succeeded.
//
// Env: CLEANREG_URL (page), CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_KEEP,
// CLEANREG_EXPECT_DELETE (plan rows expected with data-decision=delete),
// CLEANREG_SCREENSHOT_DIR (optional), CLEANREG_TIMEOUT_MS (optional, whole run).
//
// Prints `PLAN {"keep":[...],"delete":[...]}` and `OUTCOMES {...}` lines on
// stdout ({repository, digest} objects) and exits 0; any page error, console
// error, failed check or timeout exits 1 with a message on stderr.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 60_000;

function usage(message) {
  process.stderr.write(`dashboard e2e FAILED: ${message}\n`);
  process.exit(1);
}

function env(name, { required = true, fallback = '' } = {}) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    if (required) usage(`environment variable ${name} is not set`);
    return fallback;
  }
  return value;
}

function count(name) {
  const text = env(name);
  if (!/^\d+$/.test(text)) usage(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

let browser;
let page;
let failing = false;

function fail(message) {
  // Stop the caller's flow while the browser closes; report only the first failure.
  const never = new Promise(() => {});
  if (failing) return never;
  failing = true;
  process.stderr.write(`dashboard e2e FAILED: ${message}\n`);
  const exit = () => process.exit(1);
  const shownError = page
    ? page.locator('[data-testid="error"]').first().textContent({ timeout: 1000 })
    : Promise.resolve(null);
  shownError
    .then((text) => text && process.stderr.write(`the page shows: ${text}\n`), () => {})
    .then(() => (browser ? browser.close() : undefined))
    .then(exit, exit);
  return never;
}

const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER', { required: false });
const password = env('CLEANREG_PASSWORD', { required: false });
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');
const screenshotDir = env('CLEANREG_SCREENSHOT_DIR', { required: false });
const totalTimeout = Number(env('CLEANREG_TIMEOUT_MS', { required: false, fallback: '300000' }));

const watchdog = setTimeout(() => fail(`the whole run took more than ${totalTimeout} ms`), totalTimeout);

const log = (text) => process.stderr.write(`[e2e] ${text}\n`);
const byTestId = (id) => `[data-testid="${id}"]`;

// Chromium logs every 404 as "Failed to load resource". After each DELETE the
// dashboard checks that the manifest is gone, which the registry answers with
// 404: that one, for a digest the plan deletes, is expected (checked below).
const MANIFEST_BY_DIGEST = /^\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/;
const expected404s = [];

function expectedRegistry404(message) {
  if (!message.text().startsWith('Failed to load resource: the server responded with a status of 404')) return null;
  const url = new URL(message.location()?.url ?? '', pageUrl);
  if (url.origin !== new URL(pageUrl).origin) return null;
  const match = MANIFEST_BY_DIGEST.exec(url.pathname);
  return match ? { repository: match[1], digest: match[2] } : null;
}

async function screenshot(page, name) {
  if (!screenshotDir) return;
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, name);
  await page.screenshot({ path, fullPage: true });
  log(`screenshot ${path}`);
}

async function text(page, id) {
  return (await page.locator(byTestId(id)).first().textContent()) ?? '';
}

/// Waits until the element's text contains `done`; stops early on a shown error.
async function waitForDone(page, id, what) {
  try {
    await page.waitForFunction(
      ([id]) => {
        const status = document.querySelector(`[data-testid="${id}"]`);
        return (
          (status && status.textContent.includes('done')) ||
          document.querySelector('[data-testid="error"]') !== null
        );
      },
      [id],
      { timeout: STEP_TIMEOUT_MS, polling: 100 },
    );
  } catch {
    await fail(`${what} did not finish within ${STEP_TIMEOUT_MS} ms; status: ${JSON.stringify(await text(page, id))}`);
  }
  if ((await page.locator(byTestId('error')).count()) > 0) {
    await fail(`${what} failed; the page says: ${await text(page, 'error')}`);
  }
  return text(page, id);
}

async function main() {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (error) => fail(`page error: ${error.stack || error.message}`));
  page.on('crash', () => fail('the page crashed'));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const gone = expectedRegistry404(message);
    if (gone) {
      expected404s.push(gone);
      return;
    }
    fail(`console error: ${message.text()} at ${JSON.stringify(message.location())}`);
  });

  log(`opening ${pageUrl}`);
  const response = await page.goto(pageUrl, { waitUntil: 'load' });
  if (!response || !response.ok()) await fail(`the page answered HTTP ${response?.status()}`);
  const urlInput = page.locator(byTestId('registry-url'));
  await urlInput.waitFor({ state: 'visible' });

  const origin = new URL(pageUrl).origin;
  const shown = await urlInput.inputValue();
  if (shown !== origin) await fail(`registry-url shows ${JSON.stringify(shown)}, expected the page origin ${origin}`);

  await page.locator(byTestId('username')).fill(user);
  await page.locator(byTestId('password')).fill(password);
  await page.locator(byTestId('connect')).click();
  const scanStatus = await waitForDone(page, 'scan-status', 'the scan');
  log(scanStatus);

  await page.locator(byTestId('tab-policy')).click();
  await page.locator(byTestId('keep-count')).fill(String(keep));
  await page.locator(byTestId('tab-plan')).click();
  const deleteRows = 'tr[data-testid="plan-row"][data-decision="delete"]';
  try {
    await page.waitForFunction(
      ([selector, expected]) => document.querySelectorAll(selector).length === expected,
      [deleteRows, expectDelete],
      { timeout: STEP_TIMEOUT_MS, polling: 100 },
    );
  } catch {
    const actual = await page.locator(deleteRows).count();
    await fail(`with keep ${keep} the plan has ${actual} delete rows, expected ${expectDelete}`);
  }

  const rows = await page.locator('tr[data-testid="plan-row"]').evaluateAll((trs) =>
    trs.map((tr) => ({
      repository: tr.dataset.repository,
      digest: tr.dataset.digest,
      decision: tr.dataset.decision,
    })),
  );
  const pick = (decision) =>
    rows.filter((r) => r.decision === decision).map(({ repository, digest }) => ({ repository, digest }));
  const plan = { keep: pick('keep'), delete: pick('delete') };
  if (plan.keep.length + plan.delete.length !== rows.length) {
    await fail(`some plan rows are neither keep nor delete: ${JSON.stringify(rows)}`);
  }
  process.stdout.write(`PLAN ${JSON.stringify(plan)}\n`);
  log(await text(page, 'plan-totals'));
  await screenshot(page, 'plan.png');

  const apply = page.locator(byTestId('apply'));
  if (expectDelete === 0) {
    if (await apply.isEnabled()) await fail('apply is enabled although the plan deletes nothing');
    process.stdout.write(`OUTCOMES ${JSON.stringify({ deleted: [], skipped: [], failed: [] })}\n`);
    return;
  }
  await apply.click();
  const confirm = page.locator(byTestId('confirm-apply'));
  await confirm.waitFor({ state: 'visible' });
  const question = await text(page, 'confirm-panel');
  if (!question.includes(`Delete ${expectDelete} manifest`)) {
    await fail(`the confirmation does not state ${expectDelete} manifests: ${JSON.stringify(question)}`);
  }
  await screenshot(page, 'confirm.png');
  await confirm.click();

  const applyStatus = await waitForDone(page, 'apply-status', 'applying the plan');
  log(applyStatus);
  const outcomes = await page.locator('[data-testid="outcome-row"]').evaluateAll((trs) =>
    trs.map((tr) => ({
      repository: tr.dataset.repository,
      digest: tr.dataset.digest,
      outcome: tr.dataset.outcome,
      detail: tr.querySelector('.reason')?.textContent ?? '',
    })),
  );
  await screenshot(page, 'applied.png');
  const byOutcome = (name) =>
    outcomes.filter((o) => o.outcome === name).map(({ repository, digest, detail }) => ({ repository, digest, detail }));
  const report = { deleted: byOutcome('deleted'), skipped: byOutcome('skipped'), failed: byOutcome('failed') };
  process.stdout.write(`OUTCOMES ${JSON.stringify(report)}\n`);

  if (outcomes.length !== expectDelete) {
    await fail(`${outcomes.length} outcome rows, expected one per delete (${expectDelete})`);
  }
  const notDeleted = outcomes.filter((o) => o.outcome !== 'deleted');
  if (notDeleted.length > 0) await fail(`not every delete succeeded: ${JSON.stringify(notDeleted)}`);
  const planned = new Set(plan.delete.map((d) => `${d.repository}@${d.digest}`));
  const strays = outcomes.filter((o) => !planned.has(`${o.repository}@${o.digest}`));
  if (strays.length > 0) await fail(`outcomes for manifests the plan did not delete: ${JSON.stringify(strays)}`);
  if ((await page.locator(byTestId('gc-hint')).count()) === 0) await fail('no garbage-collect hint after apply');
  const unplanned404s = expected404s.filter((g) => !planned.has(`${g.repository}@${g.digest}`));
  if (unplanned404s.length > 0) {
    await fail(`the registry answered 404 for manifests the plan does not delete: ${JSON.stringify(unplanned404s)}`);
  }
  log(`${expected404s.length} expected 404s (deleted manifests verified gone)`);
}

try {
  await main();
  // Let late page errors surface before declaring success.
  await new Promise((resolve) => setTimeout(resolve, 300));
  clearTimeout(watchdog);
  await browser.close();
  log('passed');
  process.exit(0);
} catch (error) {
  await fail(error.stack || String(error));
}
