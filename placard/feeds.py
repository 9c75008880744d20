"""Feeds stage: the Atom feed of the news, sitemap.xml and robots.txt (absolute URLs from base_url)."""

from __future__ import annotations

from .models import Site
from .render import PageSpec, plan_pages

FEED_SIZE = 20


def plan_feeds(site: Site, pages: list[PageSpec] | None = None) -> list[PageSpec]:
    """The Atom feed, the sitemap (of the HTML `pages` already planned) and robots.txt, each from its template."""
    html_pages = [spec.path for spec in (plan_pages(site) if pages is None else pages) if spec.path != "404.html"]
    return [
        PageSpec("feed.xml", "feed.xml", {"posts": site.posts[:FEED_SIZE]}),
        PageSpec("sitemap.xml", "sitemap.xml", {"pages": sorted(html_pages)}),
        PageSpec("robots.txt", "robots.txt", {}),
    ]
