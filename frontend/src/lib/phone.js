// Mobile numbers as people type them. A Chinese input method in full-width mode types
// "１３９ ２６６１ １２３４": those digits become ASCII here, spaces and dashes go, and so does
// +86 / 0086 in front. The server takes ASCII digits only (models/identity.py; docs/security.md,
// "Input patterns"), so what is sent is always the plain 11 digits.
export const PHONE_RE = /^1[3-9]\d{9}$/;

const FULL_WIDTH = /[\uFF10-\uFF19\uFF0B\uFF0D]/g;  // ０-９ ＋ －

/** `text` with full-width digits, plus and minus made ASCII, separators and +86/0086 removed. */
export function phoneDigits(text) {
  return String(text ?? '')
    .replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/[\s-]/g, '')
    .replace(/^(\+?86|0086)(?=1\d{10}$)/, '');
}
