// Photos are shrunk on the phone before they are stored: turned upright from their EXIF
// orientation, at most 1600 px on the long side, re-encoded as JPEG (which also drops the EXIF
// block with its GPS position and camera details). A 4 MB camera picture becomes ~200-400 kB.
const MAX_SIDE = 1600;
const QUALITY = 0.82;

/** {blob, width, height} of a picture file, upright and shrunk. */
export async function shrinkPhoto(file, maxSide = MAX_SIDE, quality = QUALITY) {
  const bitmap = await createImageBitmap(file, {imageOrientation: 'from-image'});
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
  bitmap.close?.();
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((made) => (made ? resolve(made) : reject(new Error('toBlob'))), 'image/jpeg', quality));
  return {blob, width, height};
}
