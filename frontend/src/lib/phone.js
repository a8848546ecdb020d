// Mobile numbers as people type them: the one rule and the one normaliser of every page (field
// app forms, the villagers' page). A Chinese input method in full-width mode types
// "１３９ ２６６１ １２３４": those digits become ASCII here; then, as the server does
// (models/identity.py normalise_phone), spaces, dashes and brackets go and so does +86 / 0086 in
// front. The server takes ASCII digits only (docs/security.md, "Input patterns"), so what is sent
// is always the plain 11 digits.
export const PHONE_RE = /^1[3-9]\d{9}$/;  // models/identity.py MOBILE_RE

const FULL_WIDTH = /[\uFF10-\uFF19\uFF0B\uFF0D]/g;  // ０-９ ＋ －
const NOISE = /[\s\-()（）]/g;  // models/identity.py _PHONE_NOISE_RE

/** `text` with full-width digits, plus and minus made ASCII, separators and +86/0086 removed. */
export function phoneDigits(text) {
  const digits = String(text ?? '')
    .replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(NOISE, '');
  if (digits.startsWith('+86')) return digits.slice(3);
  if (digits.startsWith('0086')) return digits.slice(4);
  return digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits;
}

/** A mainland mobile number as the 11 ASCII digits the server stores, or null if it is not one. */
export function normalisePhone(raw) {
  if (typeof raw !== 'string') return null;
  const digits = phoneDigits(raw);
  return PHONE_RE.test(digits) ? digits : null;
}

/**
 * A phone field checked as a save checks it: {phone} (null when left empty and not required) or
 * {error} in the catalogue's words: 请填写… when empty, the server's own phone_format otherwise.
 */
export function checkPhone(raw, t, {required = false, field = ''} = {}) {
  if (!String(raw ?? '').trim()) return required ? {error: t('app.required', {field})} : {phone: null};
  const phone = normalisePhone(raw);
  return phone ? {phone} : {error: t('errors.phone_format')};
}
