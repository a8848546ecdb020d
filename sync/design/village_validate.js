function (newDoc, oldDoc, userCtx, secObj) {
  // Last line of defence for writes that bypass the gateway. The gateway checks documents
  // with the full schemas first; this only keeps out what could never be identified.
  if (newDoc._deleted) {
    return;
  }
  if (typeof newDoc.type !== 'string' || newDoc.type.length === 0) {
    throw({forbidden: 'missing_type: every document needs a non-empty string "type"'});
  }
  if (typeof newDoc.schema_version !== 'number') {
    throw({forbidden: 'missing_schema_version: every document needs a numeric "schema_version"'});
  }
  if (newDoc.village_code !== undefined && newDoc.village_code !== '%VILLAGE_CODE%') {
    throw({forbidden: 'wrong_village: this database holds village %VILLAGE_CODE% only'});
  }
}
