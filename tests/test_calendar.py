"""Calendar stage: every .ics parsed back with icalendar; times, UIDs, status changes, folding, escaping."""

from __future__ import annotations

from datetime import date, datetime, timezone

import icalendar
import pytest
from conftest import NOW, REPO, make_project

from placard.calendar import render_calendar
from placard.pipeline import Project, build_site

UID_A = "5b0f3f8e-6c1d-4a8e-9a57-1d2c3b4a5f60"
UID_B = "9c8e7d6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
CYRILLIC = "Митинг солидарности с нефтяниками Жанаозена у посольства Казахстана в Лондоне"


def event_md(slug: str, uid: str, starts: str, timezone_name: str = "Europe/London", body: str = "Details.", **extra: str) -> str:
    """The text of an event file with the given front matter."""
    extra.setdefault("city", "London")
    lines = [f"title: {extra.pop('title', 'Protest ' + slug)}", f"slug: {slug}", f"uid: {uid}", f"starts: {starts}", f"timezone: {timezone_name}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body + "\n"


def build_events(tmp_path, events: dict[str, str], now: datetime = NOW):
    """Build a project holding only these event files; return (site, output files)."""
    project = make_project(tmp_path, {f"content/events/{name}.md": text for name, text in events.items()}, fixture="none")
    return build_site(project, now)


def parse_ics(data: bytes) -> icalendar.Calendar:
    """Parse an .ics file as a calendar client would."""
    return icalendar.Calendar.from_ical(data)


def only_event(data: bytes) -> icalendar.Event:
    """The single VEVENT of a per-event .ics file."""
    events = parse_ics(data).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_seed_london_demonstration_is_noon_utc_in_every_ics():
    site, output = build_site(Project(REPO), NOW)
    for path in ("calendar.ics", "calendar/london-demonstration-2011-12-21/event.ics"):
        cal = parse_ics(output.files[path])
        (event,) = [e for e in cal.walk("VEVENT") if str(e["UID"]) == "0e4a6017-1fff-47a2-bf32-ef0292c51230"]
        assert event.decoded("DTSTART") == datetime(2011, 12, 21, 12, 0, tzinfo=timezone.utc)
        assert b"DTSTART:20111221T120000Z\r\n" in output.files[path]
        assert str(event["URL"]) == "https://zhanaozen-solidarity.example.org/calendar/london-demonstration-2011-12-21/"
        assert str(event["LOCATION"]) == "Kazakh-British Chamber of Commerce, 62 South Audley Street, London, United Kingdom"
        assert str(event["STATUS"]) == "CONFIRMED"
        # The seed address has commas: escaped on the wire (RFC 5545 3.3.11), restored by the parser.
        assert b"LOCATION:Kazakh-British Chamber of Commerce\\, 62 South Audley Street\\, Lon" in output.files[path]


def test_calendar_headers(tmp_path):
    _, output = build_events(tmp_path, {"a": event_md("a", UID_A, "2027-07-10 12:00")})
    data = output.files["calendar.ics"]
    cal = parse_ics(data)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]).startswith("-//placard//")
    assert str(cal["METHOD"]) == "PUBLISH"
    assert b"\r\nNAME:Test campaign\r\n" in data and b"\r\nX-WR-CALNAME:Test campaign\r\n" in data
    event = only_event(data)
    for prop in ("UID", "DTSTAMP", "DTSTART", "SUMMARY", "LOCATION", "DESCRIPTION", "URL", "STATUS", "SEQUENCE"):
        assert prop in event, prop
    assert b"TZID" not in data and b"VTIMEZONE" not in data  # UTC only: no TZID without its VTIMEZONE


def test_july_london_event_is_bst(tmp_path):
    _, output = build_events(tmp_path, {"july": event_md("july", UID_A, "2027-07-10 12:00", ends="2027-07-10 14:30")})
    event = only_event(output.files["calendar/july/event.ics"])
    assert event.decoded("DTSTART") == datetime(2027, 7, 10, 11, 0, tzinfo=timezone.utc)
    assert event.decoded("DTEND") == datetime(2027, 7, 10, 13, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("starts", "utc_hour"),
    [("2027-03-10 18:00", 13), ("2011-12-17 18:00", 12)],  # Kazakhstan moved Almaty from UTC+6 to UTC+5 in 2024
)
def test_almaty_event_converts_with_the_zone_history(tmp_path, starts, utc_hour):
    _, output = build_events(tmp_path, {"almaty": event_md("almaty", UID_A, starts, "Asia/Almaty")})
    event = only_event(output.files["calendar/almaty/event.ics"])
    day = date.fromisoformat(starts[:10])
    assert event.decoded("DTSTART") == datetime(day.year, day.month, day.day, utc_hour, 0, tzinfo=timezone.utc)


def test_ambiguous_time_with_a_stated_choice(tmp_path):
    _, output = build_events(tmp_path, {
        "early": event_md("early", UID_A, "2027-10-31 01:30", ambiguous_time="earlier"),
        "late": event_md("late", UID_B, "2027-10-31 01:30", ambiguous_time="later"),
    })
    assert only_event(output.files["calendar/early/event.ics"]).decoded("DTSTART") == datetime(2027, 10, 31, 0, 30, tzinfo=timezone.utc)
    assert only_event(output.files["calendar/late/event.ics"]).decoded("DTSTART") == datetime(2027, 10, 31, 1, 30, tzinfo=timezone.utc)


def test_all_day_event_uses_dates_with_exclusive_end(tmp_path):
    _, output = build_events(tmp_path, {"camp": event_md("camp", UID_A, "2027-05-01", ends="2027-05-02")})
    data = output.files["calendar/camp/event.ics"]
    assert b"DTSTART;VALUE=DATE:20270501\r\n" in data
    assert b"DTEND;VALUE=DATE:20270503\r\n" in data  # RFC 5545 3.6.1: DTEND is the day after the last day


def test_long_cyrillic_title_folds_on_character_boundaries_and_round_trips(tmp_path):
    assert len(CYRILLIC.encode()) > 75
    _, output = build_events(tmp_path, {"ru": event_md("ru", UID_A, "2027-07-10 12:00", title=f'"{CYRILLIC}"', address='"1, Street; Side"')})
    for path in ("calendar.ics", "calendar/ru/event.ics"):
        data = output.files[path]
        assert data.endswith(b"\r\n")
        assert b"\n" not in data.replace(b"\r\n", b"")  # no bare LF: every line ends in CRLF
        lines = data.split(b"\r\n")[:-1]
        assert max(len(line) for line in lines) <= 75
        for line in lines:
            line.decode("utf-8")  # raises if a fold split a multi-byte character
        summary_lines = [line for line in lines if line.startswith(b"SUMMARY:")]
        index = lines.index(summary_lines[0])
        assert lines[index + 1].startswith(b" ")  # the title really was folded
        event = only_event(data) if path != "calendar.ics" else parse_ics(data).walk("VEVENT")[0]
        assert str(event["SUMMARY"]) == CYRILLIC
        assert str(event["LOCATION"]) == "1, Street; Side, London"
        assert b"1\\, Street\\; Side" in data.replace(b"\r\n ", b"")


def test_unchanged_content_gives_byte_identical_files_and_no_clock(tmp_path):
    events = {"a": event_md("a", UID_A, "2027-07-10 12:00", updated="2027-06-01 09:15 +01:00")}
    _, first = build_events(tmp_path / "one", events, now=NOW)
    _, second = build_events(tmp_path / "two", events, now=datetime(2031, 1, 1, tzinfo=timezone.utc))
    assert first.files["calendar.ics"] == second.files["calendar.ics"]
    assert first.files["calendar/a/event.ics"] == second.files["calendar/a/event.ics"]
    event = only_event(first.files["calendar/a/event.ics"])
    assert event.decoded("DTSTAMP") == datetime(2027, 6, 1, 8, 15, tzinfo=timezone.utc)


def test_uid_is_stable_across_a_title_change(tmp_path):
    _, before = build_events(tmp_path / "one", {"a": event_md("a", UID_A, "2027-07-10 12:00", title="Old title")})
    _, after = build_events(tmp_path / "two", {"a": event_md("a", UID_A, "2027-07-10 12:00", title="New title", sequence="1")})
    old, new = only_event(before.files["calendar/a/event.ics"]), only_event(after.files["calendar/a/event.ics"])
    assert str(old["UID"]) == str(new["UID"]) == UID_A
    assert str(new["SUMMARY"]) == "New title"


def test_cancelled_event_keeps_uid_raises_sequence_and_stays_in_the_feed(tmp_path):
    _, before = build_events(tmp_path / "one", {"a": event_md("a", UID_A, "2027-07-10 12:00")})
    _, after = build_events(tmp_path / "two", {"a": event_md("a", UID_A, "2027-07-10 12:00", status="cancelled", sequence="1", updated="2027-07-01 10:00 +01:00")})
    old = only_event(before.files["calendar/a/event.ics"])
    (new,) = parse_ics(after.files["calendar.ics"]).walk("VEVENT")
    assert str(new["UID"]) == str(old["UID"]) == UID_A
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert str(new["STATUS"]) == "CANCELLED"
    assert str(new["SUMMARY"]).startswith("CANCELLED: ")


def test_postponed_is_tentative_and_rescheduled_is_confirmed(tmp_path):
    _, output = build_events(tmp_path, {
        "p": event_md("p", UID_A, "2027-07-10 12:00", status="postponed", sequence="1"),
        "r": event_md("r", UID_B, "2027-07-17 12:00", status="rescheduled", sequence="2", previous_start="2027-07-10 12:00"),
    })
    assert str(only_event(output.files["calendar/p/event.ics"])["STATUS"]) == "TENTATIVE"  # RFC 5545 3.8.1.11
    assert str(only_event(output.files["calendar/r/event.ics"])["STATUS"]) == "CONFIRMED"


def test_no_personal_data_and_no_address_on_request(tmp_path):
    _, output = build_events(tmp_path, {"a": event_md(
        "a", UID_A, "2027-07-10 12:00", venue="A community hall", address='"1 Secret Road"', city="London",
        address_on_request="true", contact='"Campaign office: info@example.org"',
    )})
    data = output.files["calendar/a/event.ics"]
    assert b"Secret Road" not in data
    assert b"ATTENDEE" not in data and b"ORGANIZER" not in data and b"info@example.org" not in data
    assert str(only_event(data)["LOCATION"]) == "A community hall, London (address on request)"
    page = output.files["calendar/a/index.html"].decode()
    assert "Secret Road" not in page and "address on request" in page


def test_render_calendar_lists_every_event_once():
    site, _ = build_site(Project(REPO), NOW)
    files = render_calendar(site)
    ru_event = "ru/calendar/demonstratsiya-podderzhite-neftyanikov-kazakhstana-i-ikh-soobshchestva-protest/event.ics"
    kk_event = "kk/calendar/demonstratsiya-qazaqstandaghy-munayshylar-men-olardyng-qauymdastyqtaryn/event.ics"
    assert sorted(files) == sorted(["calendar.ics", "calendar/london-demonstration-2011-12-21/event.ics",
                                    "ru/calendar.ics", ru_event, "kk/calendar.ics", kk_event])
    for feed in ("calendar.ics", "ru/calendar.ics", "kk/calendar.ics"):
        assert len(parse_ics(files[feed]).walk("VEVENT")) == len(site.events)
