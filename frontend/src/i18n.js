// The one message catalogue of the front end (zh first, en complete), shared by every page
// of the project: t('visit.title'), t('codes.poverty_status.lifted'), t('sync.pending', {n: 3}).
// The catalogue files are the Python service's too (models/catalogue/, alias @catalogue in
// vite.config.js): the API's messages (`errors`), the CLI's, the code labels the device forms
// and the reports show; one key added there is one text for every end.
import {ref} from 'vue';
import zh from '@catalogue/zh-CN.json';
import en from '@catalogue/en.json';

const CATALOGUES = {zh, en};
const LANG_KEY = 'fieldsync-lang';
export const lang = ref(pickLang());

function pickLang() {
  const asked = new URLSearchParams(globalThis.location?.search || '').get('lang')
    || globalThis.localStorage?.getItem(LANG_KEY);
  return asked === 'en' ? 'en' : 'zh';
}

function lookup(catalogue, key) {
  return key.split('.').reduce((node, part) => (node == null ? node : node[part]), catalogue);
}

const PLURAL_RULES = {zh: new Intl.PluralRules('zh-CN'), en: new Intl.PluralRules('en')};

/**
 * The key of the plural form a count `n` takes in the current language: `key_one` for "1 phone"
 * where the language has that form (English), else `key` itself (the other form; Chinese has no
 * plural: its catalogue has the base key only, test_catalogue.py).
 */
export function pluralKey(key, n) {
  const count = typeof n === 'string' && /^\d+$/.test(n) ? Number(n) : n;
  if (typeof count !== 'number' || !Number.isFinite(count)) return key;
  const form = PLURAL_RULES[lang.value].select(count);
  return form === 'other' ? key : `${key}_${form}`;
}

/**
 * The text for `key` in the current language, with {placeholders} filled; falls back to zh.
 * A count passed as `n` picks the plural form: t('wb.devices.pending', {n: 1}) reads
 * `wb.devices.pending_one` in English ("1 record not uploaded yet").
 */
export function t(key, params = {}) {
  let text = 'n' in params ? lookup(CATALOGUES[lang.value], pluralKey(key, params.n)) : undefined;
  if (typeof text !== 'string') text = lookup(CATALOGUES[lang.value], key);
  if (typeof text !== 'string') text = lookup(zh, key);
  if (typeof text !== 'string') return key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? `{${name}}`));
}

/** The label of a code (`group` is e.g. 'poverty_status'); the code itself if unknown. */
export function label(group, code) {
  const text = lookup(CATALOGUES[lang.value], `codes.${group}.${code}`) ?? lookup(zh, `codes.${group}.${code}`);
  return typeof text === 'string' ? text : code;
}

/** The codes of a group in catalogue order, for pickers. */
export function codes(group) {
  return Object.keys(zh.codes[group] || {});
}

/** The text a server message object ({zh, en}) has for the current language. */
export function serverText(messages) {
  if (!messages) return '';
  return messages[lang.value] || messages.zh || messages.en || '';
}

export function setLang(value) {
  lang.value = value === 'en' ? 'en' : 'zh';
  globalThis.localStorage?.setItem(LANG_KEY, lang.value);
  document.documentElement.lang = lang.value === 'en' ? 'en' : 'zh-CN';
}

export const catalogues = CATALOGUES;
