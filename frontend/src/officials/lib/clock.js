// One clock for the pages: `now` ticks every 15 s so relative times ("3 分钟前") stay true, and
// every time is shown in one time zone (FIELDSYNC_TIMEZONE, Beijing time unless the server says
// otherwise), whatever the computer's own zone.
import {ref} from 'vue';
import {lang} from '../../i18n.js';

export const now = ref(Date.now());
export const zone = ref('Asia/Shanghai');
setInterval(() => { now.value = Date.now(); }, 15_000);

export function setZone(name) {
  if (name) zone.value = name;
}

function parts(date) {
  const fmt = new Intl.DateTimeFormat('en-CA', {timeZone: zone.value, year: 'numeric',
    month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
  return Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
}

/** "2026-03-02": the day of `date` in the display zone. */
export function localDay(date = new Date(now.value)) {
  const p = parts(date);
  return `${p.year}-${p.month}-${p.day}`;
}

/** "3月2日 02:30" / "2 Mar 02:30" in the display zone. */
export function clockTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const p = parts(date);
  const otherYear = p.year !== parts(new Date(now.value)).year;  // an old date names its year
  if (lang.value === 'en') {
    const month = date.toLocaleString('en', {month: 'short', timeZone: zone.value});
    return `${Number(p.day)} ${month}${otherYear ? ` ${p.year}` : ''} ${p.hour}:${p.minute}`;
  }
  return `${otherYear ? `${p.year}年` : ''}${Number(p.month)}月${Number(p.day)}日 ${p.hour}:${p.minute}`;
}

/** "刚刚", "3分钟前", "2小时前", "3天前" (ticks with `now`). */
export function ago(iso, t) {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((now.value - Date.parse(iso)) / 1000));
  if (seconds < 60) return t('wb.time.just_now');
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t('wb.time.minutes_ago', {n: minutes});
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t('wb.time.hours_ago', {n: hours});
  return t('wb.time.days_ago', {n: Math.floor(hours / 24)});
}

/** Seconds since `iso` (ticks with `now`). */
export function ageSeconds(iso) {
  return iso ? Math.max(0, (now.value - Date.parse(iso)) / 1000) : 0;
}
