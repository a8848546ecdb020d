// What the pages derive from an alert: late (the same rule as models/alerts.py is_overdue).
import {ageSeconds} from './clock.js';

export const ACK_TARGET_S = 5 * 60;
export const RESOLVE_TARGET_S = 2 * 24 * 3600;

export function isLate(alert) {
  if (alert.resolved_at) return false;
  const age = ageSeconds(alert.received_at);
  return age > RESOLVE_TARGET_S || (!alert.acknowledged_at && age > ACK_TARGET_S);
}
