"""A campaign site that moves visitors to act (issue 19): events that never mislead, the next action
first on the home page, the campaign's actions, and share links without trackers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import REPO, build_errors, make_project
from test_calendar import UID_A, build_events, event_md, only_event

from placard.pipeline import Project, build_site
from placard.schema import parse_duration
from placard.errors import FieldError

BEFORE_DEMO = datetime(2011, 12, 20, 9, 0, tzinfo=timezone.utc)  # the seed campaign, the day before its protest
AFTER_DEMO = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def seed_before():
    return build_site(Project(REPO), BEFORE_DEMO)[1]


@pytest.fixture(scope="module")
def seed_after():
    return build_site(Project(REPO), AFTER_DEMO)[1]


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("fixture"))
    return build_site(project, datetime(2011, 12, 20, 9, 0, tzinfo=timezone.utc))


def page(output, path: str) -> str:
    return output.files[path].decode()


# Events that never mislead

@pytest.mark.parametrize("path, when", [
    ("calendar/london-demonstration-2011-12-21/index.html", "Wednesday, 21 December 2011, 12:00 GMT"),
    ("ru/calendar/demonstratsiya-podderzhite-neftyanikov-kazakhstana-i-ikh-soobshchestva-protest/index.html", "среда, 21 декабря 2011 г., 12:00 GMT"),
    ("kk/calendar/demonstratsiya-qazaqstandaghy-munayshylar-men-olardyng-qauymdastyqtaryn/index.html", "2011 ж. 21 желтоқсан, сәрсенбі, 12:00 GMT"),
    ("calendar/index.html", "Wednesday, 21 December 2011, 12:00 GMT"),
    ("index.html", "Wednesday, 21 December 2011, 12:00 GMT"),
    ("ru/index.html", "среда, 21 декабря 2011 г., 12:00 GMT"),
    ("calendar/london-demonstration-2011-12-21/flyer/index.html", "Wednesday, 21 December 2011"),
])
def test_every_event_date_says_its_weekday_in_the_pages_language(seed_before, path, when):
    assert when in page(seed_before, path).replace("\u202f", " ")  # CLDR puts a narrow no-break space before г. and ж.


def test_an_event_without_an_end_says_so_and_one_with_an_end_does_not(seed_before, fixture_site):
    assert "(end time not announced)" in page(seed_before, "calendar/london-demonstration-2011-12-21/index.html")
    assert "(время окончания не объявлено)" in page(seed_before, "ru/calendar/demonstratsiya-podderzhite-neftyanikov-kazakhstana-i-ikh-soobshchestva-protest/index.html")
    demo = page(fixture_site[1], "calendar/demo/index.html")  # ends: 14:00
    assert "end time not announced" not in demo and '<time class="dt-end" datetime="2011-12-21T14:00:00+00:00">14:00 GMT</time>' in demo


def test_ics_entries_of_an_event_without_an_end_last_the_sites_duration_and_say_so(seed_before):
    vevent = only_event(seed_before.files["calendar/london-demonstration-2011-12-21/event.ics"])
    assert vevent.decoded("dtstart") == datetime(2011, 12, 21, 12, 0, tzinfo=timezone.utc)
    assert vevent.decoded("dtend") - vevent.decoded("dtstart") == timedelta(hours=2)  # the default
    assert "End time not announced; this calendar entry shows it as 2 hours." in str(vevent["description"])
    ru = only_event(seed_before.files["ru/calendar/demonstratsiya-podderzhite-neftyanikov-kazakhstana-i-ikh-soobshchestva-protest/event.ics"])
    assert "Время окончания не объявлено; в календаре событие показано длительностью 2 часа." in str(ru["description"])


def test_the_sites_event_duration_is_used_for_ics_and_calendar_links(tmp_path):
    project = make_project(tmp_path, {"content/events/x.md": event_md("x", UID_A, "2027-07-10 12:00")}, fixture="none")
    (project.root / "site.yml").write_text((project.root / "site.yml").read_text() + "event_duration: 1:30\n", encoding="utf-8")
    _, output = build_site(project, BEFORE_DEMO)
    vevent = only_event(output.files["calendar/x/event.ics"])
    assert vevent.decoded("dtend") - vevent.decoded("dtstart") == timedelta(minutes=90)
    assert "shows it as 1 hour 30 minutes." in str(vevent["description"])
    html = page(output, "calendar/x/index.html")
    google = next(h for h in re.findall(r'href="([^"]+)"', html) if "calendar.google.com" in h)
    assert parse_qs(urlsplit(google.replace("&amp;", "&")).query)["dates"] == ["20270710T110000Z/20270710T123000Z"]


@pytest.mark.parametrize("text, minutes", [("2:00", 120), ("1:30", 90), ("3 hours", 180), ("1h", 60), ("90 minutes", 90), ("45 min", 45)])
def test_event_duration_forms(text, minutes):
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text, message", [("two hours", "is not a length of time"), ("0:05", "not between 15 minutes and 24 hours"), ("30:00", "not between")])
def test_event_duration_refused_with_advice(text, message):
    with pytest.raises(FieldError, match=message):
        parse_duration(text)


def test_pages_built_before_an_event_let_the_visitors_clock_decide(seed_before, seed_after):
    event = page(seed_before, "calendar/london-demonstration-2011-12-21/index.html")
    assert '<p class="badge past" data-show-after="2011-12-21T12:00:00+00:00" hidden>This event is over</p>' in event
    assert 'src="../../early.js"' in event
    home = page(seed_before, "index.html")
    assert 'class="next-event h-event" aria-labelledby="next-event" data-hide-after="2011-12-21T12:00:00+00:00"' in home
    assert 'data-show-after="2011-12-21T12:00:00+00:00" hidden' in home and 'src="early.js"' in home
    over = page(seed_after, "calendar/london-demonstration-2011-12-21/index.html")
    assert '<p class="badge past" data-show-after="2011-12-21T12:00:00+00:00">This event is over</p>' in over
    assert 'class="next-event' not in page(seed_after, "index.html")


# The next action first

def test_home_page_leads_with_the_upcoming_protest(seed_before):
    html = page(seed_before, "index.html")
    card = html[html.index('<section class="next-event'):html.index("</section>")]
    assert html.index('class="next-event') < html.index('class="lede"')  # before the history paragraph
    assert "Kazakh-British Chamber of Commerce, 62 South Audley Street, London" in card
    assert '<a class="button" href="calendar/london-demonstration-2011-12-21/event.ics" download>Add to calendar</a>' in card
    assert 'href="https://www.openstreetmap.org/search?query=62%20South%20Audley%20Street%2C%20London%2C%20United%20Kingdom" rel="noopener noreferrer">Directions</a>' in card
    assert '<a href="#share">Share</a>' in card and 'id="share"' in html


def test_without_an_upcoming_protest_the_primary_action_comes_first(tmp_path):
    project = make_project(tmp_path)
    _, output = build_site(project, datetime(2028, 1, 1, tzinfo=timezone.utc))
    html = page(output, "index.html")
    assert 'class="next-event' not in html
    none = html[html.index('<section class="next-none"'):]
    assert none.index("No protest is announced as of") < none.index('<a class="button primary" href="https://example.org/petition" rel="noopener noreferrer">Sign the petition</a>')
    assert '<a class="button primary" href="https://example.org/petition" rel="noopener noreferrer">Подпишите петицию</a>' in page(output, "ru/index.html")


# Actions and sharing

def test_actions_are_on_the_home_page_and_after_every_post_and_event_in_each_language(fixture_site):
    site, output = fixture_site
    paths = ["index.html", "ru/index.html", "kk/index.html"]
    paths += [path for path in output.files if re.fullmatch(r"(ru/|kk/)?(news|calendar)/(?!\d{4}/)[a-z0-9-]+/index.html", path)]  # (not the year archives)
    assert len(paths) >= 8
    for path in paths:
        html = page(output, path)
        label = {"ru": "Подпишите петицию", "kk": "Петицияға қол қойыңыз"}.get(path[:2], "Sign the petition")
        assert f'<a class="button action-petition" href="https://example.org/petition" rel="noopener noreferrer">{label}</a>' in html, path
        assert 'class="button action-follow" href="https://example.social/@campaign"' in html, path


def test_every_page_has_plain_share_links_to_itself(fixture_site):
    _, output = fixture_site
    pages = [path for path in output.files if path.endswith(".html") and path != "404.html" and "/flyer/" not in path]
    for path in pages:
        html = page(output, path)
        assert '<aside class="share wrap" id="share" aria-labelledby="share-heading">' in html, path
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', html)[1]
        links = dict(re.findall(r'<li><a href="([^"]+)"[^>]*>([^<]+)</a></li>', html[html.index('id="share"'):]))
        hosts = sorted(urlsplit(href.replace("&amp;", "&")).hostname or urlsplit(href).scheme for href in links)
        assert hosts == ["mailto", "t.me", "wa.me", "www.facebook.com", "x.com"], path
        for href in links:
            query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
            assert any(canonical in value for values in query.values() for value in values), (path, href)
        assert f'data-url="{canonical}"' in html and 'src="' in html and "share.js" in html


def test_share_links_carry_no_tracking_parameters(fixture_site):
    _, output = fixture_site
    html = page(output, "index.html")
    for href in re.findall(r'href="(https://[^"]+)"', html[html.index('id="share"'):]):
        assert not re.search(r"utm_|fbclid|ref=|via=", href), href


def test_an_action_needs_its_label_in_every_language(tmp_path):
    project = make_project(tmp_path, {"site.yml": (REPO / "tests/fixtures/site/site.yml").read_text().replace("      kk: Петицияға қол қойыңыз\n", "")})
    errors = build_errors(project)
    assert any("site.yml:" in e and "actions[1].labels.kk: the label of 'Sign the petition' in 'kk' is needed because 'languages' lists it" in e for e in errors), errors


# Who we are and how to reach us

def test_contact_page_shows_every_contact_field_of_site_yml(fixture_site):
    site, output = fixture_site
    html = page(output, "contact/index.html")
    assert "This site is published by Test Solidarity Group." in html
    for shown in ('<a href="mailto:hello@example.org">hello@example.org</a>', '<a href="mailto:press@example.org">press@example.org</a>',
                  "+44 7700 900123", '<a href="mailto:secure@example.org">secure@example.org</a>',
                  '<a href="../campaign.asc" download>Our public PGP key</a>',
                  '<dd class="postal">Test Solidarity Group\n1 Example Street\nLondon</dd>',
                  "Licence of this site's content: © 2026 Test Solidarity Group, CC BY-SA 4.0."):
        assert shown in html, shown
    assert output.files["campaign.asc"].startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "Кто мы и как с нами связаться" in page(output, "ru/contact/index.html")


def test_every_page_footer_names_the_organisation_links_contact_and_shows_the_licence(fixture_site):
    _, output = fixture_site
    for path in (p for p in output.files if p.endswith(".html") and "/flyer/" not in p):
        footer = page(output, path).split('<footer class="site-footer">')[1]
        assert "Test Solidarity Group · " in footer, path
        assert '<p class="licence">© 2026 Test Solidarity Group, CC BY-SA 4.0</p>' in footer, path
        assert re.search(r'<a href="[^"]*"[^>]*>(Who we are and how to reach us|Кто мы и как с нами связаться|Біз кімбіз және бізбен қалай байланысуға болады)</a>', footer), path


def test_the_licence_is_in_the_feeds_rights_and_the_open_data(fixture_site):
    import json

    import feedparser

    _, output = fixture_site
    for feed in ("feed.xml", "ru/feed.xml"):
        assert feedparser.parse(output.files[feed]).feed.rights == "© 2026 Test Solidarity Group, CC BY-SA 4.0"
    assert json.loads(output.files["links/ties.json"])["license"] == "© 2026 Test Solidarity Group, CC BY-SA 4.0"


def test_a_site_without_contact_details_says_so(seed_before):
    html = page(seed_before, "contact/index.html")
    assert "This campaign has not published a way to reach it yet." in html
    assert "The campaign has not stated a licence for this site's content; ask before reusing it." in html


def test_a_campaigns_own_contact_page_wins(tmp_path):
    project = make_project(tmp_path, {"content/pages/contact.md": "---\ntitle: Write to us\nslug: contact\n---\n\nBy post.\n"})
    _, output = build_site(project, BEFORE_DEMO)
    assert "Write to us" in page(output, "contact/index.html")


# In a real browser: the phone's first screen, and the visitor's clock

def served_site(output, root):
    """Serve a built site from a folder on a loopback port; returns (base address, server)."""
    import functools
    import http.server
    import threading

    from placard.output import write_output
    from test_validators import QuietHandler

    write_output(output.files, root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/", server


@pytest.fixture(scope="module")
def phone(seed_before, tmp_path_factory):
    """The seed site as of 20 December 2011 in Chromium at 390x844, its clock set to that morning."""
    from test_validators import browser_missing

    if browser_missing():
        pytest.skip(browser_missing())
    from playwright.sync_api import sync_playwright

    from test_validators import CHROMIUM, CHROMIUM_ARGS

    base, server = served_site(seed_before, tmp_path_factory.mktemp("phone"))
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser, base
        browser.close()
    server.shutdown()
    server.server_close()


def open_page(browser, url: str, clock: datetime, size=(390, 844)):
    """A tab at `size` whose clock reads `clock`, with every request to another host noted in tab.foreign."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    tab = context.new_page()
    tab.clock.set_fixed_time(clock)
    tab.foreign = []
    tab.on("request", lambda request: tab.foreign.append(request.url) if not request.url.startswith(url.split("/", 3)[0] + "//" + url.split("/", 3)[2]) else None)
    tab.goto(url)
    tab.wait_for_load_state("load")
    return tab


BOX = "s => { const e = document.querySelector(s); if (!e || !e.offsetParent) return null; const r = e.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; }"


@pytest.mark.parametrize("lang", ["", "ru/", "kk/"])
def test_on_a_phone_the_protests_date_place_and_add_to_calendar_are_on_the_first_screen(phone, lang):
    browser, base = phone
    tab = open_page(browser, base + lang, BEFORE_DEMO)
    header = tab.evaluate(BOX, ".site-header")
    assert header[1] - header[0] <= 120, f"header {header[1] - header[0]} px tall"
    for part in (".next-event .card-when", ".next-event .card-where", ".next-event .card-actions .button"):
        box = tab.evaluate(BOX, part)
        assert box is not None and 0 <= box[0] and box[1] <= 844 and box[3] <= 390, (part, box)
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    assert tab.foreign == []
    tab.context.close()


def test_the_visitors_clock_hides_a_protest_that_is_over_since_the_build(phone):
    browser, base = phone
    after = datetime(2011, 12, 21, 12, 30, tzinfo=timezone.utc)  # the event has no end: over at its start, as the calendar page says
    home = open_page(browser, base, after)
    assert home.evaluate(BOX, ".next-event") is None and home.evaluate(BOX, ".next-none") is not None
    home.context.close()
    event = open_page(browser, base + "calendar/london-demonstration-2011-12-21/", after)
    assert event.evaluate(BOX, ".badge.past") is not None
    event.context.close()
    before = open_page(browser, base + "calendar/london-demonstration-2011-12-21/", BEFORE_DEMO)
    assert before.evaluate(BOX, ".badge.past") is None
    before.context.close()
    calendar = open_page(browser, base + "calendar/", after)
    assert calendar.evaluate("[...document.querySelectorAll('#past-events li')].filter(e => e.offsetParent).length") == 1
    assert calendar.evaluate("[...document.querySelectorAll('#upcoming-events li')].filter(e => e.offsetParent).length") == 0
    assert calendar.evaluate(BOX, ".moved-note") is not None
    assert calendar.evaluate(BOX, "#upcoming-events + .none") is not None  # "No protest is announced yet."
    calendar.context.close()


LAYOUT_SHIFT = """() => new Promise(done => new PerformanceObserver((list, observer) => {
    done(list.getEntries().reduce((sum, entry) => sum + entry.value, 0)); observer.disconnect();
  }).observe({type: "layout-shift", buffered: true}) || setTimeout(() => done(0), 500))"""


@pytest.mark.parametrize("page", ["", "calendar/", "calendar/london-demonstration-2011-12-21/"])
def test_nothing_moves_once_shown_when_the_visitors_clock_is_past_the_event(phone, page):
    """early.js decides in the page's head, before the first paint: a page built before the event shows its
    after-the-event state from the start, with no layout shift (Lighthouse counted 0.1 and more when it moved things)."""
    browser, base = phone
    tab = open_page(browser, base + page, datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc))
    tab.wait_for_timeout(300)
    assert tab.evaluate(LAYOUT_SHIFT) == 0
    assert tab.evaluate(BOX, ".next-event") is None and tab.evaluate(BOX, "#upcoming-events > li") is None
    if page.startswith("calendar/london"):
        assert tab.evaluate(BOX, ".badge.past") is not None
    tab.context.close()


def test_share_script_offers_a_mastodon_link_to_the_server_typed(phone):
    browser, base = phone
    tab = open_page(browser, base + "news/demonstrate-support-oil-workers-in-kazakhstan/", BEFORE_DEMO)
    tab.click(".mastodon summary")
    tab.fill("#mastodon-server", "https://example.social/")
    href = tab.get_attribute(".mastodon-go", "href")
    assert href.startswith("https://example.social/share?text=") and "demonstrate-support-oil-workers-in-kazakhstan" in href
    assert tab.foreign == []
    tab.context.close()


def test_phone_tap_targets_are_at_least_24px(phone):
    browser, base = phone
    small = {}
    for path in ("", "calendar/london-demonstration-2011-12-21/", "contact/", "calendar/"):
        tab = open_page(browser, base + path, BEFORE_DEMO)
        # Links inside a sentence are exempt (WCAG 2.5.8 "inline"); every other control is measured.
        small[path] = tab.evaluate("""() => [...document.querySelectorAll('a, button, summary, input')]
            .filter(e => e.offsetParent && !e.closest('p, li > span, dd, td'))
            .map(e => [e.textContent.trim().slice(0, 40), Math.round(e.getBoundingClientRect().height)]).filter(x => x[1] < 24)""")
        tab.context.close()
    assert small == {path: [] for path in small}


def test_the_404_page_links_from_the_hosts_root_and_the_check_still_finds_a_broken_one(seed_after):
    from placard.check import check_files

    html = page(seed_after, "404.html")
    hrefs = re.findall(r'<a [^>]*href="([^"]+)"', html)
    assert "/index.html" in hrefs and "/ru/index.html" in hrefs and "/contact/index.html" in hrefs
    assert not [h for h in hrefs if "example.org" in h]  # never the main host: a mirror's visitor stays on the mirror
    files = dict(seed_after.files)
    assert [f for f in check_files(files)[0] if "404.html" in f.path] == []
    files["404.html"] = html.replace('href="/contact/index.html"', 'href="/contact/gone.html"').encode()
    assert [f.message for f in check_files(files)[0] if "404.html" in f.path] == ["<a href> '/contact/gone.html': no such file in the build (/contact/gone.html)"]


def test_the_flyer_carries_the_why_the_ask_the_weekday_and_its_description_and_landmarks(seed_before, fixture_site):
    html = page(seed_before, "calendar/london-demonstration-2011-12-21/flyer/index.html")
    summary = "Support oil workers and their communities in Kazakhstan – Protest at police killings."
    assert f'<meta name="description" content="{summary}">' in html and f'<meta property="og:description" content="{summary}">' in html
    assert '<meta property="og:image" content="https://zhanaozen-solidarity.example.org/share.png">' in html
    assert f'<p class="summary">{summary}</p>' in html and "Wednesday, 21 December 2011" in html
    assert '<header class="tools">' in html and '<main id="main">' in html  # nothing outside a landmark (axe 'region')
    flyer = page(fixture_site[1], "calendar/demo/flyer/index.html")
    assert "<strong>Sign the petition:</strong> https://example.org/petition" in flyer


# Identity

def test_the_accent_colour_applies_through_its_own_stylesheet(fixture_site):
    _, output = fixture_site
    assert b"--accent-dark: #1d4e89" in output.files["accent.css"]
    assert '<link rel="stylesheet" href="accent.css">' in page(output, "index.html")


@pytest.mark.parametrize("colour, ratio", [("#ff9900", "1.86:1"), ("#767676", "3.95:1")])
def test_an_accent_colour_below_wcag_aa_is_refused_with_its_ratio(colour, ratio):
    # #767676 passes on white (4.54:1) but not on the next-event card's background
    from placard.colour import accent_problem

    assert f"has a contrast of {ratio}" in accent_problem(colour)


def test_accent_colour_forms():
    from placard.schema import parse_colour

    assert parse_colour("#A41") == "#aa4411" and parse_colour("#a4161a") == "#a4161a"
    with pytest.raises(FieldError, match="is not a colour"):
        parse_colour("red")


def test_switching_language_on_a_translation_goes_to_the_original_not_to_the_home_page(fixture_site):
    _, output = fixture_site
    kk = "kk/news/birinshi-zhazba/index.html"  # the Kazakh translation of first-post
    html = page(output, kk)
    switcher = html[html.index('<nav class="languages"'):html.index("</nav>", html.index('<nav class="languages"'))]
    assert '<a href="../../../news/first-post/" hreflang="ru" lang="ru" title="Эта страница не переведена; ссылка ведёт на оригинал."><span class="lang-code" aria-hidden="true">RU</span><span class="lang-name">Русский</span></a>' in switcher
    assert '<a href="../../../news/first-post/" hreflang="en" lang="en"><span class="lang-code" aria-hidden="true">EN</span><span class="lang-name">English</span></a>' in switcher
    # From the original itself, a language without a translation still leads to its home page.
    assert 'href="../../ru/" hreflang="ru" lang="ru" title="Эта страница не переведена; ссылка ведёт на главную страницу.">' in page(output, "news/first-post/index.html")
