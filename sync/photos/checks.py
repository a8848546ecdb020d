"""Photo evidence: check that a photo is a real image, read its capture facts, make the served
copies, and fingerprint it. Pillow is used here and nowhere else.

- Refused with a reason code: not an image (`photo_not_image`), an unsupported format
  (`photo_format`), too many pixels (more than the configured limit, 24 MP by default,
  `FIELDSYNC_MAX_PHOTO_MEGAPIXELS`: `photo_too_many_pixels`, read from the header before any
  pixel is decoded, so a 115 KB PNG of 39.7 MP costs nothing), a truncated or corrupt file
  (`photo_corrupt`).
- Kept as facts: format, size, capture time (EXIF DateTimeOriginal) and GPS position.
- Served copies: the EXIF orientation applied, all metadata stripped, a display image (long edge
  at most 1600 px) and a thumbnail (at most 256 px), both JPEG.
- Fingerprint: a 64-bit difference hash (dHash) that survives re-encoding and resizing; two
  photos within PHASH_MATCH_DISTANCE bits are taken to be the same picture.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 24_000_000          # default limit: a 24-megapixel phone photo (6000 x 4000)
HARD_MAX_PIXELS = 100_000_000    # Pillow's own bomb guard: no configured limit goes above it
Image.MAX_IMAGE_PIXELS = HARD_MAX_PIXELS  # warns above, refuses above twice (made an error below)
DISPLAY_EDGE, THUMB_EDGE = 1600, 256
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "MPO"})
PHASH_MATCH_DISTANCE = 6
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, DATETIME = 36867, 306


class PhotoRejected(ValueError):
    """A photo that cannot be accepted as evidence; `code` is a message code."""

    def __init__(self, code: str, /, **params: object):
        super().__init__(code)
        self.code, self.params = code, params


@dataclass
class ProcessedPhoto:
    """What the server keeps of one photo: facts, fingerprint and the served copies."""
    format: str
    width: int
    height: int
    captured_at: str | None
    gps: dict | None
    phash: str
    display_jpeg: bytes = field(repr=False)
    thumbnail_jpeg: bytes = field(repr=False)


# leading bytes of the formats in ALLOWED_FORMATS (HEIF: an ISO box "ftyp" with a HEIF brand)
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
HEIF_BRANDS = (b"heic", b"heix", b"heif", b"mif1", b"msf1", b"hevc")


def image_media_type(data: bytes) -> str | None:
    """The media type an upload's first bytes announce (JPEG, PNG, WebP, HEIF), or None.

    A cheap look at the signature only: a file that passes is still fully checked by
    process_photo in the worker (a truncated JPEG passes here and is refused there)."""
    for signature, media_type in SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "image/heif"
    return None


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (beyond ~89 MP) fires from the header alone, before decoding
        raise PhotoRejected("photo_too_many_pixels", pixels="?", limit=max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoRejected("photo_not_image") from None
    if image.format not in ALLOWED_FORMATS:
        raise PhotoRejected("photo_format", format=image.format or "?")
    width, height = image.size
    if width * height > max_pixels:
        raise PhotoRejected("photo_too_many_pixels", pixels=width * height, limit=max_pixels)
    return image


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    """Open and fully decode, so a truncated or corrupt file is caught here."""
    _open(data, max_pixels).verify()  # structure check; the image must be reopened afterwards
    image = _open(data, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        raise PhotoRejected("photo_corrupt") from None
    return image


def _rational(value) -> float:
    try:
        return float(value)
    except (TypeError, ZeroDivisionError, ValueError):
        return 0.0


def _degrees(dms, ref: str | None) -> float | None:
    try:
        degrees = _rational(dms[0]) + _rational(dms[1]) / 60 + _rational(dms[2]) / 3600
    except (TypeError, IndexError):
        return None
    return round(-degrees if ref in ("S", "W") else degrees, 6)


def capture_facts(image: Image.Image) -> tuple[str | None, dict | None]:
    """The EXIF capture time (as written, no zone: cameras do not record one) and GPS point."""
    exif = image.getexif()
    raw_time = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    captured_at = None
    if isinstance(raw_time, str):
        try:
            captured_at = datetime.strptime(raw_time.strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat()
        except ValueError:
            captured_at = None
    gps_ifd = exif.get_ifd(GPS_IFD)
    gps = None
    if 2 in gps_ifd and 4 in gps_ifd:
        lat, lon = _degrees(gps_ifd[2], gps_ifd.get(1)), _degrees(gps_ifd[4], gps_ifd.get(3))
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            gps = {"lat": lat, "lon": lon}
    return captured_at, gps


def dhash(image: Image.Image) -> str:
    """64-bit difference hash as 16 hex digits."""
    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    pixels = small.tobytes()  # mode "L": one byte per pixel
    bits = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes."""
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def _jpeg(image: Image.Image, edge: int) -> bytes:
    # resized straight from the decoded image (no full-size copy first): 72 MB less at 24 MP
    scale = min(1.0, edge / max(image.size))
    copy = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                        Image.Resampling.LANCZOS, reducing_gap=3.0) if scale < 1 else image.copy()
    if copy.mode not in ("RGB", "L"):
        copy = copy.convert("RGB")
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: metadata stripped
    return out.getvalue()


def process_photo(data: bytes, max_pixels: int = MAX_PIXELS) -> ProcessedPhoto:
    """Check one photo and derive everything kept of it; raises PhotoRejected."""
    if not data:
        raise PhotoRejected("photo_not_image")
    image = _decode(data, min(max_pixels, HARD_MAX_PIXELS))
    captured_at, gps = capture_facts(image)
    photo_format = image.format or "?"
    upright = ImageOps.exif_transpose(image, in_place=True) or image  # no full-size copy
    return ProcessedPhoto(format=photo_format, width=upright.width, height=upright.height,
                          captured_at=captured_at, gps=gps, phash=dhash(upright),
                          display_jpeg=_jpeg(upright, DISPLAY_EDGE),
                          thumbnail_jpeg=_jpeg(upright, THUMB_EDGE))
