"""Lead images (`image:` with `src:` and `alt:`) and share cards (share_cards.py): where each shows, and
their messages."""

from __future__ import annotations

import io
import json
import re

from conftest import NOW, build_errors, make_project
from PIL import Image, ImageChops, ImageDraw, ImageFont
from test_derivatives import jpeg, untag

from placard.pipeline import build_site
from placard.share_cards import BOLD, FOOT, INK, REGULAR, SIZE, WHITE, YELLOW, CardRequest, Inks, flat_card, lay_out

POST = """\
---
title: Photo post
slug: photo-post
date: 2011-12-20
author: A. Writer
summary: One line.
image:
  src: {src}
  alt: {alt}
---

Body text.
"""
EVENT = """\
---
title: Vigil at the embassy
slug: vigil
uid: 5b0f3f8e-6c1d-4a8e-9a57-1d2c3b4a5f60
starts: 2027-07-10 12:00
timezone: Europe/London
venue: The embassy
city: London
image:
  src: vigil.jpg
  alt: Candles on the pavement
---

Details.
"""


def built(tmp_path, files):
    _, output = build_site(make_project(tmp_path, files), NOW)
    return output.files


def test_a_lead_image_shows_on_the_page_in_lists_the_feed_and_the_share_tags(tmp_path):
    files = built(tmp_path, {"content/news/photo-post.md": POST.format(src="square.jpg", alt="Police lines across the square"),
                             "content/news/square.jpg": jpeg(2000, 1000)})
    page = files["news/photo-post/index.html"].decode()
    lead = re.search(r'<figure class="lead-image"><picture>.*?</picture></figure>', page).group(0)
    assert 'width="2000" height="1000" alt="Police lines across the square" fetchpriority="high">' in lead
    assert '<meta property="og:image" content="https://example.org/campaign/news/photo-post/share.jpg">' in page
    assert '<meta property="og:image:alt" content="Photo post: Police lines across the square">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    listing = untag(files["news/index.html"].decode())
    assert 'srcset="photo-post/../../news/square.480w.webp' not in listing  # (links are plain relative paths)
    assert '<source type="image/webp" srcset="square.480w.webp 480w, square.960w.webp 960w, square.1600w.webp 1600w" sizes="8rem">' in listing
    feed = untag(files["feed.xml"].decode())
    assert ('&lt;p&gt;&lt;img src=&#34;https://example.org/campaign/news/square.960w.jpg&#34; width=&#34;960&#34; '
            'height=&#34;480&#34; alt=&#34;Police lines across the square&#34;&gt;&lt;/p&gt;') in feed
    assert "news/square.jpg" not in files  # the original stays unpublished


def test_an_event_lead_image_is_on_its_page_and_its_card_is_its_json_ld_image(tmp_path):
    files = built(tmp_path, {"content/events/vigil.md": EVENT, "content/events/vigil.jpg": jpeg(1200, 800)})
    page = files["calendar/vigil/index.html"].decode()
    assert '<figure class="lead-image"><picture>' in page and 'alt="Candles on the pavement"' in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["image"] == "https://example.org/campaign/calendar/vigil/share.jpg"
    assert "calendar/vigil/share.jpg" in files


def test_every_post_and_event_has_its_own_1200x630_card_without_metadata(tmp_path):
    files = built(tmp_path, {"content/events/vigil.md": EVENT, "content/events/vigil.jpg": jpeg(1200, 800)})
    pages = [path for path in files if re.fullmatch(r"(ru/|kk/)?(news|calendar)/(?!\d{4}/)[^/]+/index.html", path)]  # (not the year archives)
    assert len(pages) >= 5
    formats = set()
    for path in pages:
        name = "share.jpg" if path == "calendar/vigil/index.html" else "share.png"  # over its photo: a JPEG; flat: a PNG
        card = files[path.replace("index.html", name)]
        with Image.open(io.BytesIO(card)) as opened:
            assert opened.size == (1200, 630) and not opened.getexif() and not opened.info.get("exif"), path
            formats.add(opened.format)
            assert opened.format == {"share.jpg": "JPEG", "share.png": "PNG"}[name], path
        page = files[path].decode()
        assert f'content="https://example.org/campaign/{path.replace("index.html", name)}"' in page, path
        assert f'<meta property="og:image:type" content="image/{"jpeg" if name == "share.jpg" else "png"}">' in page, path
    assert formats == {"JPEG", "PNG"}


def test_a_flat_card_is_the_same_picture_as_one_drawn_in_full_colour():
    """The palette PNG (drawn as indexes, share_cards.flat_card) against the same card drawn in RGB without
    loss: every pixel within 2 of 255 in each channel (the JPEG of the same card is off by up to 71)."""
    card = CardRequest("news/x/share.png", "Жаңаөзен мұнайшыларымен ынтымақтастық, a title long enough to wrap", "1 December 2026",
                       "Aktau", "Solidarity", "#a4161a")
    exact = Image.new("RGB", SIZE, INK)
    lay_out(ImageDraw.Draw(exact), card, Inks(WHITE, YELLOW, card.accent))
    with Image.open(io.BytesIO(flat_card(card))) as flat:
        assert flat.mode == "P" and len(flat.getcolors()) > 60  # antialiased, in shades of the palette
        difference = ImageChops.difference(flat.convert("RGB"), exact)
    assert max(high for _, high in difference.getextrema()) <= 2
    assert exact.getbbox() is not None and ImageChops.difference(exact, Image.new("RGB", SIZE, INK)).getbbox() is not None  # (text was drawn)


def test_the_shipped_font_draws_every_kazakh_and_russian_letter():
    for file in (BOLD, REGULAR):
        font = ImageFont.truetype(str(file), 40)
        missing = bytes(font.getmask("\uE000"))  # a private-use character: the font's 'no glyph' box
        for letter in "ӘҒҚҢӨҰҮҺІәғқңөұүһі" + "ЖжЩщЁёЪъЭэЮюЯя":
            assert bytes(font.getmask(letter)) != missing, (file.name, letter)
    assert (BOLD.parent / "LICENSE").read_text(encoding="utf-8").count("Bitstream") > 3


def test_a_lead_image_needs_alt_and_a_local_photo(tmp_path):
    no_alt = POST.replace("  alt: {alt}\n", "")
    errors = build_errors(make_project(tmp_path, {"content/news/photo-post.md": no_alt.format(src="square.jpg")}))
    assert errors == ["content/news/photo-post.md:7: image: needs 'alt:', a few words saying what the photo shows (read aloud to "
                      "people who cannot see it), like:\nimage:\n  src: square.jpg\n  alt: Police lines across the square"]


def test_a_remote_or_missing_lead_image_names_its_line(tmp_path):
    files = {"content/news/photo-post.md": POST.format(src="https://example.com/a.jpg", alt="A crowd"),
             "content/news/other.md": POST.format(src="gone.jpg", alt="A crowd").replace("photo-post", "other")}
    errors = build_errors(make_project(tmp_path, files))
    assert errors == [
        "content/news/other.md:8: image: the image 'gone.jpg' is not there (no file content/news/gone.jpg); put the photo there, "
        "or correct the name (names are case-sensitive)",
        "content/news/photo-post.md:8: image: the image 'https://example.com/a.jpg' is on another site; every visitor's browser "
        "would contact it. Download the file next to this one (e.g. content/news/photo.jpg) and write src: photo.jpg",
    ]


def test_a_long_title_with_date_and_place_stays_clear_of_the_sites_name():
    """Four lines of title, the date and the place: shrunk or cut with '…' so that the 16 rows above the
    site's name stay the bare ink colour (before, the place was drawn over the name)."""
    for title in ("Demonstrate – Support oil workers and their communities in Kazakhstan – Protest at police killings",
                  " ".join(["Жаңаөзен"] * 40)):
        card = CardRequest("calendar/x/share.png", title, "21 December 2011, 12:00 GMT", "Yeltsin Boulevard, Zhanaozen, Mangystau, Kyzylorda gypsy joy",
                           "Solidarity with the Zhanaozen oil workers", "#a4161a")
        with Image.open(io.BytesIO(flat_card(card))) as flat:
            picture = flat.convert("RGB")
        clear = picture.crop((0, FOOT - 16, SIZE[0], FOOT))
        assert ImageChops.difference(clear, Image.new("RGB", clear.size, INK)).getbbox() is None, title
        assert picture.crop((80, FOOT, SIZE[0], FOOT + 44)).getbbox() is not None  # the name is there
