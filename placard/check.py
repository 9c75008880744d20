"""Audit stage: `build.py check` proves a built site leaks nothing and holds together.

It reads the files as a visitor's browser would and reports, one line each
(`output/path:line: what is wrong`):
- any reference that makes the browser contact another host on load (scripts, styles, fonts,
  images, srcset, iframes, media, objects, CSS @import/url(), link prefetch/preconnect/preload,
  meta refresh); plain outbound <a href> links are allowed;
- internal links and assets that do not resolve to a file in the build (and #fragments with no
  matching id); root-relative links, which break under a sub-path and from file://;
- pages without `lang`, without exactly one h1, or skipping a heading level; images without alt;
- pages heavier than the budget (HTML plus its stylesheets);
- anything a browser could run or be redirected by (htmlrefs.runnable_in_tag): a script that is
  not one of the site's own files, on* handlers, javascript:/vbscript:/data: URLs, meta refresh,
  base, frames, objects, forms, raw-text elements used to smuggle markup; so a page edited by
  hand after the build is caught (the build's own allowlist, placard.sanitize, is for bodies).
"""

from __future__ import annotations

import posixpath
import statistics
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .htmlrefs import FOLLOWED_ONLY_SCHEMES, LOCAL_SCHEMES, Scan, css_urls, is_external, scan_html

PAGE_BUDGET = 50 * 1024


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

    @property
    def median(self) -> float:
        return statistics.median(self.pages.values()) if self.pages else 0

    @property
    def largest(self) -> tuple[str, int]:
        return max(self.pages.items(), key=lambda kv: kv[1]) if self.pages else ("", 0)

    def summary(self) -> str:
        """'14 pages: median 6.1 KB, largest 12.0 KB (links/index.html)'."""
        path, size = self.largest
        return f"{len(self.pages)} pages: median {self.median / 1024:.1f} KB, largest {size / 1024:.1f} KB ({path}), budget {PAGE_BUDGET // 1024} KB each, CSS included"


def read_site(folder: Path) -> dict[str, bytes]:
    """Every file of a built site, by POSIX path relative to the folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def check_site(folder: Path, offline: bool = False, label: str = "output") -> tuple[list[Finding], Weights]:
    """Audit a built site folder; `offline` also requires links to name files (for file:// and the zip)."""
    return check_files(read_site(folder), offline, label)


def check_files(files: dict[str, bytes], offline: bool = False, label: str = "output") -> tuple[list[Finding], Weights]:
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
    weights = measure_pages(files, scans)
    for path, size in weights.pages.items():
        if size > PAGE_BUDGET:
            findings.append(Finding(path, 1, f"the page weighs {size / 1024:.1f} KB with its CSS; the budget is {PAGE_BUDGET // 1024} KB (split it or shorten it)"))
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


def measure_pages(files: dict[str, bytes], scans: dict[str, Scan]) -> Weights:
    """Each page's HTML bytes plus the internal stylesheets and scripts it loads (images aside)."""
    pages = {}
    for path, scan in scans.items():
        total = len(files[path])
        for ref in scan.refs:
            if ref.fetched and (ref.where.startswith("<link") or ref.where == "<script src>") and not is_external(ref.url):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(urlsplit(ref.url).path)))
                total += len(files.get(target, b""))
        pages[path] = total
    return Weights(pages)
