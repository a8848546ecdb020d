// A county official in headless Chromium: log in on the reports page, pick a period, see the
// coverage chart (SVG bars) and the tables, fetch a CSV and an XLSX download, switch to English.
// Usage: node reports_page.js < {"base", "official": {username, password}, "from", "to",
//   "screenshot": path}
'use strict';
const {run, login, loaded} = require('./harness');

run(async (input, page, out) => {
  out.title = await login(page, input, '/reports', 'reports-view');
  await page.fill('#from', input.from);
  await page.fill('#to', input.to);
  await page.click('#period-apply');
  await loaded(page);
  out.steps.push('logged in, reports loaded');
  out.bars = await page.$$eval('#coverage-chart svg rect.bar',
                               (bars) => bars.map((b) => ({code: b.dataset.code, pct: Number(b.dataset.pct),
                                                           width: Number(b.getAttribute('width'))})));
  out.coverage_headers = await page.$$eval('#coverage th', (cells) => cells.map((c) => c.textContent));
  out.coverage_rows = await page.$$eval('#coverage tbody tr',
                                        (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  out.lifted_text = await page.textContent('#lifted_but_failing');
  out.sla_rows = await page.$$eval('#mediation_sla tbody tr', (rows) => rows.length);
  out.open_work_text = await page.textContent('#open_work');
  out.error = await page.textContent('#report-error');
  out.links = await page.$$eval('#coverage a.download', (links) => links.map((a) => a.getAttribute('href')));
  // the download links work: fetch them in the page with the session's token
  out.downloads = await page.evaluate(async () => {
    const auth = JSON.parse(sessionStorage.getItem('fieldsync-official'));
    const headers = {Authorization: 'Basic ' + btoa(`${auth.username}:${auth.token}`)};
    const got = [];
    for (const a of document.querySelectorAll('#coverage a.download')) {
      const response = await fetch(a.getAttribute('href'), {headers});
      const bytes = new Uint8Array(await response.arrayBuffer());
      got.push({status: response.status, type: response.headers.get('Content-Type'),
                size: bytes.length, head: Array.from(bytes.slice(0, 4)),
                text: new TextDecoder().decode(bytes.slice(0, 200))});
    }
    return got;
  });
  // and a click saves a file
  const [download] = await Promise.all([
    page.waitForEvent('download', {timeout: 10000}),
    page.click('#lifted_but_failing a.download-csv')]);
  out.saved_name = download.suggestedFilename();
  out.steps.push('downloads fetched');
  if (input.screenshot) await page.screenshot({path: input.screenshot, fullPage: true});
  await page.click('#lang-switch');
  await loaded(page);
  out.english_title = await page.textContent('h1');
  out.english_headers = await page.$$eval('#coverage th', (cells) => cells.map((c) => c.textContent));
}, {acceptDownloads: true});
