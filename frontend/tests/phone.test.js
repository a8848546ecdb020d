import {test} from 'node:test';
import assert from 'node:assert/strict';
import {checkPhone, normalisePhone, PHONE_RE, phoneDigits} from '../src/lib/phone.js';

test('a number typed in full width, with spaces or +86, becomes 11 ASCII digits', () => {
  for (const typed of ['１３９２６６１１２３４', '139 2661 1234', '+86 139-2661-1234', '＋８６ １３９２６６１１２３４',
                       '0086 13926611234', '139－2661－1234']) {
    assert.equal(phoneDigits(typed), '13926611234', typed);
    assert.ok(PHONE_RE.test(phoneDigits(typed)), typed);
  }
});

test('other digits and marks are not folded: the number stays wrong and is refused', () => {
  for (const typed of ['1392661١٢٣٤', '1392661\u200b1234', '13926611234\u0000', '12926611234', '']) {
    assert.equal(PHONE_RE.test(phoneDigits(typed)), false, JSON.stringify(typed));
  }
});

test('one normaliser for every form: full width folded, then what the server removes', () => {
  const expected = {'１３８０２２６１２３４': '13802261234', '（１３８）０２２６　１２３４': '13802261234',
                    '＋８６１３８０２２６１２３４': '13802261234', '12802261234': null, '１２８０２２６１２３４': null,
                    '': null, '8613802261234': '13802261234'};
  for (const [typed, phone] of Object.entries(expected)) assert.equal(normalisePhone(typed), phone, typed);
  assert.equal(normalisePhone(null), null);
});

test('a phone field is checked in the catalogue words: asked for when empty, the server wording when wrong', () => {
  const t = (key, params) => `${key}${params?.field ? `:${params.field}` : ''}`;
  assert.deepEqual(checkPhone('１３９２６６１１２３４', t), {phone: '13926611234'});
  assert.deepEqual(checkPhone('12926611234', t), {error: 'errors.phone_format'});
  assert.deepEqual(checkPhone('  ', t), {phone: null});
  assert.deepEqual(checkPhone('', t, {required: true, field: '申请人电话'}), {error: 'app.required:申请人电话'});
});
