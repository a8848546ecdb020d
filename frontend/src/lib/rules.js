// What the server checks, checked on the phone before a save (models/identity.py,
// models/household.py): a cadre cannot save what the gateway would quarantine. Answers
// catalogue codes (`errors.<code>`), the same words the server's feedback would use. Phones: the
// rule and the normaliser are src/lib/phone.js's (full-width digits typed are folded to ASCII).
import {normalisePhone, PHONE_RE} from './phone.js';

export {normalisePhone};

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = '10X98765432';
const PROVINCE_CODES = new Set(['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34',
  '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63',
  '64', '65', '71', '81', '82', '83']);

/** An identity number as stored: trimmed, a lower-case x made upper-case. */
export function normaliseIdNumber(raw) {
  return String(raw ?? '').trim().toUpperCase();
}

/** The catalogue code of what is wrong with a normalised identity number, or null (GB 11643). */
export function idNumberProblem(idNumber, today = new Date()) {
  if (!/^\d{17}[\dX]$/.test(idNumber)) return 'id_number_format';
  if (!PROVINCE_CODES.has(idNumber.slice(0, 2)) || idNumber.slice(2, 6) === '0000') return 'id_number_area';
  const [year, month, day] = [idNumber.slice(6, 10), idNumber.slice(10, 12), idNumber.slice(12, 14)].map(Number);
  const born = new Date(Date.UTC(year, month - 1, day));
  const real = born.getUTCFullYear() === year && born.getUTCMonth() === month - 1 && born.getUTCDate() === day;
  const todayUtc = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  if (!real || year < 1900 || born.getTime() > todayUtc) return 'id_number_birth_date';
  const total = WEIGHTS.reduce((sum, weight, n) => sum + weight * Number(idNumber[n]), 0);
  return CHECK_CHARACTERS[total % 11] === idNumber[17] ? null : 'id_number_checksum';
}

/** Phones typed in one field ("138 0226 1234，139…"): {phones, bad} where bad lists what is not one. */
export function splitPhones(text) {
  const typed = String(text ?? '').split(/[,，;；、\n]+/).map((part) => part.trim()).filter(Boolean);
  const phones = typed.map(normalisePhone);
  return {phones: phones.filter(Boolean), bad: typed.filter((_, n) => !phones[n])};
}

const textProblem = (value, min, max) => {
  const length = [...String(value ?? '')].length;
  if (length < min) return 'required';
  return length > max ? 'too_long' : null;
};

/**
 * Every problem the server's household schema would find, as [{field, code}] with the server's
 * field paths ("members.1.id_number"). Checks the document a save is about to write.
 */
export function householdProblems(household, today = new Date()) {
  const found = [];
  const add = (field, code) => code && found.push({field, code});
  add('head.name', textProblem(household.head?.name, 1, 32));
  add('head.id_number', household.head?.id_number ? idNumberProblem(household.head.id_number, today) : 'required');
  const members = household.members || [];
  if (!members.length) add('members', 'too_short');
  if (members.length > 30) add('members', 'length_range');
  members.forEach((member, n) => {
    add(`members.${n}.name`, textProblem(member.name, 1, 32));
    if (member.id_number) add(`members.${n}.id_number`, idNumberProblem(member.id_number, today));
    if (!member.relation) add(`members.${n}.relation`, 'required');
    if (!Number.isInteger(member.age)) add(`members.${n}.age`, 'required');
    else if (member.age < 0 || member.age > 130) add(`members.${n}.age`, 'out_of_range');
    const grade = member.disability_grade;
    if (grade != null && !(Number.isInteger(grade) && grade >= 1 && grade <= 4)) add(`members.${n}.disability_grade`, 'out_of_range');
  });
  const phones = household.phones || [];
  if (phones.length > 5) add('phones', 'length_range');
  phones.forEach((phone, n) => add(`phones.${n}`, PHONE_RE.test(phone) ? null : 'phone_format'));
  if (household.address) add('address', textProblem(household.address, 0, 200));
  if (household.notes) add('notes', textProblem(household.notes, 0, 2000));
  if (!household.poverty_status) add('poverty_status', 'required');
  return found;
}
