function (doc) {
  // One row per revision a device write request (or an office decision) carried:
  // [doc id, rev] -> who, when, verdict.
  if ((doc.action === 'device_write' || doc.action === 'office_write') && doc.details &&
      doc.details.lines) {
    for (var i = 0; i < doc.details.lines.length; i++) {
      var line = doc.details.lines[i];
      emit([line.subject_id, line.subject_rev], {
        action: line.action, verdict: line.verdict || null, code: line.code || null,
        at: doc.at, actor: doc.actor, device_id: doc.details.device_id || null
      });
    }
  }
}
