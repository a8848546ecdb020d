function (doc) {
  if (doc.type) {
    emit([doc.type, doc.updated_at || doc.recorded_at || null], null);
  }
}
