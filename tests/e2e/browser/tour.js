// The screenshots of docs/workbench.md, taken from a running `fieldsync run --demo`:
//   echo '{"base": "http://127.0.0.1:8000", "out": "docs/img"}' | node tests/e2e/browser/tour.js
// (demo password demo-2026: town11 is a township official of 新圩镇, county1 the county's).
'use strict';
const {run} = require('./harness');

async function login(page, base, username) {
  await page.goto(`${base}/officials#/`);
  const logout = await page.$('[data-test=logout]');
  if (logout) await logout.click();
  await page.waitForSelector('#username');
  await page.fill('#username', username);
  await page.fill('#password', 'demo-2026');
  await page.click('#login-button');
  await page.waitForSelector('[data-screen=alerts]');
  await page.waitForTimeout(1500);
}

async function snap(page, out, input, name, fullPage = false) {
  await page.waitForTimeout(1200);
  await page.screenshot({path: `${input.out}/${name}.png`, fullPage});
  out.shots.push(name);
}

run(async (input, page, out) => {
  out.shots = [];
  const base = input.base;
  await page.goto(`${base}/officials`);
  await page.waitForSelector('#username');
  await snap(page, out, input, 'workbench-login');
  await login(page, base, 'town11');
  await snap(page, out, input, 'workbench-alerts');
  await page.click('.van-tab.tab-overdue');
  await snap(page, out, input, 'workbench-overdue');
  await page.click('.van-tab.tab-pending');
  await page.waitForTimeout(800);
  await page.click('[data-test=alert-card] [data-test=applicant]');
  await page.waitForSelector('[data-screen=alert] .detail-head');
  await snap(page, out, input, 'workbench-alert-detail', true);
  await page.goto(`${base}/officials#/`);
  await page.click('.van-tab.tab-resolved');
  await page.waitForTimeout(800);
  await page.click('[data-test=alert-card] [data-test=applicant]');
  await page.waitForSelector('[data-test=timeline]');
  await snap(page, out, input, 'workbench-alert-resolved', true);
  await page.goto(`${base}/officials#/devices`);
  await page.waitForSelector('[data-test=device], [data-test=empty]');
  await snap(page, out, input, 'workbench-devices');
  await login(page, base, 'county1');
  await page.goto(`${base}/officials#/rosters`);
  await page.waitForSelector('[data-test=roster]');
  await snap(page, out, input, 'workbench-rosters');
  await page.goto(`${base}/officials#/review`);
  await page.waitForSelector('[data-screen=review]');
  await snap(page, out, input, 'workbench-review');
  await page.click('.van-tab:has-text("疑似重复户")');
  await snap(page, out, input, 'workbench-review-duplicates');
  await page.goto(`${base}/officials#/households`);
  await page.waitForSelector('[data-test=household]');
  await snap(page, out, input, 'workbench-households');
  await page.goto(`${base}/officials#/reports`);
  await page.waitForSelector('[data-test=report-table]');
  await snap(page, out, input, 'workbench-report-coverage');
  await page.click('.van-tab:has-text("调解时效")');
  await page.waitForSelector('[data-test=report-table]');
  await snap(page, out, input, 'workbench-report-sla');
  await page.setViewportSize({width: 1280, height: 800});
  await page.click('.van-tab:has-text("核查覆盖率")');
  await page.waitForSelector('[data-test=report-table]');
  await snap(page, out, input, 'workbench-report-coverage-laptop');
  await page.goto(`${base}/officials#/`);
  await page.waitForSelector('[data-test=alert-card]');
  await snap(page, out, input, 'workbench-alerts-laptop');
});
