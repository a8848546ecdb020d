// The JSON API of fieldsync (docs/api.md), as every page of the project calls it: the app
// version and device id on every request, the server's message in the caller's language.
import {lang} from '../i18n.js';

export const APP_VERSION = __APP_VERSION__;

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

const listeners = new Set();
/** Call `fn(error)` whenever the server says this app is too old (426). */
export function onUpgradeRequired(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Tell the listeners the server refused this app's version (426, from any request). */
export function upgradeRequired(error) {
  listeners.forEach((fn) => fn(error));
}

export function basicAuth(username, secret) {
  const bytes = new TextEncoder().encode(`${username}:${secret}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/** Headers every request of this app carries. */
export function deviceHeaders(deviceId) {
  return {'X-App-Version': APP_VERSION, 'X-Device-Id': deviceId,
          'Accept-Language': lang.value === 'en' ? 'en' : 'zh-CN'};
}

/** Call the API; answers the JSON body or throws ApiError (status 0 when the network failed). */
export async function api(path, {method = 'GET', json, auth, deviceId} = {}) {
  const headers = {...deviceHeaders(deviceId), Accept: 'application/json'};
  if (auth) headers.Authorization = basicAuth(auth.username, auth.secret);
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {method, headers, credentials: 'omit', cache: 'no-store',
                                  body: json === undefined ? undefined : JSON.stringify(json)});
  } catch (err) {
    throw new ApiError(0, 'network', String(err?.message || err));
  }
  const type = response.headers.get('Content-Type') || '';
  const body = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, body?.error || 'http_' + response.status,
                               body?.message, body);
    error.retryAfter = Number(response.headers.get('Retry-After')) || null;
    if (response.status === 426) upgradeRequired(error);
    throw error;
  }
  return body;
}
