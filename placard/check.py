"""Audit stage: `build.py check` proves a built site leaks nothing and holds together.

It reads the files as a visitor's browser would and reports, one line each
(`output/path:line: what is wrong`):
- any reference that makes the browser contact another host on load (scripts, styles, fonts,
  images, srcset, iframes, media, objects, CSS @import/url(), link prefetch/preconnect/preload,
  meta refresh); plain outbound <a href> links are allowed;
- internal links and assets that do not resolve to a file in the build (and #fragments with no
  matching id); root-relative links, which break under a sub-path and from file://;
- pages without `lang`, without exactly one h1, or skipping a heading level; images without alt;
- pages heavier than the budget: every byte a phone (390 CSS px wide, 2 device pixels per px) loads for it:
  the HTML, its stylesheets and scripts, the fonts and images those stylesheets use, its icon, and for each
  <img> the one candidate such a browser picks from its <picture> sources, srcset and sizes (HTML Living
  Standard 4.8.4.3), lazy ones included (they load as the reader scrolls); the heaviest files are named;
- anything a browser could run or be redirected by (htmlrefs.runnable_in_tag): a script that is
  not one of the site's own files, on* handlers, javascript:/vbscript:/data: URLs, meta refresh,
  base, frames, objects, forms, raw-text elements used to smuggle markup; so a page edited by
  hand after the build is caught (the build's own allowlist, placard.sanitize, is for bodies).
"""

from __future__ import annotations

import posixpath
import statistics
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .htmlrefs import FOLLOWED_ONLY_SCHEMES, LOCAL_SCHEMES, Scan, css_urls, is_external, scan_html

PAGE_BUDGET = 150 * 1024  # site.yml page_budget_kb
PHONE_WIDTH, PHONE_DPR, REM = 390, 2, 16  # a common phone: 390 CSS px, 2 device px each (Lighthouse's is 1.75)
SUPPORTED_TYPES = {"", "image/avif", "image/webp", "image/jpeg", "image/png", "image/gif", "image/svg+xml"}  # Chromium's


@dataclass(frozen=True, order=True)
class Finding:
    """One thing wrong in the built site."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Weights:
    """Bytes each page costs a visitor: its HTML plus the stylesheets and scripts it loads."""

    pages: dict[str, int]
    files: dict[str, dict[str, int]] = field(default_factory=dict)  # page -> {file it loads: bytes}
    budget: int = PAGE_BUDGET

    @property
    def median(self) -> float:
        return statistics.median(self.pages.values()) if self.pages else 0

    @property
    def largest(self) -> tuple[str, int]:
        return max(self.pages.items(), key=lambda kv: kv[1]) if self.pages else ("", 0)

    def summary(self) -> str:
        """'14 pages: median 6.1 KB, largest 12.0 KB (links/index.html)'."""
        path, size = self.largest
        return (f"{len(self.pages)} pages: median {self.median / 1024:.1f} KB, largest {size / 1024:.1f} KB ({path}), budget "
                f"{self.budget // 1024} KB each: everything a {PHONE_WIDTH} px phone loads (HTML, CSS, scripts, fonts, images)")


def read_site(folder: Path) -> dict[str, bytes]:
    """Every file of a built site, by POSIX path relative to the folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def check_site(folder: Path, offline: bool = False, label: str = "output", budget: int = PAGE_BUDGET) -> tuple[list[Finding], Weights]:
    """Audit a built site folder; `offline` also requires links to name files (for file:// and the zip)."""
    return check_files(read_site(folder), offline, label, budget)


def check_files(files: dict[str, bytes], offline: bool = False, label: str = "output", budget: int = PAGE_BUDGET) -> tuple[list[Finding], Weights]:
    """Audit a site given as {path: bytes}."""
    scans = {path: scan_html(data.decode("utf-8", "replace")) for path, data in files.items() if path.endswith(".html")}
    findings: list[Finding] = []
    for path, scan in scans.items():
        findings += check_references(path, scan, files, scans, offline)
        findings += check_structure(path, scan)
        findings += [Finding(path, line, f"{what}: nothing in a page may run or redirect but the site's own script files "
                             "(was the page edited after the build? rebuild it)") for line, what in scan.runnable]
    for path, data in files.items():
        if path.endswith(".css"):
            findings += check_stylesheet(path, data.decode("utf-8", "replace"), files)
    weights = measure_pages(files, scans, budget)
    for path, size in weights.pages.items():
        if size > budget:
            heaviest = sorted(weights.files[path].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            named = ", ".join(f"{name} {bytes_ / 1024:.1f} KB" for name, bytes_ in heaviest)
            findings.append(Finding(path, 1, f"a {PHONE_WIDTH} px phone loads {size / 1024:.1f} KB for this page; the budget is {budget // 1024} KB "
                                    f"(page_budget_kb in site.yml). Heaviest: {named}. Fewer or smaller photos (each one shown "
                                    "costs its phone-sized copy), or a shorter page, bring it down (docs/performance.md)"))
    return sorted(Finding(f"{label}/{f.path}", f.line, f.message) for f in set(findings)), weights


def check_references(path: str, scan: Scan, files: dict[str, bytes], scans: dict[str, Scan], offline: bool) -> list[Finding]:
    """Third-party fetches and broken internal links of one page."""
    findings = []
    for ref in scan.refs:
        if is_external(ref.url):
            if ref.fetched:
                findings.append(Finding(path, ref.line, f"{ref.where} loads {ref.url} from another host; visitors' browsers would contact it (copy the file into the site instead)"))
            continue
        problem = resolve_problem(path, ref.url, files, scans, offline)
        if problem:
            findings.append(Finding(path, ref.line, f"{ref.where} {ref.url!r}: {problem}"))
    return findings


def resolve_problem(page: str, url: str, files: dict[str, bytes], scans: dict[str, Scan], offline: bool) -> str | None:
    """Why an internal URL does not lead to a file (and id) in the build, or None if it does."""
    parts = urlsplit(url)
    if parts.scheme.lower() in LOCAL_SCHEMES | FOLLOWED_ONLY_SCHEMES or not url:
        return None
    if url.startswith("/") and page == "404.html" and not url.startswith("//"):
        # The 404 page is served at any depth, so it links from the host's root: base_url's path, then a
        # file of the site (which path the site is published under, the check cannot know: any prefix will do).
        segments = unquote(parts.path).lstrip("/").split("/")
        candidates = ["/".join(segments[start:]) for start in range(len(segments))]
        if not any(c in files or (c.endswith("/") or c == "") and (c + "index.html") in files for c in candidates):
            return f"no such file in the build ({parts.path})"
        return None
    if url.startswith("/"):
        return "starts with '/', so it breaks under a sub-path and from file://; make it relative"
    target = page
    if parts.path:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
        if joined == ".." or joined.startswith("../"):
            return "points outside the site"
        folder = parts.path.endswith("/") or joined == "." or (joined not in files and any(f.startswith(joined + "/") for f in files))
        if folder:
            if offline:
                return "points to a folder; from file:// browsers show a folder listing, link to its index.html"
            joined = "index.html" if joined == "." else joined + "/index.html"
        if joined not in files:
            return f"no such file in the build ({joined})"
        target = joined
    if parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in scans[target].ids:
        return f"no element with id '{unquote(parts.fragment)}' on {target}"
    return None


def check_structure(path: str, scan: Scan) -> list[Finding]:
    """lang, one h1, no skipped heading level, alt on every image (WCAG 3.1.1, 1.3.1, 2.4.6, 1.1.1)."""
    findings = []
    if not scan.lang:
        findings.append(Finding(path, 1, "<html> has no lang attribute; screen readers need it to pick a voice"))
    h1s = [line for line, level in scan.headings if level == 1]
    if len(h1s) != 1:
        findings.append(Finding(path, h1s[1] if len(h1s) > 1 else 1, f"the page has {len(h1s)} <h1> headings; it needs exactly one (in Markdown bodies start at '##')"))
    previous = 0
    for line, level in scan.headings:
        if level > previous + 1:
            findings.append(Finding(path, line, f"<h{level}> follows <h{previous}>: a heading level is skipped (use <h{previous + 1}>)" if previous else f"the first heading is <h{level}>; start with <h1>"))
        previous = level
    findings += [Finding(path, line, "<img> without alt text") for line in scan.images_without_alt]
    return findings


def check_stylesheet(path: str, text: str, files: dict[str, bytes]) -> list[Finding]:
    """A stylesheet must not @import or url() anything from another host, and its own files must exist."""
    findings = []
    for line, what, url in css_urls(text):
        if is_external(url):
            findings.append(Finding(path, line, f"{what} loads {url} from another host (copy the file into the site)"))
        elif not url.startswith(("data:", "#")) and url:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(urlsplit(url).path)))
            if target not in files:
                findings.append(Finding(path, line, f"{what} {url!r}: no such file in the build ({target})"))
    return findings


def measure_pages(files: dict[str, bytes], scans: dict[str, Scan], budget: int = PAGE_BUDGET) -> Weights:
    """Each page's bytes as a phone loads it: the HTML, the internal stylesheets, scripts and icons it
    links, what those stylesheets load (fonts, images), and the image candidate picked for each <img>."""
    pages, loads = {}, {}
    for path, scan in scans.items():
        loaded = {path: len(files[path])}

        def add(url: str, base: str = path) -> str | None:
            if is_external(url) or url.startswith(("data:", "#")) or not url:
                return None
            target = posixpath.normpath(posixpath.join(posixpath.dirname(base), unquote(urlsplit(url).path)))
            if target in files:
                loaded[target] = len(files[target])
                return target
            return None

        for ref in scan.refs:
            if ref.fetched and (ref.where.startswith("<link") or ref.where == "<script src>"):
                target = add(ref.url)
                if target is not None and target.endswith(".css"):
                    for _line, _what, url in css_urls(files[target].decode("utf-8", "replace")):
                        add(url, target)
        for picture in scan.pictures:
            add(pick_candidate(picture))
        pages[path] = sum(loaded.values())
        loads[path] = loaded
    return Weights(pages, loads, budget)


LENGTH = re.compile(r"\s*(-?[0-9.]+)(px|rem|em|vw)\s*")


def css_length(text: str, viewport: float = PHONE_WIDTH) -> float | None:
    """A sizes length in CSS px: 12rem, 300px, 100vw, calc(100vw - 2rem) (only + and -); None if not understood."""
    text = text.strip()
    if text.startswith("calc(") and text.endswith(")"):
        total, sign = 0.0, 1
        for token in re.split(r"\s+([+-])\s+", text[5:-1]):
            if token in "+-":
                sign = 1 if token == "+" else -1
                continue
            value = css_length(token, viewport)
            if value is None:
                return None
            total += sign * value
        return total
    match = LENGTH.fullmatch(text)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    return number * {"px": 1, "rem": REM, "em": REM, "vw": viewport / 100}[unit]


def slot_width(sizes: str, viewport: float = PHONE_WIDTH) -> float:
    """The width `sizes` gives the image at this viewport: the first entry whose (max-/min-width) condition holds."""
    for entry in (part.strip() for part in sizes.split(",")):
        condition = re.match(r"\((max|min)-width:\s*([^)]+)\)\s*(.+)", entry)
        if condition:
            limit = css_length(condition.group(2), viewport)
            holds = limit is not None and (viewport <= limit if condition.group(1) == "max" else viewport >= limit)
            if not holds:
                continue
            entry = condition.group(3)
        width = css_length(entry, viewport)
        if width is not None:
            return width
    return viewport  # sizes absent or not understood: 100vw, as the standard says


def pick_candidate(picture: list[dict[str, str]]) -> str:
    """The URL a phone fetches for one <img> (with its <picture>'s <source>s first): the first source of a type
    it decodes, then the smallest `w` candidate at least slot x DPR wide (else the widest), or its src."""
    for element in picture:
        if element.get("type", "") not in SUPPORTED_TYPES or not element.get("srcset"):
            if element.get("tag") == "img":
                return element.get("src", "")
            continue
        candidates = []
        for part in element["srcset"].split(","):
            bits = part.split()
            if bits:
                width = int(bits[1][:-1]) if len(bits) > 1 and bits[1].endswith("w") and bits[1][:-1].isdigit() else 0
                candidates.append((width, bits[0]))
        wanted = slot_width(element.get("sizes", "")) * PHONE_DPR
        wide_enough = sorted(c for c in candidates if c[0] >= wanted)
        return (wide_enough[0] if wide_enough else max(candidates))[1]
    return ""
