// Two phones (two browser contexts, two device ids, one cadre) edit one household offline: A
// the notes, B (later) the notes and the address. Both sync, CouchDB keeps both revisions, the
// test's worker merges (it runs when this script writes input.flag), and both phones show the
// server's outcome: one revision, B's later notes, B's address, no conflict notice. Phone A,
// whose notes lost, is told so with both values (the merge's feedback document); B is not. The
// county then picks A's notes (input.flag again, 'decide'): A sees them and the notice resolved.
'use strict';
const fs = require('fs');
const {run, failWithShots, newPhone, loginCadre, shot} = require('./harness');

const pendingText = (page) => page.textContent('[data-test="pending-count"]');

run(async (input, pageA, out) => {
  const pageB = await newPhone(pageA.context().browser(), out);
  for (const page of [pageA, pageB]) page.setDefaultTimeout(30000);
  try {
    await twoDevices(input, pageA, pageB, out);
  } catch (err) {
    await failWithShots(err, input, out, [[pageA, 'failure-a'], [pageB, 'failure-b']]);
  }
});

async function openHousehold(page, input) {
  await page.evaluate(() => { location.hash = '#/'; });
  await page.fill('input[name="roster-search"]', input.search);
  await page.click('[data-test="household-row"]');
  await page.waitForSelector('[data-screen="household"]');
}

async function edit(page, input, changes) {
  await openHousehold(page, input);
  await page.click('[data-test="edit-household"]');
  for (const [selector, value] of Object.entries(changes)) await page.fill(selector, value);
  await page.click('[data-test="save-household"]');
  await page.waitForSelector('[data-screen="household"]');
}

async function uploaded(page) {
  await page.evaluate(() => { location.hash = '#/sync'; });
  await page.waitForSelector('[data-screen="sync"]');
  await page.waitForFunction(() => !/\d/.test(document.querySelector('[data-test="pending-count"]').textContent),
                             null, {timeout: 60000});
  return (await pendingText(page)).trim();
}

async function twoDevices(input, pageA, pageB, out) {
  await loginCadre(pageA, input, {serviceWorker: true});
  await loginCadre(pageB, input, {serviceWorker: true});
  out.device_ids = await Promise.all([pageA, pageB].map((p) => p.evaluate(() => localStorage.getItem('fieldsync-device-id'))));
  out.steps.push('both logged in');
  await pageA.context().setOffline(true);
  await pageB.context().setOffline(true);
  await edit(pageA, input, {'#household-notes': input.a.notes});
  await pageA.waitForTimeout(50);  // B's stamp is later
  await edit(pageB, input, {'#household-notes': input.b.notes, '#household-address': input.b.address});
  out.steps.push('both edited offline');
  await pageA.context().setOffline(false);
  out.a_uploaded = await uploaded(pageA);
  await pageB.context().setOffline(false);
  out.b_uploaded = await uploaded(pageB);
  out.steps.push('both uploaded');

  fs.writeFileSync(input.flag, 'merge');
  for (let i = 0; i < 120 && fs.existsSync(input.flag); i += 1) await pageA.waitForTimeout(250);
  out.merged_by_test = !fs.existsSync(input.flag);
  for (const [name, page] of [['a', pageA], ['b', pageB]]) {
    await openHousehold(page, input);
    await page.waitForFunction(({notes, address}) => {
      const text = document.querySelector('[data-screen="household"]').textContent;
      return text.includes(notes) && text.includes(address) && !document.querySelector('[data-test="conflict-notice"]');
    }, input.b, {timeout: 60000});
    if (name === 'a') await page.waitForSelector('[data-test="disagreement-notice"]', {timeout: 60000});
    out[`${name}_shows`] = (await page.textContent('[data-screen="household"]')).replace(/\s+/g, ' ');
    out[`${name}_told`] = await page.$$eval('[data-test="disagreement-notice"]',
                                             (nodes) => nodes.map((n) => n.textContent.replace(/\s+/g, ' ').trim()));
    await shot(page, input, `12-two-devices-merged-${name}`);
  }

  fs.writeFileSync(input.flag, 'decide');
  for (let i = 0; i < 120 && fs.existsSync(input.flag); i += 1) await pageA.waitForTimeout(250);
  out.decided_by_test = !fs.existsSync(input.flag);
  await openHousehold(pageA, input);
  await pageA.waitForSelector('[data-test="disagreement-notice"][data-resolved="true"]', {timeout: 60000});
  out.a_after_decision = (await pageA.textContent('[data-screen="household"]')).replace(/\s+/g, ' ');
  out.a_told_after_decision = (await pageA.textContent('[data-test="disagreement-notice"]')).replace(/\s+/g, ' ').trim();
  await shot(pageA, input, '12-two-devices-decided-a');
  // the same notice in English (the cadre's language setting)
  await pageA.evaluate(() => localStorage.setItem('fieldsync-lang', 'en'));
  await pageA.reload();
  await pageA.waitForSelector('[data-test="disagreement-notice"][data-resolved="true"]');
  out.a_told_in_english = (await pageA.textContent('[data-test="disagreement-notice"]')).replace(/\s+/g, ' ').trim();
  await shot(pageA, input, '12-two-devices-decided-a-en');
}
