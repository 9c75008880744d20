"""Every output checked by the program its readers use: feeds by feedparser and the RFC 4287 RELAX NG schema,
calendars by icalendar, JSON-LD by a JSON parser and search engines' Event fields, the sitemap by its XSD,
robots.txt by RFC 9309's grammar, HTML by vnu (also test_accessible) and a real browser's console.

Both the seed site (the repository itself) and the fixture site (tests/fixtures/site) are built once each.
The schemas in tests/data/ say where their text came from."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import feedparser
import pytest
from conftest import NOW, REPO, make_project
from lxml import etree, html as lxml_html

from placard.output import write_output
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
        assert checked >= 8


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
    site_yml = ("title: \"Oil & <the> City\"\ntagline: \"G & <t>\"\ndescription: D\nbase_url: https://example.org/\nlanguage: en\n"
                "timezone: Europe/London\ncopyright: \"© 2026 Friends & allies, CC BY-SA 4.0\"\n")
    files = build_files(tmp_path, {"site.yml": site_yml})
    assert feed_problems(files["feed.xml"]) == []
    feed = feedparser.parse(files["feed.xml"]).feed
    assert (feed.rights, feed.title, feed.subtitle) == ("© 2026 Friends & allies, CC BY-SA 4.0", "Oil & <the> City", "G & <t>")
    assert feed.icon == "https://example.org/favicon.png"
    without = build_files(tmp_path / "none", {})
    assert b"<rights>" not in without["feed.xml"]


# Calendars -------------------------------------------------------------------------------------------------

ICS_TEXT_PROPERTIES = {"SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "CONTACT", "NAME", "X-WR-CALNAME", "X-WR-CALDESC"}


def ics_problems(data: bytes) -> list[str]:
    """What icalendar and RFC 5545's line rules find wrong in one .ics: CRLF (3.1), 75-octet folding (3.1), TEXT escaping (3.3.11)."""
    import icalendar

    problems = []
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        return [f"icalendar: {exc}"]
    if not calendar.walk("VEVENT"):
        problems.append("no VEVENT")
    if not data.endswith(b"\r\n"):
        problems.append("the last line does not end in CRLF")
    lines = data[:-2].split(b"\r\n")
    for number, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            problems.append(f"line {number}: a bare LF or CR (RFC 5545 3.1: lines end in CRLF)")
        if len(line) > 75:
            problems.append(f"line {number}: {len(line)} octets, longer than 75 (RFC 5545 3.1: fold it)")
    for content_line in re.split(rb"\r\n(?![ \t])", data.rstrip(b"\r\n")):
        unfolded = re.sub(rb"\r\n[ \t]", b"", content_line).decode("utf-8")
        name, value = re.match(r'([^:;]+)((?:;(?:[^:"]|"[^"]*")*)?:.*)', unfolded, re.S).group(1, 2)
        value = re.sub(r'^(?:;(?:[^:"]|"[^"]*")*)?:', "", value, count=1)
        if name.upper() in ICS_TEXT_PROPERTIES and re.search(r"(?<!\\)(?:\\\\)*[,;]|\\[^\\;,nN]", value):
            problems.append(f"{name}: TEXT not escaped (RFC 5545 3.3.11): {value[:60]}")
    return problems


def test_every_calendar_parses_with_crlf_folded_lines_and_escaped_text(built):
    calendars = sorted(path for path in built.files if path.endswith(".ics"))
    assert len(calendars) >= 4
    problems = {path: ics_problems(built.files[path]) for path in calendars}
    print(f"{built.name}: {len(calendars)} .ics files, icalendar + RFC 5545 line rules")
    assert problems == {path: [] for path in calendars}


def test_ics_checker_finds_bare_lf_long_lines_and_unescaped_text():
    good = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20261126T120000Z\r\n"
            b"DTSTART:20271210T120000Z\r\nSUMMARY:Oil\\, gas\\; more\r\nLOCATION;LANGUAGE=en:a\\nb\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert ics_problems(good) == []
    assert ics_problems(good.replace(b"UID:1\r\n", b"UID:1\n")) == ["line 5: a bare LF or CR (RFC 5545 3.1: lines end in CRLF)"]
    assert ics_problems(good.replace(b"UID:1", b"UID:" + b"1" * 80))[0].startswith("line 5: 84 octets")
    assert ics_problems(good.replace(b"gas\\; more", b"gas; more"))[0].startswith("SUMMARY: TEXT not escaped")


# JSON-LD ---------------------------------------------------------------------------------------------------

def json_ld_blocks(page: bytes) -> list[str]:
    """The text of every <script type="application/ld+json"> of a page."""
    return [script.text or "" for script in lxml_html.fromstring(page).iter("script") if script.get("type") == "application/ld+json"]


def event_problems(data: dict) -> list[str]:
    """What search engines' Event documentation requires or recommends that a schema.org Event lacks."""
    problems = [f"no {key}" for key in ("name", "startDate", "location", "eventStatus", "eventAttendanceMode",
                                        "organizer", "description", "image") if not data.get(key)]
    start = data.get("startDate", "")
    if not re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d)?([+-]\d\d:\d\d|Z))?", start):
        problems.append(f"startDate {start!r} is not ISO 8601 with its offset")
    location = data.get("location") or {}
    if location.get("@type") == "Place":
        if (location.get("address") or {}).get("@type") != "PostalAddress" or not location.get("name"):
            problems.append("a Place needs a name and a PostalAddress")
    elif location.get("@type") == "VirtualLocation":
        if not location.get("url"):
            problems.append("a VirtualLocation needs a url")
    else:
        problems.append(f"location is a {location.get('@type')}, not a Place or a VirtualLocation")
    for key in ("eventStatus", "eventAttendanceMode", "image"):
        if data.get(key) and not str(data[key]).startswith("https://"):
            problems.append(f"{key} is not a URL: {data[key]}")
    if not (data.get("organizer") or {}).get("name"):
        problems.append("the organizer has no name")
    return problems


def test_every_json_ld_block_parses_and_each_event_has_what_search_engines_need(built):
    pages = sorted(path for path in built.files if path.endswith(".html"))
    blocks = [(path, block) for path in pages for block in json_ld_blocks(built.files[path])]
    events = [(path, json.loads(block)) for path, block in blocks]
    events = [(path, data) for path, data in events if data.get("@type") == "Event"]
    assert len(events) >= 2
    print(f"{built.name}: {len(blocks)} JSON-LD blocks, {len(events)} Events")
    assert {path: event_problems(data) for path, data in events} == {path: [] for path, _ in events}


def test_an_event_without_summary_or_address_still_has_description_image_and_place(tmp_path):
    event = "---\ntitle: Vigil\nslug: vigil\nuid: 5b0f3f8e-6c1d-4a8e-9a57-1d2c3b4a5f60\nstarts: 2027-07-10 12:00\ntimezone: Europe/London\ncity: London\n---\n\nDetails.\n"
    files = build_files(tmp_path, {"content/events/vigil.md": event})
    (block,) = json_ld_blocks(files["calendar/vigil/index.html"])
    data = json.loads(block)
    assert event_problems(data) == []
    assert data["image"] == "https://example.org/campaign/calendar/vigil/share.png" and data["startDate"] == "2027-07-10T12:00:00+01:00"


# Sitemap and hreflang --------------------------------------------------------------------------------------

SITEMAP_SCHEMA = etree.XMLSchema(etree.parse(str(DATA / "sitemap.xsd")))


def test_sitemap_is_valid_for_the_sitemaps_org_xsd_and_lists_every_page(built):
    document = etree.fromstring(built.files["sitemap.xml"])
    assert SITEMAP_SCHEMA.validate(document), str(SITEMAP_SCHEMA.error_log)
    locs = document.xpath("//s:loc/text()", namespaces={"s": "http://www.sitemaps.org/schemas/sitemap/0.9"})
    assert len(locs) == len(set(locs))
    assert sorted(output_path(built, loc) for loc in locs) == sorted(p for p in built.files if p.endswith(".html") and p != "404.html")
    print(f"{built.name}: sitemap.xml, {len(locs)} URLs, XSD valid")


def test_sitemap_schema_rejects_what_search_engines_reject():
    urlset = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{}</loc>{}</url></urlset>'
    assert SITEMAP_SCHEMA.validate(etree.fromstring(urlset.format("https://example.org/a/", "")))
    assert not SITEMAP_SCHEMA.validate(etree.fromstring(urlset.format("https://example.org/a/", "<priority>2</priority>")))
    assert not SITEMAP_SCHEMA.validate(etree.fromstring(urlset.format("https://example.org/a/", "<title>x</title>")))


def hreflang_of(page: bytes) -> dict[str, str]:
    """A page's <link rel="alternate" hreflang> map: language code to URL."""
    return {link.get("hreflang"): link.get("href") for link in lxml_html.fromstring(page).iter("link")
            if link.get("rel") == "alternate" and link.get("hreflang")}


def test_hreflang_alternates_are_reciprocal_and_name_the_page_itself(built):
    """Search engines ignore hreflang that the other page does not return (each version lists all, itself included)."""
    pages = {path: hreflang_of(data) for path, data in built.files.items() if path.endswith(".html")}
    linked = {path: links for path, links in pages.items() if links}
    assert len(linked) >= 10
    for path, links in linked.items():
        assert built.base_url + path.removesuffix("index.html") in links.values(), f"{path} does not list itself"
        assert "x-default" in links, path
        for code, url in links.items():
            other = output_path(built, url)
            assert other in pages, f"{path}: {code} -> {url}, no such page"
            assert pages[other] == links, f"{path} and {other} list different alternates"
    print(f"{built.name}: {len(linked)} pages with hreflang, all reciprocal")


# robots.txt ------------------------------------------------------------------------------------------------

ROBOTS_LINE = re.compile(r"(?i)(?:(user-agent):\s*([A-Za-z_*-]+)|(allow|disallow):\s*([/*][^\s#]*)?|(sitemap):\s*(\S+))\s*(?:#.*)?")


def robots_problems(text: str) -> list[str]:
    """What RFC 9309 (2.2) finds wrong in a robots.txt: each line a comment, blank, or a known rule; groups open with user-agent."""
    problems, in_group = [], False
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = ROBOTS_LINE.fullmatch(stripped)
        if not match:
            problems.append(f"line {number}: not a robots.txt rule: {line}")
        elif match.group(1):
            in_group = True
        elif match.group(3) and not in_group:
            problems.append(f"line {number}: {match.group(3)} before any user-agent")
        elif match.group(5) and not match.group(6).startswith(("https://", "http://")):
            problems.append(f"line {number}: the sitemap is not an absolute URL")
    if not in_group:
        problems.append("no user-agent group")
    return problems


def test_robots_txt_is_valid_rfc_9309_allows_every_page_and_names_the_sitemap(built):
    from urllib.robotparser import RobotFileParser

    text = built.files["robots.txt"].decode("utf-8")
    assert robots_problems(text) == []
    robots = RobotFileParser()
    robots.parse(text.splitlines())
    pages = [built.base_url + p for p in built.files if p.endswith(".html")]
    assert all(robots.can_fetch("Googlebot", url) for url in pages)
    assert robots.site_maps() == [built.base_url + "sitemap.xml"]
    assert robots_problems("Disallow: /\n") == ["line 1: Disallow before any user-agent", "no user-agent group"]
    assert robots_problems("User-agent: *\nAllow: nope\nSitemap: /s.xml\n") == [
        "line 2: not a robots.txt rule: Allow: nope", "line 3: the sitemap is not an absolute URL"]


# A real browser ---------------------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def browser_missing() -> str | None:
    """Why the real-browser check cannot run here, or None."""
    if not CHROMIUM.is_file():
        return "Chromium is not installed (apt-get install chromium); .ci/run installs it"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(seed, fixture_site, tmp_path_factory):
    """Both sites on a loopback HTTP server: the seed at the root, the fixture under /campaign/ (its base_url's path)."""
    root = tmp_path_factory.mktemp("served")
    write_output(seed.files, root / "seed")
    write_output(fixture_site.files, root / "fixture" / "campaign")
    servers = []
    for name in ("seed", "fixture"):
        handler = functools.partial(QuietHandler, directory=str(root / name))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield {"seed": f"http://127.0.0.1:{servers[0].server_port}/", "fixture": f"http://127.0.0.1:{servers[1].server_port}/campaign/",
           "root": root}
    for server in servers:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """The standard library's file server, without a log line per request."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class Console:
    """One browser tab that notes console errors and warnings, uncaught exceptions and failed or 4xx/5xx requests."""

    def __init__(self, browser) -> None:
        self.page = browser.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda message: self.problems.append(f"console {message.type}: {message.text}")
                     if message.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        # net::ERR_ABORTED: the previous page's icon, cut off by the next goto (a missing file is an HTTP 404 below).
        self.page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url} {request.failure}")
                     if request.failure != "net::ERR_ABORTED" else None)
        self.page.on("response", lambda response: self.problems.append(f"HTTP {response.status}: {response.url}")
                     if response.status >= 400 else None)

    def load(self, url: str, evaluate: str | None = None, settle: int = 100) -> tuple[list[str], object]:
        """What went wrong while `url` loaded (and `evaluate` ran), and what `evaluate` returned."""
        self.problems = []
        self.page.goto(url, wait_until="load")
        result = self.page.evaluate(evaluate) if evaluate else None
        if settle:
            self.page.wait_for_timeout(settle)  # the icon is fetched after the load event
        return self.problems, result


@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
@pytest.mark.parametrize("name", ["seed", "fixture"])
def test_no_console_error_or_failed_request_on_any_page_in_chromium(browser, served, name, seed, fixture_site):
    """Every page over HTTP (the fixture under a sub-path) and from file://, as a visitor's browser loads it."""
    built = seed if name == "seed" else fixture_site
    pages = sorted(path for path in built.files if path.endswith(".html"))
    folder = served["root"] / name / ("campaign" if name == "fixture" else "")
    problems, tab = {}, Console(browser)
    for path in pages:
        for url, settle in ((served[name] + path, 100), ((folder / path).as_uri(), 0)):
            found, _ = tab.load(url, settle=settle)
            if found:
                problems[url] = found
    print(f"{name}: {len(pages)} pages x 2 (http, file://) in Chromium, {len(problems)} with problems")
    assert problems == {}


@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
def test_every_page_links_a_favicon_that_loads(browser, served, seed):
    """Chromium loads the page's own icon, never /favicon.ico (which a site under a sub-path does not have)."""
    script = "Promise.all([...document.querySelectorAll('link[rel=icon]')].map(l => fetch(l.href).then(r => [l.href, r.status])))"
    tab = Console(browser)
    for base in (served["seed"], served["fixture"]):
        for path in ("index.html", "news/index.html"):
            problems, icons = tab.load(base + path, script)
            assert problems == [] and [status for _, status in icons] == [200], (base + path, problems, icons)
            assert icons[0][0] == base + "favicon.png"
    assert seed.files["favicon.png"].startswith(b"\x89PNG")


@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
def test_robots_txt_can_be_fetched_from_inside_a_page(browser, served):
    """Lighthouse 12 reads /robots.txt through the page's own loader: the page's CSP must allow that same-origin fetch."""
    problems, status = Console(browser).load(served["seed"] + "index.html", "fetch('/robots.txt').then(r => r.status)")
    assert problems == [] and status == 200


# HTML: the Nu HTML Checker over the fixture site (the seed's pages: test_accessible) ----------------------

def test_fixture_site_is_valid_html_for_the_nu_checker(fixture_site, tmp_path):
    from test_accessible import vnu_errors, vnu_missing

    if vnu_missing():
        pytest.skip(vnu_missing())
    pages, errors = vnu_errors(fixture_site.files, tmp_path / "out")
    print(f"fixture: Nu HTML Checker, {len(pages)} pages, {len(errors)} errors")
    assert errors == []
    assert len(pages) >= 30
