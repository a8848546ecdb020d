// The cadre's village on this device: the local database, live sync and its status.
import {defineStore} from 'pinia';
import {markRaw} from 'vue';
import {api} from '../lib/api.js';
import {deviceId} from '../lib/ids.js';
import {remoteVillage, startSync} from '../lib/replication.js';
import {credentials} from '../lib/session.js';
import {openVillage} from '../lib/village_db.js';
import {useSession} from './session.js';

const BOOTSTRAP_KEY = 'fieldsync-bootstrap';

export const useVillage = defineStore('village', {
  state: () => ({
    db: null,
    listening: false,
    online: navigator.onLine,
    // idle | active | caught_up | offline (no network) | busy (the server answered 5xx, e.g. 503
    // over its budgets; retried by itself) | unauthorized (401: log in again) | too_old (426) | failed
    phase: 'idle',
    lastSyncAt: null,
    lastError: null,
    pending: {},
    refused: {},
    revision: 0,            // bumped when pulled documents change what screens show
    storage: null,          // {usage, quota, persisted}
    localSeq: null,         // the local database's update_seq, reported to the server
    bootstrap: JSON.parse(localStorage.getItem(BOOTSTRAP_KEY) || 'null'),
  }),
  getters: {
    isOnline: (state) => state.online && state.phase !== 'offline',
    /** The link in one word for the badge: online, offline, busy, unauthorized, too_old, failed. */
    linkState: (state) => (!state.online || state.phase === 'offline' ? 'offline'
      : ['busy', 'unauthorized', 'too_old', 'failed'].includes(state.phase) ? state.phase : 'online'),
    pendingCount: (state) => Object.keys(state.pending).length,
    refusedCount: (state) => Object.keys(state.refused).length,
    villageName: (state) => state.bootstrap?.hierarchy?.find((unit) => unit.level === 'village')?.name,
  },
  actions: {
    /** Open the village database and start syncing (called once a cadre is logged in). */
    async open() {
      this.online = navigator.onLine;
      const session = useSession();
      if (!this.db || this.db.village !== session.village) {
        this.db = markRaw(openVillage(session.village));
      }
      await this.refreshOutbox();
      if (!this.listening) {
        this.listening = true;
        window.addEventListener('online', () => { this.online = true; this.syncNow(); });
        window.addEventListener('offline', () => { this.online = false; this.phase = 'offline'; });
      }
      this.startSync();
      this.loadBootstrap();
      this.refreshStorage(true);
    },
    startSync() {
      const session = useSession();
      if (!session.current || session.needsPassword || !this.db) return;
      this.handle?.stop();
      const remote = remoteVillage(session.current, deviceId(), () => this.holding());
      this.remote = markRaw(remote);
      const village = this.db;
      this.phase = 'active';
      this.handle = markRaw(startSync(village, remote, {
        active: () => { this.phase = 'active'; },
        idle: async () => {
          this.phase = 'caught_up';
          this.lastError = null;
          await village.outbox.synced();
          await village.outbox.settle(remote.db).catch(() => {});  // offline again: next time
          await this.refreshOutbox();
        },
        offline: (err) => { this.phase = 'offline'; this.lastError = String(err?.message || err); },
        busy: (err) => { this.phase = 'busy'; this.lastError = err?.message || null; },
        pushed: async (docs) => { await village.outbox.pushed(docs); await this.refreshOutbox(); },
        pulled: async (docs) => {
          const households = docs.filter((doc) => doc._id.startsWith('household:'));
          if (households.length) await village.observeStamps(households, deviceId());
          this.revision += 1;
          this.localSeq = (await village.db.info()).update_seq;
        },
        denied: async (row) => { await village.outbox.refused(row); await this.refreshOutbox(); },
        unauthorized: () => { this.phase = 'unauthorized'; session.requirePassword(); },
        tooOld: () => { this.phase = 'too_old'; },
        failed: (err) => { this.phase = 'failed'; this.lastError = String(err?.message || err); },
      }));
    },
    /** "Sync now": restart replication at once instead of waiting for its back-off. */
    syncNow() {
      this.startSync();
    },
    stop() {
      this.handle?.stop();
      this.handle = null;
    },
    async refreshOutbox() {
      const state = await this.db.outbox.read();
      this.pending = state.pending;
      this.refused = state.refused;
      this.lastSyncAt = state.last_sync_at;
      this.localSeq = (await this.db.db.info()).update_seq;
      this.reportHolding();
    },
    /** What this device holds that the server lacks, as the sync headers report it. */
    holding() {
      return {pending: this.pendingCount, refused: this.refusedCount, seq: this.localSeq};
    },
    /** Tell the server at once when the counts change (one small request, a second later):
     * the live pull's longpoll carries the old counts for up to 30 s. */
    reportHolding() {
      const counts = `${this.pendingCount}/${this.refusedCount}`;
      if (counts === this.reportedCounts || !this.remote || !navigator.onLine) return;
      clearTimeout(this.reportTimer);
      this.reportTimer = setTimeout(async () => {
        const now = `${this.pendingCount}/${this.refusedCount}`;
        try {
          await this.remote.db.info();
          this.reportedCounts = now;
        } catch {
          // offline or refused: the next sync request carries the counts anyway
        }
      }, 1000);
    },
    async loadBootstrap() {
      const session = useSession();
      try {
        this.bootstrap = await api('/api/v1/bootstrap', {auth: credentials(session.current),
                                                         deviceId: deviceId()});
        localStorage.setItem(BOOTSTRAP_KEY, JSON.stringify(this.bootstrap));
      } catch (err) {
        if (err.status === 401) session.requirePassword();
      }
    },
    async refreshStorage(askPersist = false) {
      const storage = navigator.storage;
      if (!storage?.estimate) return;
      let persisted = storage.persisted ? await storage.persisted() : false;
      if (!persisted && askPersist && storage.persist) persisted = await storage.persist();
      const {usage, quota} = await storage.estimate();
      this.storage = {usage, quota, persisted};
    },
    /** Save a device document (visit, request, case event) and count it as pending. */
    async save(doc) {
      const saved = await this.db.save(doc);
      await this.refreshOutbox();
      return saved;
    },
    async editHousehold(id, changes) {
      const saved = await this.db.editHousehold(id, changes, deviceId());
      await this.refreshOutbox();
      return saved;
    },
  },
});
