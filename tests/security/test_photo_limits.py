"""Finding 10 of issue 11 (photos): a 39.7-megapixel PNG of 115 KB was accepted and took the
worker near 550 MB. Photos over the pixel limit (24 MP by default, FIELDSYNC_MAX_PHOTO_MEGAPIXELS)
are refused with `photo_too_many_pixels`, from the header, before any pixel is decoded."""
from __future__ import annotations

import struct
import zlib

import pytest
from PIL import ImageFile

from server.bootstrap import build_services
from server.config import Settings
from sync.photos.checks import MAX_PIXELS, PhotoRejected, process_photo
from support.images import jpeg

WIDTH, HEIGHT = 7700, 5160  # 39.7 MP


def flat_png(width: int, height: int) -> bytes:
    """A complete, valid RGB PNG of one colour, compressed row by row (never whole in memory)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    packer, row, parts = zlib.compressobj(9), b"\x00" * (1 + width * 3), []
    for _ in range(height):
        parts.append(packer.compress(row))
    parts.append(packer.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return flat_png(WIDTH, HEIGHT)


def test_a_small_file_of_many_pixels_is_refused_before_decoding(bomb, monkeypatch):
    assert len(bomb) < 200_000 and MAX_PIXELS == 24_000_000
    def no_decoding(self):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(PhotoRejected) as refused:
        process_photo(bomb)
    assert refused.value.code == "photo_too_many_pixels"
    assert refused.value.params == {"pixels": WIDTH * HEIGHT, "limit": 24_000_000}


def test_the_limit_is_configurable():
    photo = jpeg(40, 30)  # 1200 pixels
    assert process_photo(photo, max_pixels=1200).width == 40
    with pytest.raises(PhotoRejected) as refused:
        process_photo(photo, max_pixels=1199)
    assert refused.value.code == "photo_too_many_pixels"
    settings = Settings.from_env({"FIELDSYNC_MAX_PHOTO_MEGAPIXELS": "12.5",
                                  "FIELDSYNC_COUCHDB_URL": "http://127.0.0.1:9"})
    assert settings.max_photo_megapixels == 12.5
    assert settings.child_env()["FIELDSYNC_MAX_PHOTO_MEGAPIXELS"] == "12.5"
    assert build_services(settings).photo_desk.max_pixels == 12_500_000
    assert Settings().max_photo_megapixels == 24.0
