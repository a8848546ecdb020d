// Hybrid logical clock stamps, the JS twin of models/hlc.py ("PPPPPPPPPPPPP-CCCCC-node").
// Both are checked against the same vectors (tests/hlc_vectors.json): change them together.
export const PHYSICAL_DIGITS = 13;
export const COUNTER_DIGITS = 5;
export const MAX_COUNTER = 10 ** COUNTER_DIGITS - 1;
// a remote clock this far ahead of ours is a wrong clock, not news from the future
export const DEFAULT_MAX_DRIFT_MS = 24 * 3600 * 1000;
const NODE_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
const STAMP_RE = /^(\d{13})-(\d{5})-([A-Za-z0-9_.:-]{1,64})$/;

export class ClockDriftError extends Error {}

/** The parts of a stamp string; throws if it is not one. */
export function parse(stamp) {
  const match = typeof stamp === 'string' ? STAMP_RE.exec(stamp) : null;
  if (!match) throw new Error(`not a hybrid logical clock stamp: ${stamp}`);
  return {physicalMs: Number(match[1]), counter: Number(match[2]), node: match[3]};
}

/** Whether `value` is a well-formed stamp string. */
export function isStamp(value) {
  return typeof value === 'string' && STAMP_RE.test(value);
}

function make(physicalMs, counter, node) {
  if (!NODE_RE.test(node || '')) throw new Error(`not a valid node id: ${node}`);
  if (counter > MAX_COUNTER) {  // the counter is full: borrow a millisecond, order is kept
    physicalMs += 1;
    counter = 0;
  }
  return `${String(physicalMs).padStart(PHYSICAL_DIGITS, '0')}-` +
         `${String(counter).padStart(COUNTER_DIGITS, '0')}-${node}`;
}

/** The stamp for a local event at wall time `nowMs`, after the node's `last` stamp. */
export function tick(nowMs, last, node) {
  if (last == null) return make(nowMs, 0, node);
  const previous = parse(last);
  if (nowMs > previous.physicalMs) return make(nowMs, 0, node);
  return make(previous.physicalMs, previous.counter + 1, node);
}

/** The node's stamp after seeing `remote`; throws ClockDriftError for a far-future remote. */
export function receive(nowMs, last, remote, node, maxDriftMs = DEFAULT_MAX_DRIFT_MS) {
  const seen = parse(remote);
  if (seen.physicalMs - nowMs > maxDriftMs) throw new ClockDriftError(remote);
  const previous = last != null ? parse(last) : {physicalMs: 0, counter: 0, node};
  const physical = Math.max(nowMs, previous.physicalMs, seen.physicalMs);
  let counter = 0;
  if (physical === previous.physicalMs && physical === seen.physicalMs) {
    counter = Math.max(previous.counter, seen.counter) + 1;
  } else if (physical === previous.physicalMs) {
    counter = previous.counter + 1;
  } else if (physical === seen.physicalMs) {
    counter = seen.counter + 1;
  }
  return make(physical, counter, node);
}

/** -1, 0 or 1 as stamp `a` is before, equal to or after `b`; a missing stamp is the earliest. */
export function compare(a, b) {
  const left = a || '';
  const right = b || '';
  return (left > right) - (left < right);
}

/** Whether a stamp claims a time more than `toleranceMs` after `nowMs` (a wrong clock). */
export function isAhead(stamp, nowMs, toleranceMs = DEFAULT_MAX_DRIFT_MS) {
  return parse(stamp).physicalMs - nowMs > toleranceMs;
}
