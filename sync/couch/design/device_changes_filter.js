function (doc, req) {
  // Devices replicate everything in their village database except design documents.
  return doc._id.indexOf('_design/') !== 0;
}
