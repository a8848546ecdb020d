#!/usr/bin/env node
// Starts pouchdb-server with one fix to its validate_doc_update support (pouchdb-validation 4.x).
//
// Before running a validation function, pouchdb-validation overwrites the incoming document's
// `_revisions` with the stored document's history. A replicated update (`_bulk_docs` with
// new_edits=false, which is how PouchDB pushes) then claims the wrong ancestry, and pouchdb-server
// silently drops it: no device edit of an existing document reached a village database that has
// a validate_doc_update function. CouchDB itself has no such problem. The fix keeps a
// `_revisions` the document brings and only fills it in when it has none.
'use strict';
const fs = require('fs');
const Module = require('module');

const BROKEN = 'newDoc._revisions = (oldDoc || {})._revisions;';
const FIXED = 'if (!newDoc._revisions) { newDoc._revisions = (oldDoc || {})._revisions; }';

const file = require.resolve('pouchdb-validation');
const source = fs.readFileSync(file, 'utf8');
if (source.indexOf(BROKEN) !== -1) {
  const patched = new Module(file, module);
  patched.filename = file;
  patched.paths = Module._nodeModulePaths(require('path').dirname(file));
  patched._compile(source.replace(BROKEN, FIXED), file);
  patched.loaded = true;
  require.cache[file] = patched;
}
require('pouchdb-server/lib/index.js');
