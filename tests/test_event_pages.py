"""Event page (JSON-LD golden, h-event, calendar links), calendar page split by `now`, printable flyer."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from conftest import NOW, REPO
from test_calendar import UID_A, UID_B, build_events, event_md

from placard.pipeline import Project, build_site

GOLDEN = Path(__file__).resolve().parent / "golden"

RESCHEDULED = event_md(
    "rally", UID_A, "2027-07-17 12:00", title='"Rally for the Zhanaozen workers"', ends="2027-07-17 14:00",
    status="rescheduled", sequence="2", previous_start="2027-07-10 12:00", updated="2027-07-01 09:30 +01:00",
    venue='"Kazakh-British Chamber of Commerce"', address='"62 South Audley Street"', country='"United Kingdom"',
    organizer='"Zhanaozen solidarity group"', summary='"Solidarity with the oil workers."',
    what_to_bring='"Banners, warm clothes"',
)


class Scripts(HTMLParser):
    """Collect the text of every <script type="application/ld+json">."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.blocks: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.inside = tag == "script" and dict(attrs).get("type") == "application/ld+json"
        if self.inside:
            self.blocks.append("")

    def handle_endtag(self, tag):
        self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.blocks[-1] += data


def json_ld_of(html: str) -> list[str]:
    """The raw JSON-LD blocks of a page, as a browser's HTML parser sees them."""
    parser = Scripts()
    parser.feed(html)
    return parser.blocks


def test_event_json_ld_matches_golden(tmp_path):
    _, output = build_events(tmp_path, {"rally": RESCHEDULED})
    (block,) = json_ld_of(output.files["calendar/rally/index.html"].decode())
    expected = json.loads((GOLDEN / "event-rescheduled.jsonld.json").read_text(encoding="utf-8"))
    assert json.loads(block) == expected


def test_seed_event_json_ld_matches_golden():
    _, output = build_site(Project(REPO), NOW)
    (block,) = json_ld_of(output.files["calendar/london-demonstration-2011-12-21/index.html"].decode())
    expected = json.loads((GOLDEN / "event-seed.jsonld.json").read_text(encoding="utf-8"))
    assert json.loads(block) == expected


def test_json_ld_cannot_break_out_of_its_script(tmp_path):
    hostile = "</script><script>alert(1)</script> & <!-- x"
    _, output = build_events(tmp_path, {"x": event_md("x", UID_A, "2027-07-10 12:00", title=json.dumps(hostile), summary=json.dumps(hostile))})
    html = output.files["calendar/x/index.html"].decode()
    (block,) = json_ld_of(html)
    assert "<" not in block and ">" not in block and "&" not in block
    assert "\\u003c/script\\u003e" in block
    assert json.loads(block)["name"] == hostile
    # only the JSON-LD block besides the site's own script files; the title is text everywhere else
    assert html.count("<script") - html.count('<script src="') == 1


def test_event_page_has_h_event_status_banner_and_calendar_links(tmp_path):
    _, output = build_events(tmp_path, {"rally": RESCHEDULED})
    html = output.files["calendar/rally/index.html"].decode()
    for cls in ("h-event", "p-name", "dt-start", "dt-end", "p-location", "p-summary", "e-content", "u-url"):
        assert f'class="{cls}' in html or f" {cls}" in html, cls
    assert 'class="status-banner status-rescheduled" role="status"' in html
    assert "first planned for <time datetime=\"2027-07-10T12:00:00+01:00\">Saturday, 10 July 2027, 12:00 BST</time>" in html
    assert 'Last updated <time datetime="2027-07-01T09:30:00+01:00">1 July 2027, 09:30 BST' in html
    assert '<time class="dt-start" datetime="2027-07-17T12:00:00+01:00">Saturday, 17 July 2027, 12:00 BST</time>' in html
    assert 'href="event.ics" download' in html
    assert 'href="webcal://example.org/campaign/calendar.ics"' in html
    assert 'href="https://example.org/campaign/calendar.ics"' in html
    assert 'href="flyer/"' in html
    google = re.search(r'href="(https://calendar\.google\.com/[^"]+)"[^>]*>Add to Google Calendar</a> \(goes to google\.com\)', html)
    outlook = re.search(r'href="(https://outlook\.live\.com/[^"]+)"[^>]*>Add to Outlook</a> \(goes to outlook\.live\.com\)', html)
    assert google and outlook
    query = parse_qs(urlsplit(google.group(1).replace("&amp;", "&")).query)
    assert query["dates"] == ["20270717T110000Z/20270717T130000Z"]
    assert query["text"] == ["Rally for the Zhanaozen workers"]
    query = parse_qs(urlsplit(outlook.group(1).replace("&amp;", "&")).query)
    assert query["startdt"] == ["2027-07-17T11:00:00Z"] and query["enddt"] == ["2027-07-17T13:00:00Z"]


def test_cancelled_event_page_offers_no_google_or_outlook_links(tmp_path):
    _, output = build_events(tmp_path, {"a": event_md("a", UID_A, "2027-07-10 12:00", "Asia/Almaty", status="cancelled", sequence="1", updated="2027-07-01")})
    html = output.files["calendar/a/index.html"].decode()
    assert "This event will not take place." in html
    assert 'Last updated <time datetime="2027-07-01T00:00:00+01:00">1 July 2027</time>.' in html  # a date alone stays a date
    assert "calendar.google.com" not in html and "outlook.live.com" not in html
    assert 'href="event.ics"' in html  # so calendars that have it can take the cancellation


def calendar_sections(html: str) -> tuple[list[str], list[str]]:
    """Event titles in the Upcoming and Past lists of the calendar page, in order."""
    upcoming = html.split('id="upcoming-events"')[1].split("</ul>")[0]
    past = html.split('id="past-events"')[1].split("</ul>")[0]
    past = re.sub(r"<li data-show-after=[^>]* hidden>.*?</li>", "", past, flags=re.S)  # copies shown by the visitor's clock
    titles = lambda part: re.findall(r'class="p-name u-url" href="[^"]+">([^<]+)</a>', part)
    return titles(upcoming), titles(past)


CALENDAR = {
    "march": event_md("march", UID_A, "2027-03-10 18:00", "Asia/Almaty", title="Almaty March"),
    "july": event_md("july", UID_B, "2027-07-10 12:00", ends="2027-07-10 14:00", title="London July"),
    "may": event_md("may", "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a", "2027-05-01", ends="2027-05-02", title="May Camp"),
    "old": event_md("old", "4e3d2c1b-0a9f-4e8d-9c7b-6a5f4e3d2c1b", "2011-12-21 12:00", title="Old Demo"),
}


def test_calendar_page_splits_upcoming_and_past_for_any_now(tmp_path):
    _, early = build_events(tmp_path / "one", CALENDAR, now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    html = early.files["calendar/index.html"].decode()
    assert calendar_sections(html) == (["Almaty March", "May Camp", "London July"], ["Old Demo"])
    copies = html.split('id="past-events"')[1].split("</ul>")[0].split("Old Demo")[0]
    assert re.findall(r'<li data-show-after="([^"]+)" hidden>', copies) == [  # latest end first: Past is newest first
        "2027-07-10T14:00:00+01:00", "2027-05-03T00:00:00+01:00", "2027-03-10T18:00:00+05:00"]  # (Kazakhstan has been on UTC+5 since 2024)
    assert 'Correct as of <time class="built" datetime="2027-01-01">1 January 2027</time>' in html

    # On the camp's second day it is still upcoming (all-day events last to the end of their last day);
    # one minute after the July protest ends, it is the newest past event.
    _, mid = build_events(tmp_path / "two", CALENDAR, now=datetime(2027, 5, 2, 22, 0, tzinfo=timezone.utc))
    assert calendar_sections(mid.files["calendar/index.html"].decode()) == (["May Camp", "London July"], ["Almaty March", "Old Demo"])
    _, late = build_events(tmp_path / "three", CALENDAR, now=datetime(2027, 7, 10, 13, 1, tzinfo=timezone.utc))
    assert calendar_sections(late.files["calendar/index.html"].decode()) == ([], ["London July", "May Camp", "Almaty March", "Old Demo"])
    assert 'src="../early.js"' in late.files["calendar/index.html"].decode()
    assert "early.js" in late.files


def test_calendar_page_shows_local_time_and_zone_abbreviation(tmp_path):
    _, output = build_events(tmp_path, CALENDAR, now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    html = output.files["calendar/index.html"].decode()
    assert "Saturday, 10 July 2027, 12:00 BST" in html
    assert "Wednesday, 21 December 2011, 12:00 GMT" in html
    assert "Wednesday, 10 March 2027, 18:00 +05" in html  # tzdata has no letters for Almaty; the offset is what it shows


def test_flyer_has_title_time_place_and_inline_qr(tmp_path):
    _, output = build_events(tmp_path, {"rally": RESCHEDULED})
    html = output.files["calendar/rally/flyer/index.html"].decode()
    assert "<h1>Rally for the Zhanaozen workers</h1>" in html
    assert "17 July 2027<br>12:00 BST – 14:00 BST" in html
    assert "Kazakh-British Chamber of Commerce, 62 South Audley Street, London, United Kingdom" in html
    assert "Banners, warm clothes" in html
    assert re.search(r'<svg [^>]*viewBox="0 0 \d+ \d+"', html) and "<title>QR code: https://example.org/campaign/calendar/rally/</title>" in html
    assert 'href="../../../flyer.css"' in html and "@page { size: A4" in output.files["flyer.css"].decode()
    assert "<img" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
