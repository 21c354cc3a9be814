// The connect form against registries that fail in the ways a browser
// hides, and one that works across origins: each case expects either a
// finished scan or a diagnosis of one kind, with a snippet holding given
// text.
//
// Env: CLEANREG_URL (page), CLEANREG_CASES (JSON list of {name, registry,
// user, password, kind | null, snippet: [text...], auth}).
// Prints `CASE <name> <kind|connected>` per case and exits 0; a page error,
// an unexpected result, or (in a case that connects) a console error exits 1.

import { chromium } from 'playwright-core';
import { isReferrersProbeBlocked } from './lib.mjs';

const pageUrl = process.env.CLEANREG_URL;
const cases = JSON.parse(process.env.CLEANREG_CASES || '[]');
const byTestId = (id) => `[data-testid="${id}"]`;

function die(message) {
  process.stderr.write(`connect e2e FAILED: ${message}\n`);
  process.exit(1);
}

if (!pageUrl || cases.length === 0) die('CLEANREG_URL and CLEANREG_CASES are required');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  for (const test of cases) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const pageErrors = [];
    const consoleErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // The scan's referrers API probe, blocked by a registry without the
      // API (its 404 has no CORS headers), is expected.
      if (isReferrersProbeBlocked(message.text(), message.location()?.url ?? '')) return;
      consoleErrors.push(message.text());
    });
    await page.goto(pageUrl, { waitUntil: 'load' });
    await page.locator(byTestId('registry-url')).fill(test.registry);
    await page.locator(byTestId('username')).fill(test.user || '');
    await page.locator(byTestId('password')).fill(test.password || '');
    await page.locator(byTestId('connect')).click();
    await page.waitForFunction(() => {
      const status = document.querySelector('[data-testid="scan-status"]');
      return status && /done|failed/.test(status.textContent);
    });
    if (pageErrors.length) die(`${test.name}: page error ${pageErrors[0]}`);
    const status = await page.locator(byTestId('scan-status')).textContent();
    if (test.kind === null) {
      if (!status.includes('done')) {
        const shown = await page.locator(byTestId('error')).textContent().catch(() => '');
        die(`${test.name}: expected a scan, got "${status}": ${shown}`);
      }
      if (consoleErrors.length) die(`${test.name}: console error ${consoleErrors[0]}`);
      const auth = await page.locator(byTestId('auth-kind')).textContent();
      if (test.auth && !auth.includes(test.auth)) die(`${test.name}: auth shows "${auth}"`);
      console.log(`CASE ${test.name} connected`);
    } else {
      if (await page.locator(byTestId('error')).getAttribute('role') !== 'alert') {
        die(`${test.name}: no error with role=alert`);
      }
      const diagnosis = page.locator(byTestId('diagnosis'));
      if ((await diagnosis.count()) !== 1) die(`${test.name}: no diagnosis; status "${status}"`);
      const kind = await diagnosis.getAttribute('data-kind');
      if (kind !== test.kind) {
        die(`${test.name}: diagnosis ${kind}, expected ${test.kind}: ${await diagnosis.innerText()}`);
      }
      const wanted = test.snippet || [];
      if (wanted.length) {
        const snippet = await page.locator(byTestId('diagnosis-snippet')).textContent();
        for (const text of wanted) {
          if (!snippet.includes(text)) die(`${test.name}: snippet lacks ${JSON.stringify(text)}:\n${snippet}`);
        }
      }
      console.log(`CASE ${test.name} ${kind}`);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
