"""Photos from content/ published in a few widths and formats, for <picture>/srcset (HTML Living Standard 4.8.4).

Three stages, each a function of values:
- `find_image_refs`: the local raster images a Markdown body shows, found in its converted HTML (so `![alt](a.jpg)`,
  `![alt][ref]`, raw `<img>` alike), with lines;
- `plan_images`: each referenced file read and checked (size, format, Pillow's pixel limit) into a `SourceImage`:
  its upright size, the widths (480, 960, 1600, never wider than the original) and formats (AVIF where the
  installed Pillow encodes it, WebP, and JPEG or PNG as the fallback every browser shows);
- `make_derivatives`: one source's bytes to every derivative's bytes, re-encoded from the pixels alone, so no
  EXIF, GPS, XMP or comment survives (only the ICC colour profile, which describes colours, not people).
`picture_html` writes the markup; pipeline.py asks the session for the derivatives (placard.incremental keys
them on the source's digest and makes them on its workers).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import warnings
from dataclasses import dataclass
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import quote

WIDTHS = (480, 960, 1600)
RASTER_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}  # GIFs (animations) are copied as they are
FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF", "TIFF": "TIFF", "BMP": "BMP", "AVIF": "AVIF", "HEIF": "HEIF"}
MIME = {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
DEFAULT_MAX_MB = 25
# The space a body's picture takes: the page column (style.css .wrap: 46rem less 1rem padding each side).
BODY_SIZES = "(max-width: 46rem) calc(100vw - 2rem), 44rem"
ENCODER_OPTIONS = {
    "avif": {"quality": 55, "speed": 8},
    "webp": {"quality": 75, "method": 4},
    "jpg": {"quality": 78, "optimize": True, "progressive": True},
    "png": {"optimize": True},
}


LEAD_REMOTE = ("is on another site; every visitor's browser would contact it. Download the file next to this one "
               "(e.g. content/news/photo.jpg) and write src: photo.jpg")
LEAD_NOT_LOCAL = "is not a JPEG, PNG or WebP photo; export it as JPEG (photos) or PNG (drawings)"


class ImageProblem(ValueError):
    """A referenced image that cannot be published, with what to do about it."""


@dataclass(frozen=True)
class ImageRef:
    """One image a body shows: where (its Markdown file and line) and the address written there."""

    path: str  # the Markdown file, as shown in messages
    line: int
    src: str
    target: str  # the image's path in the site, e.g. news/photo.jpg
    field: str = "body"  # or "image", an item's lead image


@dataclass(frozen=True)
class SourceImage:
    """A photo to publish as derivatives: its upright size, the widths and formats made of it."""

    path: str  # in the site, e.g. news/photo.jpg (the original, published only if site.yml asks)
    digest: str  # of the file's bytes: derivatives are cached by it
    width: int
    height: int
    widths: tuple[int, ...]
    formats: tuple[str, ...]  # the fallback (jpg or png) last

    def variant(self, width: int, fmt: str) -> str:
        """The site path of one derivative: news/photo.jpg at 960 px in WebP is news/photo.<tag>.960w.webp.

        The tag (8 hex digits) is a hash of the photo's bytes and how its copies are encoded, as Hugo names
        processed images: the same photo keeps its names on every rebuild, while a photo replaced under the
        same name gets new ones, so no browser, proxy or mirror keeps showing the old picture from its cache."""
        stem, _suffix = posixpath.splitext(self.path)
        return f"{stem}.{self.tag}.{width}w.{fmt}"

    @property
    def tag(self) -> str:
        recipe = f"{self.digest}\0{ENCODER_OPTIONS!r}".encode()
        return hashlib.blake2b(recipe, digest_size=4).hexdigest()

    def height_at(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


def available_formats() -> tuple[str, ...]:
    """The modern formats the installed Pillow encodes (AVIF needs Pillow 11.2 or later built with libavif)."""
    from PIL import features

    return tuple(name for name, feature in (("avif", "avif"), ("webp", "webp")) if features.check(feature))


CODE = re.compile(r"^(```|~~~).*?^\1[ \t]*$|(`+)(?!`).+?(?<!`)\2(?!`)", re.MULTILINE | re.DOTALL)  # fenced blocks, code spans


class ImageSources(HTMLParser):
    """The src of every <img> in HTML, in order (the parser decodes entities in attribute values)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "img":
            self.sources.extend(value for name, value in attrs if name == "src" and value)

    handle_startendtag = handle_starttag


def image_sources(html: str) -> list[str]:
    """The src of every <img> in converted HTML."""
    parser = ImageSources()
    parser.feed(html)
    parser.close()
    return parser.sources


def is_raster(src: str) -> bool:
    """Whether an address names a local photo placard makes derivatives of (by its suffix)."""
    return posixpath.splitext(src.split("?", 1)[0].split("#", 1)[0].lower())[1] in RASTER_SUFFIXES


def is_local(src: str) -> bool:
    return not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|/|#", src)


def may_show_image(text: str) -> bool:
    """Whether a Markdown text could show an image at all (`![`, or an <img> tag in any case): most do not.
    Lowercasing only texts with a '<' in them: at 10,000 posts, lowercasing every body took 70 ms of a
    preview rebuild."""
    return "![" in text or ("<" in text and "<img" in text.lower())


def find_image_refs(path: str, text: str, first_line: int) -> list[ImageRef]:
    """The local raster images a Markdown body (of the file `path`, content/...) shows, with their lines.

    Found in what Python-Markdown makes of the body, not by a pattern over the text, so every way of writing
    one counts: `![alt](a.jpg)`, `![alt][ref]` and `![ref]` with `[ref]: a.jpg`, `<img>` in raw HTML across
    lines; an image in code is text. The line is where its address is written (a reference's definition)."""
    if not may_show_image(text):  # (most bodies show no image: no conversion)
        return []
    from .markup import convert_markdown, find_line

    source_dir = posixpath.dirname(path.removeprefix("content/"))
    outside_code = CODE.sub(lambda match: re.sub(r"[^\n]", " ", match.group(0)), text)  # for lines: code shows no image
    found, seen = [], {}
    for src in image_sources(convert_markdown(text)):
        if is_local(src) and is_raster(src):
            seen[src] = seen.get(src, -1) + 1
            target = posixpath.normpath(posixpath.join(source_dir, src.split("?", 1)[0].split("#", 1)[0]))
            found.append(ImageRef(path, find_line(outside_code, first_line, src, seen[src]), src, target))
    return found


def site_image_refs(site, find=find_image_refs) -> list[ImageRef]:
    """Every local raster image the site's bodies and replies show (lead images too, where an item has one);
    `find(path, text, first_line)` finds a body's (find_image_refs, or a cached one)."""
    refs = []
    for item in site.items():
        lead = getattr(item, "image", None)
        if lead is not None:
            refs.append(lead_image_ref(item, lead))
        refs += find(item.origin.path, item.body, item.body_line)
        for reply in getattr(item, "replies", ()):
            refs += find(item.origin.path, reply.body, reply.line)
    return refs


def lead_image_ref(item, lead) -> ImageRef:
    """An item's `image:` as a reference (its src relative to the item's Markdown file)."""
    source_dir = posixpath.dirname(item.origin.path.removeprefix("content/"))
    return ImageRef(item.origin.path, lead.line, lead.src, posixpath.normpath(posixpath.join(source_dir, lead.src)), "image")


def expected_format(path: str) -> str:
    return RASTER_SUFFIXES[posixpath.splitext(path.lower())[1]]


def read_size(data: bytes, path: str, max_bytes: int) -> tuple[int, int, str]:
    """The upright (width, height) and Pillow format of an image file; ImageProblem saying what to do if
    it is too big, damaged, not what its name says, or over Pillow's pixel limit (a decompression bomb)."""
    from PIL import Image, UnidentifiedImageError

    name = posixpath.basename(path)
    check_size(data, max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found = image.format
                width, height = image.size
                if found == expected_format(path):
                    image.verify()  # the file's structure and checksums hold (verify must come first)
            with Image.open(io.BytesIO(data)) as image:
                orientation = image.getexif().get(0x0112, 1)
                if found == expected_format(path):
                    image.load()  # every pixel decodes: a file cut short fails here, not half-way through a build
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageProblem("has more pixels than placard will open (a 'decompression bomb': a small file that unpacks into "
                           "gigabytes); save it at a normal size, e.g. 4000 x 3000 pixels") from None
    except UnidentifiedImageError:
        raise ImageProblem(f"is not an image (its content is not {FORMAT_NAMES[expected_format(path)]}, whatever its name says); "
                           "export the photo again as JPEG or PNG") from None
    except Exception as exc:  # Pillow raises many types for damaged files
        raise ImageProblem(f"is damaged ({one_line(exc)}); open it in an image editor and save it again as JPEG or PNG") from None
    if found != expected_format(path):
        real = FORMAT_NAMES.get(found, found)
        suffix = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}.get(found)
        advice = f"rename it to {posixpath.splitext(name)[0]}{suffix} and change the reference" if suffix else "export it as JPEG or PNG"
        raise ImageProblem(f"is named {posixpath.splitext(name)[1]} but is really a {real} image; {advice}")
    if orientation in (5, 6, 7, 8):  # turned a quarter: its upright width is its stored height
        width, height = height, width
    return width, height, found


def check_size(data: bytes, max_bytes: int) -> None:
    """ImageProblem saying what to do if an image file is over the size limit (max_image_mb in site.yml)."""
    if len(data) > max_bytes:
        raise ImageProblem(f"is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit for images (max_image_mb in site.yml); "
                           "save it smaller (about 3000 pixels wide, JPEG quality 85, is plenty: pages show at most 1600 pixels)")


def one_line(exc: Exception) -> str:
    return re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__


def plan_image(path: str, data: bytes, modern: tuple[str, ...], max_bytes: int) -> SourceImage:
    """One referenced file, checked, as the derivatives to make of it."""
    width, height, found = read_size(data, path, max_bytes)
    widths = tuple(w for w in WIDTHS if w < width) + (min(width, WIDTHS[-1]),)
    fallback = "png" if found == "PNG" else "jpg"  # (a WebP source: JPEG unless it has transparency, see make_derivatives)
    if found == "WEBP" and has_alpha(data):
        fallback = "png"
    return SourceImage(path, hashlib.blake2b(data, digest_size=16).hexdigest(), width, height,
                       tuple(dict.fromkeys(widths)), (*modern, fallback))


def has_alpha(data: bytes) -> bool:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


@dataclass(frozen=True)
class ImagePlan:
    """The site's referenced photos by site path, and where each is referenced (for messages)."""

    images: dict[str, SourceImage]
    refs: tuple[ImageRef, ...]
    publish_originals: bool = False


def plan_images(refs: list[ImageRef], read, modern: tuple[str, ...], max_bytes: int, publish_originals: bool = False,
                plan=None) -> tuple[ImagePlan, list[tuple[ImageRef, str]]]:
    """Every referenced photo planned; `read(target)` gives a file's bytes or None if there is none;
    `plan(target, data, modern, max_bytes)` plans one (plan_image, or a cached one given a `data()` that reads it).
    Returns the plan and the problems, each (the first reference, what is wrong)."""
    images: dict[str, SourceImage] = {}
    problems: list[tuple[ImageRef, str]] = []
    failed: set[str] = set()
    for ref in refs:
        if ref.target in images or ref.target in failed:
            continue
        if not is_local(ref.src) or not is_raster(ref.src):
            problems.append((ref, f"the image '{ref.src}' {LEAD_NOT_LOCAL if is_local(ref.src) else LEAD_REMOTE}"))
            failed.add(ref.target)
            continue
        try:
            if not read.exists(ref.target):
                raise ImageProblem(f"is not there (no file content/{ref.target}); put the photo there, or correct the name (names are case-sensitive)")
            if plan is None:
                images[ref.target] = plan_image(ref.target, read(ref.target), modern, max_bytes)
            else:
                images[ref.target] = plan(ref.target, lambda target=ref.target: read(target), modern, max_bytes)
        except ImageProblem as exc:
            failed.add(ref.target)
            problems.append((ref, f"the image '{ref.src}' {exc}"))
    return ImagePlan(images, tuple(refs), publish_originals), problems


def make_derivatives(data: bytes, image: SourceImage) -> dict[str, bytes]:
    """Every derivative of one photo by its site path: each width in each format, made from the pixels
    alone (turned upright by its EXIF orientation first), so no metadata but the colour profile survives."""
    from PIL import Image, ImageOps

    made: dict[str, bytes] = {}
    with Image.open(io.BytesIO(data)) as opened:
        icc = opened.info.get("icc_profile")
        if opened.format == "JPEG":
            opened.draft("RGB", (image.widths[-1], image.height_at(image.widths[-1])))  # decode at the largest size needed, or above
        upright = ImageOps.exif_transpose(opened)
        keep_alpha = "png" in image.formats
        pixels = upright.convert("RGBA" if keep_alpha and has_transparency(upright) else "RGB")
    for width in image.widths:
        size = (width, image.height_at(width))
        scaled = pixels if pixels.size == size else pixels.resize(size, Image.Resampling.LANCZOS)
        scaled.info = {}  # nothing of the original's info (EXIF, XMP, comments) reaches an encoder
        for fmt in image.formats:
            buffer = io.BytesIO()
            options = dict(ENCODER_OPTIONS[fmt], **({"icc_profile": icc} if icc else {}))
            scaled.save(buffer, format={"jpg": "JPEG"}.get(fmt, fmt.upper()), **options)
            made[image.variant(width, fmt)] = buffer.getvalue()
    return made


def has_transparency(image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def srcset(image: SourceImage, fmt: str, url) -> str:
    """A srcset's candidates, each URL percent-encoded: a space in it (my photo.jpg) would split the candidate
    in two (HTML Living Standard 4.8.4.2.1: a candidate's URL is the run of characters up to whitespace)."""
    return ", ".join(f"{quote(url(image.variant(width, fmt)), safe='/')} {width}w" for width in image.widths)


def picture_html(image: SourceImage, url, alt: str, sizes: str, eager: bool, fallback_src: str | None = None,
                 extra: str = "") -> str:
    """<picture> for one photo: a <source> per modern format, then the fallback <img> with its width
    and height (so the page does not shift as it loads), lazy unless it is the page's first image.
    `url(site_path)` links from the page; `fallback_src` is the <img src> to write instead (a body's
    own, relative to its Markdown file, which markup.rebase_assets rewrites afterwards)."""
    fallback = image.formats[-1]
    middle = image.widths[min(1, len(image.widths) - 1)]
    sources = "".join(f'<source type="{MIME[fmt]}" srcset="{escape(srcset(image, fmt, url))}" sizes="{sizes}">'
                      for fmt in image.formats[:-1])
    loading = ' fetchpriority="high"' if eager else ' loading="lazy" decoding="async"'
    src = fallback_src if fallback_src is not None else url(image.variant(middle, fallback))
    return (f'<picture>{sources}<img src="{escape(src)}" srcset="{escape(srcset(image, fallback, url))}" sizes="{sizes}" '
            f'width="{image.width}" height="{image.height}" alt="{escape(alt)}"{extra}{loading}></picture>')


LIST_SIZES = "8rem"  # style.css: .lead-image in lists


def lead_image_html(item, find, url, where: str, first: list[bool], absolute=None) -> str:
    """An item's `image:` as a <figure> with its <picture> (`where`: "page" or "list"), or for the feed
    (`absolute(site_path)`) one plain <img> of the middle width; '' without one."""
    lead = getattr(item, "image", None)
    image = find(lead_image_ref(item, lead).target) if lead is not None else None
    if image is None:
        return ""
    if where == "feed":
        width = image.widths[min(1, len(image.widths) - 1)]
        return (f'<p><img src="{escape(absolute(image.variant(width, image.formats[-1])))}" width="{width}" '
                f'height="{image.height_at(width)}" alt="{escape(lead.alt)}"></p>')
    eager, first[0] = first[0], False
    picture = picture_html(image, url, lead.alt, BODY_SIZES if where == "page" else LIST_SIZES, eager)
    return f'<figure class="lead-image">{picture}</figure>'


IMG_TAG = re.compile(r"<img\b([^>]*)>")
ATTRIBUTE = re.compile(r'([^\s=/"]+)="([^"]*)"')


def rewrite_body_images(html: str, source_dir: str, find, url, first: list[bool]) -> str:
    """A body's checked HTML (nh3's serialisation: every attribute double-quoted) with each <img> of a
    planned photo (`find(site_path)` gives its SourceImage, or None) written as a <picture>; `first` is [True] until the page's first image is written.

    Runs after the sanitizer, on its output: <picture> and <source> stay refused in what campaigners
    write (a <source srcset> could load another site), and every value here is placard's own or the
    body's checked alt text, escaped again."""
    if "<img" not in html:
        return html

    def replace(match: re.Match) -> str:
        attributes = {name: unescape(value) for name, value in ATTRIBUTE.findall(match.group(1))}
        src = attributes.get("src", "")
        if not is_local(src) or not is_raster(src):
            return match.group(0)
        image = find(posixpath.normpath(posixpath.join(source_dir, src.split("?", 1)[0].split("#", 1)[0])))
        if image is None:
            return match.group(0)
        eager, first[0] = first[0], False
        rel_dir = posixpath.dirname(src)
        fallback = image.variant(image.widths[min(1, len(image.widths) - 1)], image.formats[-1])
        fallback_src = posixpath.join(rel_dir, posixpath.basename(fallback)) if rel_dir else posixpath.basename(fallback)
        extra = "".join(f' {name}="{escape(attributes[name])}"' for name in ("class", "title", "id", "lang", "dir") if name in attributes)
        return picture_html(image, url, attributes.get("alt", ""), BODY_SIZES, eager, fallback_src, extra)

    return IMG_TAG.sub(replace, html)


class ContentFiles:
    """`read` for plan_images: content/<target>'s bytes; `exists`: whether it is a file inside the
    project (a link leading outside is reported by the copy of content/'s files)."""

    def __init__(self, content_dir, inside) -> None:
        self.content_dir, self.inside = content_dir, inside

    def exists(self, target: str) -> bool:
        import os

        file = os.path.join(self.content_dir, target)
        return not target.startswith("../") and os.path.isfile(file) and not self.inside(file)

    def __call__(self, target: str) -> bytes:
        import os

        with open(os.path.join(self.content_dir, target), "rb") as handle:
            return handle.read()


def plan_site_images(root, content_dir, site, inside, plan=None, find=find_image_refs) -> ImagePlan:
    """The photos the site's bodies show, read and checked; BuildError naming each bad reference's file and line."""
    from .errors import BuildError, Problem

    config = site.config
    found, problems = plan_images(site_image_refs(site, find), ContentFiles(content_dir, inside), available_formats(),
                                  config.max_image_mb * 1_000_000, config.publish_originals, plan)
    if problems:
        raise BuildError([Problem(ref.path, ref.line, ref.field, message) for ref, message in problems])
    return found
