"""Where each item lands in output/, and relative links between output files.

Every internal link is relative, so one build works at a domain root, under any sub-path,
and from file://. Absolute URLs come only from `base_url`, only where a standard needs one.
"""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import urlsplit
from typing import Callable

from slugify import slugify

from .slugs import make_slug

SECTION_DIRS = {"post": "news", "event": "calendar", "page": "", "entity": "links"}


def lang_prefix(lang: str, default: str) -> str:
    """The folder a language's pages live under; the default language stays at the root."""
    return "" if lang == default else f"{lang}/"


def path_of(item, default_lang: str = "en") -> str:
    """The output file of an item's page (an entity's is links/<slug>/, beside the register's overview)."""
    prefix = lang_prefix(item.lang, default_lang)
    section = SECTION_DIRS[item.kind]
    return f"{prefix}{section + '/' if section else ''}{item.slug}/index.html"


def entity_path(slug: str, lang: str, default_lang: str) -> str:
    """The output file of an entity's page in one language (every language has one: the register is in all)."""
    return f"{lang_prefix(lang, default_lang)}links/{slug}/index.html"


def anchor_of(item) -> str:
    """The fragment an item is addressed by on a shared page, or '' (every item now has a page of its own)."""
    return ""


@functools.lru_cache(maxsize=4096)  # pure; every post page links its tags, every list page its posts' tags
def tag_slug(tag: str) -> str:
    """The URL slug of a tag name: the project's slug, with Kazakh and Russian letters spelt out (Әділет: adilet)."""
    return make_slug(tag, fallback="tag")


def old_tag_slug(tag: str) -> str:
    """The slug placard gave a tag before tag_slug used the project's slug (bare python-slugify: Әділет was
    'dilet'); a published address, so a redirect page stays there (see render.tag_redirects)."""
    return slugify(tag) or "tag"


def relative_url(from_path: str, to_path: str, index_html: bool = False) -> str:
    """A link from one output file to another; folder-style unless `index_html` (for file://)."""
    return make_relative(from_path, index_html)(to_path)


def make_relative(from_path: str, index_html: bool = False) -> Callable[[str], str]:
    """relative_url from one page, with the page's folders split once: a page makes 20 links or
    more (its menus, feeds, stylesheet, the posts it lists), 210,000 in a build of 10,000 posts."""
    from_dir = posixpath.dirname(from_path)
    start = None if is_outside(from_dir) else [part for part in from_dir.split("/") if part and part != "."]

    def relative(to_path: str) -> str:
        fragment = ""
        if "#" in to_path:
            to_path, fragment = to_path.split("#", 1)
            fragment = "#" + fragment
        if not to_path:
            return fragment or "./"
        if start is None or is_outside(to_path):
            rel = posixpath.relpath(to_path, from_dir or ".")
        else:  # posixpath.relpath for two paths inside the site (no cwd, no file system: a tenth of the time)
            target = to_path.split("/")
            if "" in target or "." in target:
                target = [part for part in target if part and part != "."]
            common, most = 0, min(len(start), len(target))
            while common < most and start[common] == target[common]:
                common += 1
            parts = [".."] * (len(start) - common) + target[common:]
            rel = "/".join(parts) if parts else "."
        if not index_html and (rel == "index.html" or rel.endswith("/index.html")):
            rel = rel[: -len("index.html")] or "./"
        return rel + fragment

    return relative


def is_outside(path: str) -> bool:
    """Whether a path may leave the site's folders ('..' or absolute): then posixpath.relpath decides."""
    return path.startswith("/") or (".." in path and ".." in path.split("/"))


# Names reserved for examples and tests (RFC 2606, RFC 6761): no public site is ever there.
PLACEHOLDER_DOMAINS = ("example", "example.com", "example.net", "example.org", "localhost")  # and every name under them
PLACEHOLDER_TLDS = (".test", ".invalid")


def is_placeholder(base_url: str) -> bool:
    """Whether an address is on a name reserved for examples (example.org, *.test...), not a real site."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    return host in PLACEHOLDER_DOMAINS or host.endswith(PLACEHOLDER_TLDS) or any(host.endswith("." + domain) for domain in PLACEHOLDER_DOMAINS)


def absolute_url(base_url: str, path: str) -> str:
    """The public address of an output file, from `base_url` alone (feeds, sitemap, canonical)."""
    if path == "index.html" or path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return base_url + path
