// A field path of the server's feedback in the words people use: "members.2.schooling" (or
// "members[2].schooling") is "第3位成员的受教育程度", "field_stamps.notes" is "备注的修改时间".
// Names come from the catalogue (`fields`, `field_path`, `codes.indicators`); `text(key, params)`
// answers a catalogue key or null, so the mapping is testable without Vue.

// sub-fields named by their own label alone (their group adds nothing a person needs)
const GROUPS = {indicators: 'indicators', income: 'income'};

/** The path's parts: "members[2].schooling" and "members.2.schooling" both give
 * ["members", 2, "schooling"] (numbers are list positions, from 0). */
export function pathParts(path) {
  return String(path ?? '').replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** The name of a field path for people, with `text` looking up the catalogue. */
export function describeField(path, text) {
  const parts = pathParts(path);
  if (!parts.length) return text('field_path.record');
  if (parts[0] === 'field_stamps' && parts.length > 1) {
    return text('field_path.stamp', {field: describeField(parts.slice(1).join('.'), text)});
  }
  if (parts[0] === 'indicators' && typeof parts[1] === 'string') {
    return text(`codes.indicators.${parts[1]}`) ?? parts[1];
  }
  let name = null;
  for (let n = 0; n < parts.length; n += 1) {
    const part = parts[n];
    if (typeof part === 'number') {
      const list = parts[n - 1];
      const item = text(`field_path.item.${list}`, {n: part + 1});
      name = item && n === 1 ? item : text('field_path.item_default', {whole: name ?? String(list), n: part + 1});
      continue;
    }
    if (typeof parts[n + 1] === 'number' && n === 0) continue;  // named with its position
    const own = text(`fields.${part}`) ?? part;
    name = name == null || (n === 1 && GROUPS[parts[0]]) ? own : text('field_path.part', {whole: name, part: own});
  }
  return name;
}
