import {test} from 'node:test';
import assert from 'node:assert/strict';
import {fenToYuan, formatYuan, yuanToFen} from '../src/lib/money.js';

test('yuan typed by people become exact fen', () => {
  assert.equal(yuanToFen('3520'), 352000);
  assert.equal(yuanToFen('35.2'), 3520);
  assert.equal(yuanToFen('8,650.50'), 865050);
  assert.equal(yuanToFen('￥0.07'), 7);
  assert.equal(yuanToFen('1.005'.slice(0, 4)), 100);
  assert.equal(yuanToFen('4.35'), 435);  // 4.35 * 100 is 434.99999999999994 as a float
  assert.equal(yuanToFen(' '), null);
  for (const bad of ['1.234', '-5', 'abc', '1e5', '1..2']) assert.throws(() => yuanToFen(bad), RangeError, bad);
});

test('fen are shown as yuan with two decimals', () => {
  assert.equal(fenToYuan(865050), '8650.50');
  assert.equal(fenToYuan(7), '0.07');
  assert.equal(formatYuan(123456789), '¥1,234,567.89');
  assert.equal(formatYuan(null), '—');
});
