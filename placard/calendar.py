"""Calendar stage: RFC 5545 feeds (calendar.ics and one .ics per event), the extras of event pages
(schema.org JSON-LD, "add to calendar" links) and the QR code of printable flyers.

The .ics files are written by the `icalendar` library, never by hand: it gives CRLF line endings,
folding at 75 octets without splitting a UTF-8 character, and TEXT escaping (RFC 5545 3.1, 3.3.11).
Nothing here reads the clock: every timestamp comes from the content, so an unchanged event gives
byte-identical files in every build.
"""

from __future__ import annotations

import functools
import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import icalendar
from markupsafe import Markup

from . import installed_version
from .catalogue import N_, Catalogue
from .languages import translations_of, view_of
from .models import Event, Site, SiteConfig
from .share import directions_url
from .templating import format_duration
from .urls import absolute_url, lang_prefix, path_of

CALENDAR_FILE = "calendar.ics"

# RFC 5545 3.8.1.11 allows only TENTATIVE, CONFIRMED and CANCELLED for a VEVENT. A postponed event
# has no date any more, so it is no longer confirmed; a rescheduled or moved event is confirmed at
# its new time or place.
ICS_STATUS = {
    "scheduled": "CONFIRMED",
    "rescheduled": "CONFIRMED",
    "moved-online": "CONFIRMED",
    "postponed": "TENTATIVE",
    "cancelled": "CANCELLED",
}
# Clients that ignore STATUS still show the title, so the title says it too.
SUMMARY_PREFIX = {"cancelled": N_("CANCELLED: %(title)s"), "postponed": N_("POSTPONED: %(title)s")}
STATUS_NOTES = {"cancelled": N_("Status: cancelled."), "postponed": N_("Status: postponed."),
                "rescheduled": N_("Status: rescheduled."), "moved-online": N_("Status: moved online.")}
ENGLISH = Catalogue("en", {})  # message ids are English: an empty catalogue gives them as they are
SCHEMA_STATUS = {
    "scheduled": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
    "postponed": "https://schema.org/EventPostponed",
    "rescheduled": "https://schema.org/EventRescheduled",
    "moved-online": "https://schema.org/EventMovedOnline",
}
# Escapes that keep JSON inert inside <script>: no "</script>", "<!--" or entity can end or bend it.
JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def event_folder(event: Event, default_lang: str) -> str:
    """The output folder of an event's page, e.g. 'calendar/<slug>/'."""
    return path_of(event, default_lang)[: -len("index.html")]


def event_ics_path(event: Event, default_lang: str) -> str:
    """Where an event's own .ics file goes."""
    return event_folder(event, default_lang) + "event.ics"


def flyer_path(event: Event, default_lang: str) -> str:
    """Where an event's printable flyer goes."""
    return event_folder(event, default_lang) + "flyer/index.html"


def calendar_path(lang: str, config: SiteConfig) -> str:
    """Where a language's calendar.ics goes: calendar.ics, ru/calendar.ics..."""
    return lang_prefix(lang, config.language) + CALENDAR_FILE


def render_calendar(site: Site, catalogues: dict[str, Catalogue] | None = None, views: dict | None = None) -> dict[str, bytes]:
    """calendar.ics per language with every event (in that language where translated, else in the
    original's), plus one .ics per event page, as output path -> bytes. A translated event keeps the
    original's UID: it is the same event (RFC 5545 3.8.4.7), only its text differs.
    `views` are the site's language views if the caller has them (placard.index), else computed here."""
    catalogues = catalogues or {}
    groups = translations_of(site) if views is None else None
    files = {}
    for lang in site.config.languages:
        config, catalogue = site.config.in_language(lang), catalogues.get(lang, ENGLISH)
        events = views[lang].events if views is not None else view_of(site, lang, groups).events
        files[calendar_path(lang, site.config)] = make_calendar(config, config.title, events, catalogue).to_ical()
    for event in site.events + tuple(t for t in site.translations if t.kind == "event"):
        config, catalogue = site.config.in_language(event.lang), catalogues.get(event.lang, ENGLISH)
        files[event_ics_path(event, config.language)] = make_calendar(config, f"{event.title} · {config.title}", [event], catalogue).to_ical()
    return files


def make_calendar(config: SiteConfig, name: str, events, catalogue: Catalogue = ENGLISH) -> icalendar.Calendar:
    """A VCALENDAR (RFC 5545 3.4, 3.6) published for anyone to import or subscribe to."""
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//placard//placard {installed_version()}//EN")  # RFC 5545 3.7.3
    cal.add("version", "2.0")  # RFC 5545 3.7.4
    cal.add("method", "PUBLISH")  # RFC 5546 1.4 via RFC 5545 3.7.2: a published, not an invitation
    # NAME is RFC 7986 5.1 TEXT; X-WR-CALNAME is what older clients read. vText makes icalendar escape
    # commas and semicolons (RFC 5545 3.3.11), which it does not do for these names by default.
    cal.add("name", icalendar.vText(name))
    cal.add("x-wr-calname", icalendar.vText(name))
    # RFC 7986 5.7 (and the older X-PUBLISHED-TTL): subscribers check back twice a day.
    cal.add("refresh-interval", timedelta(hours=12), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vText("PT12H"))
    for event in events:
        cal.add_component(make_vevent(event, config, catalogue))
    return cal


def make_vevent(event: Event, config: SiteConfig, catalogue: Catalogue = ENGLISH) -> icalendar.Event:
    """One VEVENT (RFC 5545 3.6.1); no ATTENDEE, ORGANIZER or any other personal data."""
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)  # RFC 5545 3.8.4.7: the random UUID from the front matter, never changed
    vevent.add("dtstamp", to_utc(stamp_of(event)))  # RFC 5545 3.8.7.2: from the content, not the clock
    if event.updated is not None:
        vevent.add("last-modified", to_utc(event.updated))  # RFC 5545 3.8.7.3
    vevent.add("sequence", event.sequence)  # RFC 5545 3.8.7.4: raised with each material change
    vevent.add("status", ICS_STATUS[event.status])  # RFC 5545 3.8.1.11
    start, end = ics_times(event, config.event_duration)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    # RFC 5545 3.2.10: LANGUAGE marks an event shown in its original language in another language's feed.
    other = {"LANGUAGE": event.lang} if event.lang != catalogue.lang else None
    vevent.add("summary", summary_text(event, catalogue), parameters=other)  # RFC 5545 3.8.1.12
    location = location_text(event, catalogue)
    if location:
        vevent.add("location", location)  # RFC 5545 3.8.1.7
    vevent.add("description", description_text(event, config, catalogue), parameters=other)  # RFC 5545 3.8.1.5
    vevent.add("url", event_url(event, config))  # RFC 5545 3.8.4.6: absolute, from base_url
    return vevent


def stamp_of(event: Event) -> datetime:
    """DTSTAMP: the last update, else the publication time, else the start (always from the file)."""
    return event.updated or event.publish or event.starts


def to_utc(value: datetime) -> datetime:
    """UTC, so icalendar writes the RFC 5545 3.3.5 FORM #2 'Z' time and no TZID needs a VTIMEZONE."""
    return value.astimezone(timezone.utc)


def ics_times(event: Event, duration: timedelta) -> tuple[datetime | date, datetime | date]:
    """DTSTART and DTEND: UTC date-times, or dates for all-day events with DTEND the day after the
    last day (RFC 5545 3.6.1: DTEND is exclusive; a DATE value is the same day everywhere).

    An event without `ends` lasts the site's `event_duration`: without DTEND a timed VEVENT lasts no
    time at all (RFC 5545 3.6.1), which calendar apps show as a sliver nobody notices; the
    description says the end was not announced (description_text)."""
    if event.all_day:
        return event.starts.date(), event.finishes.date()
    return to_utc(event.starts), to_utc(event.ends or event.starts + duration)


def is_online(event: Event) -> bool:
    """Whether people join from home rather than in person."""
    return event.kind_of_event == "online" or event.status == "moved-online"


def summary_text(event: Event, catalogue: Catalogue = ENGLISH) -> str:
    """The title, saying CANCELLED or POSTPONED first for clients that ignore STATUS."""
    prefix = SUMMARY_PREFIX.get(event.status)
    return catalogue.tr(prefix, title=event.title) if prefix else event.title


def location_text(event: Event, catalogue: Catalogue = ENGLISH) -> str:
    """Where, for calendars: no street address when it is given only on request."""
    if is_online(event):
        return catalogue.tr(N_("Online"))
    if event.address_on_request:
        place = ", ".join(p for p in (event.venue, event.city, event.country) if p)
        return catalogue.tr(N_("%(place)s (address on request)"), place=place) if place else catalogue.tr(N_("Address on request"))
    return ", ".join(p for p in (event.venue, event.address, event.city, event.country) if p)


def directions_of(event: Event) -> str | None:
    """A plain OpenStreetMap link to the event's place, or None when it is online or given only on request."""
    if is_online(event) or event.address_on_request or not (event.address or event.venue):
        return None
    return directions_url(", ".join(p for p in (event.address or event.venue, event.city, event.country) if p))


def description_text(event: Event, config: SiteConfig, catalogue: Catalogue = ENGLISH) -> str:
    """The event's summary and practical notes, and where to read the latest."""
    parts = []
    if event.status != "scheduled":
        parts.append(catalogue.tr(STATUS_NOTES[event.status]))
    if event.summary:
        parts.append(event.summary)
    if event.what_to_bring:
        parts.append(catalogue.tr(N_("What to bring: %(text)s"), text=event.what_to_bring))
    if event.accessibility:
        parts.append(catalogue.tr(N_("Accessibility: %(text)s"), text=event.accessibility))
    if event.ends is None and not event.all_day:
        parts.append(catalogue.tr(N_("End time not announced; this calendar entry shows it as %(duration)s."),
                                  duration=format_duration(config.event_duration, catalogue.lang)))
    parts.append(catalogue.tr(N_("Details and updates: %(url)s"), url=event_url(event, config)))
    return "\n\n".join(parts)


def event_url(event: Event, config: SiteConfig) -> str:
    """The public address of an event's page."""
    return absolute_url(config.base_url, path_of(event, config.language))


def webcal_url(config: SiteConfig, lang: str | None = None) -> str:
    """The subscribe link for a language's whole calendar: the https address with the webcal scheme."""
    return "webcal://" + absolute_url(config.base_url, calendar_path(lang or config.language, config)).split("://", 1)[1]


def compact_utc(value: datetime | date) -> str:
    """20111221T120000Z, or 20111221 for a date: the form calendar services take in links."""
    if isinstance(value, datetime):
        return value.strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def google_calendar_url(event: Event, config: SiteConfig, catalogue: Catalogue = ENGLISH) -> str:
    """A plain link that opens Google Calendar's "new event" form with this event filled in."""
    start, end = ics_times(event, config.event_duration)
    params = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{compact_utc(start)}/{compact_utc(end)}",
        "details": description_text(event, config, catalogue),
        "location": location_text(event, catalogue),
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(params, quote_via=quote)


def outlook_url(event: Event, config: SiteConfig, catalogue: Catalogue = ENGLISH) -> str:
    """A plain link that opens Outlook on the web's "new event" form with this event filled in."""
    start, end = ics_times(event, config.event_duration)
    iso = (lambda v: v.isoformat()) if event.all_day else (lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ"))
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": iso(start),
        "enddt": iso(end),
        "body": description_text(event, config, catalogue),
        "location": location_text(event, catalogue),
    }
    if event.all_day:
        params["allday"] = "true"
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(params, quote_via=quote)


# The site's share picture (static/share.png, 1200 x 630, as og:image): an Event without an image is not shown
# in search engines' event listings (Google's Event structured data recommends one).
SHARE_IMAGE = "share.png"


def event_json_ld(event: Event, config: SiteConfig, catalogue: Catalogue = ENGLISH) -> dict:
    """The schema.org Event for search engines and calendar apps that read pages."""
    from .share_cards import share_card_path  # (here: the lines above are the message catalogue's references)

    data: dict = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "url": event_url(event, config),
        "startDate": json_time(event, event.starts),
        "inLanguage": event.lang,
    }
    if event.ends is not None:
        data["endDate"] = json_time(event, event.ends)
    # Always a description (recommended): the summary, else the calendar's text (practical notes, the page's address).
    data["description"] = event.summary or description_text(event, config, catalogue)
    data["image"] = absolute_url(config.base_url, share_card_path(event, config.language))  # its own card (share_cards.py), its photo behind
    data["eventStatus"] = SCHEMA_STATUS[event.status]
    online = is_online(event)
    data["eventAttendanceMode"] = "https://schema.org/" + ("OnlineEventAttendanceMode" if online else "OfflineEventAttendanceMode")
    if online:
        data["location"] = {"@type": "VirtualLocation", "url": event_url(event, config)}
    else:
        address = {
            "@type": "PostalAddress",
            "streetAddress": None if event.address_on_request else event.address,
            "addressLocality": event.city,
            "addressCountry": event.country,
        }
        data["location"] = {
            "@type": "Place",
            "name": event.venue or event.city or "Address on request",
            "address": {k: v for k, v in address.items() if v is not None},
        }
    if event.organizer:  # another group: we do not know its address, so we do not claim one
        data["organizer"] = {"@type": "Organization", "name": event.organizer}
    else:
        data["organizer"] = {"@type": "Organization", "name": config.organisation or config.title, "url": config.base_url}
    if event.previous_start is not None and event.status == "rescheduled":
        data["previousStartDate"] = event.previous_start.isoformat(timespec="seconds")
    return data


def json_time(event: Event, value: datetime) -> str:
    """ISO 8601 with the local offset, or the date alone for all-day events."""
    return value.date().isoformat() if event.all_day else value.isoformat(timespec="seconds")


def render_json_ld(data: dict) -> Markup:
    """JSON safe to place inside <script type="application/ld+json">: <, > and & as \\u escapes."""
    return Markup(json.dumps(data, ensure_ascii=False, indent=2).translate(JSON_IN_HTML))


@functools.lru_cache(maxsize=1024)  # pure, and the slowest part of a preview rebuild of a small site
def render_qr_svg(url: str) -> Markup:
    """A QR code of `url` as inline SVG, made at build time (no image request, no third party)."""
    import segno  # imported where used: only event flyers need it, and it takes a tenth of build.py's start

    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, omitsize=True, border=4, title=f"QR code: {url}"))


def event_page_context(event: Event, site: Site, catalogue: Catalogue = ENGLISH) -> dict:
    """What the event page shows beyond the event itself: feeds, calendar links, structured data."""
    config = site.config.in_language(event.lang)
    return {
        "ics_path": event_ics_path(event, config.language),
        "flyer_path": flyer_path(event, config.language),
        "calendar_path": calendar_path(event.lang, config),
        "calendar_https": absolute_url(config.base_url, calendar_path(event.lang, config)),
        "webcal": webcal_url(config, event.lang),
        "google_url": google_calendar_url(event, config, catalogue),
        "outlook_url": outlook_url(event, config, catalogue),
        "json_ld": render_json_ld(event_json_ld(event, config, catalogue)),
        "event_url": event_url(event, config),
    }


def flyer_context(event: Event, site: Site) -> dict:
    """What a printable flyer shows: the event, its address and the QR code pointing there."""
    url = event_url(event, site.config)
    return {"event_url": url, "qr_svg": render_qr_svg(url)}
