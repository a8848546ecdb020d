// The villagers' page (/apply) on a phone: pick town and village, file a request, keep the
// receipt, follow it; a wrong phone is told "not found"; the town acts (through the officials'
// alert API, as their page does) and the villager sees each step.
'use strict';
const {run} = require('./harness');

const shot = (page, input, name) => page.screenshot({path: `${input.shots}/${name}.png`, fullPage: true});
const text = async (page, selector) => (await page.textContent(selector)).trim();

run(async (input, page, out) => {
  page.setDefaultTimeout(15000);
  page.on('console', (msg) => { if (msg.type() === 'error') out.steps.push(`console: ${msg.text()}`); });
  try {
    await villager(input, page, out);
  } catch (err) {
    await shot(page, input, 'failure').catch(() => {});
    throw new Error(`${err.message}\nsteps: ${JSON.stringify(out.steps)}`);
  }
});

async function official(page, input, path, body) {
  const auth = 'Basic ' + Buffer.from(`${input.official.username}:${input.official.password}`).toString('base64');
  const answer = await page.request.post(`${input.base}${path}`, {headers: {Authorization: auth}, data: body});
  if (!answer.ok()) throw new Error(`${path}: ${answer.status()} ${await answer.text()}`);
}

async function lookUp(page, phone) {
  await page.fill('#lookup-phone', phone);
  await page.click('[data-test="lookup"]');
}

async function statusAfterLookup(page, phone) {
  const answered = page.waitForResponse((r) => r.url().endsWith('/mediation-requests/lookup'));
  await lookUp(page, phone);
  await answered;
  await page.waitForSelector('[data-screen="apply-progress"]');
  return text(page, '[data-test="status"]');
}

async function villager(input, page, out) {
  await page.goto(`${input.base}/apply`);
  await page.waitForSelector('[data-screen="apply-form"]');
  await page.waitForFunction(() => document.querySelectorAll('#town option').length > 1);
  out.title = await text(page, 'h1');
  out.labels = await page.$$eval('label[for]', (labels) => labels.map((l) => l.textContent.trim()));
  await shot(page, input, '1-apply-form');

  await page.click('[data-test="submit"]');  // nothing filled in: told what is missing
  out.empty_problem = await text(page, '[data-test="problem"]');
  out.empty_errors = await page.$$eval('.van-field__error-message, .field-error', (els) => els.map((e) => e.textContent.trim()));
  await shot(page, input, '2-apply-form-errors');

  await page.selectOption('#town', input.town);
  out.villages = await page.$$eval('#village option:not([disabled])', (opts) => opts.map((o) => o.textContent.trim()));
  await page.selectOption('#village', input.village);
  await page.fill('#applicant-name', input.request.name);
  await page.fill('#applicant-phone', input.request.phone);
  await page.click(`[data-field="category"] [data-code="${input.request.category}"]`);
  await page.click('[data-field="urgency"] [data-code="urgent"]');
  await page.fill('#description', input.request.description);
  await page.fill('#amount', input.request.amount_yuan);
  await page.fill('#party-name', input.request.other_party);
  const filed = page.waitForResponse((r) => r.url().endsWith('/api/v1/public/mediation-requests'));
  await page.click('[data-test="submit"]');
  out.filed = await (await filed).json();
  await page.waitForSelector('[data-screen="apply-receipt"]');
  out.receipt_shown = await text(page, '[data-test="receipt"]');
  await shot(page, input, '3-apply-receipt');

  await page.click('[data-test="follow"]');
  await page.waitForSelector('[data-screen="apply-lookup"]');
  out.prefilled = await page.inputValue('#lookup-number');
  await lookUp(page, input.wrong_phone);
  await page.waitForSelector('[data-test="lookup-problem"]');
  out.wrong_phone = await text(page, '[data-test="lookup-problem"]');
  await shot(page, input, '4-apply-lookup-wrong-phone');

  out.status_received = await statusAfterLookup(page, input.request.phone);
  await shot(page, input, '5-apply-progress-received');
  const alert = `alert:${out.filed.id}`;
  await official(page, input, `/api/v1/alerts/${alert}/acknowledge`, {note: '已致电'});
  out.status_acknowledged = await statusAfterLookup(page, input.request.phone);
  await official(page, input, `/api/v1/alerts/${alert}/assign`, {mediator: input.mediator});
  out.status_assigned = await statusAfterLookup(page, input.request.phone);
  out.mediator = await text(page, '[data-test="mediator"]');
  out.help_assigned = await text(page, '[data-test="status-help"]');
  await shot(page, input, '6-apply-progress-assigned');
  await official(page, input, `/api/v1/alerts/${alert}/resolve`, {outcome: 'agreement_reached'});
  out.status_resolved = await statusAfterLookup(page, input.request.phone);
  out.outcome = await text(page, '[data-test="outcome"]');
  await shot(page, input, '7-apply-progress-resolved');

  // a fresh visit to the page lists the receipt filed from this phone
  await page.goto(`${input.base}/apply#lookup`);
  await page.waitForSelector('[data-screen="apply-lookup"]');
  out.recent = await page.$$eval('.recent .chip', (chips) => chips.map((c) => c.textContent.trim()));
  out.steps.push('done');
}
