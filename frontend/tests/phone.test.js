import {test} from 'node:test';
import assert from 'node:assert/strict';
import {PHONE_RE, phoneDigits} from '../src/lib/phone.js';

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
