// Household search (templates/households.html): by a part of a name or a full ID number, with a
// poverty-status filter, over GET /api/v1/households (the central view of the official's
// jurisdiction). ID numbers only ever arrive masked; page.js does the login.
'use strict';

const T = {
  zh: {
    title: '农户查询', query: '姓名或完整身份证号', status: '脱贫状态', status_all: '全部',
    search: '查询', found: '共找到', masked_note: '身份证号仅显示前4位和后4位',
    members: '人', income: '人均纯收入', yuan: '元/年', latest: '最近核查', never: '尚未核查',
    village: '村', page: '第 {n} 页，共 {of} 页',
  },
  en: {
    title: 'Household search', query: 'Name or full ID number', status: 'Poverty status',
    status_all: 'All', search: 'Search', found: 'Found', masked_note: 'ID numbers show their first and last 4 characters only',
    members: 'members', income: 'income per person', yuan: 'yuan/year', latest: 'last verified',
    never: 'not verified yet', village: 'village', page: 'Page {n} of {of}',
  },
};
const PER_PAGE = 20;
let options = null;
let current = {page: 1, total: 0, households: []};
const $ = (id) => document.getElementById(id);
const page = FieldsyncPage.start({texts: T, view: 'households-view', show, relabel});
const t = (key) => page.t(key);
const el = FieldsyncPage.el;


function label(field, code) {
  const choice = options?.household?.[field]?.find((c) => c.code === code);
  return choice ? choice[page.lang] || code : code || '';
}

function fillStatuses() {
  const select = $('status');
  const chosen = select.value;
  select.replaceChildren(select.options[0]);
  for (const choice of options?.household?.poverty_status || []) {
    const option = el('option', null, choice[page.lang] || choice.code);
    option.value = choice.code;
    select.append(option);
  }
  select.value = chosen;
}

function card(household) {
  const node = el('li', 'card household');
  node.dataset.id = household.household_id;
  const head = el('div', 'row');
  head.append(el('strong', null, household.head?.name || ''),
              el('span', 'id', household.head?.id_masked || ''),
              el('span', 'badge status', label('poverty_status', household.poverty_status)));
  const facts = [`${t('village')} ${household.village_code || ''}`,
                 `${household.member_count ?? (household.members || []).length} ${t('members')}`];
  if (household.income_per_capita_fen !== null && household.income_per_capita_fen !== undefined) {
    facts.push(`${t('income')} ${(household.income_per_capita_fen / 100).toFixed(0)} ${t('yuan')}`);
  }
  const latest = household.latest_verification;
  facts.push(latest ? `${t('latest')} ${(latest.recorded_at || '').slice(0, 10)}` : t('never'));
  const members = el('ul', 'members');
  for (const member of household.members || []) {
    members.append(el('li', null, [member.name, label('relation', member.relation), member.id_masked]
      .filter(Boolean).join(' · ')));
  }
  node.append(head, el('div', 'muted', facts.join(' · ')), members);
  return node;
}

function render() {
  $('households').replaceChildren(...current.households.map(card));
  $('total').textContent = current.total;
  $('households-empty').hidden = current.households.length > 0;
  const pages = Math.max(1, Math.ceil(current.total / PER_PAGE));
  $('page-number').textContent = t('page').replace('{n}', current.page).replace('{of}', pages);
  $('previous').hidden = current.page <= 1;
  $('next').hidden = current.page >= pages;
}

async function search(pageNumber = 1) {
  document.body.dataset.loaded = 'no';
  $('search-error').textContent = '';
  const params = new URLSearchParams({page: pageNumber, per_page: PER_PAGE});
  if ($('query').value.trim()) params.set('q', $('query').value.trim());
  if ($('status').value) params.set('status', $('status').value);
  try {
    const answer = await page.api(`/api/v1/households?${params}`);
    current = {page: answer.page, total: answer.total, households: answer.households};
    render();
    document.body.dataset.loaded = 'yes';
  } catch (error) {
    $('search-error').textContent = error.message;
    document.body.dataset.loaded = 'error';
  }
}

function relabel() {
  fillStatuses();
  render();
}

async function show() {
  const boot = await page.api('/api/v1/bootstrap');
  options = boot.form_options;
  $('who').textContent = `${page.auth.display_name || page.auth.username} · ${
    boot.hierarchy.map((unit) => unit.name).join(' ')}`;
  fillStatuses();
  await search(1);
}

$('search-form').addEventListener('submit', (event) => { event.preventDefault(); search(1); });
$('status').addEventListener('change', () => search(1));
$('previous').addEventListener('click', () => search(current.page - 1));
$('next').addEventListener('click', () => search(current.page + 1));
