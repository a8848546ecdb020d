// Real PouchDB live replications (pull, live: true, retry: true, as the field app's live sync)
// for bench/concurrency_load.py: many devices in one node process, each with an in-memory
// local database, each holding the gateway's `_changes` longpoll as PouchDB does.
//
// Usage: node bench/live_devices.js, with one JSON line on stdin:
//   {"devices": [{"remote": "<gateway>/sync/<village>", "username": "...", "token": "...",
//                 "device_id": "...", "village": "..."}, ...]}
// Prints one JSON line per event on stdout:
//   {"event": "ready", "device": n}                  first time the replication is up to date
//   {"event": "seen", "device": n, "village", "ids": [...], "t": <unix s>}   documents pulled
//   {"event": "error", "device": n, "status", "message"}                   a failed request
// Stops (cancels every replication, exits) when stdin closes.
'use strict';
const PouchDB = require('pouchdb-node');
PouchDB.plugin(require('pouchdb-adapter-memory'));

function say(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function start(device, n) {
  const local = new PouchDB(`live-${n}`, {adapter: 'memory'});
  const remote = new PouchDB(device.remote, {
    skip_setup: true,
    auth: {username: device.username, password: device.token},
    fetch: (url, opts) => {
      opts.headers.set('X-Device-Id', device.device_id);
      opts.headers.set('X-Device-Platform', 'node-bench-live');
      return PouchDB.fetch(url, opts);
    },
  });
  let ready = false;
  const rep = PouchDB.replicate(remote, local, {live: true, retry: true, batch_size: 100});
  rep.on('change', (info) => say({event: 'seen', device: n, village: device.village,
                                  ids: info.docs.map((d) => d._id), t: Date.now() / 1000}));
  rep.on('paused', (err) => {
    if (!err && !ready) {
      ready = true;
      say({event: 'ready', device: n});
    }
  });
  rep.on('error', (err) => say({event: 'error', device: n, status: err.status,
                                message: String(err.message || err)}));
  return rep;
}

let buffer = '';
let reps = null;
process.stdin.on('data', (chunk) => {
  buffer += chunk.toString('utf8');
  const newline = buffer.indexOf('\n');
  if (reps === null && newline >= 0) {
    const spec = JSON.parse(buffer.slice(0, newline));
    reps = spec.devices.map(start);
  }
});
process.stdin.on('end', () => {
  for (const rep of reps || []) rep.cancel();
  setTimeout(() => process.exit(0), 500);
});
