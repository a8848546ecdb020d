// The phone's checks agree with the server's (models/identity.py): the expected answers below
// are what models/identity.py gives for the same input (today = 2026-12-02).
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {householdProblems, idNumberProblem, normalisePhone, splitPhones} from '../src/lib/rules.js';

const TODAY = new Date(2026, 11, 2);

test('identity numbers are checked by GB 11643 as the server checks them', () => {
  const expected = {
    '441226197803121236': null, '441226197803121237': 'id_number_checksum',
    '441226197802301236': 'id_number_birth_date', '991226197803121236': 'id_number_area',
    '440000197803121236': 'id_number_area', '44122619780312123': 'id_number_format',
    '441226203003121236': 'id_number_birth_date', '44122619780312123X': 'id_number_checksum',
    '11010519491231002X': null, '441226189912311234': 'id_number_birth_date',
  };
  for (const [number, code] of Object.entries(expected)) assert.equal(idNumberProblem(number, TODAY), code, number);
});

test('phones are normalised as the server normalises them', () => {
  const expected = {
    '13802261234': '13802261234', '+86 138-0226-1234': '13802261234', '0086 13802261234': '13802261234',
    '8613802261234': '13802261234', '12802261234': null, '1380226123': null, '(138)0226 1234': '13802261234',
    '138０226': null,
  };
  for (const [typed, phone] of Object.entries(expected)) assert.equal(normalisePhone(typed), phone, typed);
  assert.deepEqual(splitPhones('138 0226 1234，12802261234、13926611234'),
                   {phones: ['13802261234', '13926611234'], bad: ['12802261234']});
});

test('a household is checked field by field with the server paths', () => {
  const household = {head: {name: '梁国强', id_number: '441226197803121236'}, poverty_status: 'monitored',
                     members: [{name: '梁国强', relation: 'head', age: 46},
                               {name: '', relation: null, age: 131, id_number: '441226198005062425', disability_grade: 5}],
                     phones: ['13802261234', '12802261234']};
  assert.deepEqual(householdProblems(household, TODAY), [
    {field: 'members.1.name', code: 'required'}, {field: 'members.1.id_number', code: 'id_number_checksum'},
    {field: 'members.1.relation', code: 'required'}, {field: 'members.1.age', code: 'out_of_range'},
    {field: 'members.1.disability_grade', code: 'out_of_range'}, {field: 'phones.1', code: 'phone_format'}]);
  assert.deepEqual(householdProblems({head: {name: ''}, members: []}, TODAY).map((p) => p.field),
                   ['head.name', 'head.id_number', 'members', 'poverty_status']);
  household.members.splice(1, 1);
  household.phones.pop();
  assert.deepEqual(householdProblems(household, TODAY), []);
});
