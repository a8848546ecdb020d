// Field paths of the server's feedback named as people name them, from the real catalogue.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {describeField, pathParts} from '../src/lib/field_names.js';

const load = (name) => JSON.parse(readFileSync(new URL(`../../models/catalogue/${name}.json`, import.meta.url)));
const lookup = (catalogue) => (key, params = {}) => {
  const text = key.split('.').reduce((node, part) => node?.[part], catalogue);
  return typeof text === 'string' ? text.replace(/\{(\w+)\}/g, (_, name) => params[name] ?? `{${name}}`) : null;
};
const zh = lookup(load('zh-CN'));
const en = lookup(load('en'));

test('both path spellings give the same parts', () => {
  assert.deepEqual(pathParts('members[2].schooling'), ['members', 2, 'schooling']);
  assert.deepEqual(pathParts('members.2.schooling'), ['members', 2, 'schooling']);
});

test('field paths are named in Chinese as a cadre says them', () => {
  const expected = {
    'members[2].schooling': '第3位成员的受教育程度', 'members.0.id_number': '第1位成员的身份证号',
    'applicant.id_number': '申请人的身份证号', 'other_parties.1.phone': '第2位对方当事人的手机号',
    'phones.0': '第1个联系电话', 'indicators.safe_housing': '住房安全有保障',
    'income.per_capita_fen': '人均纯收入', 'field_stamps.notes': '备注的修改时间',
    'field_stamps.indicators.basic_medical': '基本医疗有保障的修改时间', 'head.name': '户主的姓名',
    reasons: '原因', mediator: '调解员', '': '整条记录', _id: '记录编号',
  };
  for (const [path, name] of Object.entries(expected)) assert.equal(describeField(path, zh), name, path);
});

test('and in English', () => {
  assert.equal(describeField('members[2].schooling', en), "member 3's schooling");
  assert.equal(describeField('field_stamps.notes', en), 'when Notes last changed');
});

test('no raw path is shown for any field the schemas name', () => {
  for (const path of ['members.4.work', 'members.1.disability_grade', 'members.0.relation', 'members.0.age',
                      'members.0.health', 'head.id_number', 'address', 'poverty_status', 'income_per_capita_fen',
                      'applicant.name', 'applicant.phone', 'other_parties.0.name', 'amount_in_dispute_fen',
                      'category', 'urgency', 'description', 'kind', 'mediator.name', 'referred_to', 'request_id',
                      'recorded_at', 'village_code', 'verdict', 'photos.0.subject', 'income.wages_fen']) {
    for (const [name, text] of [['zh', zh], ['en', en]]) {
      const said = describeField(path, text);
      assert.ok(!/[a-z]+_[a-z]+|\.\d|\[/.test(said) && said !== path, `${name} ${path}: ${said}`);
    }
  }
});
