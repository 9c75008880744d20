"""The campaign's marks (placard/identity.py): the logo checked and measured where site.yml is read, shown
with its size in every header, and the icons drawn from the logo or the name on the accent colour."""

from __future__ import annotations

import io

import pytest
from conftest import NOW, build_errors, make_project
from PIL import Image

from placard.identity import draw_icon, read_logo
from placard.pipeline import build_site

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 60"><title>Logo</title><rect width="200" height="60" fill="#a4161a"/></svg>'


def png(width: int, height: int, colour="#1d4e89") -> bytes:
    """A plain PNG of that size."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_svg_logo_is_measured_from_its_viewbox_and_a_png_from_its_pixels(tmp_path):
    (tmp_path / "logo.svg").write_bytes(SVG)
    (tmp_path / "logo.png").write_bytes(png(300, 100))
    assert (read_logo(tmp_path, "logo.svg").width, read_logo(tmp_path, "logo.svg").height) == (200, 60)
    assert (read_logo(tmp_path, "logo.png").width, read_logo(tmp_path, "logo.png").height) == (300, 100)


@pytest.mark.parametrize("svg, message", [
    (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script></svg>', "contains <script>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" onload="alert(1)"/>', "has the attribute onload="),
    (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><foreignObject/></svg>', "contains <foreignObject>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 1 1"><use x:href="https://e.org/a.svg#b"/></svg>',
     "links to 'https://e.org/a.svg#b'"),
    (b'<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>', "declares a DOCTYPE"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "add a viewBox"),
    (b"<svg", "is not a well-formed SVG file"),
])
def test_an_svg_logo_that_could_run_or_load_anything_is_refused(tmp_path, svg, message):
    # The logo is also a page at its own address, where a script in it would run as the site
    (tmp_path / "logo.svg").write_bytes(svg)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("?", r"\?")):
        read_logo(tmp_path, "logo.svg")


def test_a_logo_setting_naming_a_missing_or_wrong_file_stops_the_build_at_its_line(tmp_path):
    project = make_project(tmp_path, {"static/logo.png": b"GIF89a not a png"})
    site_yml = project.root / "site.yml"
    site_yml.write_text(site_yml.read_text() + "logo: logo.png\n")
    line = site_yml.read_text().count("\n")
    assert build_errors(project) == [f"site.yml:{line}: logo: static/logo.png cannot be read as a PNG image; save it again from your drawing program"]
    site_yml.write_text(site_yml.read_text().replace("logo: logo.png", "logo: missing.svg"))
    assert build_errors(project) == [f"site.yml:{line}: logo: there is no file static/missing.svg; put the logo there, or remove this line for the name in letters"]
    site_yml.write_text(site_yml.read_text().replace("logo: missing.svg", "logo: ../secret.png"))
    assert "must be the name of a file in static/ ending in .svg or .png" in build_errors(project)[0]


def test_the_logo_is_in_every_header_with_its_size_and_the_icons_are_drawn_from_it(tmp_path):
    project = make_project(tmp_path, {"static/logo.png": png(300, 100, "#123456")})
    site_yml = project.root / "site.yml"
    site_yml.write_text(site_yml.read_text() + "logo: logo.png\n")
    output = build_site(project, NOW)[1]
    home = output.files["index.html"].decode()
    assert '<img class="logo" src="logo.png" alt="" width="300" height="100"><span class="wordmark">Test campaign</span>' in home
    assert '<link rel="apple-touch-icon" href="apple-touch-icon.png">' in home
    icon = Image.open(io.BytesIO(output.files["apple-touch-icon.png"]))
    assert icon.size == (180, 180) and icon.convert("RGB").getpixel((90, 90)) == (0x12, 0x34, 0x56)  # the logo, fitted
    assert Image.open(io.BytesIO(output.files["favicon.png"])).size == (32, 32)


def test_without_a_logo_the_icon_is_the_names_first_letter_on_the_accent_colour(tmp_path):
    project = make_project(tmp_path)
    assert 'accent_colour: "#1d4e89"' in (project.root / "site.yml").read_text()  # the fixture's colour
    output = build_site(project, NOW)[1]
    icon = Image.open(io.BytesIO(output.files["apple-touch-icon.png"])).convert("RGB")
    assert icon.getpixel((4, 4)) == (0x1d, 0x4e, 0x89)  # the accent
    assert (255, 255, 255) in [icon.getpixel((x, 90)) for x in range(40, 140)]  # the letter "T", in white
    assert icon.tobytes() != Image.open(io.BytesIO(draw_icon(180, "Other name", "#1d4e89"))).convert("RGB").tobytes()
    page_404 = output.files["404.html"].decode()
    assert '<link rel="icon" type="image/png" sizes="32x32" href="data:image/png;base64,' in page_404


def test_a_sites_own_icon_files_win_over_drawn_ones(tmp_path):
    own = png(32, 32, "#00ff00")
    output = build_site(make_project(tmp_path, {"static/favicon.png": own}), NOW)[1]
    assert output.files["favicon.png"] == own
    assert output.files["apple-touch-icon.png"] != own  # still drawn: the site has no 180 px icon of its own
