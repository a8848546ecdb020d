// An app below the server's minimum version: logged in and syncing, then the server raises
// FIELDSYNC_MIN_APP_VERSION (the test flips it when this script writes input.flag): the sync
// requests are answered 426 and the app shows the update banner with the server's message.
'use strict';
const fs = require('fs');
const {run, loginCadre} = require('./harness');

run(async (input, page, out) => {
  page.setDefaultTimeout(20000);
  await loginCadre(page, input);
  out.banner_before = await page.locator('[data-test="update-required"]').count();
  fs.writeFileSync(input.flag, 'raise');
  for (let i = 0; i < 40 && fs.existsSync(input.flag); i += 1) await page.waitForTimeout(250);
  await page.click('.van-tabbar-item:nth-child(3)');
  await page.click('[data-test="sync-now"]');
  await page.waitForSelector('[data-test="update-required"]', {timeout: 30000});
  out.banner = (await page.textContent('[data-test="update-required"] p')).trim();
  out.button = (await page.textContent('[data-test="update-required"] button')).trim();
  await page.waitForFunction(() => document.querySelector('[data-test="sync-phase"]')?.textContent.includes('过旧'),
                             null, {timeout: 30000}).catch(() => {});
  out.phase = (await page.textContent('[data-test="sync-phase"]')).trim();
  await page.screenshot({path: `${input.shots}/8-update-required.png`, fullPage: true});
});
