// The reports page: log in (the same token approach and session key as officials.js), then
// coverage with an SVG bar chart per county and town, the "lifted but failing" list, mediation
// SLA per town, open work, and CSV/XLSX downloads. Plain JavaScript, no build step, no chart library.
'use strict';

const T = {
  zh: {
    title: '统计报表', username: '用户名', password: '密码', login: '登录', logout: '退出',
    switch: 'English', from: '起始日期', to: '截止日期', apply: '查询',
    coverage: '核查覆盖率', lifted_but_failing: '已脱贫但未达标（真脱贫、脱真贫）',
    mediation_sla: '矛盾调解时效（按镇）', open_work: '待办事项', empty: '暂无数据',
    download_csv: '下载 CSV', download_xlsx: '下载 Excel', income_line: '收入线：人均每年 {n} 元',
    chart: '核查覆盖率（县、镇）',
  },
  en: {
    title: 'Reports', username: 'Username', password: 'Password', login: 'Log in',
    logout: 'Log out', switch: '中文', from: 'From', to: 'To', apply: 'Show',
    coverage: 'Verification coverage', lifted_but_failing: 'Lifted but failing',
    mediation_sla: 'Mediation SLA per town', open_work: 'Open work', empty: 'Nothing to show',
    download_csv: 'Download CSV', download_xlsx: 'Download Excel',
    income_line: 'Income line: {n} yuan per person per year', chart: 'Coverage (county, town)',
  },
};
const REPORTS = ['coverage', 'lifted_but_failing', 'mediation_sla', 'open_work'];
const SVG = 'http://www.w3.org/2000/svg';
let lang = document.body.dataset.lang === 'en' ? 'en' : 'zh';
let auth = FieldsyncSession.auth;
const $ = (id) => document.getElementById(id);
const t = (key) => FieldsyncPage.text(T, lang, key);

const authHeader = () => FieldsyncSession.authHeader();

function api(path, init = {}) {
  return FieldsyncSession.api(path, init, lang);
}

function applyLang() {
  FieldsyncPage.translate(document, lang, T);
}

function query() {
  const params = new URLSearchParams({lang});
  if ($('from').value) params.set('from', $('from').value);
  if ($('to').value) params.set('to', $('to').value);
  return params.toString();
}

function renderTable(section, data) {
  const wrap = section.querySelector('.table-wrap');
  wrap.replaceChildren();
  if (!data.table.rows.length) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = t('empty');
    wrap.append(p);
    return;
  }
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const name of data.table.header) {
    const th = document.createElement('th');
    th.textContent = name;
    head.append(th);
  }
  const body = table.createTBody();
  data.table.rows.forEach((cells, i) => {
    const tr = body.insertRow();
    if (data.rows[i]?.level) tr.className = `level-${data.rows[i].level}`;
    for (const cell of cells) tr.insertCell().textContent = cell === null ? '' : String(cell);
  });
  wrap.append(table);
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderChart(data) {
  // one horizontal bar per county and town: coverage in percent
  const rows = data.rows.filter((r) => r.level === 'county' || r.level === 'town');
  const box = $('coverage-chart');
  box.replaceChildren();
  if (!rows.length) return;
  const width = 360, barH = 22, gap = 10, labelW = 120, top = 24;
  const height = top + rows.length * (barH + gap);
  const chart = svg('svg', {viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': t('chart')});
  chart.append(svg('text', {x: 0, y: 14, 'font-weight': 600}, t('chart')));
  rows.forEach((row, i) => {
    const y = top + i * (barH + gap);
    const pct = row.coverage_pct ?? 0;
    const span = width - labelW - 48;
    chart.append(svg('text', {x: row.level === 'town' ? 10 : 0, y: y + 15}, row.name));
    chart.append(svg('rect', {class: 'track', x: labelW, y, width: span, height: barH, rx: 3}));
    const bar = svg('rect', {class: 'bar', x: labelW, y, width: Math.max(0, span * pct / 100),
                             height: barH, rx: 3, 'data-code': row.code, 'data-pct': pct});
    bar.append(svg('title', {}, `${row.name} ${pct}% (${row.verified}/${row.households})`));
    chart.append(bar);
    chart.append(svg('text', {x: labelW + span + 4, y: y + 15},
                     row.coverage_pct === null ? '–' : `${pct}%`));
  });
  box.append(chart);
}

function renderDownloads(section, name) {
  const p = section.querySelector('.downloads');
  p.replaceChildren();
  for (const fmt of ['csv', 'xlsx']) {
    const link = document.createElement('a');
    link.href = `/api/v1/reports/${name}.${fmt}?${query()}`;
    link.className = `download download-${fmt}`;
    link.textContent = t(`download_${fmt}`);
    link.addEventListener('click', (event) => { event.preventDefault(); download(link.href); });
    p.append(link);
  }
}

async function download(href) {
  // a plain link cannot send the Authorization header: fetch, then save the blob
  const response = await fetch(href, {headers: authHeader()});
  if (!response.ok) { $('report-error').textContent = response.statusText; return; }
  const disposition = response.headers.get('Content-Disposition') || '';
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || 'report';
  const url = URL.createObjectURL(await response.blob());
  const save = document.createElement('a');
  save.href = url;
  save.download = name;
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function loadReports() {
  $('report-error').textContent = '';
  document.body.dataset.loaded = 'no';
  try {
    for (const name of REPORTS) {
      const data = await api(`/api/v1/reports/${name}?${query()}`);
      const section = $(name);
      renderTable(section, data);
      renderDownloads(section, name);
      if (name === 'coverage') renderChart(data);
      if (name === 'lifted_but_failing') {
        $('income-line').textContent = t('income_line').replace('{n}', data.income_line_yuan);
      }
    }
    document.body.dataset.loaded = 'yes';
  } catch (error) {
    $('report-error').textContent = error.message;
    document.body.dataset.loaded = 'error';
  }
}

async function showReports() {
  $('login-view').hidden = true;
  $('reports-view').hidden = false;
  $('logout').hidden = false;
  $('who').textContent = auth.display_name || auth.username;
  if (!$('from').value) {
    const now = new Date();
    $('to').value = now.toISOString().slice(0, 10);
    $('from').value = new Date(now.getTime() - 365 * 86400000).toISOString().slice(0, 10);
  }
  await loadReports();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    auth = await FieldsyncSession.login($('username').value.trim(), $('password').value, lang);
    await showReports();
  } catch (error) {
    $('login-error').textContent = error.message;
  }
});

$('period-form').addEventListener('submit', (event) => { event.preventDefault(); loadReports(); });

$('logout').addEventListener('click', () => {
  FieldsyncSession.logout();
  auth = null;
  window.location.reload();
});

$('lang-switch').addEventListener('click', () => {
  lang = lang === 'en' ? 'zh' : 'en';
  applyLang();
  if (auth) loadReports();
});

applyLang();
if (auth) showReports().catch(() => { FieldsyncSession.logout(); window.location.reload(); });
