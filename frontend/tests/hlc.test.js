// The JS clock against the vectors the Python clock is tested with (tests/e2e/test_field_app_units.py).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {ClockDriftError, compare, receive, tick} from '../src/lib/hlc.js';

const vectors = JSON.parse(readFileSync(new URL('./hlc_vectors.json', import.meta.url)));

test('tick follows the shared vectors', () => {
  for (const v of vectors.tick) assert.equal(tick(v.now_ms, v.last, v.node), v.expect, JSON.stringify(v));
});

test('receive follows the shared vectors', () => {
  for (const v of vectors.receive) {
    if (v.expect === 'clock_drift') {
      assert.throws(() => receive(v.now_ms, v.last, v.remote, v.node), ClockDriftError);
    } else {
      assert.equal(receive(v.now_ms, v.last, v.remote, v.node), v.expect, JSON.stringify(v));
    }
  }
});

test('compare follows the shared vectors', () => {
  for (const v of vectors.compare) assert.equal(compare(v.a, v.b), v.expect, JSON.stringify(v));
});
