// What the phone still holds reaches the server: with pushes failing (the gateway answers 503 to
// _bulk_docs) a request recorded online stays pending, and the officials' device list shows the
// count the app reported; once pushes get through, it shows 0 and when everything was uploaded.
'use strict';
const {runWithShot, loginCadre, shot} = require('./harness');

runWithShot('failure', async (input, page, out) => {
  page.setDefaultTimeout(20000);
  page.on('console', (msg) => { if (msg.type() === 'error') out.steps.push(`console: ${msg.text()}`); });
  await holding(input, page, out);
});

/** This device as the town official's device list shows it, once `ready(device)` holds. */
async function listedUntil(page, input, ready) {
  const auth = 'Basic ' + Buffer.from(`${input.official.username}:${input.official.password}`).toString('base64');
  let device = null;
  for (let i = 0; i < 60; i += 1) {
    const answer = await page.request.get(`${input.base}/api/v1/devices`, {headers: {Authorization: auth}});
    const mine = (await answer.json()).devices.filter((d) => d.username === input.cadre.username);
    device = mine[0] || null;
    if (device && ready(device)) return device;
    await page.waitForTimeout(500);
  }
  throw new Error(`device list never showed the expected counts: ${JSON.stringify(device)}`);
}

async function holding(input, page, out) {
  await loginCadre(page, input, {serviceWorker: true});
  out.steps.push('logged in');

  let refusedPushes = 0;
  await page.route('**/sync/*/_bulk_docs', (route) => {
    refusedPushes += 1;
    return route.fulfill({status: 503, contentType: 'application/json', headers: {'Retry-After': '5'},
                          body: JSON.stringify({error: 'couchdb_unavailable', reason: 'test'})});
  });
  await page.click('.van-tabbar-item:nth-child(2)');
  await page.click('[data-test="new-mediation"]');
  await page.waitForSelector('[data-screen="mediation-form"]');
  await page.fill('#applicant-name', '何永明');
  await page.fill('#applicant-phone', '13926611234');
  await page.click('[data-field="category"] [data-code="neighbourhood"]');
  await page.fill('#description', '邻居占用通道，多次协商未果。');
  await page.click('[data-test="save-mediation"]');
  await page.waitForSelector('[data-screen="mediation"]');
  out.steps.push('request saved while pushes fail');

  const held = await listedUntil(page, input, (d) => d.pending_at_last_contact === 1);
  out.held = held;
  out.refused_pushes = refusedPushes;
  await page.click('.van-tabbar-item:nth-child(3)');
  await page.waitForSelector('[data-screen="sync"]');
  out.pending_shown = (await page.textContent('[data-test="pending-count"]')).trim();
  await shot(page, input, '7-sync-pending-reported');

  // the push lands on the server but its answer is lost (a mobile link dropping): the app
  // cannot learn from the push that the request is uploaded
  await page.unroute('**/sync/*/_bulk_docs');
  let lostAnswers = 0;
  await page.route('**/sync/*/_bulk_docs', async (route) => {
    await route.fetch();
    lostAnswers += 1;
    return route.abort('connectionreset');
  });
  await page.click('[data-test="sync-now"]');
  for (let i = 0; i < 60 && !lostAnswers; i += 1) await page.waitForTimeout(250);
  out.lost_answers = lostAnswers;
  await page.unroute('**/sync/*/_bulk_docs');
  await page.click('[data-test="sync-now"]');
  await page.waitForFunction(() => !/\d/.test(document.querySelector('[data-test="pending-count"]').textContent),
                             null, {timeout: 60000});
  out.uploaded = await listedUntil(page, input, (d) => d.pending_at_last_contact === 0 && d.all_uploaded_at);
  out.steps.push('uploaded and reported');
}
