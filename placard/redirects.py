"""Redirect pages: a small page at an address placard published before and no longer does, leading to
where the page is now (relative links and a meta refresh: no script, works from any mirror or file://)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import escape

from .index import SiteIndex
from .models import Site
from .pages import PAGE_SIZE, tags_of
from .render import RenderOptions
from .urls import absolute_url, lang_prefix, make_relative, old_tag_slug, path_of, tag_slug


def tag_redirects(site: Site, index: SiteIndex, options: RenderOptions = RenderOptions()) -> dict[str, str]:
    """A small page at each tag address an earlier placard published (old_tag_slug) that now differs,
    leading to the tag's page: relative links, so it works from mirrors and file:// too. Where two tags
    shared the old address, none is guessed."""
    pages: dict[str, str] = {}
    for lang, view in index.views.items():
        prefix = lang_prefix(lang, site.config.language)
        moves: dict[str, set[tuple[str, str]]] = {}
        for tag, posts in tags_of(view).items():
            if old_tag_slug(tag) != tag_slug(tag):
                moves.setdefault(old_tag_slug(tag), set()).add((tag, tag_slug(tag)))
        for old, targets in moves.items():
            if len(targets) != 1:
                continue
            (tag, new), = targets
            count = max(1, -(-len(tags_of(view)[tag]) // PAGE_SIZE))
            for number in range(1, count + 1):
                tail = "index.html" if number == 1 else f"page/{number}/index.html"
                source, target = f"{prefix}tags/{old}/{tail}", f"{prefix}tags/{new}/{tail}"
                pages[source] = redirect_page(make_relative(source, options.index_html)(target), absolute_url(site.config.base_url, target), tag, lang)
    return pages


def redirect_page(url: str, canonical: str, title: str, lang: str) -> str:
    """An HTML page that sends browsers to `url` at once (a meta refresh: no script), with a plain link."""
    url, title = escape(url), escape(title)
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f'<meta name="robots" content="noindex">\n<link rel="canonical" href="{escape(canonical)}">\n'
            f'<meta http-equiv="refresh" content="0; url={url}">\n</head>\n<body>\n<h1>{title}</h1>\n<p>&rarr; <a href="{url}">{title}</a></p>\n</body>\n</html>\n')


ADDRESSES_FILE = "addresses.json"  # in the built site: every address each file's page has had, so a later build keeps them working


@dataclass(frozen=True)
class Redirect:
    """A redirect page to write: from an old output path to a page of this site, and who asked for it."""

    source: str  # the old address, as an output path (…/index.html)
    target: str  # the page it leads to, as an output path
    title: str
    lang: str
    origin: str = ""  # the file whose `aliases:` lists it ('' for an address that moved by itself)
    line: int = 0


def alias_redirects(site: Site) -> list[Redirect]:
    """A redirect from each address in an item's `aliases:` to the item's page."""
    default = site.config.language
    return [Redirect(alias, path_of(item, default), item.title, item.lang, item.origin.path, item.aliases_line)
            for item in site.posts + site.events + site.pages + site.translations for alias in item.aliases]


def current_addresses(site: Site, index: SiteIndex) -> dict[str, list[str]]:
    """What each content file's page is published at now (a tag's pages under 'tag:<name>'), by identity."""
    default = site.config.language
    addresses: dict[str, list[str]] = {}
    for item in site.posts + site.events + site.pages + site.translations:
        addresses.setdefault(item.origin.path, []).append(path_of(item, default))
    for lang, view in index.views.items():
        for tag in tags_of(view):
            addresses.setdefault(f"tag:{tag}", []).append(f"{lang_prefix(lang, default)}tags/{tag_slug(tag)}/index.html")
    return addresses


def parse_addresses(data: bytes | None) -> dict[str, tuple[str, ...]]:
    """The addresses.json of the previous build (nothing if there is none or it cannot be read: a first build)."""
    try:
        record = json.loads(data.decode("utf-8")) if data else {}
        return {str(key): tuple(str(path) for path in paths) for key, paths in record.get("addresses", {}).items()}
    except (ValueError, AttributeError, TypeError):
        return {}


def render_addresses(previous: dict[str, tuple[str, ...]], current: dict[str, list[str]]) -> str:
    """addresses.json: every address of each identity, earlier ones kept (sorted, so builds are byte-identical)."""
    merged = {key: sorted(set(previous.get(key, ())) | set(current.get(key, ()))) for key in sorted(set(previous) | set(current))}
    return json.dumps({"format": 1, "about": "Every address placard published each page at; keeps old links working (docs/deploy.md).",
                       "addresses": merged}, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def moved_redirects(site: Site, previous: dict[str, tuple[str, ...]], current: dict[str, list[str]]) -> list[Redirect]:
    """A redirect from each address an earlier build published a file's page at (its slug was changed since)
    to where it is now. A file with several pages now (a tag, in each language) leads to the one in the same language."""
    default = site.config.language
    titles = {item.origin.path: (item.title, item.lang) for item in site.posts + site.events + site.pages + site.translations}
    redirects = []
    for key, paths in sorted(current.items()):
        now = set(paths)
        for old in previous.get(key, ()):
            if old in now:
                continue
            lang = language_of(old, site.config)
            target = next((path for path in paths if language_of(path, site.config) == lang), paths[0])
            title, item_lang = titles.get(key, (key.removeprefix("tag:"), lang))
            redirects.append(Redirect(old, target, title, item_lang))
    return redirects


def language_of(path: str, config) -> str:
    """The language whose folder an output path is in."""
    return next((code for code in config.languages if code != config.language and path.startswith(f"{code}/")), config.language)


def redirect_pages(redirects: list[Redirect], site: Site, options: RenderOptions = RenderOptions()) -> dict[str, str]:
    """The HTML of each redirect page, by its path."""
    return {r.source: redirect_page(make_relative(r.source, options.index_html)(r.target), absolute_url(site.config.base_url, r.target), r.title, r.lang)
            for r in redirects}


def render_redirects_file(redirects: list[Redirect], base_url: str) -> str:
    """_redirects for Netlify and Cloudflare Pages: `old new 301`, one a line, paths from the host's root
    (base_url's path included), folder-style like the site's links."""
    base = urlsplit(base_url).path.rstrip("/")

    def public(path: str) -> str:
        return f"{base}/{path[: -len('index.html')] if path.endswith('index.html') else path}"

    lines = [f"{public(r.source)} {public(r.target)} 301" for r in sorted(redirects, key=lambda r: r.source)]
    return "# Old addresses of this site and where their pages are now (placard writes this file; the pages there say the same).\n" + "".join(line + "\n" for line in lines)
