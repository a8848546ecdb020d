function (doc) {
  if (doc.type === 'photo_record' && doc.phash) {
    for (var i = 0; i < 4; i++) {
      emit([i, doc.phash.substr(i * 4, 4)], null);
    }
  }
}
