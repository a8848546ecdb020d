// Calls of the public API (docs/api.md, "Villagers"), and what to tell a villager when one fails.
import {api} from '../lib/api.js';
import {serverText, t} from '../i18n.js';

const RECEIPTS_KEY = 'fieldsync-apply-receipts';

export const villages = () => api('/api/v1/public/villages');
export const file = (request) => api('/api/v1/public/mediation-requests', {method: 'POST', json: request});
export const lookUp = (receipt, phone) => api('/api/v1/public/mediation-requests/lookup',
                                              {method: 'POST', json: {receipt, phone}});

/** A receipt as the server prints it (case, spaces, dashes and look-alike letters ignored). */
export function canonicalReceipt(text) {
  const plain = (text || '').normalize('NFKC').replace(/[\s\-_.·—]+/g, '').toUpperCase()
    .replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{10}$/.test(plain) ? `${plain.slice(0, 5)}-${plain.slice(5)}` : null;
}

/** Receipt numbers filed from this phone (numbers only: no names or phones are kept). */
export function recentReceipts() {
  try {
    const list = JSON.parse(localStorage.getItem(RECEIPTS_KEY) || '[]');
    return Array.isArray(list) ? list.filter((r) => typeof r === 'string').slice(0, 10) : [];
  } catch {
    return [];
  }
}

export function rememberReceipt(receipt) {
  const list = [receipt, ...recentReceipts().filter((r) => r !== receipt)].slice(0, 10);
  localStorage.setItem(RECEIPTS_KEY, JSON.stringify(list));
}

/** One sentence in plain language for a failed call; field problems are in `fieldErrors`. */
export function problemText(err) {
  if (err.status === 0) return t('apply.offline');
  if (err.status === 429) {
    const seconds = err.retryAfter || 60;
    return t('apply.rate_limited', {minutes: Math.max(1, Math.ceil(seconds / 60))});
  }
  if (err.status >= 500) return t('apply.server_busy');
  return serverText(err.body?.messages) || t('app.unknown_error', {message: err.message});
}

/** The server's 422 details as {field path: text}. */
export function fieldErrors(err) {
  const found = {};
  for (const detail of err.body?.details || []) {
    if (detail.field && !found[detail.field]) found[detail.field] = serverText(detail.message) || detail.code;
  }
  return found;
}
