// A household as the form edits it, and back: text fields typed by people become the document's
// values (phones normalised, yuan to fen, ages as integers), every problem the server would find
// is named next to its field before anything is saved (src/lib/rules.js). Fields of the stored
// document and of each member that the form does not know are kept as they are.
import {describeField} from './field_names.js';
import {fenToYuan, yuanToFen} from './money.js';
import {householdProblems, normaliseIdNumber, splitPhones} from './rules.js';

let memberKeys = 0;

/** A member row of the form (the stored member kept in `original`). */
export function memberRow(member = null) {
  memberKeys += 1;
  return {key: memberKeys, original: member, ...rowValues(member || {})};
}

function rowValues(member) {
  return {name: member.name || '', id_number: member.id_number || '',
          relation: member.relation || null, age: member.age == null ? '' : String(member.age),
          schooling: member.schooling || null, health: member.health || null, work: member.work || null,
          disability_grade: member.disability_grade == null ? '' : String(member.disability_grade)};
}

/** The form's fields for a stored household (or a new one: one member, the head). */
export function toForm(household, indicators) {
  const stored = household || {members: []};
  return {head_name: stored.head?.name || '', head_id: stored.head?.id_number || '',
          poverty_status: stored.poverty_status || null, income: fenToYuan(stored.income_per_capita_fen),
          phones: (stored.phones || []).join('，'), address: stored.address || '', notes: stored.notes || '',
          indicators: Object.fromEntries(indicators.map((name) => [name, stored.indicators?.[name] ?? null])),
          members: household ? (stored.members || []).map(memberRow) : [{...memberRow(), relation: 'head'}]};
}

const nullable = (text) => (text.trim() ? text.trim() : null);

function memberOf(row) {
  const age = row.age.trim();
  const typed = {name: row.name.trim(), id_number: nullable(normaliseIdNumber(row.id_number)),
                 relation: row.relation, age: /^\d{1,3}$/.test(age) ? Number(age) : (age ? NaN : null),
                 schooling: row.schooling || null, health: row.health || null, work: row.work || null,
                 disability_grade: row.disability_grade === '' ? null : Number(row.disability_grade)};
  if (!row.original) return typed;  // a new member: every field said
  const member = {...row.original};
  for (const [key, value] of Object.entries(typed)) {
    // an empty answer the stored member never had is no change (no stamp for nothing)
    if (value !== null || key in member) member[key] = value;
  }
  return member;
}

/** `t` as describeField wants it: null for a key the catalogue lacks. */
export function catalogueText(t) {
  return (key, params) => {
    const text = t(key, params);
    return text === key ? null : text;
  };
}

function message(t, field, code) {
  const special = {'members:too_short': 'household.members_required', 'members:length_range': 'household.too_many_members',
                   'phones:length_range': 'household.too_many_phones', 'income_per_capita_fen:money': 'visit.money_format'};
  const key = special[`${field}:${code}`];
  if (key) return t(key);
  if (/\.age$/.test(field)) return t('household.age_format');
  if (code === 'required') {
    const picked = field === 'poverty_status' || field.endsWith('.relation');  // chosen, not typed
    // the status is named as its chips are titled on this screen (户类型)
    const name = field === 'poverty_status' ? t('household.poverty_status') : describeField(field, catalogueText(t));
    return t(picked ? 'app.choose' : 'app.required', {field: name});
  }
  return t(`errors.${code}`);
}

/**
 * The document values the form holds ({head, members, phones, address, income_per_capita_fen,
 * poverty_status, indicators, notes}) and `errors` by the server's field paths (empty = saveable).
 */
export function fromForm(form, stored, t, today = new Date()) {
  const found = [];
  let income = null;
  try {
    income = yuanToFen(form.income);
  } catch {
    found.push({field: 'income_per_capita_fen', code: 'money'});
  }
  const {phones, bad} = splitPhones(form.phones);
  if (bad.length) found.push({field: 'phones', code: 'phone_format'});
  const values = {
    head: {...(stored?.head || {}), name: form.head_name.trim(), id_number: normaliseIdNumber(form.head_id)},
    members: form.members.map(memberOf), phones, address: nullable(form.address), income_per_capita_fen: income,
    poverty_status: form.poverty_status, indicators: {...(stored?.indicators || {}), ...form.indicators},
    notes: nullable(form.notes),
  };
  found.push(...householdProblems(values, today));
  const errors = {};
  for (const {field, code} of found) errors[field] ||= message(t, field, code);
  return {values, errors};
}
