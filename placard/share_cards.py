"""Share cards: the 1200 x 630 picture a link preview shows (Open Graph og:image) for each post and event,
drawn at build time with Pillow: the title, the date (and the place, for an event), the site's name and
accent colour, over the item's own photo when it has one. The font is DejaVu Sans, shipped in the theme
(placard/theme/fonts/, with its licence): Latin, Cyrillic and Kazakh letters, never fetched."""

from __future__ import annotations

import functools
import io
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from .urls import path_of

SIZE = (1200, 630)
FONTS = Path(__file__).parent / "theme" / "fonts"
BOLD, REGULAR = FONTS / "DejaVuSans-Bold.ttf", FONTS / "DejaVuSans.ttf"
CARD_NAME = "share.jpg"
INK, ACCENT = "#1b1b1b", "#a4161a"  # style.css --ink and --accent
ACCENT_IN_CSS = re.compile(r"--accent:\s*(#[0-9a-fA-F]{6})\b")


@dataclass(frozen=True)
class CardRequest:
    """Everything one card shows; cards are cached by it (and the photo's digest)."""

    path: str  # in the site, beside the item's page
    title: str
    when: str  # the date, as the page writes it
    place: str
    site_name: str
    accent: str
    photo: object = None  # the item's lead photo (a derivatives.SourceImage), drawn behind the text


def share_card_path(item, default_lang: str) -> str:
    """Where an item's card is published: beside its page (news/<slug>/share.jpg)."""
    return posixpath.join(posixpath.dirname(path_of(item, default_lang)), CARD_NAME)


def accent_of(stylesheet: str) -> str:
    """The stylesheet's --accent colour (a site's own style.css may change it), else the theme's."""
    match = ACCENT_IN_CSS.search(stylesheet)
    return match.group(1) if match else ACCENT


def date_text(item) -> str:
    """An item's date as its page writes it: a post's day; an event's day and time (or day alone, all day)."""
    from .templating import filter_date_long, filter_datetime_long

    if item.kind == "event":
        return filter_date_long(item.starts, item.lang) if item.all_day else filter_datetime_long(item.starts, item.lang)
    return filter_date_long(item.date, item.lang)


def plan_share_cards(site, images, accent: str) -> list[CardRequest]:
    """A card for every post and event."""
    from .derivatives import lead_image_ref

    cards = []
    default = site.config.language
    for item in [item for item in site.items() if item.kind in ("post", "event")]:  # translations too: their own card
        place = ", ".join(part for part in (getattr(item, "venue", None), getattr(item, "city", None)) if part) if item.kind == "event" else ""
        lead = getattr(item, "image", None)
        photo = images.images.get(lead_image_ref(item, lead).target) if lead is not None else None
        cards.append(CardRequest(share_card_path(item, default), item.title, date_text(item), place,
                                 site.config.in_language(item.lang).title, accent, photo))
    return cards


def wrap(pen, text: str, font, width: int) -> list[str]:
    """Words into lines no wider than `width` pixels in `font`."""
    lines: list[str] = []
    for word in text.split():
        if lines and pen.textlength(lines[-1] + " " + word, font=font) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


@functools.lru_cache(maxsize=8)
def face(file: Path, size: int):
    """A face of the theme's font at one size: loading it costs more than drawing a title with it."""
    from PIL import ImageFont

    return ImageFont.truetype(str(file), size)


def draw_share_card(card: CardRequest, photo: bytes | None = None) -> bytes:
    """The card as a JPEG: the photo (cropped to fill, darkened) or the ink colour, an accent bar, the title
    in up to four lines (smaller when long), the date and place, and the site's name at the foot."""
    from PIL import Image, ImageDraw, ImageOps

    if photo is not None:
        with Image.open(io.BytesIO(photo)) as opened:
            opened.draft("RGB", SIZE)
            canvas = ImageOps.fit(ImageOps.exif_transpose(opened).convert("RGB"), SIZE, Image.Resampling.LANCZOS)
        canvas = Image.blend(canvas, Image.new("RGB", SIZE, INK), 0.62)  # the text stays readable on any photo
    else:
        canvas = Image.new("RGB", SIZE, INK)
    pen = ImageDraw.Draw(canvas)
    pen.rectangle((0, 0, SIZE[0], 20), fill=card.accent)
    for size in (68, 58, 50, 44):
        title_font = face(BOLD, size)
        lines = wrap(pen, card.title, title_font, SIZE[0] - 160)
        if len(lines) <= 4:
            break
    if len(lines) > 4:
        lines = lines[:4]
        lines[-1] = lines[-1].rstrip(".,;:") + "…"
    y = 90
    for line in lines:
        pen.text((80, y), line, font=title_font, fill="#ffffff")
        y += round(title_font.size * 1.22)
    small = face(REGULAR, 36)
    y += 24
    for line in (card.when, card.place):
        if line:
            pen.text((80, y), line, font=small, fill="#fde68a")
            y += 50
    pen.rectangle((80, SIZE[1] - 96, 92, SIZE[1] - 52), fill=card.accent)
    pen.text((110, SIZE[1] - 96), card.site_name, font=face(BOLD, 34), fill="#ffffff")
    buffer = io.BytesIO()
    # Baseline, not progressive: a card is fetched whole by a link preview, never shown while it loads, and
    # progressive encoding took 8.4 ms of a card's 13.5 (baseline 3.0 ms, for 9% more bytes). No EXIF: a new picture.
    canvas.save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()
