"""Relative links between output files work at any sub-path and from file://."""

import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from placard.urls import absolute_url, is_placeholder, relative_url


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


PARTS = ["news", "a", "index.html", "style.css", ".", "..", "", "ru", "page", "2", "links", "feed.xml"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PARTS), min_size=1, max_size=5), st.lists(st.sampled_from(PARTS), min_size=1, max_size=5),
       st.sampled_from(["", "#x", "#"]), st.booleans())
def test_relative_urls_are_posixpath_relpath(page, target, fragment, index_html):
    """The quick relative path equals posixpath.relpath (with the folder-style index.html trimmed)."""
    page_path, to_path = "/".join(page), "/".join(target)
    if to_path.startswith("/") or page_path.startswith("/"):
        return
    expected = posixpath.relpath(to_path, posixpath.dirname(page_path) or ".") if to_path else None
    if expected is not None and not index_html and (expected == "index.html" or expected.endswith("/index.html")):
        expected = expected[: -len("index.html")] or "./"
    got = relative_url(page_path, to_path + fragment, index_html)
    assert got == (expected + fragment if expected is not None else fragment or "./")


def test_example_addresses_are_told_from_real_ones():
    for url in ("https://example.org/", "https://example.org/campaign/", "http://www.example.com/", "https://zhanaozen.example.org/",
                "https://site.example/", "https://campaign.test/", "https://x.invalid/", "http://localhost:8000/", "https://EXAMPLE.NET./"):
        assert is_placeholder(url), url
    for url in ("https://zhanaozen-solidarity.org/", "https://example-campaign.org/", "https://myexample.org/", "https://user.github.io/repo/",
                "https://examples.org/", "https://test.org/", "https://campaign.org/example.org/"):
        assert not is_placeholder(url), url
