// The officials' page: log in, list alerts, follow them live, act on them, watch the SLA.
// Plain JavaScript, no build step; talks to the JSON API documented in docs/api.md and
// docs/alerts.md with a device token as the Basic password.
'use strict';

const T = {
  zh: {
    title: '矛盾调解预警', username: '用户名', password: '密码', login: '登录', logout: '退出',
    connecting: '正在连接…', live: '● 实时更新中', reconnecting: '连接中断，正在重连…',
    sla: '时效（近30天）', alerts: '预警数', ack_p50: '确认用时（中位）', ack_within: '5分钟内确认',
    resolve_p50: '化解用时（中位）', open_late: '超时未确认', alerts_list: '预警列表', empty: '暂无预警',
    acknowledge: '确认已知悉', assign: '指派调解员', resolve: '结案', switch: 'English',
    received: '收到', ago: '前', acknowledged_at: '已确认', resolved_at: '已结案',
    state_alerted: '待确认', state_acknowledged: '处理中', state_resolved: '已结案', state_new: '新',
    mediator_name: '调解员姓名', mediator_phone: '调解员手机号（可不填）',
    outcome: '结案结果：1 达成协议  2 调解失败  3 移交其他部门  4 申请人撤回  5 不属于纠纷',
    minutes: '分钟', hours: '小时', seconds: '秒', days: '天', mediator: '调解员',
  },
  en: {
    title: 'Mediation alerts', username: 'Username', password: 'Password', login: 'Log in',
    logout: 'Log out', connecting: 'Connecting…', live: '● Live', reconnecting: 'Disconnected, reconnecting…',
    sla: 'Service level (last 30 days)', alerts: 'Alerts', ack_p50: 'Time to acknowledge (median)',
    ack_within: 'Acknowledged within 5 min', resolve_p50: 'Time to resolve (median)',
    open_late: 'Open past target', alerts_list: 'Alerts', empty: 'No alerts',
    acknowledge: 'Acknowledge', assign: 'Assign mediator', resolve: 'Resolve', switch: '中文',
    received: 'received', ago: 'ago', acknowledged_at: 'acknowledged', resolved_at: 'resolved',
    state_alerted: 'awaiting acknowledgement', state_acknowledged: 'in progress',
    state_resolved: 'resolved', state_new: 'new', mediator_name: 'Mediator name',
    mediator_phone: 'Mediator phone (optional)',
    outcome: 'Outcome: 1 agreement  2 failed  3 referred  4 withdrawn  5 not a dispute',
    minutes: 'min', hours: 'h', seconds: 's', days: 'd', mediator: 'mediator',
  },
};
const OUTCOMES = ['agreement_reached', 'failed', 'referred', 'withdrawn', 'not_a_dispute'];
let lang = document.body.dataset.lang === 'en' ? 'en' : 'zh';
let auth = FieldsyncSession.auth;
let options = null;
let streamAbort = null;
const alerts = new Map();
const $ = (id) => document.getElementById(id);
const t = (key) => FieldsyncPage.text(T, lang, key);

function applyLang() {
  FieldsyncPage.translate(document, lang, T);
  renderAlerts();
}

function api(path, init = {}) {
  return FieldsyncSession.api(path, init, lang);
}

function label(group, field, code) {
  const choice = options?.[group]?.[field]?.find((c) => c.code === code);
  return choice ? choice[lang] || code : code;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 90) return `${Math.round(seconds)} ${t('seconds')}`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} ${t('minutes')}`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} ${t('hours')}`;
  return `${(seconds / 86400).toFixed(1)} ${t('days')}`;
}

function since(iso) {
  return iso ? duration((Date.now() - Date.parse(iso)) / 1000) : '–';
}

function renderAlerts() {
  const list = $('alerts');
  list.replaceChildren();
  const ordered = [...alerts.values()].sort((a, b) => (b.received_at || '').localeCompare(a.received_at || ''));
  $('empty').hidden = ordered.length > 0;
  for (const alert of ordered) list.append(card(alert));
}

function card(alert) {
  const node = document.getElementById('alert-card').content.firstElementChild.cloneNode(true);
  node.querySelectorAll('[data-t]').forEach((el) => { el.textContent = t(el.dataset.t); });
  node.id = `alert-${alert._id}`;
  node.dataset.id = alert._id;
  node.classList.add(`state-${alert.state}`);
  if (alert._fresh) node.classList.add('fresh');
  node.querySelector('.category').textContent = label('mediation_request', 'category', alert.category);
  const urgency = node.querySelector('.urgency');
  urgency.textContent = label('mediation_request', 'urgency', alert.urgency);
  urgency.classList.add(`urgency-${alert.urgency}`);
  node.querySelector('.state').textContent = t(`state_${alert.state}`);
  node.querySelector('.place').textContent = [alert.village_name, alert.town_name].filter(Boolean).join(' · ');
  node.querySelector('.summary').textContent = alert.summary || '';
  const times = [`${t('received')} ${since(alert.received_at)}${lang === 'zh' ? '' : ' '}${t('ago')}`];
  if (alert.acknowledged_at) times.push(`${t('acknowledged_at')} ${alert.acknowledged_by || ''}`);
  if (alert.mediator?.name) times.push(`${t('mediator')}: ${alert.mediator.name}`);
  if (alert.resolved_at) times.push(t('resolved_at'));
  node.querySelector('.times').textContent = times.join(' · ');
  const open = alert.state !== 'resolved';
  node.querySelector('.ack').hidden = alert.state !== 'alerted' && alert.state !== 'new';
  node.querySelector('.assign').hidden = !open;
  node.querySelector('.resolve').hidden = !open;
  node.querySelector('.ack').onclick = () => act(alert, 'acknowledge', {});
  node.querySelector('.assign').onclick = () => {
    const name = window.prompt(t('mediator_name'));
    if (!name) return;
    const phone = window.prompt(t('mediator_phone')) || null;
    act(alert, 'assign', {mediator: {name, phone}});
  };
  node.querySelector('.resolve').onclick = () => {
    const choice = Number(window.prompt(t('outcome'), '1'));
    if (!OUTCOMES[choice - 1]) return;
    act(alert, 'resolve', {outcome: OUTCOMES[choice - 1]});
  };
  return node;
}

async function act(alert, action, body) {
  const node = document.getElementById(`alert-${alert._id}`);
  node.querySelectorAll('button').forEach((b) => { b.disabled = true; });
  try {
    const answer = await api(`/api/v1/alerts/${encodeURIComponent(alert._id)}/${action}`, {json: body});
    upsert(answer.alert, false);
    loadSla();
  } catch (error) {
    node.querySelector('.error').textContent = error.message;
    node.querySelectorAll('button').forEach((b) => { b.disabled = false; });
  }
}

function upsert(alert, fresh) {
  alerts.set(alert._id, {...alert, _fresh: fresh});
  renderAlerts();
}

async function loadSla() {
  const sla = await api('/api/v1/sla?period=30d');
  const all = sla.overall;
  $('sla-alerts').textContent = all.alerts;
  $('sla-ack').textContent = duration(all.time_to_acknowledge_s.p50);
  $('sla-ack-within').textContent = `${all.time_to_acknowledge_s.within_target} / ${all.acknowledged}`;
  $('sla-resolve').textContent = duration(all.time_to_resolve_s.p50);
  $('sla-late').textContent = all.time_to_acknowledge_s.open_past_target;
}

async function follow() {
  // fetch() rather than EventSource: EventSource cannot send the Authorization header
  streamAbort = new AbortController();
  try {
    const response = await fetch('/api/v1/alerts/stream', {
      headers: FieldsyncSession.authHeader(),
      signal: streamAbort.signal});
    if (!response.ok) throw new Error(response.statusText);
    $('live-status').textContent = t('live');
    $('live-status').dataset.t = 'live';
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        handleEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    if (error.name === 'AbortError') return;
  }
  $('live-status').textContent = t('reconnecting');
  $('live-status').dataset.t = 'reconnecting';
  setTimeout(() => { if (auth) { refresh(); follow(); } }, 3000);
}

function handleEvent(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trim());
  }
  if (name === 'alert' && data.length) {
    upsert(JSON.parse(data.join('\n')), true);
    loadSla();
  }
}

async function refresh() {
  const listing = await api('/api/v1/alerts?per_page=100');
  alerts.clear();
  for (const alert of listing.alerts) alerts.set(alert._id, alert);
  renderAlerts();
  await loadSla();
}

async function showInbox() {
  $('login-view').hidden = true;
  $('inbox-view').hidden = false;
  $('logout').hidden = false;
  const boot = await api('/api/v1/bootstrap');
  options = boot.form_options;
  const place = boot.hierarchy.map((unit) => unit.name).join(' ');
  $('who').textContent = `${auth.display_name || auth.username} · ${place}`;
  await refresh();
  follow();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    auth = await FieldsyncSession.login($('username').value.trim(), $('password').value, lang);
    await showInbox();
  } catch (error) {
    $('login-error').textContent = error.message;
  }
});

$('logout').addEventListener('click', () => {
  FieldsyncSession.logout();
  auth = null;
  if (streamAbort) streamAbort.abort();
  window.location.reload();
});

$('lang-switch').addEventListener('click', () => {
  lang = lang === 'en' ? 'zh' : 'en';
  applyLang();
  if (auth) loadSla();
});

applyLang();
if (auth) showInbox().catch(() => { FieldsyncSession.logout(); window.location.reload(); });
