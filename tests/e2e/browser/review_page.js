// A county official in headless Chromium: the review queue lists the open tasks and the
// quarantined records, a disagreement is decided by picking a candidate, the kind filter works,
// the page switches to English; the officials' page links to it.
// Usage: node review_page.js < {"base", "official": {username, password}, "pick": <value code>,
//   "screenshot": path, "viewer_only": true for a town official (read the queue, nothing more)}
'use strict';
const {run, login, loaded} = require('./harness');

run(async (input, page, out) => {
  out.title = await login(page, input, '/officials/review', 'review-view');
  out.steps.push('logged in, queue loaded');
  out.kinds = await page.$$eval('#tasks li.card', (cards) => cards.map((c) => c.dataset.kind));
  out.tasks_total = await page.textContent('#tasks-total');
  out.quarantine_text = await page.textContent('#quarantine');
  out.quarantine_count = await page.$$eval('#quarantine li.card', (cards) => cards.length);
  out.duplicates_text = await page.$$eval('#tasks li[data-kind="duplicate_household"]',
                                          (cards) => cards.map((c) => c.textContent).join('\n'));
  const card = '#tasks li[data-kind="household_disagreement"]';
  if (input.viewer_only) {  // a town official: sees the queue, decides nothing
    out.decide_forms = await page.$$eval('#tasks form.decide', (forms) => forms.length);
    out.disagreement_text = await page.textContent(card);
    return;
  }
  out.candidates = await page.$$eval(`${card} .decide label`, (labels) => labels.map((l) => l.textContent));
  await page.click(`${card} .decide-button`);  // nothing picked: told to pick
  out.pick_error = await page.textContent(`${card} .error`);
  const index = out.candidates.findIndex((text) => text.includes(`(${input.pick})`));
  await page.check(`${card} input[type=radio][value="${index}"]`);
  await page.click(`${card} .decide-button`);
  await page.waitForSelector(`${card}.state-decided`, {timeout: 10000});
  out.decided_text = await page.textContent(`${card}.state-decided`);
  out.steps.push('decided');
  if (input.screenshot) await page.screenshot({path: input.screenshot, fullPage: true});
  out.page_text = await page.textContent('body');
  await page.selectOption('#kind', 'duplicate_household');
  await loaded(page);
  await page.waitForFunction(() => [...document.querySelectorAll('#tasks li.card')]
    .every((c) => c.dataset.kind === 'duplicate_household'), null, {timeout: 10000});
  out.filtered_kinds = await page.$$eval('#tasks li.card', (cards) => cards.map((c) => c.dataset.kind));
  await page.click('#lang-switch');
  out.english_title = await page.textContent('h1');
  out.english_nav = await page.$$eval('nav.pages a', (links) => links.map((a) => [a.textContent, a.getAttribute('href')]));
  await page.goto(`${input.base}/officials`);
  out.officials_nav = await page.$$eval('nav.pages a', (links) => links.map((a) => a.getAttribute('href')));
});
