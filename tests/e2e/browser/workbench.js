// The officials' workbench (/officials) as people use it, in headless Chromium at 390×844 (a
// phone) and 1280×800 (a laptop). One script, several flows (input.flow):
//   "alerts":  a township official logs in (a wrong, then the right password), a villager files a
//              request while the page is open, the official calls, 签收, 分派, 办结; filters, search, pages
//   "county":  a county official edits a roster (nobody on duty → on duty, a mediator added)
//   "review":  a county official decides a disagreement in yuan, merges or dismisses duplicates
//   "reports": the reports at a fixed clock (the Beijing night hours)
// Every page is checked for horizontal overflow at 390 px and photographed (input.shots).
'use strict';
const {run} = require('./harness');
// a text that starts with one of the catalogue's sections and a dot is a key left raw
const SECTIONS = Object.keys(require('../../../models/catalogue/en.json'));

const PHONE = {width: 390, height: 844};
const LAPTOP = {width: 1280, height: 800};

async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

// What a person must never read on a page: a catalogue key (`wb.alerts.call`), a placeholder
// left unfilled (`{n}`), a code (`agreement_reached`, a 12-digit division code) and, on an
// English page, any Chinese text or punctuation other than the people's own data (names,
// places, what they wrote: input.data_words) and the language switch ("中文").
async function leaks(page, input) {
  return page.evaluate(({sections, dataWords}) => {
    const english = document.documentElement.lang === 'en';
    const texts = [document.body.innerText];
    for (const el of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
      for (const attr of ['placeholder', 'aria-label', 'title']) {
        if (el.getAttribute(attr) && !el.closest('[data-test=lang]')) texts.push(el.getAttribute(attr));
      }
    }
    let text = texts.join('\n');
    for (const el of document.querySelectorAll('[data-test=lang]')) text = text.split(el.innerText.trim()).join(' ');
    const found = [];
    const look = (kind, pattern) => { for (const m of text.matchAll(pattern)) found.push(`${kind}: ${m[0]}`); };
    look('key', new RegExp(`\\b(?:${sections.join('|')})\\.[a-z_]+(?:\\.[a-z0-9_]+)*`, 'g'));
    look('placeholder', /\{[a-z_]+\}/g);
    look('code', /\b[a-z]+(?:_[a-z0-9]+)+\b/g);
    look('division code', /\b\d{12}\b/g);
    if (english) {
      for (const word of [...dataWords].sort((a, b) => b.length - a.length)) text = text.split(word).join(' ');
      for (const m of text.matchAll(/.{0,12}[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+.{0,12}/g)) {
        found.push(`chinese: ${m[0]}`);
      }
    }
    return found;
  }, {sections: SECTIONS, dataWords: input.data_words || []});
}

async function shot(page, input, out, name) {
  const size = page.viewportSize();
  if (size.width === PHONE.width) out.overflow[name] = await overflow(page);
  out.leaks = out.leaks || {};
  const found = await leaks(page, input);
  if (found.length) out.leaks[`${name}-${size.width}`] = found;
  if (input.shots) {
    await page.screenshot({path: `${input.shots}/${name}-${size.width}.png`, fullPage: true});
  }
}

async function settled(page) {
  await page.waitForFunction(() => document.body.dataset.loaded === 'yes', null, {timeout: 20000});
  await page.waitForTimeout(300);
}

async function loginAs(page, input, out, who, wrongFirst) {
  await page.goto(`${input.base}/officials`);
  await page.waitForSelector('#username');
  out.login_title = (await page.textContent('h1')).trim();
  if (wrongFirst) {
    await page.fill('#username', who.username);
    await page.fill('#password', 'not-the-password');
    await page.click('#login-button');
    await page.waitForSelector('[data-test=login-error]', {timeout: 10000});
    out.wrong_password_error = (await page.textContent('[data-test=login-error]')).trim();
  }
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  await page.click('#login-button');
  await page.waitForSelector('[data-screen=alerts]', {timeout: 15000});
  await settled(page);
}

async function alertsFlow(input, page, out) {
  await loginAs(page, input, out, input.official, true);
  await shot(page, input, out, 'login-done');
  out.nav = await page.$$eval('.wb-tabbar .van-tabbar-item', (items) => items.map((i) => i.textContent.trim()));
  // a second tab opens without logging in again (one login until it expires)
  const [second] = await Promise.all([page.waitForEvent('popup'),
                                      page.evaluate(() => window.open('/officials#/', '_blank'))]);
  await second.waitForSelector('[data-screen=alerts]', {timeout: 15000});
  out.second_tab_logged_in = true;
  await second.close();

  // a villager files while the page is open: the card shows up live
  await page.waitForSelector('[data-test=live].live', {timeout: 10000});
  out.live_text = (await page.textContent('[data-test=live]')).trim();
  const started = Date.now();
  const filed = await fetch(`${input.base}/api/v1/public/mediation-requests`, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(input.request)});
  out.filed_status = filed.status;
  const card = `[data-test=alert-card]:has-text("${input.request.applicant.name}")`;
  await page.waitForSelector(card, {timeout: 15000});
  out.appeared_after_ms = Date.now() - started;
  out.call_href = await page.getAttribute(`${card} [data-test=call]`, 'href');
  out.card_text = (await page.textContent(card)).replace(/\s+/g, ' ');
  await shot(page, input, out, 'alerts');

  await page.click(`${card} [data-test=applicant]`);
  await page.waitForSelector('[data-screen=alert] [data-test=actions]', {timeout: 15000});
  out.detail_name = (await page.textContent('[data-test=applicant-name]')).trim();
  out.detail_call = await page.getAttribute('[data-screen=alert] .detail-head [data-test=call]', 'href');
  out.resolve_disabled_before_ack = await page.isDisabled('[data-test=resolve]');
  await shot(page, input, out, 'alert-detail');
  await page.fill('#ack-note', '已致电申请人，约定明天上午到村委会。');
  await page.click('[data-test=acknowledge]');
  await page.waitForSelector('[data-test=state]:has-text("处理中")', {timeout: 10000});
  await page.click('[data-test=mediator-0]');
  await page.click('[data-test=assign]');
  await page.waitForSelector('[data-test=mediator]', {timeout: 10000});
  out.mediator_text = (await page.textContent('[data-test=mediator]')).replace(/\s+/g, ' ').trim();
  await page.click('[data-test=outcome-agreement_reached]');
  await page.fill('#agreement', '双方同意以界桩为准，何家补种桉树十株。');
  await page.click('[data-test=resolve]');
  await page.click('.van-dialog__confirm');
  await page.waitForSelector('[data-test=state]:has-text("已办结")', {timeout: 10000});
  out.outcome_text = (await page.textContent('[data-test=outcome]')).trim();
  out.timeline = await page.$$eval('[data-test=timeline] li', (items) => items.map((li) => li.dataset.what));
  await shot(page, input, out, 'alert-resolved');

  // lists: pages, the overdue tab, search, mine
  await page.goto(`${input.base}/officials#/`);
  await page.waitForSelector('[data-test=alert-list]');
  await settled(page);
  out.tab_titles = await page.$$eval('.van-tab', (tabs) => tabs.map((t) => t.textContent.trim()));
  out.page_info = (await page.textContent('[data-test=page-info]')).trim();
  await page.click('[data-test=next]');
  await page.waitForFunction(() => document.querySelector('[data-test=page-info]')?.textContent.includes('第 2'));
  out.page_two = (await page.textContent('[data-test=page-info]')).trim();
  out.page_two_cards = await page.$$eval('[data-test=alert-card]', (cards) => cards.length);
  await page.click('.van-tab.tab-overdue');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=overdue]').length > 0, null, {timeout: 10000});
  out.overdue_cards = await page.$$eval('[data-test=alert-card]', (cards) => cards.length);
  out.overdue_marks = await page.$$eval('[data-test=overdue]', (marks) => marks.map((m) => m.textContent.trim()));
  await shot(page, input, out, 'alerts-overdue');
  await page.click('.van-tab.tab-all');
  await page.fill('[data-test=search] input', input.search);
  await page.waitForFunction((name) => {
    const cards = [...document.querySelectorAll('[data-test=alert-card]')];
    return cards.length > 0 && cards.every((c) => c.textContent.includes(name));
  }, input.search, {timeout: 10000});
  out.search_cards = await page.$$eval('[data-test=alert-card]', (cards) => cards.length);
  await page.fill('[data-test=search] input', '');
  await page.click('[data-test=mine]');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=alert-card]').length === 1, null, {timeout: 10000});
  out.mine_text = (await page.textContent('[data-test=alert-card]')).replace(/\s+/g, ' ');
  // relative times tick: the clock moves on by 20 minutes
  out.ago_before = (await page.textContent('[data-test=received-ago]')).trim();
  await page.clock.fastForward(20 * 60 * 1000);
  await page.waitForFunction((before) => document.querySelector('[data-test=received-ago]').textContent.trim() !== before,
                             out.ago_before, {timeout: 5000});
  out.ago_after = (await page.textContent('[data-test=received-ago]')).trim();
  await page.setViewportSize(LAPTOP);
  await page.click('[data-test=mine]');
  await page.waitForTimeout(800);
  await shot(page, input, out, 'alerts');
  await page.setViewportSize(PHONE);
  await page.click('[data-test=logout]');
  await page.waitForSelector('#login-button');
  out.after_logout = await page.evaluate(() => localStorage.getItem('fieldsync-session'));
  if (input.next_official) {  // another official on the same browser (one device id per account)
    await page.fill('#username', input.next_official.username);
    await page.fill('#password', input.next_official.password);
    await page.click('#login-button');
    await page.waitForSelector('[data-screen=alerts]', {timeout: 15000});
    out.next_official_who = (await page.textContent('[data-test=who]')).trim();
  }
}

async function countyFlow(input, page, out) {
  await loginAs(page, input, out, input.official, false);
  out.nav = await page.$$eval('.wb-tabbar .van-tabbar-item', (items) => items.map((i) => i.textContent.trim()));
  out.duty_warning = await page.textContent('[data-test=duty-warning]').catch(() => null);
  await page.click('.wb-tabbar .van-tabbar-item:has-text("值班表")');
  await page.waitForSelector('[data-screen=rosters]');
  await settled(page);
  const roster = `[data-test=roster][data-code="${input.town}"]`;
  out.nobody_text = (await page.textContent(`${roster} [data-test=nobody]`)).replace(/\s+/g, ' ').trim();
  await shot(page, input, out, 'rosters');
  await page.click(`${roster} [data-test=edit]`);
  await page.click(`${roster} [data-test="duty-${input.on_duty}"]`);
  await page.click(`${roster} [data-test=add-mediator]`);
  await page.fill(`${roster} [data-test=mediator-name-0] input`, input.mediator.name);
  await page.fill(`${roster} [data-test=mediator-phone-0] input`, input.mediator.phone);
  await shot(page, input, out, 'roster-edit');
  await page.click(`${roster} [data-test=save]`);
  await page.waitForSelector(`${roster} [data-test=on-duty]`, {timeout: 10000});
  out.on_duty_text = (await page.textContent(`${roster} [data-test=on-duty]`)).trim();
  out.mediators_text = (await page.textContent(`${roster} [data-test=mediators]`)).trim();
  out.nobody_after = await page.$(`${roster} [data-test=nobody]`) !== null;
  await page.setViewportSize(LAPTOP);
  await shot(page, input, out, 'rosters');
  await page.setViewportSize(PHONE);
}

async function reviewFlow(input, page, out) {
  await loginAs(page, input, out, input.official, false);
  await page.goto(`${input.base}/officials#/review`);
  await page.waitForSelector('[data-screen=review]');
  await settled(page);
  if (input.decide_yuan) {
    const card = '[data-test=disagreement]';
    out.field_label = (await page.textContent(`${card} [data-test=field-label]`)).trim();
    out.candidates = await page.$$eval(`${card} [data-test=candidate]`, (c) => c.map((x) => x.textContent.trim()));
    out.heading = (await page.textContent(`${card} h2`)).trim();
    await shot(page, input, out, 'review');
    await page.click(`${card} [data-test=decide]`);
    out.pick_error = (await page.textContent(`${card} [data-test=review-error]`)).trim();
    await page.fill(`${card} [data-test=typed] input`, input.decide_yuan);
    await page.click(`${card} [data-test=decide]`);
    await page.waitForSelector('[data-test=decided]', {timeout: 10000});
    out.decided_text = (await page.textContent('[data-test=decided] [data-test=decided-text]')).trim();
  }
  if (input.merge_keep_village) {
    await page.click('.van-tab:has-text("疑似重复户")');
    const card = `[data-test=duplicate][data-kind=duplicate_household]`;
    await page.waitForSelector(card);
    const labels = await page.$$eval(`${card} .van-radio`, (r) => r.map((x) => x.textContent.trim()));
    out.duplicate_labels = labels;
    const index = labels.findIndex((text) => text.includes(input.merge_keep_village));
    await shot(page, input, out, 'review-duplicates');
    await page.click(`${card} [data-test=keep-${index}]`);
    await page.click(`${card} [data-test=merge]`);
    await page.waitForFunction(() => !document.querySelector('[data-test=duplicate][data-kind=duplicate_household]'),
                               null, {timeout: 10000});
    out.merged = true;
  }
  if (input.dismiss_reason) {
    await page.click('.van-tab:has-text("疑似重复户")');
    const card = '[data-test=duplicate][data-kind=near_duplicate_household]';
    await page.waitForSelector(card);
    await page.click(`${card} [data-test=dismiss]`);
    out.reason_error = (await page.textContent(`${card} [data-test=review-error]`)).trim();
    await page.fill(`${card} [data-test=reason] input`, input.dismiss_reason);
    await page.click(`${card} [data-test=dismiss]`);
    await page.waitForFunction(() => !document.querySelector('[data-test=duplicate]'), null, {timeout: 10000});
    out.decided_texts = await page.$$eval('[data-test=decided-text]', (d) => d.map((x) => x.textContent.trim()));
    await page.click('.van-tab:has-text("待更正记录")');
    await page.waitForTimeout(300);
    out.quarantined = await page.$$eval('[data-test=quarantined]', (q) => q.map((x) => x.textContent.replace(/\s+/g, ' ')));
    await shot(page, input, out, 'review-done');
    await page.setViewportSize(LAPTOP);
    await shot(page, input, out, 'review-done');
    await page.setViewportSize(PHONE);
  }
}

async function reportsFlow(input, page, out) {
  await page.clock.install({time: new Date(input.now)});
  await loginAs(page, input, out, input.official, false);
  out.browser_now = await page.evaluate(() => new Date().toISOString());
  await page.goto(`${input.base}/officials#/reports`);
  await page.waitForSelector('[data-screen=reports]');
  await settled(page);
  for (const name of ['coverage', 'mediation_sla']) {
    await page.click(`.van-tab:has-text("${name === 'coverage' ? '核查覆盖率' : '调解时效'}")`);
    await page.waitForSelector('[data-test=report-table]', {timeout: 15000});
    await page.waitForTimeout(500);
    out[`${name}_days`] = (await page.textContent('[data-test=days]')).trim();
    out[`${name}_to`] = await page.inputValue('[data-test=to]');
    out[`${name}_header`] = await page.$$eval('[data-test=report-table] th', (th) => th.map((x) => x.textContent.trim()));
    out[`${name}_rows`] = await page.$$eval('[data-test=report-table] tbody tr',
                                            (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent.trim())));
    const box = await page.$('[data-test=chart]');
    out[`${name}_chart`] = box ? await box.boundingBox() : null;
    out[`${name}_second_column_visible`] = await page.$eval('[data-test=report-table] th:nth-child(2)',
                                                            (th) => th.getBoundingClientRect().right <= window.innerWidth);
    await shot(page, input, out, `report-${name}`);
    await page.setViewportSize(LAPTOP);
    await page.waitForTimeout(400);
    const wide = await page.$('[data-test=chart]');
    out[`${name}_chart_laptop`] = wide ? await wide.boundingBox() : null;
    await shot(page, input, out, `report-${name}`);
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(300);
  }
}

async function householdsFlow(input, page, out) {
  await loginAs(page, input, out, input.official, false);
  await page.click('.wb-tabbar .van-tabbar-item:has-text("农户")');
  await page.waitForSelector('[data-screen=households] [data-test=total]');
  await settled(page);
  const ids = () => page.$$eval('[data-test=household]', (cards) => cards.map((c) => c.dataset.id));
  const total = async () => (await page.textContent('[data-test=total]')).trim();
  out.title = (await page.textContent('[data-screen=households] h1')).trim();
  out.all_total = await total();
  out.first_page = await ids();
  await shot(page, input, out, 'households');
  for (const [key, text] of [['by_name', input.name_part], ['by_number', input.id_number]]) {
    await page.fill('[data-test=query] input', text);
    await page.click('[data-test=search]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-test=household]').length <= n, 1);
    await page.waitForTimeout(300);
    out[key] = await ids();
    out[`${key}_text`] = (await page.textContent('[data-screen=households]')).replace(/\s+/g, ' ');
  }
  await page.fill('[data-test=query] input', '');
  await page.selectOption('[data-test=status]', input.status);
  await page.waitForTimeout(800);
  out.by_status_total = await total();
  out.by_status_labels = await page.$$eval('[data-test=household] .badge', (b) => b.map((x) => x.textContent.trim()));
  out.page_text = await page.textContent('body');
  await page.setViewportSize(LAPTOP);
  await shot(page, input, out, 'households');
}

// the workbench in English from the login on: a township official's call-back flow, the review
// queue, households and phones; then a county official's reports and rosters. Every page at
// phone and laptop size (shot() records what leaks: Chinese text, keys, codes)
async function bothSizes(page, input, out, name) {
  await shot(page, input, out, name);
  await page.setViewportSize(LAPTOP);
  await page.waitForTimeout(300);
  await shot(page, input, out, name);
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(200);
}

async function openTab(page, label, screen) {
  await page.click(`.wb-tabbar .van-tabbar-item:has-text("${label}")`);
  await page.waitForSelector(`[data-screen=${screen}]`);
  await settled(page);
}

async function englishFlow(input, page, out) {
  await page.goto(`${input.base}/officials`);
  await page.waitForSelector('#username');
  await page.click('[data-test=lang]');
  out.login_title = (await page.textContent('h1')).trim();
  await page.fill('#username', input.official.username);
  await page.fill('#password', 'not-the-password');
  await page.press('#password', 'Enter');  // Enter signs in, as the button does
  await page.waitForSelector('[data-test=login-error]', {timeout: 10000});
  out.wrong_password_error = (await page.textContent('[data-test=login-error]')).trim();
  await page.click('[data-test=lang]');  // the error follows the language, both ways
  out.wrong_password_error_zh = (await page.textContent('[data-test=login-error]')).trim();
  await page.click('[data-test=lang]');
  await bothSizes(page, input, out, 'en-login');
  await page.fill('#password', input.official.password);
  await page.press('#password', 'Enter');
  await page.waitForSelector('[data-screen=alerts]', {timeout: 15000});
  await settled(page);
  out.nav = await page.$$eval('.wb-tabbar .van-tabbar-item', (items) => items.map((i) => i.textContent.trim()));
  await page.waitForSelector('[data-test=live].live', {timeout: 10000});
  const filed = await fetch(`${input.base}/api/v1/public/mediation-requests`, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(input.request)});
  out.filed_status = filed.status;
  const card = `[data-test=alert-card]:has-text("${input.request.applicant.name}")`;
  await page.waitForSelector(card, {timeout: 15000});
  await page.waitForTimeout(3000);  // the toast "New mediation request" has gone
  out.card_text = (await page.textContent(card)).replace(/\s+/g, ' ');
  await bothSizes(page, input, out, 'en-alerts');
  await page.click(`${card} [data-test=applicant]`);
  await page.waitForSelector('[data-screen=alert] [data-test=actions]', {timeout: 15000});
  await settled(page);
  out.detail_call = await page.getAttribute('[data-screen=alert] .detail-head [data-test=call]', 'href');
  await bothSizes(page, input, out, 'en-alert-detail');
  await page.fill('#ack-note', input.notes.ack);
  await page.click('[data-test=acknowledge]');
  await page.waitForSelector('[data-test=state]:has-text("In progress")', {timeout: 10000});
  await page.click('[data-test=mediator-0]');
  await page.click('[data-test=assign]');
  await page.waitForSelector('[data-test=mediator]', {timeout: 10000});
  await page.click('[data-test=outcome-agreement_reached]');
  await page.fill('#agreement', input.notes.agreement);
  await page.fill('#resolve-note', input.notes.resolve);
  await page.click('[data-test=resolve]');
  await page.waitForSelector('.van-dialog__confirm');
  out.confirm_buttons = await page.$$eval('.van-dialog__footer button', (b) => b.map((x) => x.textContent.trim()));
  await shot(page, input, out, 'en-resolve-confirm');
  await page.click('.van-dialog__confirm');
  await page.waitForSelector('[data-test=state]:has-text("Resolved")', {timeout: 10000});
  await page.waitForTimeout(2500);  // the toast has gone
  out.outcome_text = (await page.textContent('[data-test=outcome]')).trim();
  out.resolution_note = (await page.textContent('[data-test=resolution-note]')).trim();
  out.timeline_text = (await page.textContent('[data-test=timeline]')).replace(/\s+/g, ' ');
  await bothSizes(page, input, out, 'en-alert-resolved');
  await page.goto(`${input.base}/officials#/`);
  await page.waitForSelector('[data-test=alert-list]');
  await settled(page);
  await bothSizes(page, input, out, 'en-alerts-after');
  await openTab(page, 'Review', 'review');
  await bothSizes(page, input, out, 'en-review');
  await openTab(page, 'Households', 'households');
  await page.waitForSelector('[data-screen=households] [data-test=total]');
  await bothSizes(page, input, out, 'en-households');
  await openTab(page, 'Phones', 'devices');
  await page.waitForSelector('[data-test=summary]');
  await bothSizes(page, input, out, 'en-devices');
  await page.click('[data-test=logout]');
  await page.waitForSelector('#login-button');
  await page.fill('#username', input.county.username);
  await page.fill('#password', input.county.password);
  await page.click('#login-button');
  await page.waitForSelector('[data-screen=alerts]', {timeout: 15000});
  await settled(page);
  out.county_nav = await page.$$eval('.wb-tabbar .van-tabbar-item', (items) => items.map((i) => i.textContent.trim()));
  await openTab(page, 'Rosters', 'rosters');
  await bothSizes(page, input, out, 'en-rosters');
  await openTab(page, 'Review', 'review');
  await bothSizes(page, input, out, 'en-review-county');
  for (const tab of ['Possible duplicates', 'Records to correct']) {
    await page.click(`.van-tab:has-text("${tab}")`);
    await page.waitForTimeout(300);
    await shot(page, input, out, `en-review-${tab.split(' ')[0].toLowerCase()}`);
  }
  await openTab(page, 'Reports', 'reports');
  await page.waitForSelector('[data-test=report-table]', {timeout: 15000});
  await page.waitForTimeout(500);
  out.report_header = await page.$$eval('[data-test=report-table] th', (th) => th.map((x) => x.textContent.trim()));
  await bothSizes(page, input, out, 'en-report-coverage');
  for (const tab of await page.$$eval('[data-screen=reports] .van-tab', (tabs) => tabs.map((t) => t.textContent.trim()))) {
    await page.click(`[data-screen=reports] .van-tab:has-text("${tab}")`);
    await page.waitForSelector('[data-test=report-table]', {timeout: 15000});
    await page.waitForTimeout(500);
    await shot(page, input, out, `en-report-${tab.split(' ')[0].toLowerCase()}`);
  }
  out.html_lang = await page.evaluate(() => document.documentElement.lang);
}

// the phones of a township's villages: what each still holds, the minutes since the last
// contact (ticking), pages of 20
async function devicesFlow(input, page, out) {
  await loginAs(page, input, out, input.official, false);
  out.nav = await page.$$eval('.wb-tabbar .van-tabbar-item', (items) => items.map((i) => i.textContent.trim()));
  await openTab(page, '设备', 'devices');
  await page.waitForSelector('[data-test=summary]');
  out.summary = (await page.textContent('[data-test=summary]')).trim();
  const cards = () => page.$$eval('[data-test=device]', (all) => all.map((c) => ({
    id: c.dataset.id, title: c.querySelector('h2').textContent.trim(),
    state: c.querySelector('[data-test=upload-state]').textContent.trim(),
    since: c.querySelector('[data-test=holding-since]')?.textContent.trim() || null,
    ago: c.querySelector('[data-test=contact-ago]')?.textContent.trim() || null,
    text: c.textContent.replace(/\s+/g, ' ')})));
  out.first_page = await cards();
  out.page_info = (await page.textContent('[data-test=page-info]').catch(() => '')).trim();
  await shot(page, input, out, 'devices');
  await page.clock.fastForward(20 * 60 * 1000);
  await page.waitForFunction((before) => document.querySelector('[data-test=contact-ago]').textContent.trim() !== before,
                             out.first_page[0].ago, {timeout: 5000});
  out.ago_after = (await page.textContent('[data-test=contact-ago]')).trim();
  await page.click('[data-test=next]');
  await page.waitForFunction(() => document.querySelector('[data-test=page-info]')?.textContent.includes('第 2'));
  out.second_page = await cards();
  await page.selectOption('[data-test=village]', input.village);
  await page.waitForFunction((n) => document.querySelectorAll('[data-test=device]').length <= n, input.village_count,
                             {timeout: 10000});
  await page.waitForTimeout(300);
  out.village_page = await cards();
  await page.selectOption('[data-test=village]', '');
  await page.click('[data-test=holding-only]');
  await page.waitForTimeout(800);
  out.holding_page = await cards();
  await page.setViewportSize(LAPTOP);
  await shot(page, input, out, 'devices');
  await page.setViewportSize(PHONE);
}

const FLOWS = {alerts: alertsFlow, county: countyFlow, review: reviewFlow, reports: reportsFlow,
               households: householdsFlow, english: englishFlow, devices: devicesFlow};

run(async (input, page, out) => {
  out.overflow = {};
  out.challenges = [];
  page.on('response', (response) => {
    if (response.status() === 401 && response.headers()['www-authenticate']) out.challenges.push(response.url());
  });
  page.on('dialog', (dialog) => { out.steps.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  if (['alerts', 'devices'].includes(input.flow)) await page.clock.install();
  await FLOWS[input.flow](input, page, out);
});
