"""Draw the app's icons (a red square with 核 in white) with Pillow: `python scripts/make_icons.py`.

The PNGs are committed under public/icons/, so building needs no Python; run this only to
change them. The glyph needs a CJK font (Debian fonts-noto-cjk); without one a plain mark is drawn.
"""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "public" / "icons"
RED, WHITE = (200, 16, 46), (255, 255, 255)
FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]


def icon(size: int, padding: float) -> Image.Image:
    image = Image.new("RGB", (size, size), RED)
    draw = ImageDraw.Draw(image)
    inner = int(size * (1 - 2 * padding))
    font_path = next((path for path in FONTS if Path(path).exists()), None)
    if font_path:
        font = ImageFont.truetype(font_path, int(inner * 0.72))
        draw.text((size / 2, size / 2), "核", font=font, fill=WHITE, anchor="mm")
    else:
        edge = size * (padding + 0.12)
        draw.rounded_rectangle([edge, edge, size - edge, size - edge], radius=size // 10,
                               outline=WHITE, width=max(2, size // 24))
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon(192, 0.08).save(OUT / "icon-192.png", optimize=True)
    icon(512, 0.08).save(OUT / "icon-512.png", optimize=True)
    icon(512, 0.2).save(OUT / "icon-maskable-512.png", optimize=True)  # the safe zone is 80 %


if __name__ == "__main__":
    main()
