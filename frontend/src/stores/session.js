// The login of this browser, shared by every page of the project.
import {defineStore} from 'pinia';
import * as sessions from '../lib/session.js';

export const useSession = defineStore('session', {
  state: () => ({current: sessions.loadSession()}),
  getters: {
    loggedIn: (state) => Boolean(state.current),
    needsPassword: (state) => Boolean(state.current?.needs_password),
    isCadre: (state) => state.current?.role === 'cadre',
    village: (state) => state.current?.jurisdiction,
  },
  actions: {
    async login(username, password) {
      this.current = await sessions.login(username, password);
      return this.current;
    },
    async renew() {
      this.current = await sessions.renewIfDue();
    },
    requirePassword() {
      this.current = sessions.requirePassword();
    },
    logout() {
      sessions.logout();
      this.current = null;
    },
  },
});
