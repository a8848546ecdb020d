function (newDoc, oldDoc, userCtx, secObj) {
  // Last line of defence for writes that bypass the gateway. The gateway checks documents
  // with the full schemas first (docs/validation-rules.md): content errors are stored and
  // quarantined, so this only keeps out what could never be identified or is another
  // village's.
  if (newDoc._deleted) {
    return;
  }
  var typed = typeof newDoc.type === 'string' && newDoc.type.length > 0;
  if (!typed && newDoc._id.indexOf(':') < 1) {
    throw({forbidden: 'unidentified: a document needs a "type" or a "<type>:<uuid>" id'});
  }
  if (newDoc.village_code !== undefined && newDoc.village_code !== '%VILLAGE_CODE%') {
    throw({forbidden: 'wrong_village: this database holds village %VILLAGE_CODE% only'});
  }
}
