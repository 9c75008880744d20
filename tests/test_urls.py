"""Relative links between output files work at any sub-path and from file://."""

from placard.urls import absolute_url, relative_url


def test_relative_urls():
    assert relative_url("news/a/index.html", "calendar/index.html") == "../../calendar/"
    assert relative_url("news/a/index.html", "index.html") == "../../"
    assert relative_url("index.html", "index.html") == "./"
    assert relative_url("index.html", "style.css") == "style.css"
    assert relative_url("news/a/index.html", "links/index.html#acme") == "../../links/#acme"
    assert relative_url("news/a/index.html", "calendar/index.html", index_html=True) == "../../calendar/index.html"


def test_absolute_urls_come_from_base_url():
    assert absolute_url("https://example.org/sub/", "news/a/index.html") == "https://example.org/sub/news/a/"
    assert absolute_url("https://example.org/sub/", "feed.xml") == "https://example.org/sub/feed.xml"
