"""Faults a hostile run found in reading and validating content (issue 17): each is a message, never a traceback."""

from __future__ import annotations

import builtins
import errno
import os
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, NOW, build_errors, eject, make_project


def overlay(project, case: str) -> None:
    """Copy an invalid fixture's files over a project."""
    source = FIXTURES / "invalid" / case
    for file in source.rglob("*"):
        if file.is_file() and file.name != "expected.txt":
            target = project.root / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)


def test_one_run_reports_every_problem_of_every_file(tmp_path):
    """Cross-references (ties, sources, links in the text), markup and catalogue problems are reported
    in the same run as files that do not load; links to a file that did not load are not reported twice."""
    project = make_project(tmp_path)
    overlay(project, "every-problem-in-one-run")
    (project.content / "news" / "script.md").write_text(
        "---\ntitle: S\nslug: script\ndate: 2011-12-16\nauthor: A\n---\n\n<script>alert(1)</script>\n", encoding="utf-8")
    catalogue = project.templates / "translations" / "ru.po"  # the site's own wording of "News": left empty
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + '\nmsgid "News"\nmsgstr ""\n', encoding="utf-8")
    errors = build_errors(project)
    expected = (FIXTURES / "invalid" / "every-problem-in-one-run" / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert len(errors) == len(expected) + 2, "\n".join(errors)
    for line, error in zip(expected, [e for e in errors if not e.startswith(("templates/", "content/news/script.md"))]):
        assert error == line, (line, error)
    assert any(e.startswith("content/news/script.md:8: body: ") for e in errors), errors
    assert any(e.startswith('templates/translations/ru.po:') and '"News" has no Russian translation yet' in e for e in errors), errors


def run_cli(project, capsys) -> str:
    """Build with the command line; return stderr after checking it failed without a traceback."""
    from placard.cli import main

    assert main(["--root", str(project.root), "--now", NOW.isoformat()]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "could not write the site" not in err and str(project.root) not in err, err
    return err


def test_links_loops_and_pipes_in_content_are_reported_never_skipped(tmp_path, capsys):
    project = make_project(tmp_path)
    news = project.content / "news"
    os.symlink("loop.md", news / "loop.md")
    os.symlink("nothing.md", news / "dangling.md")
    os.mkfifo(news / "pipe.md")  # never opened: a read would wait for a writer forever
    os.symlink(project.content / "pages", news / "more")
    err = run_cli(project, capsys)
    assert err.splitlines() == [
        "content/news/dangling.md: cannot be read: it is a symbolic link to 'nothing.md', which does not exist; replace it with the real file",
        "content/news/loop.md: cannot be read: it is a symbolic link that leads back to itself (a loop); replace it with the real file",
        "content/news/more: is a link to a folder; placard does not follow links to folders (they could pull in files from anywhere); copy the folder here instead of linking to it",
        "content/news/pipe.md: is a named pipe, not a file; this folder holds only files and folders, so remove it",
        "Build failed: 4 problems. output/ was not changed.",
    ]


def test_links_loops_and_pipes_in_static_are_reported(tmp_path):
    project = make_project(tmp_path)
    os.symlink("loop.css", project.static / "loop.css")
    os.mkfifo(project.static / "pipe.css")
    os.symlink(project.templates, project.static / "linked")
    assert build_errors(project) == [
        "static/linked: is a link to a folder; placard does not follow links to folders (they could pull in files from anywhere); copy the folder here instead of linking to it",
        "static/loop.css: cannot be read: it is a symbolic link that leads back to itself (a loop); replace it with the real file",
        "static/pipe.css: is a named pipe, not a file; this folder holds only files and folders, so remove it",
    ]


def refuse(monkeypatch, module, name: str, denied) -> None:
    """Make `module.name` (a read: open, os.scandir) fail with 'Permission denied' for one path,
    as chmod 000 would for anyone but root (the tests run as root in CI)."""
    real = getattr(module, name, None) or getattr(builtins, name)

    def read(path, *args, **kwargs):
        if str(path) == str(denied):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, name, read, raising=False)


def test_an_unreadable_content_file_says_cannot_be_read_with_its_project_path(tmp_path, capsys, monkeypatch):
    import placard.content

    project = make_project(tmp_path)
    refuse(monkeypatch, placard.content, "open", project.content / "news" / "first-post.md")
    err = run_cli(project, capsys)
    lines = err.splitlines()
    assert "content/news/first-post.md: cannot be read: Permission denied; make the file readable (check its permissions and owner)" in lines
    assert "content/events/demo-ru.md: posts: no published post has slug 'first-post' (unless it is in content/news/first-post.md, whose slug could not be read)" in lines


def refuse_reading(monkeypatch, target: Path) -> None:
    """Path.read_bytes of `target` fails as an unreadable file's does (the suite runs as root, whom chmod does not stop)."""
    real = Path.read_bytes

    def read_bytes(self):
        if self == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


def test_an_unreadable_static_file_says_cannot_be_read(tmp_path, monkeypatch):
    project = make_project(tmp_path)
    eject(project, "static/style.css")  # the site's own stylesheet
    refuse_reading(monkeypatch, project.static / "style.css")
    errors = build_errors(project)
    assert "static/style.css: cannot be read: Permission denied; make the file readable (check its permissions and owner)" in errors, errors


def test_an_unreadable_folder_is_an_error_not_an_empty_folder(tmp_path, monkeypatch):
    import placard.content

    project = make_project(tmp_path)
    refuse(monkeypatch, placard.content.os, "scandir", project.content / "links")
    errors = build_errors(project)
    assert "content/links: this folder cannot be read: Permission denied; make it readable (check its permissions) or move it out" in errors, errors


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions; the monkeypatched test above covers root")
def test_a_file_without_read_permission_cannot_be_read(tmp_path, capsys):
    project = make_project(tmp_path)
    file = project.content / "news" / "first-post.md"
    file.chmod(0)
    try:
        err = run_cli(project, capsys)
    finally:
        file.chmod(0o644)
    assert "content/news/first-post.md: cannot be read: Permission denied" in err


LINKS_TO_SCHEDULED = {"content/pages/about.md": """\
    ---
    title: About
    slug: about
    menu: 1
    ---

    About the [news](section:news) and [the coming post](post:scheduled-post#top).
    """}


def test_a_link_to_a_scheduled_post_is_plain_text_until_it_is_published(tmp_path, capsys):
    """The README's `build.py --now 2011-12-20T09:00:00+00:00` failed on the seed site: About links to a later post."""
    from placard.cli import main

    project = make_project(tmp_path, LINKS_TO_SCHEDULED)
    assert main(["--root", str(project.root), "--now", NOW.isoformat()]) == 0
    out = capsys.readouterr().out
    assert ("  Note: content/pages/about.md:7: the link 'post:scheduled-post#top' is shown as plain text until "
            "content/news/future-post.md is published (scheduled for 2030-01-01T00:00+00:00)") in out, out
    page = (project.output / "about" / "index.html").read_text(encoding="utf-8")
    assert "and the coming post.</p>" in page and "scheduled-post" not in page


def test_a_page_linking_to_a_scheduled_post_renders_again_when_it_is_published(tmp_path):
    from datetime import timedelta

    from conftest import snapshot
    from placard.pipeline import build

    later = NOW.replace(year=2030) + timedelta(days=60)
    warm = make_project(tmp_path / "warm", LINKS_TO_SCHEDULED)
    build(warm, NOW)
    report = build(warm, later)  # incremental: the cache kept About from the first build
    assert not report.notes or not any("plain text" in note for note in report.notes)
    page = (warm.output / "about" / "index.html").read_text(encoding="utf-8")
    assert 'and <a href="../news/scheduled-post/#top">the coming post</a>.</p>' in page
    cold = make_project(tmp_path / "cold", LINKS_TO_SCHEDULED)
    build(cold, later, use_cache=False)
    assert snapshot(warm.output) == snapshot(cold.output)


def test_a_link_to_an_item_that_does_not_exist_still_says_check_the_slug(tmp_path):
    project = make_project(tmp_path, {"content/pages/about.md": LINKS_TO_SCHEDULED["content/pages/about.md"].replace("post:scheduled-post", "post:schedule-post")})
    assert build_errors(project) == ["content/pages/about.md:7: body: the link 'post:schedule-post#top' points to no published post with slug 'schedule-post'; check the slug"]


TAGGED = {"content/news/tagged.md": """\
    ---
    title: Tagged
    slug: tagged
    date: 2011-12-17
    author: A
    tags:
      - Әділет
      - Забастовка нефтяников
      - Москва
    ---

    Text.
    """}


def test_tag_slugs_spell_out_kazakh_and_russian_letters_and_old_addresses_redirect(tmp_path):
    from html.parser import HTMLParser

    from placard.pipeline import build
    from placard.urls import tag_slug

    assert tag_slug("Әділет") == "adilet" and tag_slug("Забастовка нефтяников") == "zabastovka-neftyanikov"
    project = make_project(tmp_path, TAGGED)
    build(project, NOW)
    out = project.output
    assert "Әділет" in (out / "tags" / "adilet" / "index.html").read_text(encoding="utf-8")
    assert (out / "tags" / "zabastovka-neftyanikov" / "index.html").is_file()
    redirect = (out / "tags" / "dilet" / "index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=../adilet/">' in redirect
    assert '<a href="../adilet/">Әділет</a>' in redirect
    assert '<link rel="canonical" href="https://example.org/campaign/tags/adilet/">' in redirect
    assert 'url=../zabastovka-neftyanikov/' in (out / "tags" / "zabastovka-neftianikov" / "index.html").read_text(encoding="utf-8")
    assert "http-equiv=\"refresh\"" not in (out / "tags" / "moskva" / "index.html").read_text(encoding="utf-8")  # same slug: the real page

    class Links(HTMLParser):
        targets: list = []

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.targets.append(dict(attrs)["href"])

    parser = Links()
    parser.feed(redirect)
    assert [(out / "tags" / "dilet" / href / "index.html").resolve().is_file() for href in parser.targets] == [True]
    from placard.check import check_site

    findings, _weights = check_site(out, False, label="output")
    assert not [f for f in map(str, findings) if "dilet" in f or "neftianikov" in f], findings


def test_a_redirect_never_replaces_a_real_page(tmp_path):
    """A tag whose new slug is another tag's old one: the real page stays."""
    from placard.pipeline import build

    files = {"content/news/tagged.md": TAGGED["content/news/tagged.md"].replace("  - Москва", "  - dilet")}
    project = make_project(tmp_path, files)
    build(project, NOW)
    page = (project.output / "tags" / "dilet" / "index.html").read_text(encoding="utf-8")
    assert "http-equiv=\"refresh\"" not in page and "<h1" in page


def test_the_archive_name_uses_the_project_slug():
    from datetime import datetime, timezone

    from placard.archive import archive_name

    assert archive_name("Әділет үшін", datetime(2026, 11, 26, tzinfo=timezone.utc)) == "adilet-ushin-2026-11-26"
    assert archive_name("!!!", datetime(2026, 11, 26, tzinfo=timezone.utc)) == "site-2026-11-26"


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>SecretXMP 43.34N</rdf:RDF></x:xmpmeta>'


def spy_exif():
    """EXIF with a camera, a serial number and a GPS position."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0xA431] = "SERIAL123"  # BodySerialNumber
    exif.get_ifd(0x8825).update({1: "N", 2: (43.0, 20.0, 30.0), 3: "E", 4: (52.0, 51.0, 0.0)})
    return exif


def image_bytes(fmt: str, **options) -> bytes:
    import io

    from PIL import Image, ImageCms

    buffer = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    if fmt in ("WEBP", "JPEG", "PNG"):
        options.setdefault("icc_profile", ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    frames[0].save(buffer, fmt, **options)
    return buffer.getvalue()


def gif_with_xmp() -> bytes:
    """An animated, looping GIF with a comment and an XMP application block (GIF89a section 26)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    first, second = Image.new("P", (8, 8), 1), Image.new("P", (8, 8), 2)
    first.save(buffer, "GIF", save_all=True, append_images=[second], loop=0, comment=b"SpyCam SERIAL123")
    data = buffer.getvalue()
    xmp = b"\x21\xff\x0bXMP DataXMP" + bytes([len(XMP)]) + XMP + b"\x00"
    return data[:-1] + xmp + b"\x3b"


def test_published_images_carry_no_exif_gps_or_xmp_in_any_format(tmp_path):
    import io

    from PIL import Image, PngImagePlugin

    from placard.pipeline import build

    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "43.34N 52.85E")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    images = {
        "photo.jpg": image_bytes("JPEG", exif=spy_exif(), comment=b"SpyCam SERIAL123"),
        "drawing.png": image_bytes("PNG", exif=spy_exif(), pnginfo=text),
        "lossless.webp": image_bytes("WEBP", exif=spy_exif(), xmp=XMP, lossless=True),
        "lossy.webp": image_bytes("WEBP", exif=spy_exif(), xmp=XMP),
        "moving.gif": gif_with_xmp(),
    }
    for name, data in images.items():
        assert b"SpyCam" in data or b"SecretXMP" in data, name  # what the test removes is there to begin with
    project = make_project(tmp_path, {f"content/news/{name}": data for name, data in images.items()})
    build(project, NOW)
    for name, original in images.items():
        published = (project.output / "news" / name).read_bytes()
        assert b"SpyCam" not in published and b"SERIAL123" not in published and b"SecretXMP" not in published and b"43.34N" not in published, name
        with Image.open(io.BytesIO(published)) as image, Image.open(io.BytesIO(original)) as before:
            assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info and "XML:com.adobe.xmp" not in image.info, (name, image.info)
            assert "comment" not in image.info and "Location" not in image.info, name
            assert image.info.get("icc_profile") == before.info.get("icc_profile"), name  # colours, not people: kept
            assert getattr(image, "n_frames", 1) == getattr(before, "n_frames", 1) and image.info.get("loop") == before.info.get("loop"), name
            assert image.convert("RGB").tobytes() == before.convert("RGB").tobytes(), name


def test_image_formats_placard_cannot_clean_are_refused_naming_the_file(tmp_path):
    advice = ("placard cannot remove the metadata in it (camera, time, GPS position); open it in an image editor "
              "and export it as JPEG (photos) or PNG (drawings, screenshots)")
    files = {
        "content/news/scan.tiff": image_bytes("TIFF", exif=spy_exif()),
        "content/news/phone.heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
        "content/news/phone.jpg": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64,  # the name does not decide
        "content/news/logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"><metadata><rdf:RDF>Author</rdf:RDF></metadata></svg>',
        "content/news/plain.svg": '<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>',
    }
    project = make_project(tmp_path, files)
    assert build_errors(project) == [
        "content/news/logo.svg: this SVG has a <metadata> block (often the author's name and the file's history); remove it, or save the drawing as 'Plain SVG' or 'Optimized SVG' in Inkscape",
        f"content/news/phone.heic: this image is in HEIC/HEIF format; {advice}",
        f"content/news/phone.jpg: this image is in AVIF format; {advice}",
        f"content/news/scan.tiff: this image is in TIFF format; {advice}",
    ]


def test_photos_in_static_are_published_without_their_metadata_too(tmp_path):
    from placard.pipeline import build

    project = make_project(tmp_path, {"static/banner.webp": image_bytes("WEBP", exif=spy_exif(), xmp=XMP)})
    build(project, NOW)
    published = (project.output / "banner.webp").read_bytes()
    assert b"SpyCam" not in published and b"SecretXMP" not in published
    assert (project.output / "share.png").read_bytes() == (project.static / "share.png").read_bytes()  # nothing to remove


def test_an_unreadable_site_yml_says_cannot_be_read(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path)
    refuse_reading(monkeypatch, project.config_file)
    err = run_cli(project, capsys)
    assert err.splitlines()[0] == "site.yml: cannot be read: Permission denied; make the file readable (check its permissions and owner)"
