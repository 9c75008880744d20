"""Share links: plain links to each service's own "share" address, with this page's address and title
filled in. Nothing is loaded from those services (no button script, no counter, no image): the
visitor's browser contacts one only if they choose it. Mastodon has no single address (every server
has its own), so its link is made in the page by static/share.js from the server the visitor types.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

OSM_SEARCH = "https://www.openstreetmap.org/search"


def share_links(url: str, title: str) -> list[tuple[str, str]]:
    """(service name, link) for each service with a share address, in the order shown."""
    text = f"{title} {url}"
    query = lambda params: urlencode(params, quote_via=quote)  # noqa: E731 - one-line helper
    return [
        ("Email", "mailto:?" + query({"subject": title, "body": url})),
        ("Telegram", "https://t.me/share/url?" + query({"url": url, "text": title})),
        ("WhatsApp", "https://wa.me/?" + query({"text": text})),
        ("X", "https://x.com/intent/post?" + query({"text": title, "url": url})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + query({"u": url})),
    ]


def directions_url(place: str) -> str:
    """A plain link to OpenStreetMap's search for `place` (no map is embedded, nothing is loaded)."""
    return OSM_SEARCH + "?" + urlencode({"query": place}, quote_via=quote)
