// The review queue (templates/review.html): open review tasks (household disagreements,
// duplicates, near-duplicates, photo reuse) and quarantined records of the official's
// jurisdiction, and deciding a disagreement by picking a candidate or typing a value.
// Plain JavaScript over /api/v1/review/ (docs/reconciliation.md); page.js does the login.
'use strict';

const T = {
  zh: {
    title: '复核队列', kind: '类型', kind_all: '全部', tasks: '待复核任务',
    quarantine: '隔离记录（待更正）', kind_household_disagreement: '户信息不一致',
    kind_duplicate_household: '重复户（身份证号相同）', kind_near_duplicate_household: '疑似重复户',
    kind_photo_reuse: '照片重复使用', created: '发现于', household: '户', field: '字段',
    decide: '裁定：选择正确的值', other_value: '其他值', confirm_decision: '确认裁定',
    pick_one: '请选择一个值', decided_by: '已裁定，裁定人', distance: '差异位数',
    received: '收到于', village: '村', not_allowed: '复核队列仅对乡镇、县级和市级用户开放',
    decided_above: '由县级或市级用户裁定',
  },
  en: {
    title: 'Review queue', kind: 'Kind', kind_all: 'All', tasks: 'Open review tasks',
    quarantine: 'Quarantined records (to be corrected)',
    kind_household_disagreement: 'Household disagreement',
    kind_duplicate_household: 'Duplicate household (same ID number)',
    kind_near_duplicate_household: 'Possible duplicate household', kind_photo_reuse: 'Photo reused',
    created: 'found', household: 'household', field: 'field',
    decide: 'Decide: pick the right value', other_value: 'Other value',
    confirm_decision: 'Confirm decision', pick_one: 'Pick a value first',
    decided_by: 'Decided by', distance: 'bits apart', received: 'received', village: 'village',
    not_allowed: 'The review queue is for town, county and city officials',
    decided_above: 'Decided by county or city officials',
  },
};
const PAGE_SIZE = 50;
const lists = {tasks: {items: [], total: 0}, quarantine: {items: [], total: 0}};
const SOURCES = {
  tasks: () => `/api/v1/review/tasks?${$('kind').value ? `kind=${$('kind').value}&` : ''}`,
  quarantine: () => '/api/v1/review/quarantine?',
};
let options = null;
const $ = (id) => document.getElementById(id);
const page = FieldsyncPage.start({texts: T, view: 'review-view', show, relabel: render});
const t = (key) => page.t(key);
const el = FieldsyncPage.el;


function day(iso) {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '';
}

function shown(field, value) {
  // a coded value (poverty status, ...) with its label; anything else as written
  const choices = options?.household?.[String(field).split('.').pop()];
  const choice = Array.isArray(choices) && choices.find((c) => c.code === value);
  if (choice) return `${choice[page.lang] || value} (${value})`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function typed(text) {
  // numbers, true/false/null and JSON as such; anything else is a string
  try { return JSON.parse(text); } catch { return text; }
}

async function fetchList(name, offset) {
  const answer = await page.api(`${SOURCES[name]()}limit=${PAGE_SIZE}&offset=${offset}`);
  const list = lists[name];
  list.items = offset ? [...list.items, ...answer.items] : answer.items;
  list.total = answer.total;
}

async function load(names = ['tasks', 'quarantine'], more = false) {
  document.body.dataset.loaded = 'no';
  $('review-error').textContent = '';
  try {
    await Promise.all(names.map((name) => fetchList(name, more ? lists[name].items.length : 0)));
    document.body.dataset.loaded = 'yes';
  } catch (error) {
    $('review-error').textContent = error.status === 403 ? t('not_allowed') : error.message;
    document.body.dataset.loaded = 'error';
  }
  render();
}

function render() {
  for (const [name, card] of [['tasks', taskCard], ['quarantine', quarantineCard]]) {
    const list = lists[name];
    $(name).replaceChildren(...list.items.map(card));
    $(`${name}-total`).textContent = list.total;
    $(`${name}-empty`).hidden = list.items.length > 0;
    $(`${name}-more`).hidden = list.items.length >= list.total;
  }
}

function taskCard(task) {
  const node = el('li', `card task state-${task.state}`);
  node.dataset.id = task._id;
  node.dataset.kind = task.kind;
  const head = el('div', 'row');
  head.append(el('strong', null, t(`kind_${task.kind}`)),
              el('span', 'muted', (task.villages || [task.village_code]).filter(Boolean).join(', ')));
  node.append(head, el('div', 'muted', `${t('created')} ${day(task.created_at)}`));
  const body = {household_disagreement: disagreement, duplicate_household: households,
                near_duplicate_household: households, photo_reuse: photoReuse}[task.kind];
  if (body) node.append(...body(task));
  return node;
}

function households(task) {
  const list = el('ul', 'households');
  for (const h of task.households || []) {
    list.append(el('li', null, [h.head_name, h.id_masked, `${t('village')} ${h.village_code}`,
                                h.household_id].filter(Boolean).join(' · ')));
  }
  return [list];
}

function photoReuse(task) {
  const details = task.details || {};
  const facts = el('p', null, `${(details.households || []).join(', ')} · ${t('distance')}: ${details.distance ?? '–'}`);
  const thumbs = el('div', 'thumbs');
  for (const id of task.subject_ids || []) {
    // photo:<village>:<doc type>:<uuid>:<attachment>:<key>
    const [, village, prefix, uuid, attachment] = id.split(':');
    const img = el('img');
    img.alt = attachment || '';
    thumbs.append(img);
    fetch(`/api/v1/photos/${village}/${prefix}:${uuid}/${attachment}?size=thumb`,
          {headers: FieldsyncSession.authHeader()})
      .then((response) => (response.ok ? response.blob() : null))
      .then((blob) => { if (blob) img.src = URL.createObjectURL(blob); });
  }
  return [facts, thumbs];
}

function disagreement(task) {
  const about = el('p', null, `${t('household')} ${task.subject_ids?.[0] || ''} · ${t('field')} ${task.field}`);
  if (task.state !== 'open') {
    const decision = task.decision || {};
    const value = decision.pick !== null && decision.pick !== undefined
      ? task.candidates?.[decision.pick]?.value : undefined;
    return [about, el('p', 'decided', `${t('decided_by')} ${task.decided_by || ''}${
      value !== undefined ? ': ' + shown(task.field, value) : ''}`)];
  }
  if (page.auth.role === 'town_official') return [about, el('p', 'muted', t('decided_above'))];
  const form = el('form', 'decide');
  form.append(el('strong', null, t('decide')));
  const choice = (value, text) => {
    const label = el('label');
    const radio = el('input');
    Object.assign(radio, {type: 'radio', name: `pick-${task._id}`, value});
    label.append(radio, el('span', null, text));
    form.append(label);
    return label;
  };
  (task.candidates || []).forEach((candidate, i) => {
    const author = candidate.author ? ` · ${candidate.author.username} ${day(candidate.author.received_at)}` : '';
    choice(String(i), `${shown(task.field, candidate.value)}${author}`);
  });
  const input = el('input', 'edited');
  Object.assign(input, {type: 'text'});
  input.setAttribute('aria-label', t('other_value'));
  input.addEventListener('focus', () => { form.querySelector('input[value="edit"]').checked = true; });
  choice('edit', t('other_value')).append(input);
  const error = el('p', 'error');
  const button = el('button', 'decide-button', t('confirm_decision'));
  button.type = 'submit';
  form.append(button, error);
  form.addEventListener('submit', (event) => { event.preventDefault(); decide(task, form, error); });
  return [about, form];
}

async function decide(task, form, error) {
  const picked = form.querySelector('input[type=radio]:checked');
  if (!picked) { error.textContent = t('pick_one'); return; }
  const body = picked.value === 'edit' ? {value: typed(form.querySelector('.edited').value.trim())}
    : {pick: Number(picked.value)};
  form.querySelectorAll('button, input').forEach((input) => { input.disabled = true; });
  try {
    const decided = await page.api(`/api/v1/review/tasks/${encodeURIComponent(task._id)}/decision`,
                                   {json: body});
    lists.tasks.items = lists.tasks.items.map((item) => (item._id === decided._id ? decided : item));
    render();
  } catch (failure) {
    error.textContent = failure.message;
    form.querySelectorAll('button, input').forEach((input) => { input.disabled = false; });
  }
}

function quarantineCard(entry) {
  const node = el('li', `card quarantine state-${entry.state}`);
  node.dataset.id = entry._id;
  const target = entry.target || {};
  const head = el('div', 'row');
  head.append(el('strong', null, target.id || ''), el('span', 'muted', `${t('village')} ${entry.village_code}`));
  const problems = el('ul', 'problems');
  for (const problem of entry.problems || []) {
    problems.append(el('li', null, `${problem.field}: ${problem.message?.[page.lang] || problem.code}`));
  }
  node.append(head, problems, el('div', 'muted', `${t('received')} ${day(entry.received_at)} · ${target.rev || ''}`));
  return node;
}

async function show() {
  const boot = await page.api('/api/v1/bootstrap');
  options = boot.form_options;
  $('who').textContent = `${page.auth.display_name || page.auth.username} · ${
    boot.hierarchy.map((unit) => unit.name).join(' ')}`;
  await load();
}

$('kind').addEventListener('change', () => load(['tasks']));
$('tasks-more').addEventListener('click', () => load(['tasks'], true));
$('quarantine-more').addEventListener('click', () => load(['quarantine'], true));
