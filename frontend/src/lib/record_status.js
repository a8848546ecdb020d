// Where a record this device wrote stands, from what the server said about it, never assumed:
// refused by the gateway (kept only on this phone), saved here and not yet uploaded, stored but
// quarantined (feedback to correct), or accepted (then a mediation request shows its case stage).
import {serverText, t} from '../i18n.js';

/**
 * {kind, short, text} for the record `id`: kind is 'refused' | 'pending' | 'quarantined' |
 * 'accepted'; `short` fits a tag, `text` says it in full (with the server's reason).
 * `village` is the village store (pending, refused), `feedback` the record's feedback documents,
 * `accepted` the text for an accepted record (e.g. its case stage).
 */
export function recordStatus(id, village, feedback, accepted) {
  const refused = village.refused[id];
  if (refused) {
    return {kind: 'refused', short: t('status.refused_short'),
            text: t('status.refused', {reason: serverText(refused.messages)})};
  }
  if (village.pending[id]) return {kind: 'pending', short: t('status.pending'), text: t('status.pending_help')};
  const open = (feedback || []).filter((item) => !item.resolved_at);
  if (open.length) {
    const first = open[0].problems?.[0];
    return {kind: 'quarantined', short: t('status.quarantined_short'),
            text: t('status.quarantined', {reason: first ? serverText(first.message) : t('status.see_feedback')})};
  }
  return {kind: 'accepted', short: accepted, text: accepted};
}

/** The Vant tag type that goes with a status kind. */
export const STATUS_TAG = {refused: 'danger', pending: 'primary', quarantined: 'warning', accepted: 'success'};
