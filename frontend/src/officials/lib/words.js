// Punctuation that joins people's text, in the page's language (full-width in Chinese: "调解员：
// 梁调解、何调解（本镇）"; "Mediators: Liang, He (this town)" in English), so no Chinese mark is
// left on an English page and no ASCII colon on a Chinese one.
import {t} from '../../i18n.js';

/** "label：value" / "label: value". */
export function labelled(label, value) {
  return `${label}${t('wb.punct.colon')}${value}`;
}

/** Items joined as a list: "甲、乙" / "A, B". */
export function listed(items) {
  return items.filter((item) => item !== undefined && item !== null && item !== '')
    .join(t('wb.punct.list'));
}

/** A remark in brackets: "（remark）" / " (remark)"; nothing when there is no remark. */
export function bracketed(remark) {
  return remark ? `${t('wb.punct.open')}${remark}${t('wb.punct.close')}` : '';
}

/** Two clauses: "甲；乙" / "a; b". */
export function clauses(...parts) {
  return parts.filter(Boolean).join(t('wb.punct.semi'));
}

/** The catalogue's text for `key`, or `fallback` when it has none (never the key itself). */
export function known(key, fallback = '—') {
  const text = t(key);
  return text === key ? fallback : text;
}
