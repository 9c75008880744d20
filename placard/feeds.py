"""Feeds stage: the Atom feed of the news, sitemap.xml and robots.txt (absolute URLs from base_url)."""

from __future__ import annotations

from .models import Site
from .render import PageSpec, plan_pages

FEED_SIZE = 20


def plan_feeds(site: Site) -> list[PageSpec]:
    """The Atom feed, the sitemap and robots.txt, each rendered from its template."""
    html_pages = [spec.path for spec in plan_pages(site) if spec.path != "404.html"]
    return [
        PageSpec("feed.xml", "feed.xml", {"posts": site.posts[:FEED_SIZE]}),
        PageSpec("sitemap.xml", "sitemap.xml", {"pages": sorted(html_pages)}),
        PageSpec("robots.txt", "robots.txt", {}),
    ]
