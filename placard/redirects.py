"""Redirect pages: a small page at an address placard published before and no longer does, leading to
where the page is now (relative links and a meta refresh: no script, works from any mirror or file://)."""

from __future__ import annotations

from markupsafe import escape

from .index import SiteIndex
from .models import Site
from .pages import PAGE_SIZE, tags_of
from .render import RenderOptions
from .urls import absolute_url, lang_prefix, make_relative, old_tag_slug, tag_slug


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
