// An official in headless Chromium: log in, watch the inbox, see a device's mediation request
// arrive without reloading, acknowledge it, see the SLA figure change.
// Usage: node official_inbox.js < {"base", "official": {username, password}, "device":
//   {username, password, village, dir}, "request": <mediation doc>, "screenshot": path}
'use strict';
const {run} = require('./harness');
const PouchDB = require('pouchdb-node');

async function pushFromDevice(spec, request) {
  const local = new PouchDB(spec.dir);
  await local.put(request);
  const remote = new PouchDB(`${spec.base}/sync/${spec.village}`, {
    skip_setup: true, auth: {username: spec.username, password: spec.password}});
  const result = await PouchDB.replicate(local, remote);
  await local.close();
  return result.docs_written;
}

run(async (input, page, out) => {
  await page.goto(`${input.base}/officials`);
  out.title = await page.textContent('h1');
  await page.fill('#username', input.official.username);
  await page.fill('#password', input.official.password);
  await page.click('#login-button');
  await page.waitForSelector('#inbox-view:not([hidden])', {timeout: 15000});
  await page.waitForFunction(() => document.querySelector('#live-status').dataset.t === 'live',
                             null, {timeout: 15000});
  out.sla_before = await page.textContent('#sla-alerts');
  out.steps.push('logged in, live');
  let reloaded = false;
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) reloaded = true; });
  out.docs_written = await pushFromDevice({...input.device, base: input.base}, input.request);
  const selector = `[data-id="alert:${input.request._id}"]`;
  await page.waitForSelector(selector, {timeout: 20000});
  out.card_text = await page.textContent(selector);
  out.reloaded = reloaded;
  out.steps.push('alert appeared');
  await page.waitForFunction((before) => document.querySelector('#sla-alerts').textContent !== before,
                             out.sla_before, {timeout: 10000});
  out.sla_after_alert = await page.textContent('#sla-alerts');
  out.ack_before = await page.textContent('#sla-ack');
  await page.click(`${selector} button.ack`);
  await page.waitForSelector(`${selector}.state-acknowledged`, {timeout: 10000});
  await page.waitForFunction(() => document.querySelector('#sla-ack').textContent !== '–',
                             null, {timeout: 10000});
  out.ack_after = await page.textContent('#sla-ack');
  out.steps.push('acknowledged');
  await page.click('#lang-switch');
  out.english_title = await page.textContent('h1');
  if (input.screenshot) await page.screenshot({path: input.screenshot, fullPage: true});
});
