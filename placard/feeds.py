"""Feeds stage: the Atom feed of the news in each language, sitemap.xml and robots.txt (absolute URLs from base_url)."""

from __future__ import annotations

from .index import SiteIndex, index_site
from .models import Site
from .render import PageSpec, plan_pages
from .urls import lang_prefix

FEED_SIZE = 20


def plan_feeds(site: Site, pages: list[PageSpec] | None = None, index: SiteIndex | None = None) -> list[PageSpec]:
    """Each language's Atom feed, the sitemap (of the HTML `pages` already planned) and robots.txt, each from its template."""
    index = index or index_site(site)
    html_pages = [spec.path for spec in (plan_pages(site, index=index) if pages is None else pages) if spec.path != "404.html"]
    feeds = [
        PageSpec(lang_prefix(lang, site.config.language) + "feed.xml", "feed.xml", {"posts": index.views[lang].posts[:FEED_SIZE]}, lang=lang, identity="feed")
        for lang in site.config.languages
    ]
    return feeds + [
        PageSpec("sitemap.xml", "sitemap.xml", {"pages": sorted(html_pages)}),
        PageSpec("robots.txt", "robots.txt", {}),
    ]
