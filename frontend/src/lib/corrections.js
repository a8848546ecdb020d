// When the phone may write a correction of a written-once record (a visit, mediation request or
// case event), docs/device-contract.md §6: the server accepts only the child of the revision it
// quarantined, so the correction must be made on that revision; a record the gateway refused
// was never stored there, so its next revision here is a new record for the server, unless the
// refusal says the server holds another version of it (then only an administrator can help).
export const SERVER_HOLDS = new Set(['written_once', 'correction_base', 'correction_forbidden', 'written_elsewhere',
                                     'duplicate_in_batch']);
// refusals about who wrote the record (sync/gateway/authorship.py): a corrected revision keeps
// its author, device and channel, so it would be refused again; only its author, signed in on
// the phone that recorded it, can upload it
export const AUTHOR_REFUSALS = new Set(['author_not_signed_in', 'device_not_signed_in', 'channel_not_device',
                                        'author_changed']);

/** Whether an open feedback is about the revision this phone holds (`record`, when known). */
export function feedbackCorrectable(item, record) {
  return !item.resolved_at && (!record || !item.target?.rev || item.target.rev === record._rev);
}

/** Whether a refusal (the outbox's entry) can be cured by a corrected revision of `record`. */
export function refusalFixable(refused, record) {
  return Boolean(refused) && !SERVER_HOLDS.has(refused.code) && !AUTHOR_REFUSALS.has(refused.code)
    && (!record || !refused.rev || refused.rev === record._rev);
}

/** Whether `record` may be corrected here now, given its feedback and its refusal, if any. */
export function canCorrect(record, feedback, refused) {
  return refusalFixable(refused, record) || (feedback || []).some((item) => feedbackCorrectable(item, record));
}

/** The corrected revision: the stored one (unknown fields kept, `_rev` = its parent) with the
 * form's values; who recorded it, when and from where stay as first written. */
export function correctedDocument(stored, values) {
  const kept = {_id: stored._id, _rev: stored._rev, type: stored.type, schema_version: stored.schema_version,
                recorded_at: stored.recorded_at, source: stored.source, actor: stored.actor};
  const doc = {...stored, ...values, ...kept};
  for (const key of ['source', 'actor']) if (doc[key] === undefined) delete doc[key];
  delete doc._conflicts;
  return doc;
}

/** The server's problems with the revision being corrected, by the form's own field keys
 * (`formKeyOf(path)` names the field, or null), so each shows next to its field at once. */
export function serverErrors(feedback, record, formKeyOf, text) {
  const errors = {};
  for (const item of feedback || []) {
    if (!feedbackCorrectable(item, record)) continue;
    for (const problem of item.problems || []) {
      const key = formKeyOf(String(problem.field || ''));
      if (key && !errors[key]) errors[key] = text(problem.message);
    }
  }
  return errors;
}

/** What a correction form needs about the record `id`: the revision held here, its open
 * feedback, whether it may be corrected now, and the server's problems by form key. */
export async function loadCorrection(village, id, formKeyOf, text) {
  const record = await village.db.get(id);
  const feedback = (await village.db.feedbackAbout(id)).filter((item) => !item.resolved_at);
  const allowed = Boolean(record) && canCorrect(record, feedback, village.refused[id]);
  return {record, feedback, allowed, errors: serverErrors(feedback, record, formKeyOf, text)};
}

/**
 * What resubmits a refused household (`current`, as held here after the form's edits, if any;
 * `written`: whether the form wrote a revision): the server never stored it, so any next
 * revision is new there and the replication sends it again. A form saved with nothing changed
 * writes no revision (没有修改), so the record is written again as it is; what the gateway
 * checks that this phone can put right is put right (its type, this village's code;
 * models/registry.py). Null when the form's own revision already does.
 */
export function householdResubmission(current, villageCode, written) {
  const fixed = {...current, type: 'household', village_code: villageCode};
  delete fixed._conflicts;
  const differs = fixed.type !== current.type || fixed.village_code !== current.village_code;
  return !written || differs ? fixed : null;
}
