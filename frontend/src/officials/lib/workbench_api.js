// The officials' calls of the JSON API (docs/api.md) with the shared login's token. A 401 means
// the token no longer holds: the session asks for the password again (never the browser's popup:
// /api answers 401 without WWW-Authenticate).
import {api, ApiError} from '../../lib/api.js';
import {t} from '../../i18n.js';
import {deviceId} from '../../lib/ids.js';
import {credentials} from '../../lib/session.js';
import {useSession} from '../../stores/session.js';

export {ApiError};

export async function call(path, options = {}) {
  const session = useSession();
  if (!session.current) throw new ApiError(401, 'unauthorized');
  try {
    return await api(path, {...options, deviceId: deviceId(), auth: credentials(session.current)});
  } catch (err) {
    if (err.status === 401) session.requirePassword();
    // no network, or an answer without our JSON error (a proxy's page): a sentence, not
    // "TypeError: Failed to fetch" or "http_502"
    if (err.status === 0) err.message = t('wb.network_error');
    else if (!err.body?.messages) err.message = t('wb.server_error', {status: err.status});
    throw err;
  }
}

/** A query string from the set parameters of `params`. */
export function query(params) {
  const parts = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return parts.length ? '?' + new URLSearchParams(parts).toString() : '';
}

export const alerts = {
  list: (params) => call(`/api/v1/alerts${query(params)}`),
  get: (id) => call(`/api/v1/alerts/${encodeURIComponent(id)}`),
  act: (id, action, json) => call(`/api/v1/alerts/${encodeURIComponent(id)}/${action}`,
                                  {method: 'POST', json: json || {}}),
  sla: (period) => call(`/api/v1/sla${query({period})}`),
};

export const rosters = {
  list: () => call('/api/v1/duty-rosters'),
  save: (code, json) => call(`/api/v1/duty-rosters/${code}`, {method: 'PUT', json}),
};

export const review = {
  tasks: (params) => call(`/api/v1/review/tasks${query(params)}`),
  quarantine: (params) => call(`/api/v1/review/quarantine${query(params)}`),
  decide: (id, json) => call(`/api/v1/review/tasks/${id}/decision`, {method: 'POST', json}),
  merge: (id, keep) => call(`/api/v1/review/tasks/${id}/merge`, {method: 'POST', json: {keep}}),
  dismiss: (id, reason) => call(`/api/v1/review/tasks/${id}/dismiss`,
                                {method: 'POST', json: {reason}}),
};

export const fieldDevices = {
  list: (params) => call(`/api/v1/field-devices${query(params)}`),
};

export const reports = {
  get: (name, params) => call(`/api/v1/reports/${name}${query(params)}`),
};

/** Download a report file (the token goes in a header, so not a plain link). */
export async function download(path, filename) {
  const session = useSession();
  const {username, secret} = credentials(session.current);
  const bytes = new TextEncoder().encode(`${username}:${secret}`);
  let response;
  try {
    response = await fetch(path, {headers: {
      Authorization: `Basic ${btoa(String.fromCharCode(...bytes))}`, 'X-Device-Id': deviceId()}});
  } catch {
    throw new ApiError(0, 'network', t('wb.network_error'));
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(response.status, body?.error || 'download_failed',
                       body?.message || t('wb.server_error', {status: response.status}), body);
  }
  const named = /filename\*=UTF-8''([^;]+)/.exec(response.headers.get('Content-Disposition') || '');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = named ? decodeURIComponent(named[1]) : filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
