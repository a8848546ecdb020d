// Device times are ISO 8601 with the phone's offset (docs/device-contract.md §3).

/** "2024-05-02T10:15:00+08:00" for a Date, in the device's own time zone. */
export function isoWithOffset(date = new Date()) {
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
         `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
         `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

/** "5月2日 10:15" (or "2 May 10:15") for showing a stored time. */
export function shortTime(iso, lang = 'zh') {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const hm = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  if (lang === 'en') return `${date.getDate()} ${date.toLocaleString('en', {month: 'short'})} ${hm}`;
  return `${date.getFullYear()}年${date.getMonth() + 1}月${date.getDate()}日 ${hm}`;
}
