// Money typed in yuan becomes an exact integer number of fen (docs/device-contract.md §5):
// the text is split at the decimal point, never multiplied as a float ("35.2" * 100 ≠ 3520).
const YUAN_RE = /^(\d{1,12})(?:\.(\d{0,2}))?$/;

/** Fen for a yuan amount typed by a person ("8,650.5", "￥3520"); null if empty; throws if bad. */
export function yuanToFen(text) {
  const cleaned = String(text ?? '').replace(/[\s,，¥￥元]/g, '').replace(/。/g, '.');
  if (cleaned === '') return null;
  const match = YUAN_RE.exec(cleaned);
  if (!match) throw new RangeError('money_format');
  const cents = (match[2] || '').padEnd(2, '0');
  return Number(match[1]) * 100 + Number(cents);
}

/** "8650.50" for 865050 fen; '' for null. */
export function fenToYuan(fen) {
  if (fen == null) return '';
  const whole = Math.trunc(fen / 100);
  return `${whole}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;
}

/** "¥8,650.50" for showing a fen amount to people; '—' for null. */
export function formatYuan(fen) {
  if (fen == null) return '—';
  const [whole, cents] = fenToYuan(fen).split('.');
  return `¥${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}
