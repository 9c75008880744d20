"""Photos in several widths and formats (placard.derivatives): the markup, the files, and every bad
input's message naming the Markdown file and line."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from conftest import NOW, SITE_YML, build_errors, make_project
from PIL import Image
from test_accessible import vnu_errors, vnu_missing

from placard.derivatives import available_formats, make_derivatives, plan_image
from placard.incremental.session import PlainSession
from placard.pipeline import build, build_site

POST = """\
---
title: Photo post
slug: photo-post
date: 2011-12-20
author: A. Writer
---

Intro line.

{body}
"""


def jpeg(width: int, height: int, exif: bool = True, orientation: int | None = None) -> bytes:
    """A photo-like JPEG (a gradient) carrying camera, owner and GPS EXIF."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    info = Image.Exif()
    if exif:
        info[0x010F], info[0x013B] = "SpyCam", "Owner Name"  # Make, Artist
        info.get_ifd(0x8825).update({1: "N", 2: (43.0, 20.0, 30.0), 3: "E", 4: (52.0, 51.0, 0.0)})
    if orientation:
        info[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=info, quality=85, comment=b"shot by someone")
    return buffer.getvalue()


def png(width: int, height: int, mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A few bytes of PNG whose header claims width x height pixels (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def untag(text: str) -> str:
    """Derivative names without their content tag (square.1a2b3c4d.960w.jpg as square.960w.jpg), for assertions on the rest."""
    return re.sub(r"\.[0-9a-f]{8}\.(\d+w)\.", r".\1.", text)


def post_page(project) -> str:
    _, output = build_site(project, NOW)
    return output.files["news/photo-post/index.html"].decode()


def test_widths_are_480_960_1600_never_wider_than_the_original():
    assert plan_image("a.jpg", jpeg(4000, 3000), ("webp",), 10**8).widths == (480, 960, 1600)
    assert plan_image("a.jpg", jpeg(1000, 500), ("webp",), 10**8).widths == (480, 960, 1000)
    assert plan_image("a.jpg", jpeg(300, 200), ("webp",), 10**8).widths == (300,)
    turned = plan_image("a.jpg", jpeg(1200, 600, orientation=6), ("webp",), 10**8)  # stored on its side
    assert (turned.width, turned.height, turned.widths) == (600, 1200, (480, 600))


def test_derivatives_carry_no_metadata_and_have_the_planned_sizes():
    data = jpeg(2000, 1000)
    image = plan_image("news/a.jpg", data, available_formats(), 10**8)
    made = make_derivatives(data, image)
    assert sorted(made) == sorted(image.variant(w, f) for w in (480, 960, 1600) for f in image.formats)
    assert image.formats[-1] == "jpg" and "webp" in image.formats
    for path, blob in made.items():
        with Image.open(io.BytesIO(blob)) as opened:
            width = int(re.search(r"\.(\d+)w\.", path).group(1))
            assert opened.size == (width, width // 2), path
            assert not opened.getexif() and not {"exif", "xmp", "comment"} & set(opened.info), (path, opened.info.keys())
        assert b"SpyCam" not in blob and b"Owner Name" not in blob and b"shot by someone" not in blob


def test_a_transparent_png_keeps_a_png_fallback_with_its_alpha():
    data = png(800, 400)
    image = plan_image("news/logo.png", data, ("webp",), 10**8)
    assert image.formats == ("webp", "png")
    with Image.open(io.BytesIO(make_derivatives(data, image)[image.variant(480, "png")])) as opened:
        assert opened.mode == "RGBA"


def test_a_body_photo_becomes_a_picture_with_size_and_lazy_loading_but_the_first(tmp_path):
    body = "![The square](square.jpg)\n\nBetween.\n\n![The <crowd> & \"police\"](img/crowd.jpg){.wide}"
    files = {"content/news/photo-post.md": POST.format(body=body), "content/news/square.jpg": jpeg(2000, 1500),
             "content/news/img/crowd.jpg": jpeg(1200, 800)}
    html = untag(post_page(make_project(tmp_path, files)))
    pictures = re.findall(r"<picture>.*?</picture>", html)
    assert len(pictures) == 2
    first, second = pictures
    assert '<source type="image/webp" srcset="../square.480w.webp 480w, ../square.960w.webp 960w, ../square.1600w.webp 1600w"' in first
    assert '<img src="../square.960w.jpg" srcset="../square.480w.jpg 480w, ../square.960w.jpg 960w, ../square.1600w.jpg 1600w"' in first
    assert 'width="2000" height="1500" alt="The square" fetchpriority="high">' in first and "loading=" not in first
    assert 'srcset="../img/crowd.480w.jpg 480w, ../img/crowd.960w.jpg 960w, ../img/crowd.1200w.jpg 1200w"' in second
    assert 'alt="The &lt;crowd&gt; &amp; &quot;police&quot;" class="wide" loading="lazy" decoding="async">' in second
    assert 'sizes="(max-width: 46rem) calc(100vw - 2rem), 44rem"' in second


def test_originals_are_not_published_and_every_derivative_is(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.jpg)"), "content/news/square.jpg": jpeg(1000, 500),
             "content/news/unused.jpg": jpeg(20, 20)}
    project = make_project(tmp_path, files)
    build(project, NOW)
    names = sorted(untag(file.name) for file in (project.output / "news").glob("*.*"))
    assert "square.jpg" not in names and {"square.480w.webp", "square.960w.jpg", "square.1000w.webp"} <= set(names)
    assert "unused.jpg" in names  # shown by no body: copied as before (metadata removed), a link may point to it


def test_picture_and_source_stay_refused_in_what_campaigners_write(tmp_path):
    body = '<picture><source srcset="https://tracker.example/p.jpg"><img src="a.jpg" alt="x"></picture>'
    errors = build_errors(make_project(tmp_path, {"content/news/photo-post.md": POST.format(body=body)}))
    assert any("<picture> is not allowed here" in error for error in errors), errors
    assert any("<source> is not allowed here" in error for error in errors), errors


def test_a_changed_photo_re_renders_its_page_in_the_cached_build(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.jpg)"), "content/news/square.jpg": jpeg(1000, 500)}
    project = make_project(tmp_path, files)
    build(project, NOW)
    (project.content / "news/square.jpg").write_bytes(jpeg(700, 700))
    build(project, NOW)
    html = (project.output / "news/photo-post/index.html").read_text(encoding="utf-8")
    assert 'width="700" height="700"' in html and not list((project.output / "news").glob("square.*.960w.jpg"))
    _, plain = build_site(project, NOW, session=PlainSession())
    assert plain.files["news/photo-post/index.html"].decode() == html
    with Image.open(next((project.output / "news").glob("square.*.700w.jpg"))) as opened:
        assert opened.size == (700, 700)


# Bad input: each message names the Markdown file and the line of the reference, and says what to do.

def test_a_missing_photo_names_the_post_and_line(tmp_path):
    errors = build_errors(make_project(tmp_path, {"content/news/photo-post.md": POST.format(body="![The square](Square.jpg)")}))
    assert errors == ["content/news/photo-post.md:10: body: the image 'Square.jpg' is not there (no file content/news/Square.jpg); "
                      "put the photo there, or correct the name (names are case-sensitive)"]


def test_a_damaged_photo_says_to_save_it_again(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.jpg)"), "content/news/square.jpg": jpeg(64, 64)[:400]}
    errors = build_errors(make_project(tmp_path, files))
    assert len(errors) == 1
    assert errors[0].startswith("content/news/photo-post.md:10: body: the image 'square.jpg' is damaged (")
    assert errors[0].endswith("); open it in an image editor and save it again as JPEG or PNG")


def test_a_decompression_bomb_is_refused_before_it_is_unpacked(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.png)"), "content/news/square.png": png_claiming(30000, 30000)}
    errors = build_errors(make_project(tmp_path, files))
    assert errors == ["content/news/photo-post.md:10: body: the image 'square.png' has more pixels than placard will open "
                      "(a 'decompression bomb': a small file that unpacks into gigabytes); save it at a normal size, e.g. 4000 x 3000 pixels"]


def test_a_photo_whose_content_does_not_match_its_name(tmp_path):
    body = "![The square](square.jpg)\n\n![Notes](notes.png)"
    files = {"content/news/photo-post.md": POST.format(body=body), "content/news/square.jpg": png(10, 10, "RGB"),
             "content/news/notes.png": b"these are my notes, not a picture\n"}
    errors = build_errors(make_project(tmp_path, files))
    assert errors == [
        "content/news/photo-post.md:10: body: the image 'square.jpg' is named .jpg but is really a PNG image; rename it to square.png and change the reference",
        "content/news/photo-post.md:12: body: the image 'notes.png' is not an image (its content is not PNG, whatever its name says); export the photo again as JPEG or PNG",
    ]


def test_a_photo_over_the_size_limit_says_what_to_do(tmp_path):
    noise = Image.effect_noise((900, 900), 120).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    assert len(buffer.getvalue()) > 1_000_000
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.png)"), "content/news/square.png": buffer.getvalue(),
             "site.yml": SITE_YML + "max_image_mb: 1\n"}
    errors = build_errors(make_project(tmp_path, files))
    assert errors == [f"content/news/photo-post.md:10: body: the image 'square.png' is {len(buffer.getvalue()) / 1e6:.1f} MB, over the 1 MB "
                      "limit for images (max_image_mb in site.yml); save it smaller (about 3000 pixels wide, JPEG quality 85, is plenty: "
                      "pages show at most 1600 pixels)"]


def test_missing_or_empty_alt_and_remote_photos_are_refused(tmp_path):
    body = "![](square.jpg)\n\n<img src=\"crowd.jpg\" alt=\" \">\n\n![A crowd](https://example.com/crowd.jpg)"
    files = {"content/news/photo-post.md": POST.format(body=body), "content/news/square.jpg": jpeg(64, 64), "content/news/crowd.jpg": jpeg(64, 64)}
    errors = build_errors(make_project(tmp_path, files))
    def advice(name):
        return f"describe it: ![Police lines in the square]({name}), or if it is only decoration write ![]({name}){{.decorative}}"
    assert errors == [
        f"content/news/photo-post.md:10: body: the image 'square.jpg' has no alt text; {advice('square.jpg')}",
        f"content/news/photo-post.md:12: body: the image 'crowd.jpg' has no alt text; {advice('crowd.jpg')}",  # (an alt of spaces is none)
        "content/news/photo-post.md:14: body: embeds an image from another site (https://example.com/crowd.jpg); every visitor's browser "
        "would contact that site. Download the file into content/ (e.g. content/news/photo.jpg) and write ![what it shows](photo.jpg)",
    ]


@pytest.mark.skipif(vnu_missing() is not None, reason=vnu_missing() or "")
def test_a_page_with_pictures_is_valid_html_for_the_nu_checker(tmp_path):
    body = "![The square](square.jpg)\n\n![A crowd](crowd.png)"
    files = {"content/news/photo-post.md": POST.format(body=body), "content/news/square.jpg": jpeg(1000, 500), "content/news/crowd.png": png(600, 300)}
    _, output = build_site(make_project(tmp_path, files), NOW)
    page = {path: data for path, data in output.files.items() if path == "news/photo-post/index.html"}
    _, errors = vnu_errors(page, tmp_path / "out")
    assert errors == []


def test_an_image_written_in_code_is_text_not_a_photo_to_find():
    from placard.derivatives import find_image_refs

    text = "Write `![Alt](a.jpg)` like this.\n\n```\n![Alt](b.jpg)\n```\n\n![Real](c.jpg)"
    assert [(ref.line, ref.src) for ref in find_image_refs("content/news/x.md", text, 10)] == [(16, "c.jpg")]


def test_a_rebuild_with_nothing_changed_makes_no_derivative_and_reads_no_photo(tmp_path, monkeypatch):
    import placard.incremental.session as session

    files = {f"content/news/p{n}.md": POST.format(body=f"![Photo {n}](p{n}.jpg)").replace("photo-post", f"p{n}") for n in range(3)}
    project = make_project(tmp_path, {**files, **{f"content/news/p{n}.jpg": jpeg(600 + n, 400) for n in range(3)}})
    monkeypatch.setattr(session, "RACY_SECONDS", -1.0)  # the files count as written long ago (no racy-clean window)
    build(project, NOW)
    before = {path.name: path.read_bytes() for path in (project.output / "news").glob("p*.*w.*")}

    def refuse(*args):
        raise AssertionError("made again")
    monkeypatch.setattr(session, "make_derivatives", refuse)
    monkeypatch.setattr(session, "plan_image", refuse)
    monkeypatch.setattr(session, "draw_share_card", refuse)
    build(project, NOW)
    assert {path.name: path.read_bytes() for path in (project.output / "news").glob("p*.*w.*")} == before and len(before) == 18  # 480 and 600-602 px, 3 formats, 3 photos


EVERY_FORM = """\
A reference: ![A crowd][crowd], a collapsed one: ![Square][] and a shortcut: ![Banner].

<figure>
<img
  src="raw.jpg"
  alt="Police lines">
</figure>

Inline HTML across lines: <img alt="A tent"
src="inline.jpg"> in a paragraph.

Code is text: `![Code](code.jpg)` and `<img src="code.jpg" alt="x">`.

[crowd]: img/crowd.jpg "The crowd"
[square]: <square.jpg>
[banner]: banner.jpg
"""


def test_every_way_of_writing_an_image_is_found_from_the_parsed_markdown(tmp_path):
    names = ("img/crowd.jpg", "square.jpg", "banner.jpg", "raw.jpg", "inline.jpg")
    files = {"content/news/photo-post.md": POST.format(body=EVERY_FORM), **{f"content/news/{name}": jpeg(700, 500) for name in names}}
    project = make_project(tmp_path, files)
    build(project, NOW)
    html = (project.output / "news/photo-post/index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<picture>", html)) == 5, html
    for name in names:
        assert not (project.output / "news" / name).exists(), name  # shown as derivatives, not published as it is
        assert f'../{name.removesuffix(".jpg")}.' in html and re.search(rf"{name.removesuffix('.jpg')}\.\S*480w\.webp 480w", html), name


def test_image_refs_carry_the_line_the_address_is_written_on():
    from placard.derivatives import find_image_refs

    found = [(ref.line, ref.src, ref.target) for ref in find_image_refs("content/news/x.md", EVERY_FORM, 10)]
    assert found == [(23, "img/crowd.jpg", "news/img/crowd.jpg"), (24, "square.jpg", "news/square.jpg"), (25, "banner.jpg", "news/banner.jpg"),
                     (14, "raw.jpg", "news/raw.jpg"), (19, "inline.jpg", "news/inline.jpg")]


def test_a_photo_in_a_reply_is_found_too(tmp_path):
    post = ("---\ntitle: Thread\nslug: photo-post\ndate: 2011-12-18\nauthor: A\nreplies:\n  - author: B\n    date: 2011-12-19\n"
            "    body: \"We were there: ![The banner][b]\\n\\n[b]: banner.jpg\"\n---\n\nThe post.\n")
    project = make_project(tmp_path, {"content/news/photo-post.md": post, "content/news/banner.jpg": jpeg(700, 500)})
    build(project, NOW)
    html = (project.output / "news/photo-post/index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<picture>", html)) == 1 and 'alt="The banner"' in html
    assert not (project.output / "news/banner.jpg").exists()


def test_derivative_names_carry_a_content_tag_kept_across_rebuilds_and_changed_with_the_photo(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.jpg)"), "content/news/square.jpg": jpeg(1000, 500)}
    project = make_project(tmp_path, files)

    def published() -> list[str]:
        build(project, NOW)
        return sorted(file.name for file in (project.output / "news").glob("square.*"))

    first = published()
    assert len(first) == 9 and all(re.fullmatch(r"square\.[0-9a-f]{8}\.(480|960|1000)w\.(avif|webp|jpg)", name) for name in first), first
    (project.output / "news/photo-post/index.html").unlink()
    assert published() == first  # a rebuild (and a cold one: the tag is of the bytes, not of the build) keeps the names
    _, plain = build_site(project, NOW, session=PlainSession())
    assert sorted(path.rsplit("/", 1)[1] for path in plain.files if path.startswith("news/square.")) == first
    (project.content / "news/square.jpg").write_bytes(jpeg(1000, 500, exif=False))  # replaced: same name, same size, other bytes
    second = published()
    assert len(second) == 9 and not set(first) & set(second), (first, second)
    html = (project.output / "news/photo-post/index.html").read_text(encoding="utf-8")
    assert all(name in html for name in second if name.endswith(".webp")) and not any(name in html for name in first)


def test_a_deleted_photo_s_cache_entries_are_pruned(tmp_path, monkeypatch):
    import sqlite3

    import placard.incremental.session as session
    from placard.incremental.session import MADE_FILES, MADE_FILES_KEY, IncrementalSession
    from placard.incremental.store import CACHE_DIR, CACHE_FILE, MemoryStore, open_store

    files = {f"content/news/p{n}.md": POST.format(body=f"![Photo {n}][p]\n\n[p]: p{n}.jpg").replace("photo-post", f"p{n}") for n in range(2)}
    project = make_project(tmp_path, {**files, **{f"content/news/p{n}.jpg": jpeg(600, 400) for n in range(2)}})
    memory = IncrementalSession(MemoryStore())
    monkeypatch.setattr(session, "RACY_SECONDS", -1.0)  # the files count as written long ago: each photo's plan is kept too

    def photo_memos() -> tuple[list[str], list[str]]:
        build(project, NOW)
        build_site(project, NOW, session=memory)
        memory.store.commit()
        with sqlite3.connect(project.root / CACHE_DIR / CACHE_FILE) as db:
            names = sorted(name for (name,) in db.execute("SELECT name FROM memos") if "p1" in name)
        store = open_store(project.root)  # build.py's cards and copies: noted by the files they left in output/
        made = sorted(f"{kind} {group}" for kind in ("derivatives", "share cards") for group in store.get_memo(MADE_FILES + kind, MADE_FILES_KEY) if "p1" in group)
        store.close()
        return names, made, sorted(name for name in memory.store.memos if "p1" in name)

    kept, made, in_memory = photo_memos()
    assert kept == ["image news/p1.jpg", "image refs content/news/p1.md:8"]
    assert made == ["derivatives news/p1.jpg", "share cards news/p1/share.png"]
    assert in_memory == ["derivatives news/p1.jpg", "image news/p1.jpg", "image refs content/news/p1.md:8", "share card news/p1/share.png"]
    (project.content / "news/p1.md").unlink()
    (project.content / "news/p1.jpg").unlink()
    assert photo_memos() == ([], [], [])


def test_a_photo_named_with_spaces_has_a_srcset_a_browser_can_split(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![A crowd](<my photo, 1.jpg>)"), "content/news/my photo, 1.jpg": jpeg(700, 500)}
    html = untag(post_page(make_project(tmp_path, files)))
    assert 'srcset="../my%20photo%2C%201.480w.webp 480w, ../my%20photo%2C%201.700w.webp 700w"' in html, html


def test_cached_builds_equal_a_plain_one_as_a_reference_s_photo_changes(tmp_path, monkeypatch):
    import placard.incremental.session as session
    from placard.incremental.session import IncrementalSession
    from placard.incremental.store import MemoryStore

    post = POST.format(body="![The square][p]\n\n[p]: {src}")
    project = make_project(tmp_path, {"content/news/photo-post.md": post.replace("{src}", "a.jpg"),
                                      "content/news/a.jpg": jpeg(700, 500), "content/news/b.jpg": jpeg(500, 700)})
    monkeypatch.setattr(session, "RACY_SECONDS", -1.0)  # so the memos are used, not skipped as just written
    memory = IncrementalSession(MemoryStore())
    for src in ("a.jpg", "b.jpg", "a.jpg"):  # the body's refs memo is keyed by its text: each edit finds the new photo
        (project.content / "news/photo-post.md").write_text(post.replace("{src}", src), encoding="utf-8")
        build(project, NOW)
        _, cached = build_site(project, NOW, session=memory)
        memory.store.commit()
        _, plain = build_site(project, NOW, session=PlainSession())
        on_disk = {path: (project.output / path).read_bytes() for path in plain.files}
        assert cached.files == plain.files == on_disk, src
        assert f"{src[0]}." in untag(plain.files["news/photo-post/index.html"].decode()).split("srcset=")[1]
