// What the server said about a record, on the record: a mediation request with a wrong ID
// number (written on its way up) is stored and quarantined (its feedback comes down and lists the problem); another
// is refused by the gateway (its push is rewritten on the way to name another village, as a
// device bug would) and shows the refusal's reason, kept on the phone.
'use strict';
const {runWithShot, loginCadre, shot} = require('./harness');

runWithShot('failure', async (input, page, out) => {
  page.setDefaultTimeout(20000);
  await feedback(input, page, out);
});

async function fileRequest(page, name, idNumber) {
  await page.evaluate(() => { location.hash = '#/mediation/new'; });
  await page.waitForSelector('[data-screen="mediation-form"]');
  await page.fill('#applicant-name', name);
  await page.fill('#applicant-phone', '13926611234');
  if (idNumber) await page.fill('#applicant-id', idNumber);
  await page.click('[data-field="category"] [data-code="neighbourhood"]');
  await page.fill('#description', '邻居占用通道，多次协商未果。');
  await page.click('[data-test="save-mediation"]');
  await page.waitForSelector('[data-screen="mediation"]');
  return decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/mediation/', ''));
}

async function feedback(input, page, out) {
  await loginCadre(page, input);
  out.steps.push('logged in');

  // the app checks identity numbers as the server does: the wrong one is written on the way,
  // as an older app or a device bug would send it
  await page.route('**/sync/*/_bulk_docs', (route) => {
    const body = JSON.parse(route.request().postData());
    for (const doc of body.docs) if (doc.applicant?.name === '何永明') doc.applicant.id_number = input.bad_id_number;
    return route.continue({postData: JSON.stringify(body)});
  });
  out.quarantined_id = await fileRequest(page, '何永明', null);
  await page.waitForSelector('[data-test="feedback-notice"]', {timeout: 60000});
  out.feedback = (await page.textContent('[data-test="feedback-notice"]')).replace(/\s+/g, ' ').trim();
  await shot(page, input, '9-record-quarantined');

  await page.route('**/sync/*/_bulk_docs', (route) => {
    const body = JSON.parse(route.request().postData());
    for (const doc of body.docs) if (doc.applicant?.name === '拒收测试') doc.village_code = input.other_village;
    return route.continue({postData: JSON.stringify(body)});
  });

  out.refused_id = await fileRequest(page, '拒收测试', null);
  await page.waitForSelector('[data-test="refused-notice"]', {timeout: 60000});
  out.refused = (await page.textContent('[data-test="refused-notice"]')).replace(/\s+/g, ' ').trim();
  await shot(page, input, '10-record-refused');
  // the status comes from what the server said, in the detail and in the list (not 已受理)
  out.refused_status = (await page.textContent('[data-test="mediation-status"] .van-cell__value')).replace(/\s+/g, ' ').trim();
  await page.evaluate(() => { location.hash = '#/mediation'; });
  await page.waitForSelector('[data-screen="mediation-list"] [data-test="mediation-row"]');
  out.list_status = await page.$$eval('[data-test="mediation-row"]', (rows) => rows.map((row) => ({
    status: row.dataset.status, tag: row.querySelector('[data-test="mediation-status"]').textContent.trim(),
    text: row.querySelector('[data-test="mediation-status-text"]')?.textContent.replace(/\s+/g, ' ').trim() ?? null,
    title: row.querySelector('.van-cell__title span')?.textContent.trim()})));
  await shot(page, input, '10-mediation-list-statuses');
  await page.click('.van-tabbar-item:nth-child(3)');
  await page.waitForSelector('[data-screen="sync"]');
  out.sync_summary = (await page.textContent('[data-test="sync-summary"]')).replace(/\s+/g, ' ').trim();
  await shot(page, input, '11-sync-refused');
}
