// Households and corrections in the field app (issue 15, part A): register a new household
// offline (errors named next to their fields first), edit the members of a stored one, and
// correct what the server sent back: a quarantined request and case event (their pushes are
// rewritten on the way, as an older app or a device bug would write them) and a refused request
// (its first push is sent to another village's code), each through "修改后重新提交"; a refused
// household resubmitted by saving its form unchanged. Phones typed in full width are stored as
// ASCII, a 12… number is refused before saving; stored 身份证号 show masked until 显示/修改.
'use strict';
const {loginCadre, runWithShot} = require('./harness');

const shot = (page, input, name) => page.screenshot({path: `${input.shots}/${name}.png`, fullPage: true});
const words = async (page, selector) => (await page.textContent(selector)).replace(/\s+/g, ' ').trim();
const errorsShown = (page) => page.$$eval('.van-field__error-message, .field-error',
                                          (nodes) => nodes.map((node) => node.textContent.trim()).filter(Boolean));
const fieldError = (page, inputId) => words(page, `.van-field:has(#${inputId}) .van-field__error-message`);

runWithShot('h-failure', households);

function rewritePushes(page, input) {
  // only first revisions: the corrections (2-…) go up as the phone wrote them
  return page.route('**/sync/*/_bulk_docs', (route) => {
    const body = JSON.parse(route.request().postData());
    for (const doc of body.docs) {
      if (!String(doc._rev).startsWith('1-')) continue;
      if (doc.applicant?.name === input.quarantine.name) {
        doc.applicant.id_number = input.bad_id_number;
        doc.other_parties[0].phone = input.bad_phone;
      } else if (doc.applicant?.name === input.refuse.name) {
        doc.village_code = input.other_village;
      } else if (doc.type === 'case_event' && doc.notes === input.event.notes) {
        doc.mediator.phone = input.bad_phone;
      } else if (doc.type === 'household' && doc.head?.name === input.refused_household.head_name) {
        doc.village_code = input.other_village;
      }
    }
    return route.continue({postData: JSON.stringify(body)});
  });
}

async function waitUploaded(page) {
  await page.evaluate(() => { location.hash = '#/sync'; });
  await page.waitForSelector('[data-screen="sync"]');
  await page.waitForFunction(() => !/\d/.test(document.querySelector('[data-test="pending-count"]')?.textContent ?? '1'),
                             null, {timeout: 60000});
}

// the edit form photographed, saved, and what `read` shows then; back once everything is uploaded
async function saveHousehold(page, input, name, read) {
  await shot(page, input, name);
  await page.click('[data-test="save-household"]');
  await page.waitForSelector('[data-screen="household"]');
  const seen = await words(page, read);
  await waitUploaded(page);
  return seen;
}

async function fileRequest(page, request, out = null) {
  await page.evaluate(() => { location.hash = '#/mediation/new'; });
  await page.waitForSelector('[data-screen="mediation-form"]');
  await page.fill('#applicant-name', request.name);
  await page.fill('#applicant-phone', request.phone_typed || '13926611234');
  await page.fill('#applicant-id', '441226195501200036');
  await page.fill('#party-0-name', '何志强');
  await page.fill('#party-0-phone', out ? '12500261234' : '13500261234');  // 12…: refused before saving
  await page.click('[data-field="category"] [data-code="neighbourhood"]');
  await page.fill('#description', request.description);
  await page.click('[data-test="save-mediation"]');
  if (out) {
    out.request_party_phone_error = await fieldError(page, 'party-0-phone');
    out.request_still_on_form = await page.locator('[data-screen="mediation-form"]').count();
    await page.fill('#party-0-phone', '13500261234');
    await page.click('[data-test="save-mediation"]');
  }
  await page.waitForSelector('[data-screen="mediation"]');
  return decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/mediation/', ''));
}

async function households(input, page, out) {
  const context = page.context();
  page.setDefaultTimeout(20000);
  await loginCadre(page, input);
  await page.evaluate(() => navigator.serviceWorker.ready);
  out.device_id = await page.evaluate(() => localStorage.getItem('fieldsync-device-id'));
  out.steps.push('logged in');

  // 1. a new household, offline; nothing is saved until every field is right
  await context.setOffline(true);
  await page.click('[data-test="new-household"]');
  await page.waitForSelector('[data-screen="household-new"]');
  await page.click('[data-test="save-new-household"]');
  out.empty_errors = await errorsShown(page);
  const create = input.create;
  await page.fill('#household-head-name', create.head_name);
  await page.fill('#household-head-id', input.bad_id_number);
  await page.fill('#household-phones', create.phones_typed);
  await page.fill('#member-0-age', 'abc');
  await page.click('[data-test="save-new-household"]');
  out.bad_id_error = await fieldError(page, 'household-head-id');
  out.bad_phone_error = await fieldError(page, 'household-phones');
  out.bad_age_error = await fieldError(page, 'member-0-age');
  await shot(page, input, 'h1-new-household-errors');
  await page.fill('#household-head-id', create.head_id);
  await page.fill('#household-phones', create.phones_good);
  await page.click(`[data-field="poverty_status"] [data-code="${create.poverty_status}"]`);
  await page.fill('#household-address', create.address);
  await page.fill('#household-income', create.income_yuan);
  await page.fill('#member-0-age', String(create.head_age));
  await page.click('[data-test="add-member"]');
  const spouse = create.spouse;
  await page.fill('#member-1-name', spouse.name);
  await page.fill('#member-1-age', String(spouse.age));
  for (const group of ['relation', 'schooling', 'health', 'work']) await page.selectOption(`#member-1-${group}`, spouse[group]);
  await page.click('[data-indicator="safe_housing"] [data-value="false"]');
  await shot(page, input, 'h2-new-household-filled');
  await page.click('[data-test="save-new-household"]');
  await page.waitForSelector('[data-screen="household"]');
  out.created_id = decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/household/', ''));
  out.created_shows = await words(page, '[data-screen="household"]');
  await shot(page, input, 'h3-household-created-offline');
  out.steps.push('household created offline');
  await context.setOffline(false);
  await waitUploaded(page);
  out.steps.push('household uploaded');

  // 2. a stored household: change one member, remove one, add one
  await page.evaluate((id) => { location.hash = `#/household/${id}/edit`; }, input.edit.id);
  await page.waitForSelector('[data-screen="household-edit"] [data-test="member"]');
  out.members_before = await page.locator('[data-test="member"]').count();
  out.id_masked = {head: await page.inputValue('#household-head-id-masked'),
                   member: await page.inputValue('#member-0-id-masked'),
                   full_inputs: await page.locator('#household-head-id, #member-0-id').count()};
  await shot(page, input, 'h4a-household-ids-masked');
  await page.click('.van-field:has(#household-head-id-masked) [data-test="reveal-id"]');
  out.id_masked.head_revealed = await page.inputValue('#household-head-id');
  out.id_masked.member_after = await page.inputValue('#member-0-id-masked');
  await page.selectOption('#member-1-schooling', input.edit.schooling);
  await page.locator('[data-test="member"]').nth(2).locator('[data-test="remove-member"]').click();
  await page.click('[data-test="add-member"]');
  await page.fill('#member-2-name', input.edit.added.name);
  await page.fill('#member-2-age', String(input.edit.added.age));
  await page.selectOption('#member-2-relation', input.edit.added.relation);
  out.edited_shows = await saveHousehold(page, input, 'h4-household-members-edited', '[data-screen="household"]');
  out.steps.push('members edited and uploaded');

  // 3. a quarantined request: its problems in words, corrected through the form
  await rewritePushes(page, input);
  out.quarantined_id = await fileRequest(page, input.quarantine, out);
  await page.waitForSelector('[data-test="feedback-notice"]', {timeout: 60000});
  out.quarantine_feedback = await words(page, '[data-test="feedback-notice"]');
  await shot(page, input, 'h5-request-quarantined');
  await page.click('[data-test="feedback-notice"] [data-test="correct-link"]');
  await page.waitForSelector('[data-screen="mediation-form"]');
  out.correct_form = {name: await page.inputValue('#applicant-name'), party: await page.inputValue('#party-0-name'),
                      description: await page.inputValue('#description'),
                      id_error: await fieldError(page, 'applicant-id'), party_error: await fieldError(page, 'party-0-phone')};
  await shot(page, input, 'h6-request-correction-form');
  await page.fill('#description', input.quarantine.corrected_description);
  await page.click('[data-test="save-mediation"]');
  await page.waitForSelector('[data-screen="mediation"]');
  await page.waitForFunction(() => /已更正/.test(document.querySelector('[data-test="feedback-notice"]')?.textContent || ''),
                             null, {timeout: 60000});
  out.quarantine_after = await words(page, '[data-test="feedback-notice"]');
  out.steps.push('quarantined request corrected');

  // 4. a case event of it, quarantined, corrected the same way
  await page.click('[data-test="add-event"]');
  await page.waitForSelector('[data-screen="case-event-form"]');
  await page.click('[data-field="kind"] [data-code="mediator_assigned"]');
  await page.fill('#mediator-name', '黄伯');
  await page.fill('#mediator-phone', '13711261234');
  await page.fill('#event-notes', input.event.notes);
  await page.click('[data-test="save-event"]');
  await page.waitForSelector('[data-screen="mediation"]');
  await page.waitForSelector('.van-step [data-test="feedback-notice"]', {timeout: 60000});
  out.event_feedback = await words(page, '.van-step [data-test="feedback-notice"]');
  await shot(page, input, 'h7-event-quarantined');
  await page.click('.van-step [data-test="correct-link"]');
  await page.waitForSelector('[data-screen="case-event-form"]');
  out.event_form_mediator = await page.inputValue('#mediator-name');
  await page.click('[data-test="save-event"]');
  await page.waitForSelector('[data-screen="mediation"]');
  await page.waitForFunction(() => /已更正/.test(document.querySelector('.van-step [data-test="feedback-notice"]')?.textContent || ''),
                             null, {timeout: 60000});
  out.steps.push('quarantined case event corrected');

  // 5. a refused request: kept here, corrected, accepted
  out.refused_id = await fileRequest(page, input.refuse);
  await page.waitForSelector('[data-test="refused-notice"] [data-test="correct-link"]', {timeout: 60000});
  out.refused_notice = await words(page, '[data-test="refused-notice"]');
  await shot(page, input, 'h8-request-refused');
  await page.click('[data-test="refused-notice"] [data-test="correct-link"]');
  await page.waitForSelector('[data-screen="mediation-form"]');
  out.refused_form_name = await page.inputValue('#applicant-name');
  await page.fill('#description', input.refuse.corrected_description);
  await page.click('[data-test="save-mediation"]');
  await page.waitForSelector('[data-screen="mediation"]');
  out.refused_after_save = await page.locator('[data-test="refused-notice"]').count();
  await waitUploaded(page);
  out.refused_count = await words(page, '[data-screen="sync"]');
  out.steps.push('refused request corrected and uploaded');

  // 6. a refused household: saving its form with nothing changed resubmits it
  await page.evaluate(() => { location.hash = '#/household/new'; });
  await page.waitForSelector('[data-screen="household-new"]');
  const again = input.refused_household;
  await page.fill('#household-head-name', again.head_name);
  await page.fill('#household-head-id', again.head_id);
  await page.click(`[data-field="poverty_status"] [data-code="${again.poverty_status}"]`);
  await page.fill('#member-0-age', String(again.head_age));
  await page.click('[data-test="save-new-household"]');
  await page.waitForSelector('[data-screen="household"]');
  out.refused_household_id = decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/household/', ''));
  await page.waitForSelector('[data-test="refused-notice"] [data-test="correct-link"]', {timeout: 60000});
  out.refused_household_notice = await words(page, '[data-test="refused-notice"]');
  await page.click('[data-test="refused-notice"] [data-test="correct-link"]');
  await page.waitForSelector('[data-screen="household-edit"] [data-test="refused-notice"]');
  out.refused_household_form = await words(page, '[data-test="refused-notice"]');
  out.refused_household_toast = await saveHousehold(page, input, 'h8a-household-refused-form', '.van-toast');
  out.steps.push('refused household resubmitted unchanged and uploaded');

  // 7. the same screens in English
  await page.evaluate(() => localStorage.setItem('fieldsync-lang', 'en'));
  await page.evaluate((id) => { location.hash = `#/mediation/${id}`; }, out.quarantined_id);
  await page.reload();
  await page.waitForSelector('[data-test="feedback-notice"]');
  out.english_feedback = await words(page, '[data-test="feedback-notice"]');
  await shot(page, input, 'h9-feedback-en');
  await page.evaluate(() => { location.hash = '#/household/new'; });
  await page.waitForSelector('[data-screen="household-new"]');
  await page.click('[data-test="save-new-household"]');
  out.english_errors = await errorsShown(page);
  await shot(page, input, 'h10-new-household-en');
}
