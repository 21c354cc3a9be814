// The password's whereabouts in the dashboard: through a whole workflow
// (connect, scan, plan, both plan exports, the recovery file, apply) it is
// never in localStorage, never in sessionStorage unless "remember" is
// ticked (and gone again when unticked), never in the page URL or any
// request URL, never in console output, never in an export; and the
// Authorization header goes only to the registry's origin.
//
// Env: CLEANREG_URL, CLEANREG_USER, CLEANREG_PASSWORD, CLEANREG_REGISTRY_ORIGIN,
// CLEANREG_KEEP, CLEANREG_EXPECT_DELETE. Prints `SECRETS {...}` with what
// was checked.

import { byTestId, count, env, scenario } from './lib.mjs';

const run = scenario('secrets');
const pageUrl = env('CLEANREG_URL');
const user = env('CLEANREG_USER');
const password = env('CLEANREG_PASSWORD');
const registryOrigin = env('CLEANREG_REGISTRY_ORIGIN');
const keep = count('CLEANREG_KEEP');
const expectDelete = count('CLEANREG_EXPECT_DELETE');

const basic = Buffer.from(`${user}:${password}`).toString('base64');
const secrets = [password, basic, encodeURIComponent(password)];
const leaks = (text) => secrets.filter((secret) => text.includes(secret));

await run.main(async () => {
  const page = await run.open(pageUrl);
  const requests = [];
  const consoleTexts = [];
  page.on('request', (request) => {
    requests.push({ url: request.url(), authorization: request.headers().authorization ?? null });
  });
  page.on('console', (message) => consoleTexts.push(message.text()));
  const storage = () =>
    page.evaluate(() => {
      const all = (store) => Object.fromEntries(Object.keys(store).map((key) => [key, store.getItem(key)]));
      return { local: all(localStorage), session: all(sessionStorage) };
    });
  const problems = [];
  const check = (where, text) => {
    const found = leaks(text);
    if (found.length > 0) problems.push(`${where} holds the password (${found.length} forms)`);
  };

  await run.connect({ user, password });
  run.log(await run.waitForDone('scan-status', 'the scan'));
  await run.setKeep(keep);
  await run.waitForPlan(expectDelete, `the plan with keep ${keep}`);
  const planJson = await run.download('plan-export-json', 'the plan as JSON');
  const planCsv = await run.download('plan-export-csv', 'the plan as CSV');
  const { recovery, outcomes } = await run.apply(expectDelete);
  if (outcomes.filter((o) => o.outcome === 'deleted').length !== expectDelete) {
    await run.fail(`not every delete succeeded: ${JSON.stringify(outcomes)}`);
  }

  const unticked = await storage();
  check('localStorage', JSON.stringify(unticked.local));
  check('sessionStorage (not ticked)', JSON.stringify(unticked.session));
  check('the page URL', page.url());
  check('the plan JSON export', planJson.text);
  check('the plan CSV export', planCsv.text);
  check('the recovery file', JSON.stringify(recovery));
  for (const request of requests) check(`the request URL ${request.url}`, request.url);
  check('console output', consoleTexts.join('\n'));
  const authorized = requests.filter((r) => r.authorization !== null);
  const elsewhere = authorized.filter((r) => new URL(r.url).origin !== registryOrigin);
  for (const r of elsewhere) problems.push(`Authorization sent to ${r.url}`);
  if (authorized.length === 0) problems.push('no request carried the credentials: the check saw nothing');

  // Ticked, the user asked for this tab's sessionStorage; unticked, it goes.
  const remember = page.locator(byTestId('remember-password'));
  await remember.check();
  await page.waitForFunction(
    (secret) => Object.keys(sessionStorage).some((key) => (sessionStorage.getItem(key) ?? '').includes(secret)),
    password,
    { polling: 100, timeout: 5_000 },
  ).catch(() => problems.push('ticking "remember" did not keep the password in sessionStorage'));
  const ticked = await storage();
  check('localStorage (ticked)', JSON.stringify(ticked.local));
  await remember.uncheck();
  const again = await storage();
  check('sessionStorage after unticking', JSON.stringify(again.session));
  check('localStorage after unticking', JSON.stringify(again.local));

  run.print('SECRETS', {
    requests: requests.length,
    authorized: authorized.length,
    consoleMessages: consoleTexts.length,
    exports: [planJson.name, planCsv.name, 'recovery'],
    storageKeys: { local: Object.keys(unticked.local), session: Object.keys(unticked.session) },
    problems,
  });
  if (problems.length > 0) await run.fail(problems.join('; '));
});
