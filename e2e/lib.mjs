// Shared helpers of the dashboard's end-to-end scenarios (playwright-core,
// Debian Chromium). Each scenario script:
//
//   const run = scenario('name');           // reads CLEANREG_* env, arms a watchdog
//   const page = await run.open(url);        // launches Chromium, fails on page errors
//   ... steps ...
//   await run.pass();
//
// Any page error, crash, console error not explicitly allowed, failed check or
// timeout exits 1 with `<name> e2e FAILED: <why>` on stderr (plus what the
// page's `error`/`diagnosis` elements say). Machine-readable results go to
// stdout as `PREFIX {json}` lines for the Rust test that runs the script.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const STEP_TIMEOUT_MS = 60_000;
export const byTestId = (id) => `[data-testid="${id}"]`;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const MANIFEST_BY_DIGEST = /^\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/;
/// Each scan asks whether the registry serves the OCI referrers API with one
/// `GET /v2/<name>/referrers/<digest>`; a registry without it (Distribution)
/// answers 404, which the browser logs, and across origins without CORS
/// headers (Distribution adds its configured headers only on its own
/// routes), which the browser logs as blocked.
const REFERRERS_PROBE = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/;
const REFERRERS_PROBE_BLOCKED =
  /^Access to fetch at '[^']*\/v2\/[^']+\/referrers\/sha256:[0-9a-f]{64}' from origin '[^']*' has been blocked by CORS policy/;
const STATUS_MESSAGE = /^Failed to load resource: the server responded with a status of (\d{3})/;

/// Whether a console error is the referrers API probe blocked across
/// origins (see `REFERRERS_PROBE_BLOCKED`): the scan takes it as no API.
export function isReferrersProbeBlocked(text, url) {
  if (REFERRERS_PROBE_BLOCKED.test(text)) return true;
  return (
    text.startsWith('Failed to load resource: net::ERR_FAILED') &&
    Boolean(url) &&
    REFERRERS_PROBE.test(new URL(url).pathname)
  );
}

/// The environment variable, or `fallback` when it is unset and not required.
export function env(name, { required = true, fallback = '' } = {}) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    if (required) {
      process.stderr.write(`e2e FAILED: environment variable ${name} is not set\n`);
      process.exit(1);
    }
    return fallback;
  }
  return value;
}

export function count(name, options) {
  const text = env(name, options);
  if (!/^\d+$/.test(text)) {
    process.stderr.write(`e2e FAILED: ${name} must be a whole number, got ${JSON.stringify(text)}\n`);
    process.exit(1);
  }
  return Number(text);
}

export function scenario(name) {
  const screenshotDir = env('CLEANREG_SCREENSHOT_DIR', { required: false });
  const totalTimeout = Number(env('CLEANREG_TIMEOUT_MS', { required: false, fallback: '300000' }));
  const log = (text) => process.stderr.write(`[${name}] ${text}\n`);
  let browser;
  let page;
  let mainResponse;
  let failing = false;
  /// Console messages a step said to expect: predicates over the message.
  const allowances = [];
  /// Manifest 404s after a delete (the dashboard checks each is gone).
  const gone404s = [];
  /// 404s of the referrers API probe (a registry without the API).
  const referrersProbes = [];
  /// `repository@digest` of every outcome row seen: the only manifests a
  /// 404 by digest is expected for.
  const applied = new Set();
  /// Other 404s by digest a step said to expect: predicates over
  /// {repository, digest}.
  const goneAllowances = [];
  /// Lines the Rust test writes to stdin, answering `step`.
  let answers;

  function fail(message) {
    // Stop the caller's flow while the browser closes; report the first failure only.
    const never = new Promise(() => {});
    if (failing) return never;
    failing = true;
    process.stderr.write(`${name} e2e FAILED: ${message}\n`);
    const exit = () => process.exit(1);
    const shown = async () => {
      if (!page) return;
      for (const id of ['error', 'diagnosis', 'policy-error']) {
        const text = await page
          .locator(byTestId(id))
          .first()
          .textContent({ timeout: 500 })
          .catch(() => null);
        if (text) process.stderr.write(`the page's ${id} says: ${text.trim()}\n`);
      }
      if (screenshotDir) await screenshot(`${name}-failed.png`).catch(() => {});
    };
    shown()
      .catch(() => {})
      .then(() => (browser ? browser.close() : undefined))
      .then(exit, exit);
    return never;
  }

  const watchdog = setTimeout(() => fail(`the whole run took more than ${totalTimeout} ms`), totalTimeout);

  async function screenshot(file) {
    if (!screenshotDir || !page) return;
    mkdirSync(screenshotDir, { recursive: true });
    const path = join(screenshotDir, file);
    await page.screenshot({ path, fullPage: true });
    log(`screenshot ${path}`);
  }

  function onConsole(message) {
    if (message.type() !== 'error') return;
    const text = message.text();
    const url = message.location()?.url ?? '';
    const status = STATUS_MESSAGE.exec(text);
    if (status && status[1] === '404' && url) {
      const match = MANIFEST_BY_DIGEST.exec(new URL(url).pathname);
      if (match) {
        gone404s.push({ origin: new URL(url).origin, repository: match[1], digest: match[2] });
        return;
      }
      if (REFERRERS_PROBE.test(new URL(url).pathname)) {
        referrersProbes.push(url);
        return;
      }
    }
    if (isReferrersProbeBlocked(text, url)) {
      referrersProbes.push(text);
      return;
    }
    if (allowances.some((allowed) => allowed({ text, url, status: status ? Number(status[1]) : null }))) {
      log(`expected console error: ${text} (${url})`);
      return;
    }
    fail(`console error: ${text} at ${JSON.stringify(message.location())}`);
  }

  const run = {
    name,
    log,
    fail,
    screenshot,
    gone404s,
    referrersProbes,
    get page() {
      return page;
    },

    /// Allows console errors matching `predicate({text, url, status})`.
    allowConsole(predicate) {
      allowances.push(predicate);
    },

    /// Allows manifest 404s by digest that no outcome row names, for
    /// `predicate({repository, digest})` (a probe for a digest that never
    /// existed).
    allowGone(predicate) {
      goneAllowances.push(predicate);
    },

    /// Hands control to the Rust test: prints `STEP name {json}` and waits
    /// for its one-line JSON answer on stdin (see `run_script_steps`).
    async step(name, value = {}) {
      process.stdout.write(`STEP ${name} ${JSON.stringify(value)}\n`);
      answers ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]();
      const { value: line, done } = await answers.next();
      if (done) return fail(`the test runner gave no answer to step ${name}`);
      try {
        return JSON.parse(line);
      } catch (error) {
        return fail(`the answer to step ${name} is not JSON: ${JSON.stringify(line)}`);
      }
    },

    /// Launches Chromium and opens `url`; returns the page once `ready`
    /// (a test id) is visible. Content-Security-Policy violations are
    /// recorded (see `cspViolations`) and, as console errors, fail the run.
    /// `chromiumArgs` go to Chromium after the usual ones; `initScripts`
    /// run in every document before the page's own scripts.
    async open(url, { acceptDownloads = true, ready = 'registry-url', chromiumArgs = [], initScripts = [] } = {}) {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...chromiumArgs] });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads });
      await context.addInitScript(() => {
        window.__longTasks = [];
        try {
          new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
          }).observe({ type: 'longtask', buffered: true });
        } catch {}
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
          window.__cspViolations.push({ directive: event.effectiveDirective, blocked: event.blockedURI });
        });
      });
      for (const script of initScripts) await context.addInitScript(script);
      page = await context.newPage();
      page.setDefaultTimeout(STEP_TIMEOUT_MS);
      page.on('pageerror', (error) => fail(`page error: ${error.stack || error.message}`));
      page.on('crash', () => fail('the page crashed'));
      page.on('console', onConsole);
      log(`opening ${url}`);
      const response = await page.goto(url, { waitUntil: 'load' });
      if (!response || !response.ok()) await fail(`the page answered HTTP ${response?.status()}`);
      mainResponse = response;
      await page.locator(byTestId(ready)).waitFor({ state: 'visible' });
      return page;
    },

    /// The response headers of the page `open` loaded.
    async pageHeaders() {
      return mainResponse ? mainResponse.allHeaders() : {};
    },

    /// Content-Security-Policy violations the page reported so far:
    /// [{directive, blocked}].
    async cspViolations() {
      return page.evaluate(() => window.__cspViolations ?? []);
    },

    /// Fails unless the page came with the security headers of deploy/:
    /// the CSP (with exactly this connect-src), no framing by other sites,
    /// nosniff and no referrer. Returns the headers.
    async checkSecurityHeaders(connectSrc) {
      const headers = await run.pageHeaders();
      const csp = headers['content-security-policy'] ?? '';
      const directives = new Map(
        csp
          .split(';')
          .map((d) => d.trim())
          .filter(Boolean)
          .map((d) => {
            const [key, ...values] = d.split(/\s+/);
            return [key, values.join(' ')];
          }),
      );
      const want = {
        'default-src': "'self'",
        'script-src': "'self' 'wasm-unsafe-eval'",
        'connect-src': connectSrc,
        'frame-ancestors': "'self'",
      };
      for (const [key, value] of Object.entries(want)) {
        if (directives.get(key) !== value) {
          await fail(`Content-Security-Policy ${key} is ${JSON.stringify(directives.get(key))}, expected ${JSON.stringify(value)} (header: ${JSON.stringify(csp)})`);
        }
      }
      const exact = {
        'x-frame-options': 'SAMEORIGIN',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      };
      for (const [key, value] of Object.entries(exact)) {
        if (headers[key] !== value) await fail(`${key} is ${JSON.stringify(headers[key])}, expected ${JSON.stringify(value)}`);
      }
      return headers;
    },

    /// Proves the CSP is enforced, not just sent: a fetch to `url` (an
    /// origin outside connect-src) must be refused with a connect-src
    /// violation.
    async proveConnectBlocked(url) {
      const origin = new URL(url).origin;
      run.allowConsole(({ text }) => text.includes('Content Security Policy') && text.includes(origin));
      const before = (await run.cspViolations()).length;
      const outcome = await page.evaluate(
        (target) => fetch(target, { cache: 'no-store' }).then(() => 'answered', (error) => `refused: ${error}`),
        url,
      );
      const violations = (await run.cspViolations()).slice(before);
      if (!outcome.startsWith('refused') || !violations.some((v) => v.directive === 'connect-src' && v.blocked.startsWith(origin))) {
        await fail(`a fetch to ${url} outside connect-src was not blocked: ${outcome}; violations ${JSON.stringify(violations)}`);
      }
      log(`CSP enforced: a fetch to ${origin} was ${outcome}`);
    },

    /// Proves another origin cannot frame `url`: an iframe of it in a page
    /// of `otherOrigin` (any answer that is not a login challenge; a 404 is
    /// fine) must be blocked by frame-ancestors / X-Frame-Options.
    async proveNoForeignFraming(url, otherOrigin) {
      const context = await browser.newContext();
      const other = await context.newPage();
      const refusals = [];
      other.on('console', (message) => {
        const text = message.text();
        if (/frame-ancestors|X-Frame-Options/.test(text)) refusals.push(text);
      });
      await other.goto(otherOrigin, { waitUntil: 'load' }).catch(() => {});
      await other.evaluate((src) => {
        const frame = document.createElement('iframe');
        frame.src = src;
        document.documentElement.append(frame);
      }, url);
      await other.waitForTimeout(2_000);
      const framed = other.frames().find((frame) => frame !== other.mainFrame());
      const inside = framed ? await framed.locator(byTestId('registry-url')).count().catch(() => 0) : 0;
      await context.close();
      if (refusals.length === 0 || inside > 0) {
        await fail(`${otherOrigin} could frame ${url} (refusals: ${JSON.stringify(refusals)}, dashboard elements inside: ${inside})`);
      }
      log(`framing by ${otherOrigin} refused: ${refusals[0]}`);
    },

    async text(id) {
      return ((await page.locator(byTestId(id)).first().textContent()) ?? '').trim();
    },

    /// Fails unless an element with this test id exists (within 5 s).
    async need(id, why) {
      const found = await page
        .locator(byTestId(id))
        .first()
        .waitFor({ state: 'attached', timeout: 5_000 })
        .then(
          () => true,
          () => false,
        );
      if (!found) {
        await fail(`no element data-testid="${id}" (${why}); see docs/dashboard.md`);
      }
      return page.locator(byTestId(id)).first();
    },

    /// Fills the connect form and presses connect (URL only when given).
    async connect({ registry, user = '', password = '' }) {
      if (registry !== undefined) await page.locator(byTestId('registry-url')).fill(registry);
      await page.locator(byTestId('username')).fill(user);
      await page.locator(byTestId('password')).fill(password);
      await page.locator(byTestId('connect')).click();
    },

    /// Waits until the element's text contains `done`; stops early on a shown error.
    async waitForDone(id, what) {
      try {
        await page.waitForFunction(
          ([id]) => {
            const status = document.querySelector(`[data-testid="${id}"]`);
            return (
              (status && status.textContent.includes('done')) ||
              document.querySelector('[data-testid="error"]') !== null ||
              document.querySelector('[data-testid="diagnosis"]') !== null
            );
          },
          [id],
          { timeout: STEP_TIMEOUT_MS, polling: 100 },
        );
      } catch {
        await fail(`${what} did not finish within ${STEP_TIMEOUT_MS} ms; ${id}: ${JSON.stringify(await run.text(id))}`);
      }
      const status = await run.text(id);
      if (!status.includes('done')) await fail(`${what} failed; ${id}: ${JSON.stringify(status)}`);
      return status;
    },

    /// Waits for `diagnosis`; returns its kind, text and snippet. An
    /// `error` shown without a diagnosis gets 5 s more, then fails.
    async waitForDiagnosis(what) {
      const shown = (ids) =>
        page.waitForFunction(
          ([ids]) => ids.some((id) => document.querySelector(`[data-testid="${id}"]`) !== null),
          [ids],
          { timeout: STEP_TIMEOUT_MS, polling: 100 },
        );
      try {
        await shown(['diagnosis', 'error']);
        if ((await page.locator(byTestId('diagnosis')).count()) === 0) {
          await page.locator(byTestId('diagnosis')).first().waitFor({ state: 'attached', timeout: 5_000 });
        }
      } catch {
        await fail(
          `no data-testid="diagnosis" after ${what}; scan-status: ${JSON.stringify(await run.text('scan-status'))}`,
        );
      }
      const diagnosis = page.locator(byTestId('diagnosis')).first();
      const snippet = page.locator(byTestId('diagnosis-snippet'));
      return {
        kind: await diagnosis.getAttribute('data-kind'),
        text: ((await diagnosis.textContent()) ?? '').trim(),
        snippet: (await snippet.count()) > 0 ? ((await snippet.first().textContent()) ?? '') : null,
      };
    },

    /// Sets the default rule's "keep newest" in the Policy tab.
    async setKeep(keep) {
      await page.locator(byTestId('tab-policy')).click();
      await page.locator(byTestId('keep-count')).fill(String(keep));
    },

    /// Opens the Plan tab and waits for `plan-status` `data-state="ready"`
    /// (when the page has one) and for `deletes` delete rows.
    async waitForPlan(deletes, what = 'the plan') {
      await page.locator(byTestId('tab-plan')).click();
      try {
        await page.waitForFunction(
          ([expected]) => {
            const status = document.querySelector('[data-testid="plan-status"]');
            if (status && status.dataset.state !== 'ready') return false;
            return document.querySelectorAll('[data-testid="plan-row"][data-decision="delete"]').length === expected;
          },
          [deletes],
          { timeout: STEP_TIMEOUT_MS, polling: 100 },
        );
      } catch {
        const rows = await run.planRows();
        const actual = rows.filter((r) => r.decision === 'delete').length;
        const state = await page
          .locator(byTestId('plan-status'))
          .first()
          .getAttribute('data-state', { timeout: 500 })
          .catch(() => 'missing');
        await fail(
          `${what}: ${actual} delete rows, expected ${deletes} (plan-status data-state=${state}); rows: ${JSON.stringify(rows)}`,
        );
      }
      return run.planRows();
    },

    /// Every `plan-row`: {repository, digest, decision, role}.
    async planRows() {
      return page.locator(byTestId('plan-row')).evaluateAll((rows) =>
        rows.map((row) => ({
          repository: row.dataset.repository,
          digest: row.dataset.digest,
          decision: row.dataset.decision,
          role: row.dataset.role,
        })),
      );
    },

    /// Clicks `id` and returns the download it starts: {name, text}.
    async download(id, what) {
      const button = await run.need(id, what);
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: STEP_TIMEOUT_MS }).catch(() => null),
        button.click(),
      ]);
      if (!download) return fail(`clicking ${id} started no download (${what})`);
      const failure = await download.failure();
      if (failure) await fail(`the ${id} download failed: ${failure}`);
      const path = await download.path();
      const text = readFileSync(path, 'utf8');
      if (screenshotDir) {
        mkdirSync(screenshotDir, { recursive: true });
        await download.saveAs(join(screenshotDir, `${name}-${download.suggestedFilename()}`));
      }
      return { name: download.suggestedFilename(), text };
    },

    /// Apply: open the confirmation, check it names `deletes`, take the
    /// recovery file (the safe path: the download must arrive), type the
    /// count, confirm, wait for done. Returns {recovery, outcomes}.
    /// `requireTypedCount: false` tolerates a page without `confirm-count`
    /// and `recovery-download` (the skeleton); `doneWithinMs` is how long
    /// the run may take.
    async apply(deletes, { requireTypedCount = true, doneWithinMs = STEP_TIMEOUT_MS } = {}) {
      const apply = await run.need('apply', 'the apply button');
      if (!(await apply.isEnabled())) await fail('apply is disabled although the plan deletes something');
      await apply.click();
      await page.locator(byTestId('confirm-panel')).first().waitFor({ state: 'visible' });
      const question = await run.text('confirm-panel');
      if (!question.includes(String(deletes))) {
        await fail(`the confirmation does not name ${deletes} manifests: ${JSON.stringify(question)}`);
      }
      let recovery = null;
      if (requireTypedCount || (await page.locator(byTestId('recovery-download')).count()) > 0) {
        const file = await run.download('recovery-download', 'the recovery file offered before the first delete');
        try {
          recovery = JSON.parse(file.text);
        } catch (error) {
          await fail(`the recovery download ${file.name} is not JSON: ${error}`);
        }
      }
      if (requireTypedCount || (await page.locator(byTestId('confirm-count')).count()) > 0) {
        const typed = await run.need('confirm-count', 'where the user types the number of manifests');
        await typed.fill(String(deletes));
      }
      await screenshot(`${name}-confirm.png`);
      const confirm = page.locator(byTestId('confirm-apply'));
      try {
        await page.waitForFunction(
          () => {
            const button = document.querySelector('[data-testid="confirm-apply"]');
            return button && !button.disabled;
          },
          [],
          { timeout: 10_000, polling: 100 },
        );
      } catch {
        const status = (await page.locator(byTestId('recovery-status')).count()) > 0 ? await run.text('recovery-status') : '';
        await fail(`confirm-apply stays disabled after the recovery file and typing ${deletes}; recovery-status: ${JSON.stringify(status)}`);
      }
      await confirm.click();
      await run.waitForApplyDone('applying the plan', doneWithinMs);
      return { recovery, outcomes: await run.outcomes() };
    },

    async waitForApplyDone(what, timeoutMs = STEP_TIMEOUT_MS) {
      try {
        await page.waitForFunction(
          () => {
            const status = document.querySelector('[data-testid="apply-status"]');
            return status && status.textContent.includes('done');
          },
          [],
          { timeout: timeoutMs, polling: 100 },
        );
      } catch {
        await fail(`${what} did not finish within ${timeoutMs} ms; apply-status: ${JSON.stringify(await run.text('apply-status'))}`);
      }
    },

    /// Every `outcome-row`: {repository, digest, outcome, detail}.
    async outcomes() {
      const rows = await page.locator(byTestId('outcome-row')).evaluateAll((rows) =>
        rows.map((row) => ({
          repository: row.dataset.repository,
          digest: row.dataset.digest,
          outcome: row.dataset.outcome,
          detail: (row.querySelector('.reason')?.textContent ?? row.textContent ?? '').trim(),
        })),
      );
      for (const row of rows) applied.add(`${row.repository}@${row.digest}`);
      return rows;
    },

    /// Prints `PREFIX {json}` for the Rust test.
    print(prefix, value) {
      process.stdout.write(`${prefix} ${JSON.stringify(value)}\n`);
    },

    /// Lets late page errors surface, closes the browser and exits 0.
    async pass() {
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (failing) return new Promise(() => {});
      const unexpected = gone404s.filter(
        (g) => !applied.has(`${g.repository}@${g.digest}`) && !goneAllowances.some((allowed) => allowed(g)),
      );
      if (unexpected.length > 0) {
        await fail(`the registry answered 404 for manifests no outcome row names: ${JSON.stringify(unexpected)}`);
      }
      clearTimeout(watchdog);
      await browser.close();
      log('passed');
      process.exit(0);
    },

    /// Runs `main` and passes, or fails with its exception.
    async main(body) {
      try {
        await body();
        await run.pass();
      } catch (error) {
        await fail(error.stack || String(error));
      }
    },
  };
  return run;
}

/// Rows grouped by decision, as {repository, digest} lists.
export function byDecision(rows) {
  const pick = (decision) =>
    rows.filter((r) => r.decision === decision).map(({ repository, digest }) => ({ repository, digest }));
  return { keep: pick('keep'), delete: pick('delete') };
}
