"""Every output checked by the program its readers use: feeds by feedparser and the RFC 4287 RELAX NG schema,
calendars by icalendar, JSON-LD by a JSON parser and search engines' Event fields, the sitemap by its XSD,
robots.txt by RFC 9309's grammar, HTML by vnu (also test_accessible) and a real browser's console.

Both the seed site (the repository itself) and the fixture site (tests/fixtures/site) are built once each.
The schemas in tests/data/ say where their text came from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import feedparser
import pytest
from conftest import NOW, REPO, make_project
from lxml import etree, html as lxml_html

from placard.pipeline import Project, build_site

DATA = Path(__file__).resolve().parent / "data"
ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Built:
    """One built site: its name (for messages), base_url and every output file."""

    name: str
    base_url: str
    files: dict[str, bytes]


@pytest.fixture(scope="module")
def seed() -> Built:
    """The seed site: the repository's own content, templates and site.yml."""
    site, output = build_site(Project(REPO), NOW)
    return Built("seed", site.config.base_url, dict(output.files))


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory) -> Built:
    """The fixture site of the golden test."""
    site, output = build_site(make_project(tmp_path_factory.mktemp("fixture")), NOW)
    return Built("fixture", site.config.base_url, dict(output.files))


@pytest.fixture(params=["seed", "fixture"])
def built(request) -> Built:
    """Each of the two sites in turn."""
    return request.getfixturevalue("seed" if request.param == "seed" else "fixture_site")


def build_files(tmp_path, files: dict[str, str]) -> dict[str, bytes]:
    """The output of a small project holding only `files` (and the test site.yml unless given)."""
    _, output = build_site(make_project(tmp_path, files, fixture="none"), NOW)
    return dict(output.files)


def output_path(built: Built, url: str) -> str:
    """The output file an absolute URL of the site is served from (folders serve their index.html)."""
    assert url.startswith(built.base_url), f"{url} is not under {built.base_url}"
    path = urldefrag(url)[0][len(built.base_url):]
    return path + "index.html" if path == "" or path.endswith("/") else path


# Feeds ---------------------------------------------------------------------------------------------------

ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(DATA / "atom.rng")))
# The two Schematron rules of RFC 4287's schema (its s:rule annotations), which RELAX NG does not check.
ATOM_RULES = [
    ("atom:feed", "atom:author or not(atom:entry[not(atom:author)])",
     "An atom:feed must have an atom:author unless all of its atom:entry children have an atom:author."),
    ("atom:entry", "atom:link[@rel='alternate'] or atom:link[not(@rel)] or atom:content",
     "An atom:entry must have at least one atom:link element with a rel attribute of 'alternate' or an atom:content."),
    ("atom:entry", "atom:author or ../atom:author or atom:source/atom:author",
     "An atom:entry must have an atom:author if its feed does not."),
]


def feed_problems(data: bytes) -> list[str]:
    """What feedparser, the RFC 4287 RELAX NG schema and its Schematron rules find wrong in one feed."""
    parsed = feedparser.parse(data)
    if parsed.bozo:
        return [f"feedparser: {parsed.bozo_exception}"]
    document = etree.fromstring(data)
    problems = [f"RELAX NG: line {e.line}: {e.message}" for e in ATOM_SCHEMA.error_log] if not ATOM_SCHEMA.validate(document) else []
    for context, test, message in ATOM_RULES:
        for node in document.xpath("//" + context if context != "atom:feed" else "/atom:feed", namespaces={"atom": ATOM}):
            if not node.xpath(f"boolean({test})", namespaces={"atom": ATOM}):
                problems.append(f"Schematron: line {node.sourceline}: {message}")
    return problems


def feeds_of(built: Built) -> list[str]:
    """Every Atom feed of a site."""
    return sorted(path for path in built.files if path.endswith("feed.xml"))


def test_every_feed_is_well_formed_and_valid_atom(built):
    feeds = feeds_of(built)
    assert feeds == ["feed.xml", "kk/feed.xml", "ru/feed.xml"]
    problems = {path: feed_problems(built.files[path]) for path in feeds}
    print(f"{built.name}: {len(feeds)} feeds, feedparser + RELAX NG + Schematron")
    assert problems == {path: [] for path in feeds}


def test_schema_rejects_raw_html_content_and_feedparser_a_broken_feed():
    """The validators themselves can fail: raw HTML in type="html" content, and a <br> that breaks the XML."""
    feed = (f'<feed xmlns="{ATOM}"><title>t</title><id>urn:x</id><updated>2011-12-16T00:00:00Z</updated>'
            '<entry><title>e</title><id>urn:e</id><updated>2011-12-16T00:00:00Z</updated><author><name>a</name></author>'
            '<content type="html">{}</content></entry></feed>')
    assert feed_problems(feed.format("&lt;p&gt;ok&lt;/p&gt;").encode()) == []
    assert any("RELAX NG" in p for p in feed_problems(feed.format("<p>raw</p>").encode()))
    assert feed_problems(feed.format("<p>a<br>b</p>").encode())[0].startswith("feedparser: ")
    without_author = feed.replace("<author><name>a</name></author>", "")
    assert feed_problems(without_author.format("x").encode()) == ["Schematron: line 1: " + ATOM_RULES[0][2],
                                                                   "Schematron: line 1: " + ATOM_RULES[2][2]]


def test_feed_links_resolve_to_pages_of_the_site(built):
    """Relative links in content resolve (xml:base, RFC 4287 section 2) to files the site has, in every language."""
    checked = 0
    for path in feeds_of(built):
        for entry in feedparser.parse(built.files[path]).entries:
            assert output_path(built, entry.link) in built.files, entry.link
            for target in re.findall(r'(?:href|src)="([^"]+)"', entry.content[0].value):
                if target.startswith(built.base_url) or not urlsplit(target).scheme:
                    assert output_path(built, target) in built.files, f"{path}: {entry.title}: {target}"
                    checked += 1
    if built.name == "fixture":
        assert checked == 8


HOSTILE_POST = """\
---
title: "Oil & <b>gas</b> \\"quoted\\""
slug: hostile
date: 2011-12-16
author: "Smith & <Jones>"
summary: "Less < more & \\"so\\" on"
---

He said [stop](https://example.net/ 'x" onmouseover="alert(1)') at 2 &lt; 3 & <b>then</b>
"""


def test_feed_text_is_escaped_once_so_readers_get_back_what_the_page_shows(tmp_path):
    """Title, author, summary as text; the content's HTML as escaped text, decoded by a reader exactly once."""
    files = build_files(tmp_path, {"content/news/hostile.md": HOSTILE_POST})
    assert feed_problems(files["feed.xml"]) == []
    (entry,) = feedparser.parse(files["feed.xml"]).entries
    assert entry.title == 'Oil & <b>gas</b> "quoted"' and entry.title_detail.type == "text/plain"
    assert entry.author == "Smith & <Jones>"
    assert entry.summary == 'Less < more & "so" on'
    # Decoded once, as an RFC 4287 reader does, the content is the page's HTML: its &quot; stays text, never a new attribute.
    content = etree.fromstring(files["feed.xml"]).find(f"{{{ATOM}}}entry/{{{ATOM}}}content")
    fragment = lxml_html.fragment_fromstring(content.text, create_parent="div")
    (link,) = fragment.iter("a")
    assert dict(link.attrib) == {"href": "https://example.net/", "title": 'x" onmouseover="alert(1)'}
    assert 'title="x&quot; onmouseover=&quot;alert(1)"' in content.text and "2 &lt; 3 &amp; <b>then</b>" in content.text


def test_feed_has_rights_when_the_site_has_a_copyright(tmp_path):
    site_yml = ("title: T\ntagline: G\ndescription: D\nbase_url: https://example.org/\nlanguage: en\ntimezone: Europe/London\n"
                "copyright: \"© 2026 Friends & allies, CC BY-SA 4.0\"\n")
    files = build_files(tmp_path, {"site.yml": site_yml})
    assert feed_problems(files["feed.xml"]) == []
    assert feedparser.parse(files["feed.xml"]).feed.rights == "© 2026 Friends & allies, CC BY-SA 4.0"
    without = build_files(tmp_path / "none", {})
    assert b"<rights>" not in without["feed.xml"]
