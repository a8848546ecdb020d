// Live two-way replication of the village through the gateway (/sync/<village>), with the
// device token as the HTTP Basic password and the device headers on every request. It reports
// what a person needs to trust it: online or not, the last time both directions caught up,
// what is still waiting here, and what the gateway refused.
import PouchDB from 'pouchdb-browser';
import {ApiError, basicAuth, deviceHeaders, upgradeRequired} from './api.js';

const PHOTO_BATCH = 10;  // docs/api.md: with photos, small batches stay under the request limit

/**
 * The village database on the server, through the gateway. `link` records when the gateway last
 * answered and when a request last failed: PouchDB can report "caught up" without having
 * reached the server, so "last successful sync" is judged by what the network did. `holding()`
 * answers what this device still holds ({pending, refused, seq}), sent on every request as
 * X-Device-Pending, X-Device-Refused and X-Device-Seq (docs/device-contract.md §8).
 */
export function remoteVillage(session, deviceId, holding = () => null) {
  // failure: what the last failed request met: 'network' (no answer at all), 'busy' (5xx: a
  // server over its budgets answers 503) or null when the last request was answered
  // onUnauthorized: set by startSync; a 401 (token expired or revoked) stops the retries at once
  const link = {answeredAt: 0, failedAt: 0, tooOld: false, failure: null, onUnauthorized: null};
  const db = new PouchDB(`${location.origin}/sync/${session.jurisdiction}`, {
    skip_setup: true,
    async fetch(url, opts) {
      for (const [name, value] of Object.entries(deviceHeaders(deviceId))) opts.headers.set(name, value);
      opts.headers.set('Authorization', basicAuth(session.username, session.token));
      for (const [name, value] of Object.entries(holdingHeaders(holding()))) opts.headers.set(name, value);
      opts.credentials = 'omit';
      try {
        const response = await PouchDB.fetch(url, opts);
        if (response.status < 500) {
          link.answeredAt = Date.now();
          link.failure = null;
        } else {
          link.failedAt = Date.now();
          link.failure = 'busy';
        }
        link.tooOld = response.status === 426;
        // PouchDB's retry treats a 401 like any failure and backs off for ever: ask for the password
        if (response.status === 401) link.onUnauthorized?.();
        if (link.tooOld) {  // this app is too old for the server: say so, not "caught up"
          const body = await response.clone().json().catch(() => null);
          upgradeRequired(new ApiError(426, body?.error || 'app_version_unsupported', body?.message, body));
        }
        return response;
      } catch (err) {
        if (err?.name !== 'AbortError') {  // a cancelled request (sync restarted) met nothing
          link.failedAt = Date.now();
          link.failure = 'network';
        }
        throw err;
      }
    },
  });
  return {db, link};
}

/** The device status headers for {pending, refused, seq}; none when nothing is known yet. */
export function holdingHeaders(held) {
  if (!held || !Number.isInteger(held.pending)) return {};
  const headers = {'X-Device-Pending': String(held.pending), 'X-Device-Refused': String(held.refused || 0)};
  const seq = String(held.seq ?? '').replace(/[^0-9A-Za-z._-]/g, '').slice(0, 64);
  if (seq) headers['X-Device-Seq'] = seq;
  return headers;
}

/**
 * Why replication stopped short of the server: 'network' (no connection or no answer), 'busy'
 * (the server answered 5xx, e.g. 503 over its budgets: PouchDB retries by itself), 'failed'
 * (another refusal), or null when nothing failed since the server last answered.
 */
export function failureKind(err, link, online = navigator.onLine) {
  if (!online) return 'network';
  // what the network last did first: PouchDB reports a request that got no answer as status 500
  if (link.failedAt && link.failedAt >= link.answeredAt) return link.failure || 'network';
  if (err?.status >= 500) return 'busy';
  if (err?.status >= 400) return 'failed';
  return err ? 'network' : null;
}

/**
 * Start live sync. `on` receives: active(), idle() when caught up, offline(err) with no network,
 * busy(err) when the server answers 5xx, pushed(docs),
 * pulled(docs), denied(row), unauthorized(err), tooOld() (426: update the app), failed(err).
 * `remote` is remoteVillage()'s answer. Answers {stop()}.
 */
export function startSync(village, remote, on) {
  const handle = village.db.sync(remote.db, {
    live: true, retry: true, batch_size: PHOTO_BATCH,
    back_off_function: (delay) => (delay === 0 ? 2000 : Math.min(delay * 2, 60000)),
  });
  let stopped = false;
  const authFailure = (err) => err && (err.status === 401 || err.status === 403);
  remote.link.onUnauthorized = () => {
    if (stopped) return;
    stopped = true;
    handle.cancel();
    on.unauthorized(new Error('unauthorized'));
  };
  handle.on('change', (info) => {
    const docs = info.change?.docs || [];
    if (info.direction === 'push') on.pushed(docs);
    else on.pulled(docs);
  });
  handle.on('active', () => on.active());
  handle.on('paused', (err) => {
    if (stopped) return;
    if (authFailure(err)) {
      handle.cancel();
      on.unauthorized(err);
    } else if (remote.link.tooOld) {
      on.tooOld();
    } else {
      const kind = failureKind(err, remote.link);
      if (kind === 'busy') on.busy(err);
      else if (kind === 'failed') on.failed(err);
      else if (kind) on.offline(err || new Error('offline'));
      else on.idle();
    }
  });
  // a two-way sync wraps the refused row: {direction: 'push', doc: <the _bulk_docs error row>}
  handle.on('denied', (event) => on.denied(event?.doc || event));
  handle.on('error', (err) => {
    if (stopped) return;
    if (authFailure(err)) on.unauthorized(err);
    else if (remote.link.tooOld) on.tooOld();
    else if (failureKind(err, remote.link) === 'busy') on.busy(err);
    else on.failed(err);
  });
  return {
    stop() {
      stopped = true;
      handle.cancel();
    },
  };
}
