function (doc) {
  // Conflicted documents, for the reconciliation sweep (docs/reconciliation.md).
  if (doc._conflicts && doc._conflicts.length) {
    emit(doc._id, doc._conflicts);
  }
}
