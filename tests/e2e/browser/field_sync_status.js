// Sync status people can trust: the phone logs in and syncs, then the server (or the network)
// fails in each way a cadre meets, and the badge and the sync screen say which, with the last
// successful sync time: no network (browser offline), the server over its budgets (503, the
// test sets the per-account longpoll budget to 0), a server fault (500), an app too old (426,
// the minimum version raised), the login no longer valid (401, the device revoked). The test
// applies each change when this script writes its name into input.flag, and deletes the file.
'use strict';
const fs = require('fs');
const {runWithShot, loginCadre, shot} = require('./harness');

// progress goes to a file as well: a run killed by its timeout still shows how far it got
const step = (input, out, what) => {
  out.steps.push(what);
  fs.appendFileSync(`${input.shots}/13-sync-status.log`, `${new Date().toISOString()} ${what}\n`);
};
const text = async (page, selector) => (await page.textContent(selector)).replace(/\s+/g, ' ').trim();

runWithShot('failure-sync-status', async (input, page, out) => {
  page.setDefaultTimeout(30000);
  await statuses(input, page, out);
});

async function ask(page, input, what) {
  fs.writeFileSync(input.flag, what);
  for (let i = 0; i < 80 && fs.existsSync(input.flag); i += 1) await page.waitForTimeout(250);
  if (fs.existsSync(input.flag)) throw new Error(`the test did not apply ${what}`);
}

async function syncScreen(page) {
  await page.evaluate(() => { location.hash = '#/sync'; });
  await page.waitForSelector('[data-screen="sync"]');
}

/** Wait until the sync screen's phase reads `phase`, then what the screen and the badge say. */
async function seen(page, input, phase, name) {
  fs.appendFileSync(`${input.shots}/13-sync-status.log`, `${new Date().toISOString()} waiting for ${phase}\n`);
  await syncScreen(page);
  await page.waitForFunction((want) => document.querySelector('[data-test="sync-phase"]')?.textContent.trim() === want,
                             phase, {timeout: 60000});
  const screen = {phase: await text(page, '[data-test="sync-phase"]'),
                  last_ok: await page.locator('[data-test="sync-last-ok"]').count()
                    ? await text(page, '[data-test="sync-last-ok"]') : null};
  await shot(page, input, `13-sync-${name}`);
  await page.evaluate(() => { location.hash = '#/'; });
  await page.waitForSelector('[data-test="sync-badge"]');
  screen.badge = await text(page, '[data-test="sync-badge"]');
  await shot(page, input, `13-badge-${name}`);
  return screen;
}

async function statuses(input, page, out) {
  const context = page.context();
  fs.writeFileSync(`${input.shots}/13-sync-status.log`, '');
  page.on('console', (msg) => { if (msg.type() === 'error') step(input, out, `console: ${msg.text()}`); });
  if (input.lang) await page.addInitScript((lang) => localStorage.setItem('fieldsync-lang', lang), input.lang);
  await loginCadre(page, input, {serviceWorker: true});
  step(input, out, 'logged in');
  out.device_id = await page.evaluate(() => localStorage.getItem('fieldsync-device-id'));
  out.synced = await seen(page, input, input.phases.caught_up, 'caught-up');
  step(input, out, 'caught up');

  await context.setOffline(true);
  out.offline = await seen(page, input, input.phases.offline, 'no-network');
  await context.setOffline(false);
  await seen(page, input, input.phases.caught_up, 'back');
  step(input, out, 'no network, then back');

  for (const [what, name] of [['budget', 'busy'], ['fault', 'fault']]) {
    await ask(page, input, what);
    await syncScreen(page);
    await page.click('[data-test="sync-now"]');  // new requests now, not after the held longpoll
    out[name] = await seen(page, input, input.phases.busy, name);
    await ask(page, input, 'restore');
    await syncScreen(page);
    await page.click('[data-test="sync-now"]');
    out[`${name}_recovered`] = await seen(page, input, input.phases.caught_up, `${name}-recovered`);
    step(input, out, `${name}, then recovered`);
  }

  await ask(page, input, 'min_version');
  await syncScreen(page);
  await page.click('[data-test="sync-now"]');
  out.too_old = await seen(page, input, input.phases.too_old, 'too-old');
  out.too_old.banner = await page.locator('[data-test="update-required"]').count();
  await ask(page, input, 'restore');
  await syncScreen(page);
  await page.click('[data-test="sync-now"]');
  await seen(page, input, input.phases.caught_up, 'too-old-recovered');
  out.too_old_recovered_banner = await page.locator('[data-test="update-required"]').count();
  step(input, out, 'too old, then recovered');

  await ask(page, input, 'revoke');
  await syncScreen(page);
  await page.click('[data-test="sync-now"]');
  await page.waitForSelector('[data-test="log-in-again"]', {timeout: 60000});  // no retrying for ever
  out.unauthorized = {phase: await text(page, '[data-test="sync-phase"]'),
                      last_ok: await text(page, '[data-test="sync-last-ok"]'),
                      needs_password: await page.evaluate(() => JSON.parse(localStorage.getItem('fieldsync-session') || 'null')?.needs_password ?? null)};
  await shot(page, input, '13-sync-unauthorized');
  await page.click('[data-test="log-in-again"]');
  await page.waitForSelector('[data-screen="login"]');
  out.unauthorized.login_text = await text(page, '[data-screen="login"]');
  await shot(page, input, '13-unauthorized-login');
  step(input, out, 'revoked: asked to log in again');
}
