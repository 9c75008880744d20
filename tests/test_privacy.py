"""Private by construction: CSP, referrer policy, outbound rel, embeds refused, alt required, EXIF stripped."""

from __future__ import annotations

import base64
import hashlib
import io
import re

from conftest import NOW, SITE_YML, build_errors, make_project
from PIL import Image
from test_derivatives import untag

from placard.images import ImageError, strip_jpeg, strip_metadata
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


def build_pages(project) -> dict[str, str]:
    _, output = build_site(project, NOW)
    return {path: data.decode() for path, data in output.files.items() if path.endswith(".html")}


def test_every_page_has_a_strict_csp_and_no_referrer(project):
    for path, html in build_pages(project).items():
        csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
        assert csp, path
        policy = csp.group(1).replace("&#39;", "'")
        assert policy.startswith("default-src 'none';") and "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert '<meta name="referrer" content="no-referrer">' in html, path
        for script in re.findall(r"<script\b[^>]*>", html):  # first-party files only, never inline code
            assert (re.fullmatch(r'<script src="(\.\./)*[a-z-]+\.js" defer>', script) or 'type="application/ld+json"' in script
                    # the one script that runs before the first paint (static/early.js), with the build's event ends
                    or re.fullmatch(r'<script src="(\.\./)*early\.js"( data-ends="[0-9T:+ -]+")?>', script)), (path, script)


def test_outbound_links_get_noopener_noreferrer(project):
    html = build_pages(project)["links/index.html"]
    assert '<a href="https://example.org/report" rel="noopener noreferrer">' in html
    assert not re.search(r'<a (?![^>]*rel=)[^>]*href="https?://', html)


def test_404_inlines_its_css_allowed_by_hash_and_links_from_the_hosts_root(project):
    html = build_pages(project)["404.html"]
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src &#39;sha256-{digest}&#39;" in html
    assert 'rel="stylesheet"' not in html
    hrefs = re.findall(r'<a [^>]*href="([^"]+)"', html)
    # base_url's path, never its host: a mirror's visitor stays on the mirror
    assert hrefs and all(h.startswith(("/campaign/", "#")) for h in hrefs), hrefs


def test_external_image_in_markdown_fails_with_file_line_and_advice(tmp_path):
    project = make_project(tmp_path, {"content/news/photo-post.md": POST.format(body="![Police lines](https://example.com/p.jpg)")})
    errors = build_errors(project)
    assert len(errors) == 1
    assert errors[0].startswith("content/news/photo-post.md:10: body: embeds an image from another site (https://example.com/p.jpg)")
    assert "Download the file into content/" in errors[0]


def test_reference_style_and_raw_html_embeds_fail_too(tmp_path):
    body = "![Square][sq]\n\n<iframe src=\"https://video.example/embed/1\" title=\"v\"></iframe>\n\n[sq]: https://example.com/square.jpg"
    project = make_project(tmp_path, {"content/news/photo-post.md": POST.format(body=body)})
    errors = build_errors(project)
    assert any(e.startswith("content/news/photo-post.md:14: body: embeds an image from another site (https://example.com/square.jpg)") for e in errors), errors
    assert any(e.startswith("content/news/photo-post.md:12: body: embeds a <iframe src> reference") for e in errors), errors


def test_image_without_alt_fails_unless_marked_decorative(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![](square.jpg)\n\n![](rule.png){.decorative}"),
             "content/news/square.jpg": b"\xff\xd8\xff\xd9", "content/news/rule.png": b"not really"}
    errors = build_errors(make_project(tmp_path, files))
    assert errors == ["content/news/photo-post.md:10: body: the image 'square.jpg' has no alt text; describe it: "
                      "![Police lines in the square](square.jpg), or if it is only decoration write ![](square.jpg){.decorative}"]


def test_images_are_addressed_relative_to_their_markdown_file(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.png)"), "content/news/square.png": png_bytes()}
    project = make_project(tmp_path, files)
    pages = build_pages(project)
    assert '<img src="../square.4w.png" srcset="../square.4w.png 4w"' in untag(pages["news/photo-post/index.html"])


def png_bytes(**info) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (4, 4), "red")
    image.save(buffer, "PNG", **info)
    return buffer.getvalue()


def gps_jpeg(orientation: int | None = None) -> bytes:
    """A JPEG carrying camera, time and GPS EXIF, a comment, and optionally an orientation."""
    image = Image.new("RGB", (32, 16), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0132] = "2011:12:16 11:45:00"  # DateTime
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (43.0, 20.0, 30.0), 3: "E", 4: (52.0, 51.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90, comment=b"shot by someone")
    return buffer.getvalue()


def scan_data(jpeg: bytes) -> bytes:
    return jpeg[jpeg.index(b"\xff\xda"):]


def test_jpeg_gps_and_exif_are_removed_without_recompressing():
    original = gps_jpeg()
    assert b"SpyCam" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    clean = strip_metadata(original)
    assert b"SpyCam" not in clean and b"Exif" not in clean and b"shot by someone" not in clean
    assert scan_data(clean) == scan_data(original)  # the picture itself, byte for byte
    with Image.open(io.BytesIO(clean)) as image:
        assert not image.getexif() and image.size == (32, 16)
        image.load()


def test_orientation_survives_alone():
    clean = strip_jpeg(gps_jpeg(orientation=6))
    exif = Image.open(io.BytesIO(clean)).getexif()
    assert dict(exif) == {0x0112: 6}
    assert not exif.get_ifd(0x8825) and b"SpyCam" not in clean


def test_png_text_and_exif_chunks_are_removed():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "43.34N 52.85E")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    clean = strip_metadata(png_bytes(pnginfo=info, exif=exif))
    assert b"43.34N" not in clean and b"SpyCam" not in clean
    assert Image.open(io.BytesIO(clean)).size == (4, 4)


def test_photos_in_content_are_published_without_gps(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.jpg)"), "content/news/square.jpg": gps_jpeg()}
    project = make_project(tmp_path, files)
    build(project, NOW)
    published = sorted(project.output.glob("news/square*"))
    assert [untag(file.name) for file in published] == ["square.32w.avif", "square.32w.jpg", "square.32w.webp"]  # the original stays out
    for file in published:
        data = file.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            assert b"SpyCam" not in data and not image.getexif() and not image.info.get("exif") and not image.info.get("xmp"), file.name


def test_photos_originals_are_published_without_gps_when_site_yml_asks(tmp_path):
    files = {"content/news/photo-post.md": POST.format(body="![The square](square.jpg)"), "content/news/square.jpg": gps_jpeg(),
             "site.yml": SITE_YML + "publish_originals: true\n"}
    project = make_project(tmp_path, files)
    build(project, NOW)
    published = (project.output / "news/square.jpg").read_bytes()
    assert b"SpyCam" not in published and not Image.open(io.BytesIO(published)).getexif()
    assert len(list((project.output / "news").glob("square.*.32w.webp"))) == 1


def test_a_damaged_jpeg_fails_the_build_naming_it(tmp_path):
    project = make_project(tmp_path, {"content/news/broken.jpg": b"\xff\xd8\xff\xe1\x00\xffshort"})
    errors = build_errors(project)
    assert errors == ["content/news/broken.jpg: this JPEG is damaged (a segment runs past the end); re-save it from an image editor"]


def test_onion_mirror_sets_onion_location_and_mirrors_page(tmp_path):
    yml = SITE_YML + "mirrors:\n  - https://mirror.example.net/zhanaozen/\n  - http://zhanaozenexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxx.onion/\n"
    project = make_project(tmp_path, {"site.yml": yml})
    pages = build_pages(project)
    onion = "http://zhanaozenexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxx.onion/"
    assert f'<meta http-equiv="onion-location" content="{onion}news/first-post/">' in pages["news/first-post/index.html"]
    mirrors = pages["mirrors/index.html"]
    assert "https://mirror.example.net/zhanaozen/" in mirrors and "(Tor Browser only)" in mirrors
    assert 'href="../mirrors/"' in pages["about/index.html"]
    assert "https://mirror.example.net/zhanaozen/" in pages["404.html"]


def test_share_tags_use_absolute_urls_from_base_url(project):
    pages = build_pages(project)
    html = pages["news/first-post/index.html"]
    assert '<meta property="og:image" content="https://example.org/campaign/news/first-post/share.png">' in html  # its own card
    assert '<meta property="og:image" content="https://example.org/campaign/share.png">' in pages["index.html"]  # the site's
    assert '<meta property="og:url" content="https://example.org/campaign/news/first-post/">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:description" content="A summary with &lt;angle&gt; brackets &amp; ampersands.">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    _, output = build_site(project, NOW)
    assert output.files["share.png"].startswith(b"\x89PNG")


def test_strip_jpeg_refuses_garbage():
    try:
        strip_jpeg(b"\xff\xd8garbage")
    except ImageError as exc:
        assert "damaged" in str(exc)
    else:
        raise AssertionError("garbage accepted")
