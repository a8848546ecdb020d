// Ids made on the device, offline (docs/device-contract.md §2): "<prefix>:<uuid v4>", and the
// device id made once at install, which is also the node of the device's clock.
export const PREFIXES = {
  household: 'household', verification_visit: 'visit', mediation_request: 'mediation',
  case_event: 'case_event', feedback: 'feedback',
};
const DEVICE_KEY = 'fieldsync-device-id';

function uuid4() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; a LAN address over http is not one
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A fresh collision-free id for a document of `docType`. */
export function newDocId(docType) {
  return `${PREFIXES[docType]}:${uuid4()}`;
}

/** The document type an id's prefix names, or null. */
export function typeOfId(id) {
  const prefix = String(id).split(':', 1)[0];
  return Object.keys(PREFIXES).find((type) => PREFIXES[type] === prefix) || null;
}

/** This installation's device id, made on first use and kept ("dev-" + 8 hex digits). */
export function deviceId(storage = globalThis.localStorage) {
  let id = storage.getItem(DEVICE_KEY);
  if (!id) {
    id = `dev-${uuid4().replace(/-/g, '').slice(0, 8)}`;
    storage.setItem(DEVICE_KEY, id);
  }
  return id;
}
