// One timed push from a real PouchDB device (LevelDB on disk, as tests/device/device.js).
//
// Usage: node bench/push_device.js < script.json, where script.json is
//   {"dir": "<fresh device storage>", "remote": "<database URL>", "username": "...",
//    "password": "...", "device_id": "...", "template": {...}, "ids": ["visit:...", ...],
//    "village_code": "...", "batch_size": 100, "batches_limit": 10}
// It first writes one document per id (template + _id + village_code + sequence_no) into the
// local database, untimed, then replicates local -> remote and times only the replication.
// Prints one JSON object: {"ok", "seconds", "docs_written", "denied", "requests": {...}, ...}.
'use strict';
const PouchDB = require('pouchdb-node');

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

// What the replicator sent, by endpoint: for the discussion in docs/performance.md.
function endpointOf(url, base) {
  const path = url.slice(base.length).split('?')[0].replace(/^\/+/, '');
  const head = path.split('/')[0];
  if (head === '') return 'db';
  if (head.startsWith('_')) return head;
  return 'doc';
}

function remoteDb(script, stats) {
  const headers = {'X-Device-Id': script.device_id || 'bench-device',
                   'X-App-Version': '1.4.0', 'X-Device-Platform': 'node-bench'};
  const base = script.remote.replace(/\/+$/, '');
  return new PouchDB(base, {
    skip_setup: true,
    auth: {username: script.username, password: script.password},
    fetch: (url, opts) => {
      for (const [k, v] of Object.entries(headers)) opts.headers.set(k, v);
      const key = `${opts.method || 'GET'} ${url.startsWith(base) ? endpointOf(url, base) : 'root'}`;
      stats[key] = stats[key] || {count: 0, bytes_sent: 0};
      stats[key].count += 1;
      if (typeof opts.body === 'string') stats[key].bytes_sent += Buffer.byteLength(opts.body);
      return PouchDB.fetch(url, opts);
    },
  });
}

async function load(local, script) {
  const chunk = 1000;
  for (let start = 0; start < script.ids.length; start += chunk) {
    const docs = script.ids.slice(start, start + chunk).map((id, i) => {
      const doc = JSON.parse(JSON.stringify(script.template));
      doc._id = id;
      doc.village_code = script.village_code;
      doc.sequence_no = start + i;
      return doc;
    });
    const res = await local.bulkDocs(docs);
    const bad = res.filter((r) => r.error);
    if (bad.length) throw new Error(`local write failed: ${JSON.stringify(bad[0])}`);
  }
}

function replicate(from, to, script) {
  return new Promise((resolve) => {
    const denied = [];
    const rep = PouchDB.replicate(from, to, {batch_size: script.batch_size || 100,
                                             batches_limit: script.batches_limit || 10,
                                             retry: false});
    rep.on('denied', (err) => denied.push({id: err.id, reason: err.reason}));
    rep.on('complete', (info) => resolve({ok: info.ok, status: info.status,
      docs_read: info.docs_read, docs_written: info.docs_written,
      doc_write_failures: info.doc_write_failures, denied: denied.slice(0, 5),
      denied_count: denied.length}));
    rep.on('error', (err) => resolve({ok: false, error: {name: err.name, status: err.status,
      message: err.message, reason: err.reason}, denied: denied.slice(0, 5),
      denied_count: denied.length}));
  });
}

async function run(script) {
  const local = new PouchDB(script.dir);
  const stats = {};
  const remote = remoteDb(script, stats);
  const loadStart = process.hrtime.bigint();
  await load(local, script);
  const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
  const start = process.hrtime.bigint();
  const result = await replicate(local, remote, script);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await local.close();
  return {...result, seconds, load_seconds: loadSeconds, requests: stats};
}

readStdin().then((text) => run(JSON.parse(text))).then((out) => {
  process.stdout.write(JSON.stringify(out));
}).catch((err) => {
  process.stdout.write(JSON.stringify({fatal: String(err && err.stack || err)}));
  process.exitCode = 1;
});
