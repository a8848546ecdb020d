import {test} from 'node:test';
import assert from 'node:assert/strict';
import {householdResubmission, refusalFixable} from '../src/lib/corrections.js';

const held = {_id: 'household:1', _rev: '1-a', type: 'household', village_code: '441226101201',
              head: {name: '罗桂芳'}, field_stamps: {head: 's1'}, _conflicts: ['1-b']};

test('a refused household saved with nothing changed is written again as it is', () => {
  const again = householdResubmission(held, '441226101201', false);
  assert.deepEqual(again, {_id: 'household:1', _rev: '1-a', type: 'household', village_code: '441226101201',
                           head: {name: '罗桂芳'}, field_stamps: {head: 's1'}});
});

test('what the gateway checks and this phone can set is set, even after an edit', () => {
  const wrong = {...held, type: 'visit', village_code: '441226101202'};
  const again = householdResubmission(wrong, '441226101201', true);
  assert.equal(again.type, 'household');
  assert.equal(again.village_code, '441226101201');
  assert.equal(householdResubmission(held, '441226101201', true), null);  // the edit's revision goes up
});

test('a refusal about who wrote a record offers no correction; a content refusal does', () => {
  const record = {_id: 'mediation:1', _rev: '1-a'};
  for (const code of ['author_not_signed_in', 'device_not_signed_in', 'channel_not_device', 'author_changed',
                      'written_once']) {
    assert.equal(refusalFixable({code, rev: '1-a'}, record), false, code);
  }
  assert.equal(refusalFixable({code: 'invalid_document', rev: '1-a'}, record), true);
  assert.equal(refusalFixable({code: 'invalid_document', rev: '1-b'}, record), false);
});
