// What the page scripts share: read the JSON spec from stdin, open a phone-sized page in
// headless Chromium, log in through the shared login form, and print the JSON result.
'use strict';
const {chromium} = require('playwright-core');

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
  });
}

const PHONE = {viewport: {width: 390, height: 844}, locale: 'zh-CN'};

// page errors and CSP violations (Chromium logs those as console errors) go into `out.steps`,
// where the tests fail on them
function watch(page, out) {
  page.on('pageerror', (err) => out.steps.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && msg.text().includes('Content Security Policy')) {
      out.steps.push(`pageerror: ${msg.text()}`);
    }
  });
  return page;
}

// another phone in the same browser (its own context: storage, device id, offline switch)
async function newPhone(browser, out, pageOptions = {}) {
  return watch(await (await browser.newContext({...PHONE, ...pageOptions})).newPage(), out);
}

// a full-page screenshot `<input.shots>/<name>.png`
function shot(page, input, name) {
  return page.screenshot({path: `${input.shots}/${name}.png`, fullPage: true});
}

// a failed script: a screenshot of each [page, name] and the steps so far in the error
async function failWithShots(err, input, out, shots) {
  for (const [page, name] of shots) await shot(page, input, name).catch(() => {});
  throw new Error(`${err.message}\nsteps: ${JSON.stringify(out.steps)}`);
}

// run(async (input, page, out) => {...}, pageOptions): `out.steps` collects progress and page errors
function run(script, pageOptions = {}) {
  (async () => {
    const input = await readStdin();
    const out = {steps: []};
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync']});
    try {
      const page = watch(await browser.newPage({...PHONE, ...pageOptions}), out);  // a phone
      await script(input, page, out);
    } finally {
      await browser.close();
    }
    process.stdout.write(JSON.stringify(out));
  })().catch((err) => {
    process.stdout.write(JSON.stringify({fatal: String(err && err.stack || err)}));
    process.exitCode = 1;
  });
}

// log in on the page at `path`; waits until section `view` shows and the page says it loaded
async function login(page, input, path, view) {
  await page.goto(`${input.base}${path}`);
  const title = await page.textContent('h1');
  await page.fill('#username', input.official.username);
  await page.fill('#password', input.official.password);
  await page.click('#login-button');
  await page.waitForSelector(`#${view}:not([hidden])`, {timeout: 15000});
  await loaded(page);
  return title;
}

function loaded(page) {
  return page.waitForFunction(() => document.body.dataset.loaded === 'yes', null, {timeout: 20000});
}

// run(), and when `script` fails: a full-page screenshot `<input.shots>/<failureShot>.png` and
// the steps so far in the error
function runWithShot(failureShot, script, pageOptions = {}) {
  run(async (input, page, out) => {
    try {
      await script(input, page, out);
    } catch (err) {
      await failWithShots(err, input, out, [[page, failureShot]]);
    }
  }, pageOptions);
}

// log the cadre `input.cadre` in to the field app; waits until the roster has replicated (and,
// with `serviceWorker`, until the app's service worker is active: offline tests need it)
async function loginCadre(page, input, {serviceWorker = false} = {}) {
  await page.goto(`${input.base}/app/`);
  await page.waitForSelector('[data-screen="login"]');
  await page.fill('#username', input.cadre.username);
  await page.fill('#password', input.cadre.password);
  await page.click('#login-button');
  await page.waitForSelector('[data-test="household-row"]');
  if (serviceWorker) await page.evaluate(() => navigator.serviceWorker.ready);
}

module.exports = {run, runWithShot, failWithShots, newPhone, shot, login, loginCadre, loaded};
