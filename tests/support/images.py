"""Small generated photos for the photo tests: JPEGs with chosen EXIF facts."""
from __future__ import annotations

import io

from PIL import Image


def jpeg(width: int = 400, height: int = 200, exif: Image.Exif | None = None,
         color=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", (width, height), color)
    # a left/right split so orientation and hashes have something to see
    image.paste((20, 20, 220), (0, 0, width // 2, height))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif or Image.Exif())
    return out.getvalue()


def exif_with(orientation: int | None = None, gps: tuple | None = None,
              taken: str | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken:
        exif.get_ifd(0x8769)[36867] = taken
    if gps:
        lat, lat_ref, lon, lon_ref = gps
        exif.get_ifd(0x8825).update({1: lat_ref, 2: lat, 3: lon_ref, 4: lon})
    return exif


def drain(services) -> None:
    """Let the photo queue work until nothing is pending (bounded), as the worker would."""
    for _ in range(10):
        if services.photo_desk.process_pending("test-worker") == 0:
            return
