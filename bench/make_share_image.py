#!/usr/bin/env python3
"""Draw static/share.png, the 1200x630 picture link previews show (Open Graph), from site.yml's title.

Run once after changing the title: `python bench/make_share_image.py`. Pure Pillow with its bundled
font: no web font, nothing fetched. Replace static/share.png by a photo of your own if you prefer
(1200x630, no people's faces without consent; EXIF is stripped only from images in content/).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from placard.content import load_config  # noqa: E402


def draw(title: str, tagline: str) -> Image.Image:
    """Title in white on the site's ink colour, with the accent bar of the stylesheet."""
    image = Image.new("RGB", (1200, 630), "#1b1b1b")
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, 1200, 24), fill="#a4161a")
    big = ImageFont.load_default(size=72)
    small = ImageFont.load_default(size=40)
    y = 120
    for line in textwrap.wrap(title, 26):
        pen.text((80, y), line, font=big, fill="#ffffff")
        y += 90
    pen.text((80, y + 30), tagline, font=small, fill="#fde68a")
    return image


def main() -> None:
    config = load_config(ROOT / "site.yml")
    target = ROOT / "static" / "share.png"
    draw(config.title, config.tagline).quantize(colors=32).save(target, optimize=True)
    print(f"Wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
