"""Read the references out of HTML and CSS: what a browser would fetch, what it would only follow.

Shared by the Markdown stage (refuse external embeds in a body) and the audit (`build.py check`).
Uses the standard library's html.parser, so it reads real HTML rather than matching patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

# Attributes whose URL the browser fetches by itself when the page loads (HTML Living Standard).
FETCHED = {
    ("img", "src"), ("img", "srcset"), ("source", "src"), ("source", "srcset"), ("script", "src"),
    ("iframe", "src"), ("frame", "src"), ("embed", "src"), ("object", "data"), ("video", "src"),
    ("video", "poster"), ("audio", "src"), ("track", "src"), ("input", "src"), ("image", "href"),
    ("image", "xlink:href"), ("use", "href"), ("use", "xlink:href"), ("body", "background"), ("table", "background"),
}
# <link rel> values a browser does not fetch: anything else (stylesheet, icon, preload, prefetch,
# preconnect, dns-prefetch, modulepreload, prerender, manifest...) contacts the host.
LINK_RELS_NOT_FETCHED = {"canonical", "alternate", "author", "license", "me", "next", "prev", "help", "bookmark", "nofollow", "noopener", "noreferrer", "tag", "privacy-policy", "terms-of-service"}
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.IGNORECASE)
LOCAL_SCHEMES = {"data", "about", "blob"}
FOLLOWED_ONLY_SCHEMES = {"mailto", "tel", "sms", "geo", "magnet", "webcal", "xmpp", "matrix"}


@dataclass(frozen=True)
class Ref:
    """One URL in a document: where it is, and whether loading the page fetches it."""

    line: int
    where: str  # e.g. "<img src>", "<link rel=stylesheet>", "CSS url()"
    url: str
    fetched: bool


@dataclass
class Scan:
    """Everything the audit needs from one HTML document."""

    refs: list[Ref] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    headings: list[tuple[int, int]] = field(default_factory=list)  # (line, level)
    lang: str | None = None
    images_without_alt: list[int] = field(default_factory=list)
    images: list[tuple[int, str, str | None, set[str]]] = field(default_factory=list)  # (line, src, alt, classes)
    refresh: list[tuple[int, str]] = field(default_factory=list)
    runnable: list[tuple[int, str]] = field(default_factory=list)  # (line, what): see runnable_in_tag
    pictures: list[list[dict[str, str]]] = field(default_factory=list)  # each <img>: its <picture>'s <source>s, then itself


# What in a page a browser could run, or be sent elsewhere by, for the audit of a built site (a page
# edited by hand after the build): placard's templates use none of it but their own script files.
NEVER_IN_PAGES = {
    "iframe": "loads another page into this one", "frame": "loads another page into this one",
    "frameset": "replaces the page with other pages", "object": "runs outside content or plug-ins",
    "embed": "runs outside content or plug-ins", "applet": "runs a plug-in", "base": "changes where every link goes",
    "form": "can send visitors' data elsewhere", "noscript": "is read differently with and without scripts (markup smuggling)",
    "template": "holds hidden markup scripts can bring to life", "textarea": "a raw-text element (markup smuggling)",
    "xmp": "a raw-text element (markup smuggling)", "noembed": "a raw-text element (markup smuggling)",
    "noframes": "a raw-text element (markup smuggling)", "plaintext": "a raw-text element (markup smuggling)",
}
OWN_SCRIPT = re.compile(r"(\.\./)*[a-z0-9-]+\.js")  # placard's own scripts: files beside the pages
RUNNABLE_SCHEMES = ("javascript:", "vbscript:", "data:")
MEDIA_ONLY = {(tag, name) for tag in ("img", "source", "video", "audio", "track") for name in ("src", "srcset", "poster")}  # data: shown, never run
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href", "background", "codebase", "cite", "ping", "srcset"}


def is_image_only(tag: str, name: str, values: dict[str, str]) -> bool:
    """Whether a data: URL here is only ever shown as an image: media sources, and the page's icon
    (the 404 page inlines the site's icon: from an unknown address it cannot link to the file)."""
    return (tag, name) in MEDIA_ONLY or (tag == "link" and name == "href" and "icon" in values.get("rel", "").lower().split()
                                         and values.get("href", "").lower().startswith("data:image/png;"))


REFRESH_TARGET = re.compile(r"\s*\d+\s*[;,]\s*url\s*=\s*['\"]?([^'\"]*)", re.IGNORECASE)


def refreshes_within_site(content: str) -> bool:
    """Whether a meta refresh leads to a relative address of this site: placard's redirect pages, at
    addresses that moved (a scheme, a //host or a data: URL would send visitors elsewhere)."""
    match = REFRESH_TARGET.match(content)
    if match is None:
        return False
    target = match.group(1).strip()
    return bool(target) and not target.startswith(("/", "\\")) and urlsplit(target).scheme == ""


def runnable_in_tag(tag: str, values: dict[str, str]) -> list[str]:
    """What in one start tag a browser could run or be redirected by (nothing placard writes)."""
    found = []
    if tag == "script" and not (OWN_SCRIPT.fullmatch(values.get("src", "")) or values.get("type") == "application/ld+json"):
        found.append("a <script> that is not one of the site's own script files")
    if tag in NEVER_IN_PAGES:
        found.append(f"<{tag}>, which {NEVER_IN_PAGES[tag]}")
    equiv = values.get("http-equiv", "").lower()
    if tag == "meta" and equiv in ("refresh", "set-cookie", "link") and not (equiv == "refresh" and refreshes_within_site(values.get("content", ""))):
        found.append(f"<meta http-equiv={equiv}>, which sends visitors elsewhere or changes the page")
    if tag == "meta" and equiv == "content-security-policy" and re.search(r"'unsafe-(inline|eval)'", values.get("content", "")):
        found.append("a Content-Security-Policy that lets inline scripts run")
    for name, value in values.items():
        squashed = re.sub(r"[\x00-\x20]", "", value).lower()
        if name.startswith("on") or name == "srcdoc":
            found.append(f"the attribute {name}= on <{tag}>, which runs a script or a page")
        elif name in URL_ATTRIBUTES and squashed.startswith(RUNNABLE_SCHEMES) and not (squashed.startswith("data:") and is_image_only(tag, name, values)):
            found.append(f"a '{squashed.split(':', 1)[0]}:' address in {name}= on <{tag}>")
    return found


def is_external(url: str) -> bool:
    """True if the URL names another host (scheme with a host, or protocol-relative //host)."""
    url = url.strip()
    if url.startswith("//"):
        return True
    scheme = urlsplit(url).scheme.lower()
    return bool(scheme) and scheme not in LOCAL_SCHEMES and scheme not in FOLLOWED_ONLY_SCHEMES


def srcset_urls(value: str) -> list[str]:
    """The URLs in a srcset attribute ('a.jpg 1x, b.jpg 2x')."""
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def css_urls(text: str, first_line: int = 1) -> list[tuple[int, str, str]]:
    """(line, 'CSS url()' or 'CSS @import', url) for every URL in a stylesheet or style attribute."""
    found = []
    for match in CSS_URL.finditer(text):
        line = first_line + text.count("\n", 0, match.start())
        if match.group(2) is not None:
            found.append((line, "CSS url()", match.group(2).strip()))
        else:
            found.append((line, "CSS @import", match.group(4).strip()))
    return found


class _Parser(HTMLParser):
    """Collects references, ids, headings, lang, images without alt, and what could run (for the audit)."""

    collect_runnable = True

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = Scan()
        self.in_style: int | None = None
        self.sources: list[dict[str, str]] | None = None  # inside a <picture>: its <source>s so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = {name: value or "" for name, value in attrs}
        scan = self.scan
        if "id" in values:
            scan.ids.add(values["id"])
        if tag == "a" and "name" in values:
            scan.ids.add(values["name"])
        if tag == "html":
            scan.lang = values.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            scan.headings.append((line, int(tag[1])))
        if tag == "picture":
            self.sources = []
        if tag == "source" and self.sources is not None:
            self.sources.append({"tag": "source", **values})
        if tag == "img":
            scan.pictures.append([*(self.sources or []), {"tag": "img", **values}])
            self.sources = None
            scan.images.append((line, values.get("src", ""), values.get("alt"), set(values.get("class", "").split())))
            if "alt" not in values:
                scan.images_without_alt.append(line)
        if tag == "style":
            self.in_style = line
        if self.collect_runnable:
            scan.runnable.extend((line, what) for what in runnable_in_tag(tag, values))
        for name, value in values.items():
            if (tag, name) in FETCHED:
                urls = srcset_urls(value) if name == "srcset" else [value.strip()]
                scan.refs.extend(Ref(line, f"<{tag} {name}>", url, True) for url in urls if url)
            elif name == "style":
                scan.refs.extend(Ref(l, f"<{tag} style> {what}", url, True) for l, what, url in css_urls(value, line))
            elif name == "ping":
                scan.refs.extend(Ref(line, f"<{tag} ping>", url, True) for url in value.split())
        if tag == "link" and "href" in values:
            rels = set(values.get("rel", "").lower().split())
            fetched = not rels or not rels <= LINK_RELS_NOT_FETCHED
            scan.refs.append(Ref(line, f"<link rel={' '.join(sorted(rels)) or '?'}>", values["href"].strip(), fetched))
        if tag in ("a", "area") and "href" in values:
            scan.refs.append(Ref(line, f"<{tag} href>", values["href"].strip(), False))
        if tag == "form" and values.get("action"):
            scan.refs.append(Ref(line, "<form action>", values["action"].strip(), False))
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            target = re.search(r"url\s*=\s*['\"]?([^'\"]+)", values.get("content", ""), re.IGNORECASE)
            if target:
                scan.refs.append(Ref(line, "<meta http-equiv=refresh>", target.group(1).strip(), True))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = None

    def handle_data(self, data: str) -> None:
        if self.in_style is not None:
            line = self.getpos()[0]
            self.scan.refs.extend(Ref(l, f"<style> {what}", url, True) for l, what, url in css_urls(data, line))


def scan_html(text: str) -> Scan:
    """Parse one HTML document (or fragment) and return what it references and contains."""
    parser = _Parser()
    parser.feed(text)
    parser.close()
    return parser.scan
