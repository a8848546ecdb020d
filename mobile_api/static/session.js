// The officials' session, shared by the pages (officials.js, reports.js): a device token from
// /api/v1/login kept in sessionStorage (one login serves every page) and sent as the HTTP Basic
// password; API calls answer JSON or throw an Error with the server's message.
'use strict';
const FieldsyncSession = (() => {
  const KEY = 'fieldsync-official';
  let auth = JSON.parse(sessionStorage.getItem(KEY) || 'null');

  function authHeader() {
    return auth ? {Authorization: 'Basic ' + btoa(`${auth.username}:${auth.token}`)} : {};
  }

  async function api(path, init = {}, lang = 'zh') {
    const headers = {'Accept-Language': lang === 'en' ? 'en' : 'zh-CN', ...authHeader(),
                     ...(init.headers || {})};
    if (init.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init = {...init, body: JSON.stringify(init.json), method: init.method || 'POST'};
    }
    const response = await fetch(path, {...init, headers});
    const type = response.headers.get('Content-Type') || '';
    const body = type.includes('json') ? await response.json() : null;
    if (!response.ok) {
      const error = new Error(body?.message || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  async function login(username, password, lang) {
    const deviceId = `web-${crypto.getRandomValues(new Uint32Array(2)).join('-')}`;
    const answer = await api('/api/v1/login', {json: {
      username, password, device_id: deviceId, platform: 'web'}}, lang);
    auth = {username: answer.username, token: answer.token, display_name: answer.display_name,
            jurisdiction: answer.jurisdiction, role: answer.role};
    sessionStorage.setItem(KEY, JSON.stringify(auth));
    return auth;
  }

  function logout() {
    sessionStorage.removeItem(KEY);
    auth = null;
  }

  return {get auth() { return auth; }, authHeader, api, login, logout};
})();
