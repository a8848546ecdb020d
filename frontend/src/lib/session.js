// One login for every page of the project: a device token from POST /api/v1/login, kept in
// localStorage (a cadre works offline for days; an official's tabs share it), renewed before it
// expires with POST /api/v1/token/renew (HTTP Basic username:token); when renewal is refused
// the person is asked for the password again and nothing stored on the device is touched.
import {api, ApiError} from './api.js';
import {deviceId} from './ids.js';

const KEY = 'fieldsync-session';
const RENEW_WHEN_LEFT_MS = 10 * 24 * 3600 * 1000;  // tokens last 30 days: renew in the last 10

export function loadSession() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || 'null');
  } catch {
    return null;
  }
}

function saveSession(session) {
  localStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

function platform() {
  const ua = navigator.userAgent || '';
  const android = /Android (\d+)/.exec(ua);
  if (android) return `android-${android[1]}`;
  if (/iPhone|iPad/.test(ua)) return 'ios';
  return 'web';
}

/** Log in with the account's password; answers the stored session (role, village, token). */
export async function login(username, password) {
  const answer = await api('/api/v1/login', {method: 'POST', deviceId: deviceId(), json: {
    username: username.trim(), password, device_id: deviceId(), platform: platform(),
    app_version: __APP_VERSION__}});
  return saveSession({username: answer.username, role: answer.role,
                      jurisdiction: answer.jurisdiction, display_name: answer.display_name,
                      token: answer.token, expires_at: answer.expires_at,
                      needs_password: false});
}

/** The credentials of the stored session for HTTP Basic. */
export function credentials(session) {
  return {username: session.username, secret: session.token};
}

export function isExpired(session, now = Date.now()) {
  return !session?.expires_at || Date.parse(session.expires_at) <= now;
}

/** Mark the stored session as needing the password again (expired, revoked, disabled). */
export function requirePassword() {
  const session = loadSession();
  return session ? saveSession({...session, needs_password: true}) : null;
}

/**
 * Renew the token when it nears expiry. Answers the (possibly new) session; a refused renewal
 * marks it as needing the password; no network or an older server leaves it as it is.
 */
export async function renewIfDue(now = Date.now()) {
  const session = loadSession();
  if (!session || session.needs_password) return session;
  if (Date.parse(session.expires_at) - now > RENEW_WHEN_LEFT_MS) return session;
  try {
    const answer = await api('/api/v1/token/renew', {method: 'POST', deviceId: deviceId(),
                                                      auth: credentials(session), json: {}});
    return saveSession({...session, token: answer.token, expires_at: answer.expires_at});
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return requirePassword();
    if (isExpired(session, now)) return requirePassword();
    return session;  // offline, or a server without renewal: try again later
  }
}

/** Forget the login (the data on the device stays; logging in again finds it). */
export function logout() {
  localStorage.removeItem(KEY);
}
