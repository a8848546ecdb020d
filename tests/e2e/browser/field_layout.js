// The field app's forms at the widths of the phones cadres carry (360, 390 and 430 px): every
// placeholder, every label and every value an edit form shows fits its box (measured with the box's own font), and a screenshot
// of each form at each width (the test's input.shots) to look at.
'use strict';
const {runWithShot, loginCadre, shot} = require('./harness');

runWithShot('failure-layout', async (input, page, out) => {
  page.setDefaultTimeout(20000);
  await loginCadre(page, input);
  await page.fill('input[name="roster-search"]', input.search);
  await page.click('[data-test="household-row"]');
  await page.waitForSelector('[data-screen="household"]');
  const household = decodeURIComponent((await page.evaluate(() => location.hash)).replace('#/household/', ''));
  const forms = {visit: [`#/household/${household}/visit`, 'visit-form'], mediation: ['#/mediation/new', 'mediation-form'],
                 household: [`#/household/${household}/edit`, 'household-edit']};
  out.cut = [];
  out.measured = 0;
  for (const width of input.widths) {
    await page.setViewportSize({width, height: 844});
    for (const [name, [hash, screen]] of Object.entries(forms)) {
      await page.evaluate((h) => { location.hash = h; }, hash);
      await page.waitForSelector(`[data-screen="${screen}"]`);
      await page.waitForTimeout(200);  // layout after the route's render
      const found = await page.evaluate(measure);
      out.measured += found.measured;
      out.cut.push(...found.cut.map((c) => ({width, form: name, ...c})));
      await shot(page, input, `14-${name}-${width}`);
    }
  }
});

// in the page: placeholders and labels wider than the space they have
function measure() {
  const canvas = document.createElement('canvas').getContext('2d');
  const textWidth = (el, text) => {
    const style = getComputedStyle(el);
    canvas.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    return canvas.measureText(text).width;
  };
  const inner = (el) => {
    const style = getComputedStyle(el);
    return el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  };
  const cut = [];
  let measured = 0;
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (!el.placeholder || el.offsetParent === null) continue;
    measured += 1;
    const need = textWidth(el, el.placeholder);
    const room = inner(el);
    // a textarea wraps its placeholder; a one-line input cuts it
    if (el.tagName === 'INPUT' && need > room + 0.5) cut.push({what: 'placeholder', text: el.placeholder, need, room});
  }
  // a stored value shown in an edit form (an address, an identity number) must be read whole
  for (const el of document.querySelectorAll('input.van-field__control')) {
    if (!el.value || el.offsetParent === null) continue;
    measured += 1;
    const need = textWidth(el, el.value);
    const room = inner(el);
    if (need > room + 0.5) cut.push({what: 'value', text: el.value, need, room});
  }
  for (const el of document.querySelectorAll('.van-field__label label, .van-field__label span')) {
    if (el.offsetParent === null) continue;
    measured += 1;
    if (el.scrollWidth > el.parentElement.clientWidth + 0.5) cut.push({what: 'label', text: el.textContent, need: el.scrollWidth, room: el.parentElement.clientWidth});
  }
  return {cut, measured};
}
