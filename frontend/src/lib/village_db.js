// The village's documents on this device (PouchDB in IndexedDB): reads for the screens and the
// writes a cadre makes, following docs/device-contract.md. Every write goes through `save`, so
// the outbox knows what is still to upload.
import PouchDB from 'pouchdb-browser';
import {Outbox} from './outbox.js';
import {receive, tick, ClockDriftError} from './hlc.js';

const CLOCK_ID = '_local/fieldsync-hlc';
export const STAMPED_FIELDS = ['head', 'members', 'phones', 'address', 'income_per_capita_fen',
                               'poverty_status', 'notes'];
export const INDICATORS = ['food_secured', 'clothing_secured', 'compulsory_education',
                           'basic_medical', 'safe_housing', 'safe_drinking_water'];

export function openVillage(village) {
  const db = new PouchDB(`fieldsync-${village}`, {auto_compaction: true});
  return new VillageDb(db, village);
}

function byPrefix(prefix, extra = {}) {
  return {startkey: `${prefix}:`, endkey: `${prefix}:\ufff0`, include_docs: true, ...extra};
}

function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export class VillageDb {
  constructor(db, village) {
    this.db = db;
    this.village = village;
    this.outbox = new Outbox(db);
    this.clockQueue = Promise.resolve();
  }

  async all(prefix) {
    const answer = await this.db.allDocs(byPrefix(prefix));
    return answer.rows.map((row) => row.doc);
  }

  async get(id, options = {}) {
    try {
      return await this.db.get(id, options);
    } catch (err) {
      if (err.status === 404) return null;
      throw err;
    }
  }

  /** Write a device document and mark it pending upload. */
  async save(doc) {
    const answer = await this.db.put(doc);
    await this.outbox.saved(answer.id, answer.rev);
    return {...doc, _rev: answer.rev};
  }

  households() {
    return this.all('household');
  }

  async visitsOf(householdId) {
    return (await this.all('visit')).filter((visit) => visit.household_id === householdId)
      .sort((a, b) => String(b.recorded_at).localeCompare(String(a.recorded_at)));
  }

  async mediationRequests() {
    return (await this.all('mediation'))
      .sort((a, b) => String(b.recorded_at).localeCompare(String(a.recorded_at)));
  }

  async caseEventsOf(requestId) {
    return (await this.all('case_event')).filter((event) => event.request_id === requestId)
      .sort((a, b) => String(a.recorded_at).localeCompare(String(b.recorded_at)));
  }

  /** Feedback documents the server sent about a document (newest first). */
  async feedbackAbout(docId) {
    // every feedback id starts "feedback:<document id>:" (models/doc_ids.py): one key range, not
    // a scan of the village's feedback for each record on a screen
    const answer = await this.db.allDocs({startkey: `feedback:${docId}:`, endkey: `feedback:${docId}:\ufff0`,
                                          include_docs: true});
    return answer.rows.map((row) => row.doc).filter((item) => item.target?.id === docId)
      .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  }

  /** Every open feedback, by the id of the document it concerns. */
  async openFeedback() {
    const open = {};
    for (const item of await this.all('feedback')) {
      // a value set aside for review (kind household_disagreement) is nothing to correct
      if (!item.resolved_at && item.target?.id && item.kind !== 'household_disagreement') {
        (open[item.target.id] ||= []).push(item);
      }
    }
    return open;
  }

  async photoUrl(docId, name) {
    const blob = await this.db.getAttachment(docId, name);
    return URL.createObjectURL(blob);
  }

  // --- the device's clock (docs/device-contract.md §4) ---

  withClock(step) {
    this.clockQueue = this.clockQueue.then(async () => {
      let state;
      try {
        state = await this.db.get(CLOCK_ID);
      } catch (err) {
        if (err.status !== 404) throw err;
        state = {_id: CLOCK_ID, last: null};
      }
      const result = step(state.last);
      if (result.last !== state.last) await this.db.put({...state, last: result.last});
      return result.value;
    });
    return this.clockQueue;
  }

  /** The clock's next stamp for an edit on this device (one per save). */
  nextStamp(deviceId) {
    return this.withClock((last) => {
      const made = tick(Date.now(), last, deviceId);
      return {last: made, value: made};
    });
  }

  /** Advance the clock past every stamp of households pulled from the server. */
  observeStamps(households, deviceId) {
    return this.withClock((last) => {
      let current = last;
      for (const household of households) {
        for (const stamp of Object.values(household.field_stamps || {})) {
          try {
            current = receive(Date.now(), current, stamp, deviceId);
          } catch (err) {
            if (!(err instanceof ClockDriftError)) throw err;  // a wrong clock elsewhere: ignore it
          }
        }
      }
      return {last: current, value: current};
    });
  }

  /**
   * Save a new household made on this device: every stamped path that holds a value gets the
   * one fresh stamp of this save (docs/device-contract.md §4). The id is made here, offline.
   */
  async createHousehold(household, deviceId) {
    const stamp = await this.nextStamp(deviceId);
    const stamps = {};
    for (const path of STAMPED_FIELDS) {
      if (!same(household[path], null) && !same(household[path], []) && !same(household[path], {})) stamps[path] = stamp;
    }
    for (const name of INDICATORS) {
      if (household.indicators?.[name] != null) stamps[`indicators.${name}`] = stamp;
    }
    return this.save({...household, field_stamps: stamps});
  }

  /**
   * Save an edit of a household: re-read the whole stored document, apply `changes` (field ->
   * value; `indicators.<name>` for one indicator), stamp only the paths whose value changed, keep
   * every other field and stamp as it is. Answers the saved household, or null if nothing changed.
   */
  async editHousehold(id, changes, deviceId) {
    const stored = await this.db.get(id);
    const next = structuredClone(stored);
    const changed = [];
    for (const [path, value] of Object.entries(changes)) {
      if (path.startsWith('indicators.')) {
        const name = path.slice('indicators.'.length);
        next.indicators = {...(next.indicators || {})};
        if (!same(next.indicators[name], value)) {
          next.indicators[name] = value;
          changed.push(path);
        }
      } else if (!same(next[path], value)) {
        next[path] = value;
        changed.push(path);
      }
    }
    if (!changed.length) return null;
    const stamp = await this.nextStamp(deviceId);
    next.field_stamps = {...(next.field_stamps || {})};
    for (const path of changed) {
      // clearing a value is an edit too: the merge must see when it happened
      next.field_stamps[path] = stamp;
    }
    return this.save(next);
  }
}
