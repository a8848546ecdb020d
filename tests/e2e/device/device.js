// A simulated field device: a real PouchDB (LevelDB on disk) that replicates with fieldsync's
// sync gateway exactly as the cadre's app does (docs/device-contract.md).
//
// Usage: node device.js < script.json, where script.json is
//   {"dir": "<device storage>", "remote": "http://127.0.0.1:8000/sync/<village>",
//    "username": "...", "password": "...", "device_id": "...", "app_version": "1.4.0",
//    "actions": [{"op": "put", "doc": {...}}, {"op": "push"}, ...]}
// and it prints one JSON object: {"results": [<one per action>]}.
'use strict';
const crypto = require('crypto');
const PouchDB = require('pouchdb-node');

function readStdin() {
  return new Promise((resolve) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function remoteDb(script) {
  const headers = {'X-Device-Id': script.device_id || 'device-test',
                   'X-App-Version': script.app_version || '1.0.0',
                   'X-Device-Platform': 'node-test'};
  return new PouchDB(script.remote, {
    skip_setup: true,
    auth: {username: script.username, password: script.password},
    fetch: (url, opts) => {
      for (const [k, v] of Object.entries(headers)) opts.headers.set(k, v);
      return PouchDB.fetch(url, opts);
    },
  });
}

function replicate(from, to, action) {
  return new Promise((resolve) => {
    const denied = [];
    let batches = 0;
    const rep = PouchDB.replicate(from, to, {batch_size: action.batch_size || 100,
                                             batches_limit: 2, retry: false});
    rep.on('denied', (err) => denied.push({id: err.id, name: err.name, status: err.status,
                                           reason: err.reason, fieldsync: err.fieldsync}));
    rep.on('change', () => {
      batches += 1;
      if (action.cancel_after_batches && batches >= action.cancel_after_batches) rep.cancel();
    });
    rep.on('complete', (info) => resolve({ok: info.ok, status: info.status,
      docs_read: info.docs_read, docs_written: info.docs_written,
      doc_write_failures: info.doc_write_failures, denied, batches}));
    rep.on('error', (err) => resolve({ok: false, error: {name: err.name, status: err.status,
      message: err.message, reason: err.reason}, denied, batches}));
  });
}

function generated(action, i) {
  const doc = JSON.parse(JSON.stringify(action.template));
  doc._id = `${action.prefix}:${crypto.randomUUID()}`;
  if (action.attachment_bytes) {
    const bytes = crypto.randomBytes(action.attachment_bytes);
    doc._attachments = {'photo-1.jpg': {content_type: 'image/jpeg', data: bytes.toString('base64')}};
  }
  doc.sequence_no = i;
  return doc;
}

async function run(script) {
  const local = new PouchDB(script.dir);
  const remote = remoteDb(script);
  const results = [];
  for (const action of script.actions) {
    try {
      if (action.op === 'put') {
        results.push(await local.put(action.doc));
      } else if (action.op === 'generate') {
        const docs = [];
        for (let i = 0; i < action.count; i++) docs.push(generated(action, i));
        const res = await local.bulkDocs(docs);
        results.push({ok: true, ids: res.map((r) => r.id)});
      } else if (action.op === 'push') {
        results.push(await replicate(local, remote, action));
      } else if (action.op === 'pull') {
        results.push(await replicate(remote, local, action));
      } else if (action.op === 'all_docs') {
        const res = await local.allDocs();
        results.push({total: res.total_rows, rows: res.rows.map((r) => [r.id, r.value.rev])});
      } else if (action.op === 'get') {
        results.push(await local.get(action.id, {attachments: !!action.attachments,
                                                 conflicts: true}));
      } else if (action.op === 'remote_info') {
        results.push(await remote.info());
      } else {
        results.push({error: `unknown op ${action.op}`});
      }
    } catch (err) {
      results.push({error: {name: err.name, status: err.status, message: err.message}});
    }
  }
  await local.close();
  return {results};
}

readStdin().then((text) => run(JSON.parse(text))).then((out) => {
  process.stdout.write(JSON.stringify(out));
}).catch((err) => {
  process.stdout.write(JSON.stringify({fatal: String(err && err.stack || err)}));
  process.exitCode = 1;
});
