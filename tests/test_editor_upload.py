"""Photos uploaded through the preview's form: checked as the build checks photos (format, size limit, damage,
decompression bombs), written next to the item without their metadata, never over another file, undone by
"Undo last save"; refused (nothing written) when bad, cross-origin or without the token."""

from __future__ import annotations

import base64
import http.client
import io
import re
import uuid
from urllib.parse import urlencode

import pytest
from conftest import NOW
from PIL import Image
from test_editor import WHEN, preview, request  # noqa: F401 (the preview server fixture)

from placard.editor import check_upload, markdown_image, photo_stem
from placard.pipeline import build_site

GPS, MAKE, ARTIST = 0x8825, 0x010F, 0x013B


def photo_with_exif(size=(640, 480), fmt="JPEG") -> bytes:
    """A photo carrying a camera make, an owner's name and a GPS position, as phones write them."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "SpyCam"
    exif[ARTIST] = "Jane Campaigner"
    exif.get_ifd(GPS).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) as a browser sends a form with a file."""
    boundary = "----placard" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, kind) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(port: int, fields: dict, filename: str, data: bytes, headers: dict | None = None, kind: str = "image/jpeg") -> tuple[int, str]:
    body, content_type = multipart(fields, {"__upload": (filename, data, kind)})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/__placard__/save", body, {"Host": f"127.0.0.1:{port}", "Content-Type": content_type,
                                                            "Origin": f"http://127.0.0.1:{port}", **(headers or {})})
    response = connection.getresponse()
    return response.status, response.read().decode()


def post_form(project, site, rel="content/news/first-post.md", action="upload:body", alt="Police lines across the square") -> dict:
    """The edit form of a post as the browser sends it, asking to upload."""
    from placard.documents import decode_bytes

    editor = site.editor
    kind, text, source, values = editor.open_file(rel)
    base = (project.root / rel).read_bytes()
    form = {"__token": editor.token, "__kind": kind, "__file": rel, "__base": base64.b64encode(base).decode(),
            "__action": action, "__upload_alt": alt, "__body": source.body}
    for key, value in values.items():
        if isinstance(value, str) and value:
            form[key] = value
    assert decode_bytes(base)
    return form


def content_files(project) -> dict[str, bytes]:
    return {path.relative_to(project.root).as_posix(): path.read_bytes() for path in sorted(project.content.rglob("*")) if path.is_file()}


def body_of(page: str) -> str:
    return re.search(r'<textarea id="f-body-text" name="__body"[^>]*>\n(.*?)</textarea>', page, re.S).group(1)


def test_a_photo_lands_next_to_the_post_without_its_metadata_and_the_built_page_shows_it(preview):
    project, port, site = preview
    original = photo_with_exif()
    assert b"SpyCam" in original and Image.open(io.BytesIO(original)).getexif().get(MAKE) == "SpyCam"
    status, page = upload(port, post_form(project, site), "IMG 0042.JPG", original)
    assert status == 200, page
    written = project.content / "news" / "img-0042.jpg"
    data = written.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert dict(image.getexif()) == {} and image.size == (640, 480)  # no EXIF at all, nor its GPS block
    assert b"SpyCam" not in data and b"Jane Campaigner" not in data
    assert "Saved as content/news/img-0042.jpg, without its metadata" in page and 'role="status"' in page
    body = body_of(page)
    assert body.endswith("\n\n![Police lines across the square](img-0042.jpg)\n")
    assert not (project.content / "news" / "first-post.md").read_bytes().count(b"img-0042")  # nothing else written yet
    # then saving the form (as the browser would, with the new body) publishes it
    form = {**post_form(project, site), "__action": "save", "__body": body.replace("&#34;", '"')}
    assert request(port, "POST", "/__placard__/save", form, {"Origin": f"http://127.0.0.1:{port}"})[0] == 303
    _, output = build_site(project, NOW, preview=True)
    html = output.read("news/first-post/index.html").decode()
    assert re.search(r'<picture><source type="image/(avif|webp)" srcset="[^"]*img-0042\.[0-9a-f]{8}\.480w', html)
    assert 'alt="Police lines across the square"' in html


def test_a_taken_name_gives_the_photo_a_free_one_and_says_so_and_undo_removes_it(preview):
    project, port, site = preview
    (project.content / "news" / "banner.jpg").write_bytes(b"not touched")
    status, page = upload(port, post_form(project, site), "banner.jpg", photo_with_exif())
    assert status == 200
    assert (project.content / "news" / "banner.jpg").read_bytes() == b"not touched"
    assert (project.content / "news" / "banner-2.jpg").exists()
    assert "The name banner.jpg was taken, so the photo got another name." in page and "![Police lines across the square](banner-2.jpg)" in page
    status, _ = request(port, "POST", "/__placard__/undo", {"__token": site.editor.token}, {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 303 and not (project.content / "news" / "banner-2.jpg").exists()
    assert (project.content / "news" / "banner.jpg").read_bytes() == b"not touched"


def test_a_photo_as_the_lead_image_fills_image_src_and_alt_and_saves_in_the_readmes_format(preview):
    project, port, site = preview
    status, page = upload(port, post_form(project, site, action="upload:image", alt="The square at night"), "square.png",
                          photo_with_exif(fmt="PNG"), kind="image/png")
    assert status == 200 and (project.content / "news" / "square.png").exists()
    assert 'name="image.src" value="square.png"' in page and 'name="image.alt" value="The square at night"' in page
    form = {**post_form(project, site, action="save"), "image.src": "square.png", "image.alt": "The square at night"}
    assert request(port, "POST", "/__placard__/save", form, {"Origin": f"http://127.0.0.1:{port}"})[0] == 303
    text = (project.content / "news" / "first-post.md").read_text(encoding="utf-8")
    assert "\nimage:\n  src: square.png\n  alt: The square at night\n" in text
    # and a later save of the form keeps it (before, `image:` was shown as an empty text box and dropped)
    editor = site.editor
    kind, original, source, values = editor.open_file("content/news/first-post.md")
    assert values["image"] == {"src": "square.png", "alt": "The square at night"}
    values["summary"] = "Changed."
    _, new, problems = editor.prepare(kind, "content/news/first-post.md", values, source.body, original)
    assert problems == [] and "\nimage:\n  src: square.png\n  alt: The square at night\n" in new
    _, output = build_site(project, NOW, preview=True)
    assert 'class="lead-image"><picture>' in output.read("news/first-post/index.html").decode()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>fetch('/__placard__/save')</script></body></html>"


@pytest.mark.parametrize("name, data, message", [
    ("square.jpg", photo_with_exif()[:3000], "&#39;square.jpg&#39; is damaged ("),
    ("huge.jpg", None, "&#39;huge.jpg&#39; is 1.2 MB, over the 1 MB limit for images (max_image_mb in site.yml)"),
    ("drawing.svg", SVG, "&#39;drawing.svg&#39; is not a JPEG, PNG or WebP photo; export it as JPEG (photos) or PNG (drawings)"),
    ("page.html", HTML, "&#39;page.html&#39; is not a JPEG, PNG or WebP photo"),
    ("photo.jpg", HTML, "&#39;photo.jpg&#39; is not an image (its content is not JPEG, whatever its name says)"),
    ("empty.jpg", b"", "Choose a photo file first; nothing was uploaded."),
], ids=["corrupt", "oversized", "svg-with-script", "html", "html-named-jpg", "empty"])
def test_a_bad_file_is_refused_with_the_builds_words_and_nothing_is_written(preview, name, data, message):
    project, port, site = preview
    with open(project.root / "site.yml", "a", encoding="utf-8") as handle:
        handle.write("max_image_mb: 1\n")
    if data is None:  # random pixels do not compress: a real photo's size
        import os
        data = photo_with_exif()[:-2] + os.urandom(1_200_000) + b"\xff\xd9"
    before = content_files(project)
    status, page = upload(port, post_form(project, site), name, data)
    assert status == 422 and 'role="alert"' in page and "The photo was not added" in page
    assert message in page, re.search(r'id="upload-status".*?</div>', page, re.S).group(0)
    assert content_files(project) == before and site.editor.saves == []
    assert 'value="Police lines across the square"' in page  # the alt text typed is kept


def test_an_upload_without_alt_text_is_refused(preview):
    project, port, site = preview
    before = content_files(project)
    status, page = upload(port, post_form(project, site, alt="  "), "square.jpg", photo_with_exif())
    assert status == 422 and "Say in a few words what the photo shows" in page and content_files(project) == before


@pytest.mark.parametrize("change", ["no-token", "wrong-token", "cross-origin", "foreign-host"])
def test_an_upload_from_another_origin_or_without_the_token_writes_nothing(preview, change):
    project, port, site = preview
    form = post_form(project, site)
    headers = {}
    if change == "no-token":
        del form["__token"]
    elif change == "wrong-token":
        form["__token"] = "x" * 43
    elif change == "cross-origin":
        headers = {"Origin": "https://evil.example"}
    else:
        headers = {"Host": f"evil.example:{port}"}
    before = content_files(project)
    status, page = upload(port, form, "square.jpg", photo_with_exif(), headers)
    assert status == 403 and page.startswith("Refused: ") and content_files(project) == before
    assert site.editor.saves == []


def test_the_checks_alone():
    suffix, data = check_upload("Фото.JPEG", photo_with_exif(), 25_000_000)
    assert suffix == ".jpg" and b"SpyCam" not in data
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, format="PNG")
    assert check_upload("named-wrong.jpg", png.getvalue(), 25_000_000)[0] == ".png"  # named by what it is
    assert photo_stem("Фото митинга.JPEG", "first-post") == "foto-mitinga" and photo_stem("!!!.jpg", "first-post") == "first-post"
    assert markdown_image("A [big]\nbanner", "a.jpg") == r"![A \[big\] banner](a.jpg)"


def test_the_form_has_a_labelled_upload_with_a_status_region(preview):
    project, port, site = preview
    _, page = request(port, "GET", "/__placard__/edit?" + urlencode({"file": "content/news/first-post.md", "lang": "ru"}))
    assert 'enctype="multipart/form-data"' in page
    assert '<label for="f-upload-file">' in page and 'id="f-upload-file" name="__upload"' in page
    assert 'id="upload-status"' in page and 'aria-live="polite"' in page
    assert 'value="upload:image"' in page  # posts have a lead image
    _, page = request(port, "GET", "/__placard__/new/page")
    assert 'value="upload:body"' in page and 'value="upload:image"' not in page  # pages have none


def test_the_forms_previews_show_a_photo_from_content_only_with_the_token(preview):
    project, port, site = preview
    (project.content / "news" / "square.jpg").write_bytes(photo_with_exif())
    token = site.editor.token
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(query: dict) -> tuple[int, dict, bytes]:
        connection.request("GET", "/__placard__/photo?" + urlencode(query), headers={"Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()

    status, headers, data = get({"file": "content/news/square.jpg", "token": token})
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert data == (project.content / "news" / "square.jpg").read_bytes()
    assert get({"file": "content/news/square.jpg"})[0] == 403  # another website cannot even learn a photo's size
    assert get({"file": "content/news/first-post.md", "token": token})[0] == 404  # photos only
    assert get({"file": "content/../site.yml", "token": token})[0] == 404
    assert get({"file": "content/news/missing.jpg", "token": token})[0] == 404
    # the lead photo's own preview in the form
    text = (project.content / "news" / "first-post.md").read_text(encoding="utf-8").replace(
        "slug: first-post\n", "slug: first-post\nimage:\n  src: square.jpg\n  alt: The square\n")
    (project.content / "news" / "first-post.md").write_text(text, encoding="utf-8")
    _, page = request(port, "GET", "/__placard__/edit?" + urlencode({"file": "content/news/first-post.md"}))
    assert f'<img class="lead-preview" src="/__placard__/photo?file=content%2Fnews%2Fsquare.jpg&amp;token={token}" alt="The square">' in page


def test_saving_with_a_photo_chosen_but_not_uploaded_says_so_and_writes_nothing(preview):
    project, port, site = preview
    before = content_files(project)
    form = {**post_form(project, site, action="save"), "summary": "Changed."}
    status, page = upload(port, form, "square.jpg", photo_with_exif())
    assert status == 422 and "A photo was chosen but not uploaded, so nothing was saved" in page
    assert 'value="Changed."' in page and content_files(project) == before  # nothing typed is lost, nothing written
    body, content_type = multipart(form, {"__upload": ("", b"", "application/octet-stream")})  # no file chosen: saves
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/__placard__/save", body, {"Host": f"127.0.0.1:{port}", "Content-Type": content_type,
                                                            "Origin": f"http://127.0.0.1:{port}"})
    assert connection.getresponse().status == 303
    assert "summary: Changed." in (project.content / "news" / "first-post.md").read_text(encoding="utf-8")


def test_a_new_items_photo_goes_into_its_kinds_folder_named_after_the_slug_when_its_name_has_no_letters(preview):
    project, port, site = preview
    form = {"__token": site.editor.token, "__kind": "event", "__file": "", "__base": "", "__action": "upload:image",
            "__upload_alt": "The square", "title": "Vigil", "slug": "vigil", "__body": ""}
    status, page = upload(port, form, "%%%.jpg", photo_with_exif())
    assert status == 200 and (project.content / "events" / "vigil.jpg").exists()
    assert 'name="image.src" value="vigil.jpg"' in page and 'name="__file" value=""' in page  # still a new event's form
