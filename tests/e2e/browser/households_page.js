// A town official in headless Chromium: search households by a part of a name, by a full ID
// number and by poverty status; only masked ID numbers appear; the page switches to English.
// Usage: node households_page.js < {"base", "official": {username, password}, "name_part",
//   "id_number", "status", "screenshot": path}
'use strict';
const {run, login, loaded} = require('./harness');

const ids = (page) => page.$$eval('#households li.card', (cards) => cards.map((c) => c.dataset.id));

async function search(page, query, status) {
  await page.fill('#query', query);
  await page.selectOption('#status', status);  // a change searches at once
  await loaded(page);
  await page.click('#search-button');
  await loaded(page);
}

run(async (input, page, out) => {
  out.title = await login(page, input, '/officials/households', 'households-view');
  out.all_total = await page.textContent('#total');
  out.first_page = await ids(page);
  out.next_visible = await page.isVisible('#next');
  out.status_options = await page.$$eval('#status option', (options) => options.map((o) => o.textContent));
  await search(page, input.name_part, '');
  out.by_name = await ids(page);
  await search(page, input.id_number, '');
  out.by_number = await ids(page);
  out.by_number_text = await page.textContent('#households');
  if (input.screenshot) await page.screenshot({path: input.screenshot, fullPage: true});
  await search(page, '', input.status);
  out.by_status_total = await page.textContent('#total');
  out.by_status_labels = await page.$$eval('#households .status', (badges) => badges.map((b) => b.textContent));
  await page.click('#lang-switch');
  out.english_title = await page.textContent('h1');
  out.english_labels = await page.$$eval('#households .status', (badges) => badges.map((b) => b.textContent));
  out.page_text = await page.textContent('body');
  out.steps.push('searched');
});
