"""The campaign's marks from site.yml: its logo (checked and measured where site.yml is read, so the
header can give its size and nothing shifts as it loads) and the site's icons, drawn from the logo or
from the name's first letter on the accent colour. Pillow and the theme's font, nothing fetched."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from .models import Logo
from .share_cards import accent_of

FONT = Path(__file__).parent / "theme" / "fonts" / "DejaVuSans-Bold.ttf"
ICON_SIZES = {"favicon.png": 32, "apple-touch-icon.png": 180}  # the tab's icon; a phone's home-screen icon
LOGO_TYPES = (".png", ".svg")
MAX_LOGO_SIDE = 4000

# An SVG logo is also a page of its own at its address, where a script in it would run with the site's
# rights: only drawing elements and presentation attributes are accepted (an allowlist, SVG 1.1 / SVG 2).
SVG_ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "symbol", "use", "metadata",
}
SVG_ATTRIBUTES = {
    "id", "class", "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
    "d", "points", "fill", "fill-opacity", "fill-rule", "clip-rule", "stroke", "stroke-width", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity",
    "transform", "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod",
    "fx", "fy", "font-family", "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline",
    "letter-spacing", "clip-path", "mask", "preserveAspectRatio", "version", "role", "aria-label", "aria-hidden",
    "clipPathUnits", "maskUnits", "maskContentUnits", "dx", "dy", "lang", "display", "visibility",
    "{http://www.w3.org/XML/1998/namespace}space", "{http://www.w3.org/1999/xlink}href", "href",
}
SVG_NS = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


def read_logo(static: Path, name: str) -> Logo:
    """The logo file in static/, checked and measured; ValueError says what is wrong, in plain words."""
    if "/" in name or "\\" in name or name.startswith(".") or not name.lower().endswith(LOGO_TYPES):
        raise ValueError(f"'{name}' must be the name of a file in static/ ending in .svg or .png, e.g. logo.svg")
    file = static / name
    if not file.is_file():
        raise ValueError(f"there is no file static/{name}; put the logo there, or remove this line for the name in letters")
    data = file.read_bytes()
    try:
        width, height = measure_svg(data) if name.lower().endswith(".svg") else measure_png(data)
    except ValueError as exc:
        raise ValueError(f"static/{name} {exc}") from None
    return Logo(name, width, height)


def measure_png(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, refusing anything else under the name."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError(f"is a {image.format} file, not a PNG; save it as PNG or SVG")
            width, height = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValueError("cannot be read as a PNG image; save it again from your drawing program") from None
    if max(width, height) > MAX_LOGO_SIDE:
        raise ValueError(f"is {width}x{height} pixels; a logo needs no more than about 400 pixels wide: make it smaller")
    return width, height


def measure_svg(data: bytes) -> tuple[int, int]:
    """An SVG's size from its width and height or its viewBox, after checking it only draws."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValueError("declares a DOCTYPE or entities; save it as plain SVG (e.g. 'Plain SVG' in Inkscape)")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ValueError(f"is not a well-formed SVG file ({exc}); save it again from your drawing program") from None
    if root.tag != SVG_NS + "svg":
        raise ValueError("is not an SVG image (its first element is not <svg> in the SVG namespace)")
    for element in root.iter():
        tag = element.tag.removeprefix(SVG_NS)
        if tag.startswith("{"):
            continue  # another namespace's metadata (Inkscape, RDF): not drawn
        if tag not in SVG_ELEMENTS:
            raise ValueError(f"contains <{tag}>, which a logo does not need and which could run or load something; remove it")
        for attribute, value in element.attrib.items():
            if attribute not in SVG_ATTRIBUTES and not attribute.startswith("{"):
                raise ValueError(f"has the attribute {attribute}= on <{tag}>, which a logo does not need; remove it")
            if attribute.endswith("href") and not value.startswith("#"):
                raise ValueError(f"<{tag}> links to '{value}'; a logo may only refer to its own parts (#id)")
    return svg_size(root)


def svg_size(root) -> tuple[int, int]:
    """Width and height in CSS pixels: the attributes if both are plain numbers, else the viewBox's."""
    width, height = (NUMBER.match(root.get(side, "")) for side in ("width", "height"))
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        if len(box) == 4 and float(box[2]) > 0 and float(box[3]) > 0:
            return round(float(box[2])), round(float(box[3]))
    except ValueError:
        pass
    raise ValueError("gives no size: add a viewBox (e.g. viewBox=\"0 0 200 60\") to its <svg> element")


def draw_icon(size: int, title: str, accent: str, logo_png: bytes | None = None) -> bytes:
    """A square PNG icon: the PNG logo fitted on white, else the name's first letter in white on the accent."""
    from PIL import Image, ImageDraw, ImageFont

    if logo_png is not None:
        with Image.open(io.BytesIO(logo_png)) as logo:
            logo = logo.convert("RGBA")
            logo.thumbnail((size, size), Image.Resampling.LANCZOS)
            icon = Image.new("RGBA", (size, size), (255, 255, 255, 255))
            icon.alpha_composite(logo, ((size - logo.width) // 2, (size - logo.height) // 2))
    else:
        icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        pen = ImageDraw.Draw(icon)
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6 if size < 64 else 0, fill=accent)  # phones round home-screen icons themselves
        letter = next((c for c in title if c.isalnum()), "•").upper()
        font = ImageFont.truetype(str(FONT), round(size * 0.7))
        pen.text((size / 2, size / 2), letter, font=font, fill="#ffffff", anchor="mm")
    buffer = io.BytesIO()
    icon.save(buffer, format="PNG", optimize=True)  # re-encoded from pixels: no metadata of the logo's survives
    return buffer.getvalue()


def site_accent(config, static) -> str:
    """The accent the icons and share cards are drawn in: site.yml's accent_colour, else the stylesheet's."""
    if config.accent_colour:
        return config.accent_colour
    style = static.find("style.css") if static else None
    return accent_of(style.read_text(encoding="utf-8", errors="replace")) if style is not None else accent_of("")


def site_icon(name: str, config, static) -> bytes:
    """One of ICON_SIZES: the site's own static/ file of that name, else drawn from its logo or name."""
    own = static.find(name) if static else None
    if own is not None:
        return own.read_bytes()
    logo = static.find(config.logo.name) if static and config.logo and config.logo.name.lower().endswith(".png") else None
    return draw_icon(ICON_SIZES[name], config.title, site_accent(config, static), logo.read_bytes() if logo else None)
