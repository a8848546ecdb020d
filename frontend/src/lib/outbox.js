// What this device still holds that the server has not taken: documents saved here and not yet
// pushed (pending), and documents the gateway refused (kept here, shown with their reasons).
// Kept in a _local document (never replicated), so the count survives reloads and restarts.
const OUTBOX_ID = '_local/fieldsync-outbox';

function generation(rev) {
  return Number(String(rev || '0').split('-', 1)[0]) || 0;
}

export class Outbox {
  constructor(db) {
    this.db = db;
    this.queue = Promise.resolve();  // one read-modify-write at a time
  }

  async read() {
    try {
      return await this.db.get(OUTBOX_ID);
    } catch (err) {
      if (err.status === 404) return {_id: OUTBOX_ID, pending: {}, refused: {}, last_sync_at: null};
      throw err;
    }
  }

  update(change) {
    this.queue = this.queue.then(async () => {
      const state = await this.read();
      change(state);
      await this.db.put(state);
      return state;
    });
    return this.queue;
  }

  /** A document was saved here at `rev`: it is pending until a push carries it. */
  saved(id, rev) {
    return this.update((state) => {
      state.pending[id] = rev;
      delete state.refused[id];
    });
  }

  /** Documents a push carried: no longer pending unless edited again since. */
  pushed(docs) {
    return this.update((state) => {
      for (const doc of docs) {
        if (state.pending[doc._id] && generation(state.pending[doc._id]) <= generation(doc._rev)) {
          delete state.pending[doc._id];
        }
      }
    });
  }

  /** The gateway refused a document (PouchDB's `denied`): keep it here with the reason. */
  refused(row) {
    const id = row.id || row.docId;
    return this.update((state) => {
      delete state.pending[id];
      const info = row.fieldsync || {};
      state.refused[id] = {rev: row.rev || null, code: info.code || row.error || 'forbidden',
                           messages: info.messages || {zh: row.reason, en: row.reason},
                           at: new Date().toISOString()};
    });
  }

  /**
   * Ask the server which pending revisions it already has (`_revs_diff`) and stop counting
   * those: a push that landed but whose answer was lost (a dropped link, the app closed) is
   * otherwise never seen by the push's `change` event, and replication will not send it again.
   */
  async settle(remote) {
    const state = await this.read();
    const ids = Object.keys(state.pending);
    if (!ids.length) return state;
    const missing = await remote.revsDiff(Object.fromEntries(ids.map((id) => [id, [state.pending[id]]])));
    return this.update((now) => {
      for (const id of ids) {
        if (now.pending[id] === state.pending[id] && !missing[id]) delete now.pending[id];
      }
    });
  }

  synced(at = new Date().toISOString()) {
    return this.update((state) => {
      state.last_sync_at = at;
    });
  }
}
