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
CARD_NAMES = {True: "share.jpg", False: "share.png"}  # over the item's photo: a JPEG; on a flat colour: a PNG
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
    """Where an item's card is published: beside its page (news/<slug>/share.png, share.jpg over its photo)."""
    return posixpath.join(posixpath.dirname(path_of(item, default_lang)), CARD_NAMES[getattr(item, "image", None) is not None])


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


@dataclass(frozen=True)
class Inks:
    """What a card's parts are drawn with: colours on a photo, or palette indexes on a flat card."""

    title: object
    when: object
    accent: object
    when_ground: object = None  # painted behind the date's lines first (a flat card's second ramp starts there)


FOOT = SIZE[1] - 96  # the top of the site's name
LEVELS = 64  # shades of each text colour on a flat card: its antialiasing, in the palette
WHITE, YELLOW = "#ffffff", "#fde68a"


def lay_out(pen, card: CardRequest, inks: Inks) -> None:
    """An accent bar, the title in up to four lines (smaller when long), the date and place, and the site's
    name at the foot beside an accent mark."""
    pen.rectangle((0, 0, SIZE[0], 20), fill=inks.accent)
    shown = [line for line in (card.when, card.place) if line]
    room = FOOT - 16 - 90 - 24 - 50 * len(shown)  # the title's height, above the date and place, clear of the foot
    for size in (68, 58, 50, 44):
        title_font = face(BOLD, size)
        lines = wrap(pen, card.title, title_font, SIZE[0] - 160)
        if len(lines) <= 4 and len(lines) * round(size * 1.22) <= room:
            break
    fits = min(4, room // round(title_font.size * 1.22))
    if len(lines) > fits:
        lines = lines[:fits]
        lines[-1] = lines[-1].rstrip(".,;:") + "…"
    y = 90
    for line in lines:
        pen.text((80, y), line, font=title_font, fill=inks.title)
        y += round(title_font.size * 1.22)
    small = face(REGULAR, 36)
    y += 24
    if inks.when_ground is not None:
        pen.rectangle((0, y, SIZE[0], y + 50 * len(shown)), fill=inks.when_ground)
    for line in shown:
        pen.text((80, y), line, font=small, fill=inks.when)
        y += 50
    pen.rectangle((80, FOOT, 92, FOOT + 44), fill=inks.accent)
    pen.text((110, FOOT), card.site_name, font=face(BOLD, 34), fill=inks.title)


def draw_share_card(card: CardRequest, photo: bytes | None = None) -> bytes:
    """The card, in the format its name says (share_card_path): a JPEG over the item's photo (cropped to
    fill, darkened), else a PNG on the ink colour."""
    return photo_card(card, photo) if card.path.endswith(".jpg") else flat_card(card)


def photo_card(card: CardRequest, photo: bytes | None) -> bytes:
    """The text over the darkened photo (the ink colour if the photo could not be read), as a JPEG."""
    from PIL import Image, ImageDraw, ImageOps

    canvas = Image.new("RGB", SIZE, INK)
    if photo is not None:
        with Image.open(io.BytesIO(photo)) as opened:
            opened.draft("RGB", SIZE)
            fitted = ImageOps.fit(ImageOps.exif_transpose(opened).convert("RGB"), SIZE, Image.Resampling.LANCZOS)
        canvas = Image.blend(fitted, canvas, 0.62)  # the text stays readable on any photo
    lay_out(ImageDraw.Draw(canvas), card, Inks(WHITE, YELLOW, card.accent))
    buffer = io.BytesIO()
    # Baseline, not progressive: a card is fetched whole by a link preview, never shown while it loads, and
    # progressive encoding took 8.4 ms of a card's 13.5 (baseline 3.0 ms, for 9% more bytes). No EXIF: a new picture.
    canvas.save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def flat_card(card: CardRequest) -> bytes:
    """The text on the ink colour, as a palette PNG: drawn in greyscale, where each value is a palette
    index. Pillow blends text into the values under it, so white text (index LEVELS-1) on the ground (0)
    leaves 0..LEVELS-1 at its edges, and the date's colour (2*LEVELS-1) on its own ground (LEVELS) leaves
    LEVELS..2*LEVELS-1: two ramps from the ink colour, each shade the blend an RGB drawing would give.
    Measured on one card: 5.4 ms and 29 KB, against 6-7 ms and 73 KB as a JPEG (whose text it blurs)."""
    from PIL import Image, ImageColor, ImageDraw

    canvas = Image.new("L", SIZE, 0)
    lay_out(ImageDraw.Draw(canvas), card, Inks(LEVELS - 1, 2 * LEVELS - 1, 2 * LEVELS, LEVELS))
    ink = ImageColor.getrgb(INK)
    # Pillow makes an "L" image given a palette a "P" one, its values the indexes (no copy: 0.4 ms of 3 a card).
    canvas.putpalette(ramp(ink, ImageColor.getrgb(WHITE)) + ramp(ink, ImageColor.getrgb(YELLOW)) + list(ImageColor.getrgb(card.accent)))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", compress_level=3)  # level 6 saves 10% more bytes for 30% more time; no metadata
    return buffer.getvalue()


def ramp(start: tuple, end: tuple) -> list[int]:
    """LEVELS colours from `start` to `end`, as a flat list of RGB values (one run of a palette)."""
    return [round(a + (b - a) * level / (LEVELS - 1)) for level in range(LEVELS) for a, b in zip(start, end)]
