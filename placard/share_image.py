"""The site's share picture (the 1200x630 image link previews show, Open Graph) drawn from its title,
for a site that has no static/share.png of its own. Pure Pillow with its bundled font: nothing fetched."""

from __future__ import annotations

import io
import textwrap

SIZE = (1200, 630)


def draw_share_image(title: str, tagline: str) -> bytes:
    """Title in white on the stylesheet's ink colour, under its accent bar, as a small PNG."""
    from PIL import Image, ImageDraw, ImageFont  # loaded only by sites without their own picture

    image = Image.new("RGB", SIZE, "#1b1b1b")
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, 0, SIZE[0], 24), fill="#a4161a")
    big = ImageFont.load_default(size=72)
    small = ImageFont.load_default(size=40)
    y = 120
    for line in textwrap.wrap(title, 26)[:4]:
        pen.text((80, y), line, font=big, fill="#ffffff")
        y += 90
    if tagline:
        pen.text((80, y + 30), textwrap.shorten(tagline, 50), font=small, fill="#fde68a")
    buffer = io.BytesIO()
    image.quantize(colors=32).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
