// The cadres' field app on a phone: log in online, let the village replicate, go offline,
// reload (the service worker serves the app), record a visit with a photo and a mediation
// request, reload again (still pending), go online and wait until everything is uploaded.
'use strict';
const {run, newPhone} = require('./harness');

const shot = (page, input, name) => page.screenshot({path: `${input.shots}/${name}.png`, fullPage: true});
const pendingText = (page) => page.textContent('[data-test="pending-count"]');

run(async (input, page, out) => {
  page.on('console', (msg) => { if (msg.type() === 'error') out.steps.push(`console: ${msg.text()}`); });
  try {
    await fieldWork(input, page, out);
  } catch (err) {
    await shot(page, input, 'failure').catch(() => {});
    throw new Error(`${err.message}\nsteps: ${JSON.stringify(out.steps)}`);
  }
});

async function fieldWork(input, page, out) {
  const context = page.context();
  page.setDefaultTimeout(20000);
  await page.goto(`${input.base}/app/`);
  await page.waitForSelector('[data-screen="login"]');
  out.login_title = (await page.textContent('h1')).trim();
  await page.fill('#username', input.cadre.username);
  await page.fill('#password', 'wrong-password');
  await page.click('#login-button');
  out.wrong_password_error = (await page.textContent('[data-test="login-error"]')).trim();
  await page.fill('#password', input.cadre.password);
  await page.click('#login-button');
  await page.waitForSelector('[data-test="household-row"]');
  out.steps.push('logged in, roster replicated');
  out.households_online = await page.locator('[data-test="household-row"]').count();
  await page.evaluate(() => navigator.serviceWorker.ready);  // installed: the shell is precached
  await page.fill('input[name="roster-search"]', input.search);
  await page.waitForFunction((n) => document.querySelectorAll('[data-test="household-row"]').length === n, 1);
  out.search_hits = await page.locator('[data-test="household-row"]').count();
  await shot(page, input, '1-roster-online');
  await page.fill('input[name="roster-search"]', '');

  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('[data-test="household-row"]');
  out.steps.push('reloaded offline');
  out.controlled_offline = await page.evaluate(() => Boolean(navigator.serviceWorker.controller));
  out.households_offline = await page.locator('[data-test="household-row"]').count();
  out.badge_offline = (await page.textContent('[data-test="sync-badge"]')).trim();
  out.steps.push(`offline: navigator.onLine=${await page.evaluate(() => navigator.onLine)} phase=${await page.getAttribute('[data-test="sync-badge"]', 'data-phase')}`);

  // a verification visit with a photo
  await page.fill('input[name="roster-search"]', input.search);
  await page.click('[data-test="household-row"]');
  await page.waitForSelector('[data-screen="household"]');
  await shot(page, input, '2-household-offline');
  await page.click('[data-test="new-visit"]');
  await page.waitForSelector('[data-screen="visit-form"]');
  for (const [name, value] of Object.entries(input.visit.indicators)) {
    await page.click(`[data-indicator="${name}"] [data-value="${value}"]`);
  }
  await page.fill('#income-per_capita', input.visit.per_capita_yuan);
  await page.fill('#household-size', '3');
  await page.click('[data-field="verdict"] [data-code="follow_up"]');
  await page.click('[data-field="reasons"] [data-code="safe_housing"]');
  await page.fill('#visit-notes', input.visit.notes);
  await page.setInputFiles('[data-test="photo-input"]', input.photo);
  await page.waitForSelector('[data-test="photo"] img');
  await shot(page, input, '3-visit-form-offline');
  await page.click('[data-test="save-visit"]');
  await page.waitForSelector('[data-screen="household"] [data-test="visit-row"]');
  out.steps.push('visit saved offline');

  // a mediation request for a villager
  await page.click('.van-tabbar-item:nth-child(2)');
  await page.click('[data-test="new-mediation"]');
  await page.waitForSelector('[data-screen="mediation-form"]');
  await page.fill('#applicant-name', input.request.name);
  await page.fill('#applicant-phone', input.request.phone);
  await page.fill('#party-0-name', input.request.other_party);
  await page.click('[data-field="category"] [data-code="land_forest"]');
  await page.click('[data-field="urgency"] [data-code="urgent"]');
  await page.fill('#description', input.request.description);
  await page.fill('#amount', input.request.amount_yuan);
  await shot(page, input, '4-mediation-form-offline');
  await page.click('[data-test="save-mediation"]');
  await page.waitForSelector('[data-screen="mediation"]');
  out.request_id = decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/mediation/', ''));
  out.steps.push('request saved offline');

  await page.click('.van-tabbar-item:nth-child(3)');
  await page.waitForSelector('[data-screen="sync"]');
  out.pending_offline = (await pendingText(page)).trim();
  await page.reload();
  await page.waitForSelector('[data-screen="sync"]');
  await page.waitForFunction(() => /2/.test(document.querySelector('[data-test="pending-count"]')?.textContent || ''));
  out.pending_after_reload = (await pendingText(page)).trim();
  await shot(page, input, '5-sync-offline');

  await context.setOffline(false);
  await page.waitForFunction(() => !/\d/.test(document.querySelector('[data-test="pending-count"]').textContent),
                             null, {timeout: 60000});
  out.pending_online = (await pendingText(page)).trim();
  out.last_sync = (await page.textContent('[data-test="last-sync"] .van-cell__value')).trim();
  out.steps.push('uploaded after going online');
  await shot(page, input, '6-sync-online');

  // the other end: the town official's workbench (another browser: officials do not share a
  // cadre's) shows the request with the applicant's phone to call
  const official = await newPhone(context.browser(), out);
  await official.goto(`${input.base}/officials`);
  await official.waitForSelector('#username');
  await official.fill('#username', input.official.username);
  await official.fill('#password', input.official.password);
  await official.click('#login-button');
  await official.waitForSelector('[data-screen=alerts]', {timeout: 15000});
  const card = `[data-test=alert-card]:has-text("${input.request.name}")`;
  await official.waitForSelector(card, {timeout: 30000});
  out.official_card = (await official.textContent(card)).replace(/\s+/g, ' ').trim();
  out.official_call = await official.getAttribute(`${card} [data-test=call]`, 'href');
  await official.click(`${card} [data-test=applicant]`);
  await official.waitForSelector('[data-screen=alert] [data-test=actions]', {timeout: 15000});
  out.official_detail = (await official.textContent('[data-screen=alert]')).replace(/\s+/g, ' ').trim();
  await shot(official, input, '7-official-sees-the-request');
}
