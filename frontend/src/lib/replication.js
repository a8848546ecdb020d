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
  const link = {answeredAt: 0, failedAt: 0, tooOld: false};
  const db = new PouchDB(`${location.origin}/sync/${session.jurisdiction}`, {
    skip_setup: true,
    async fetch(url, opts) {
      for (const [name, value] of Object.entries(deviceHeaders(deviceId))) opts.headers.set(name, value);
      opts.headers.set('Authorization', basicAuth(session.username, session.token));
      for (const [name, value] of Object.entries(holdingHeaders(holding()))) opts.headers.set(name, value);
      opts.credentials = 'omit';
      try {
        const response = await PouchDB.fetch(url, opts);
        if (response.status < 500) link.answeredAt = Date.now();
        else link.failedAt = Date.now();
        link.tooOld = response.status === 426;
        if (link.tooOld) {  // this app is too old for the server: say so, not "caught up"
          const body = await response.clone().json().catch(() => null);
          upgradeRequired(new ApiError(426, body?.error || 'app_version_unsupported', body?.message, body));
        }
        return response;
      } catch (err) {
        link.failedAt = Date.now();
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
 * Start live sync. `on` receives: active(), idle() when caught up, offline(err), pushed(docs),
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
    } else if (err || !navigator.onLine || remote.link.failedAt >= remote.link.answeredAt) {
      on.offline(err || new Error('offline'));
    } else {
      on.idle();
    }
  });
  // a two-way sync wraps the refused row: {direction: 'push', doc: <the _bulk_docs error row>}
  handle.on('denied', (event) => on.denied(event?.doc || event));
  handle.on('error', (err) => {
    if (stopped) return;
    if (authFailure(err)) on.unauthorized(err);
    else if (remote.link.tooOld) on.tooOld();
    else on.failed(err);
  });
  return {
    stop() {
      stopped = true;
      handle.cancel();
    },
  };
}
