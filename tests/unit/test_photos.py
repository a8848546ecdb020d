"""Photo checks with small generated images: orientation, GPS, bombs, truncation, renamed PNGs."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from sync.photos.checks import PhotoRejected, hamming, process_photo
from support.images import exif_with, jpeg




def test_rotated_photo_is_turned_upright_and_exif_is_stripped():
    data = jpeg(400, 200, exif_with(orientation=6, taken="2024:05:02 10:14:48",
                                     gps=((23.0, 8.0, 33.72), "N", (111.0, 47.0, 8.16), "E")))
    photo = process_photo(data)
    assert (photo.width, photo.height) == (200, 400)  # orientation 6: rotate 90° clockwise
    assert photo.captured_at == "2024-05-02T10:14:48"
    assert photo.gps == {"lat": pytest.approx(23.142700, abs=1e-5),
                         "lon": pytest.approx(111.785600, abs=1e-5)}
    served = Image.open(io.BytesIO(photo.display_jpeg))
    assert served.size == (200, 400)
    assert not served.getexif()  # no orientation, time or position in what is served
    thumb = Image.open(io.BytesIO(photo.thumbnail_jpeg))
    assert max(thumb.size) == 256


def test_large_photo_gets_a_display_copy_of_at_most_1600_px():
    photo = process_photo(jpeg(4000, 3000))
    assert max(Image.open(io.BytesIO(photo.display_jpeg)).size) == 1600


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(8000, 8000), (50_000, 50_000)])
def test_decompression_bombs_are_refused_from_the_header(size):
    with pytest.raises(PhotoRejected) as refused:
        process_photo(png_header_only(*size))
    assert refused.value.code == "photo_too_many_pixels"


def test_truncated_jpeg_is_refused():
    data = jpeg(800, 600)
    with pytest.raises(PhotoRejected) as refused:
        process_photo(data[: len(data) // 2])
    assert refused.value.code == "photo_corrupt"


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"%PDF-1.4\n" + b"0" * 100])
def test_non_images_are_refused(data):
    with pytest.raises(PhotoRejected) as refused:
        process_photo(data)
    assert refused.value.code == "photo_not_image"


def test_png_renamed_jpg_is_read_as_what_it_is():
    image = Image.new("RGB", (300, 300), (10, 200, 10))
    out = io.BytesIO()
    image.save(out, "PNG")
    photo = process_photo(out.getvalue())  # arrives as "photo.jpg", image/jpeg
    assert photo.format == "PNG"


def test_the_same_picture_re_encoded_has_a_matching_fingerprint():
    original = process_photo(jpeg(1200, 900))
    resized = Image.open(io.BytesIO(jpeg(1200, 900))).resize((600, 450))
    out = io.BytesIO()
    resized.save(out, "JPEG", quality=60)
    assert hamming(original.phash, process_photo(out.getvalue()).phash) <= 6
    other = Image.new("RGB", (1200, 900), (240, 240, 240))
    other.paste((0, 0, 0), (0, 0, 1200, 300))
    out = io.BytesIO()
    other.save(out, "JPEG")
    assert hamming(original.phash, process_photo(out.getvalue()).phash) > 6
