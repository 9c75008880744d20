"""The site in English, Russian and Kazakh: pages per language, hreflang, the language switcher,
translations linked by key, the message catalogues, and per-language feeds and calendars."""

from __future__ import annotations

import posixpath
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import icalendar
import pytest
from conftest import NOW, REPO, build_errors, eject, make_project

from placard.catalogue import check_catalogues, po_text, required_messages
from placard.pipeline import Project, build, build_site
from placard.theme import DEFAULT_THEME, Layers

THEME_TEMPLATES = Layers((DEFAULT_THEME / "templates",))  # the theme's own, without any site over it


def own_catalogue(project: Project, lang: str) -> Path:
    """The project's catalogue for `lang`, a full copy of the theme's (as a campaigner copies it to edit)."""
    eject(project, f"templates/translations/{lang}.po")
    return project.templates / "translations" / f"{lang}.po"
from placard.slugs import make_slug

LANGS = ("en", "ru", "kk")
SECTIONS = ("index.html", "news/index.html", "calendar/index.html", "links/index.html", "tags/index.html")


class Links(HTMLParser):
    """The <html lang>, hreflang alternates and language-switcher links of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.hreflang: dict[str, str] = {}
        self.switcher: list[tuple[str, str]] = []
        self.in_switcher = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "link" and a.get("rel") == "alternate" and "hreflang" in a:
            assert a["hreflang"] not in self.hreflang, "hreflang listed twice"
            self.hreflang[a["hreflang"]] = a["href"]
        elif tag == "nav" and "languages" in (a.get("class") or ""):
            self.in_switcher = True
        elif tag in ("p", "header") and a.get("class") == "tools":  # the flyer's switcher
            self.in_switcher = True
        elif tag == "a" and self.in_switcher and "hreflang" in a:
            self.switcher.append((a["hreflang"], a["href"]))

    def handle_endtag(self, tag):
        if tag in ("nav", "p", "header"):
            self.in_switcher = False


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


def built(project: Project) -> dict[str, str]:
    """Build and return every HTML page by output path."""
    build(project, NOW)
    return {p.relative_to(project.output).as_posix(): p.read_text(encoding="utf-8") for p in project.output.rglob("*.html")}


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, tuple[str, dict[str, str], Path]]:
    """The seed site and the fixture site, built once: name -> (base_url, pages, output folder)."""
    seed_root = tmp_path_factory.mktemp("seed") / "project"
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, seed_root / name)
    shutil.copy(REPO / "site.yml", seed_root / "site.yml")
    seed = Project(seed_root)
    fixture = make_project(tmp_path_factory.mktemp("fixture"))
    return {
        "seed": ("https://zhanaozen-solidarity.example.org/", built(seed), seed.output),
        "fixture": ("https://example.org/campaign/", built(fixture), fixture.output),
    }


def resolve(page: str, href: str) -> str:
    """The output file a relative link from `page` leads to."""
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), href.split("#")[0]))
    if target == ".":
        return "index.html"
    return target + "/index.html" if not target.endswith(".html") else target


@pytest.mark.parametrize("name", ["seed", "fixture"])
def test_every_section_page_is_built_in_every_language(sites, name):
    _, pages, output = sites[name]
    for lang in LANGS:
        prefix = "" if lang == "en" else f"{lang}/"
        for section in SECTIONS:
            assert prefix + section in pages, prefix + section
        assert (output / f"{prefix}feed.xml").is_file() and (output / f"{prefix}calendar.ics").is_file()
    counts = {lang: sum(1 for path in pages if (path.split("/")[0] == lang) == (lang != "en") and (lang != "en" or path.split("/")[0] not in ("ru", "kk"))) for lang in LANGS}
    assert all(counts.values()), counts


@pytest.mark.parametrize("name", ["seed", "fixture"])
def test_html_lang_is_the_language_of_the_folder(sites, name):
    _, pages, _ = sites[name]
    for path, html in pages.items():
        folder = path.split("/")[0]
        assert parse(html).lang == (folder if folder in ("ru", "kk") else "en"), path


@pytest.mark.parametrize("name", ["seed", "fixture"])
def test_hreflang_links_are_absolute_reciprocal_and_include_x_default(sites, name):
    base, pages, _ = sites[name]
    by_url = {base + re.sub(r"(^|/)index\.html$", r"\1", path): path for path in pages}
    pairs = 0
    for path, html in pages.items():
        alternates = parse(html).hreflang
        if not alternates:  # a page with no translation (an untranslated post, the 404 page)
            assert not re.match(r"(ru/|kk/)?(index\.html|(news|calendar|links|tags)/index\.html)$", path), f"{path} has no hreflang links"
            continue
        assert "x-default" in alternates and alternates["x-default"] == alternates["en"] if "en" in alternates else True
        own = base + re.sub(r"(^|/)index\.html$", r"\1", path)
        assert own in alternates.values(), f"{path} does not list itself"
        for code, url in alternates.items():
            assert url.startswith(base), (path, url)
            other = by_url[url]  # KeyError: an alternate that was not built
            assert parse(pages[other]).hreflang == alternates, f"{path} and {other} disagree"
            if code != "x-default":
                assert parse(pages[other]).lang == code, (path, code, other)
                pairs += 1
    assert pairs > 50


@pytest.mark.parametrize("name", ["seed", "fixture"])
def test_language_switcher_never_leads_to_a_missing_page(sites, name):
    _, pages, _ = sites[name]
    for path, html in pages.items():
        if path == "404.html":
            continue
        links = parse(html).switcher
        assert {code for code, _ in links} == set(LANGS) - {parse(html).lang}, path
        for code, href in links:
            target = resolve(path, href)
            assert target in pages, f"{path}: switcher to {code} leads to missing {target}"
            # that language's page, or (from a translation into another language) the original, marked untranslated
            assert parse(pages[target]).lang == code or (f'hreflang="{code}" lang="{code}" title="' in html and parse(pages[target]).lang == "en"), (path, code)


def test_switcher_leads_to_the_translation_or_else_to_that_languages_home(sites):
    _, pages, _ = sites["seed"]
    ru_event = "ru/calendar/demonstratsiya-podderzhite-neftyanikov-kazakhstana-i-ikh-soobshchestva-protest/index.html"
    kk_event = "kk/calendar/demonstratsiya-qazaqstandaghy-munayshylar-men-olardyng-qauymdastyqtaryn/index.html"
    links = dict(parse(pages["calendar/london-demonstration-2011-12-21/index.html"]).switcher)
    assert resolve("calendar/london-demonstration-2011-12-21/index.html", links["ru"]) == ru_event
    assert resolve("calendar/london-demonstration-2011-12-21/index.html", links["kk"]) == kk_event
    post = "news/demonstrate-support-oil-workers-in-kazakhstan/index.html"  # not translated
    links = dict(parse(pages[post]).switcher)
    assert resolve(post, links["ru"]) == "ru/index.html" and resolve(post, links["kk"]) == "kk/index.html"


def test_seed_event_translations_share_times_place_and_uid(sites):
    _, pages, output = sites["seed"]
    ru = "ru/calendar/demonstratsiya-podderzhite-neftyanikov-kazakhstana-i-ikh-soobshchestva-protest/"
    html = pages[ru + "index.html"]
    assert "<h1 class=\"p-name\">Демонстрация – Поддержите нефтяников Казахстана" in html
    assert re.search(r"21 декабря 2011\sг\., 12:00 GMT", html) and "Казахстанско-Британская торговая палата" in html
    kk = pages["kk/calendar/demonstratsiya-qazaqstandaghy-munayshylar-men-olardyng-qauymdastyqtaryn/index.html"]
    assert "Қазақстан мұнайшыларының қауымдастықтары – біз сіздермен біргеміз!" in kk and "12:00 GMT" in kk
    uids = set()
    for path in ("calendar.ics", "ru/calendar.ics", "kk/calendar.ics", ru + "event.ics"):
        (event,) = icalendar.Calendar.from_ical((output / path).read_bytes()).walk("VEVENT")
        uids.add(str(event["UID"]))
        assert event.decoded("DTSTART").isoformat() == "2011-12-21T12:00:00+00:00"
    assert uids == {"0e4a6017-1fff-47a2-bf32-ef0292c51230"}


def test_feeds_and_calendars_are_in_their_language(sites):
    _, _, output = sites["fixture"]
    ru_feed = (output / "ru/feed.xml").read_text(encoding="utf-8")
    assert 'xml:lang="ru"' in ru_feed and "<title>Тестовая кампания</title>" in ru_feed
    assert "https://example.org/campaign/ru/feed.xml" in ru_feed
    assert '<entry xml:lang="en">' in ru_feed  # no Russian translation: the English post, marked as such
    kk_feed = (output / "kk/feed.xml").read_text(encoding="utf-8")
    assert "<title>Бірінші жазба: мұнай және Сити</title>" in kk_feed and 'https://example.org/campaign/kk/news/birinshi-zhazba/' in kk_feed
    ru_cal = icalendar.Calendar.from_ical((output / "ru/calendar.ics").read_bytes())
    assert str(ru_cal["X-WR-CALNAME"]) == "Тестовая кампания" and str(ru_cal["NAME"]) == "Тестовая кампания"
    events = {str(e["UID"]): e for e in ru_cal.walk("VEVENT")}
    demo = events["7d1c8f5e-2b7a-4c61-9a40-0f7c9f2a1b11"]
    assert str(demo["SUMMARY"]) == "Демонстрация у палаты" and "LANGUAGE" not in demo["SUMMARY"].params
    assert "Подробности и изменения: https://example.org/campaign/ru/calendar/demonstratsiya-u-palaty/" in str(demo["DESCRIPTION"])
    fallback = [e for uid, e in events.items() if uid != "7d1c8f5e-2b7a-4c61-9a40-0f7c9f2a1b11"]
    assert fallback and all(e["SUMMARY"].params["LANGUAGE"] == "en" for e in fallback)
    en_cal = icalendar.Calendar.from_ical((output / "calendar.ics").read_bytes())
    assert {str(e["UID"]) for e in en_cal.walk("VEVENT")} == set(events)
    assert str(en_cal["X-WR-CALNAME"]) == "Test campaign"


def test_untranslated_passages_carry_their_language(sites):
    _, pages, _ = sites["fixture"]
    ru_home = pages["ru/index.html"]
    assert '<a href="../news/first-post/" lang="en">First post: oil &amp; the City</a>' in ru_home
    kk_home = pages["kk/index.html"]
    assert '<a href="../kk/news/birinshi-zhazba/">' not in kk_home and '<a href="news/birinshi-zhazba/">Бірінші жазба' in kk_home
    event = pages["ru/calendar/demonstratsiya-u-palaty/index.html"]
    assert '<span lang="en">Kazakh-British Chamber of Commerce</span>' in event and ", Лондон," in event


def test_links_in_a_translation_lead_to_the_translation_in_that_language(sites):
    _, pages, _ = sites["fixture"]
    kk_post = pages["kk/news/birinshi-zhazba/index.html"]
    assert '<a href="../../../calendar/demo/">шараға</a>' in kk_post  # no Kazakh event: the English one
    ru_event = pages["ru/calendar/demonstratsiya-u-palaty/index.html"]
    assert 'href="../../../news/first-post/" lang="en"' in ru_event


def test_shipped_catalogues_have_every_message_and_nothing_unused():
    report = check_catalogues(THEME_TEMPLATES, LANGS, strict=True)
    missing = "\n".join(str(p) for p in report.missing)
    assert not report.missing, f"missing translations:\n{missing}"
    assert not report.unused, "unused messages:\n" + "\n".join(report.unused)
    assert {lang: len(c.messages) for lang, c in report.catalogues.items()} == {lang: len(required_messages(THEME_TEMPLATES)) for lang in LANGS}


POT_COMMAND = ["extract", "--no-default-keywords", "-k", "N_", "-k", "tr", "--omit-header", "--sort-by-file", "--no-wrap", "placard"]


def test_the_code_messages_pot_is_what_babel_extracts_now(tmp_path, monkeypatch):
    """placard/messages.pot (the code's messages, read at build time) is current: Babel's extractor,
    run as its comment in placard/catalogue.py says, writes the same bytes."""
    from babel.messages.frontend import CommandLineInterface

    monkeypatch.chdir(REPO)  # (only read here; the fresh .pot goes to tmp_path)
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", *POT_COMMAND[:1], "-o", str(fresh), *POT_COMMAND[1:]])
    shipped = (REPO / "placard" / "messages.pot").read_text(encoding="utf-8")
    assert fresh.read_text(encoding="utf-8") == shipped, "a message marked in the code changed: rerun the pybabel command in placard/catalogue.py"


def test_code_messages_come_from_the_pot_not_from_placards_source(monkeypatch):
    """No code reads placard's own .py files at build time (they are absent from a zipapp, stale in a wheel's cache)."""
    import builtins
    import io as io_module

    from placard import catalogue

    package = str((REPO / "placard").resolve())
    real_open, opened = io_module.open, []

    def watching_open(file, *args, **kwargs):
        name = str(file)
        if name.endswith(".py") and name.startswith(package):
            opened.append(name)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watching_open)
    monkeypatch.setattr(io_module, "open", watching_open)
    monkeypatch.setattr(Path, "read_bytes", lambda self: (opened.append(str(self)) if str(self).endswith(".py") else None) or real_open(self, "rb").read())
    catalogue.code_messages.cache_clear()
    messages = catalogue.code_messages()
    assert not opened, opened
    assert messages["owned by"].startswith("placard/") and messages["CANCELLED: %(title)s"] == "placard/calendar.py:41"


def test_placeholders_survive_translation():
    report = check_catalogues(THEME_TEMPLATES, LANGS, strict=True)
    for lang, catalogue in report.catalogues.items():
        for msgid, text in catalogue.messages.items():
            assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", text)), (lang, msgid)


def test_a_missing_message_stops_the_build_listing_every_one(tmp_path):
    """A language the theme has no catalogue for (here: a theme without kk.po): the site's must be complete."""
    theme = tmp_path / "theme"
    shutil.copytree(DEFAULT_THEME, theme)
    (theme / "templates" / "translations" / "kk.po").unlink()
    project = Project(make_project(tmp_path).root, theme=theme)
    required = required_messages(project.template_layers)
    catalogue = project.templates / "translations" / "kk.po"
    kept = {msgid: msgid for msgid in list(required)[3:]}  # (the text itself: it keeps its placeholders)
    catalogue.write_text(po_text("kk", {**kept, "Old wording": "ескі"}), encoding="utf-8")
    errors = build_errors(project)
    for msgid in list(required)[:3]:
        assert any(e.startswith("templates/translations/kk.po: msgid: ") and f'"{msgid}"' in e and "has no Kazakh translation" in e for e in errors), msgid
    assert len(errors) == 3
    report = check_catalogues(project.template_layers, ("kk",))
    assert any('msgid "Old wording" is not used by any template' in line for line in report.unused)


def test_unused_messages_are_reported_in_the_build_summary(tmp_path, capsys):
    from placard.cli import main

    project = make_project(tmp_path)
    catalogue = own_catalogue(project, "ru")
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + '\nmsgid "Old wording"\nmsgstr "Старый текст"\n', encoding="utf-8")
    assert main(["--root", str(project.root), "--now", NOW.isoformat()]) == 0
    out = capsys.readouterr().out
    assert re.search(r'Note: templates/translations/ru\.po:\d+: msgid "Old wording" is not used by any template', out), out


def test_an_empty_or_fuzzy_message_is_missing(tmp_path):
    project = make_project(tmp_path)
    catalogue = own_catalogue(project, "ru")
    text = catalogue.read_text(encoding="utf-8")
    text = text.replace('msgstr "Предстоящие"', 'msgstr ""').replace('msgid "Past"', '#, fuzzy\nmsgid "Past"')
    catalogue.write_text(text, encoding="utf-8")
    errors = build_errors(project)
    assert any(re.match(r'templates/translations/ru\.po:\d+: msgstr: "Upcoming" has no Russian translation yet', e) for e in errors), errors
    assert any(re.match(r'templates/translations/ru\.po:\d+: msgstr: "Past" is marked fuzzy', e) for e in errors), errors


def test_english_only_site_needs_no_other_catalogue(tmp_path):
    project = make_project(tmp_path, {"site.yml": "title: T\ntagline: T\ndescription: D\nbase_url: https://example.org/\ntimezone: Europe/London\n"})
    shutil.rmtree(project.templates / "translations")
    for path in list(project.content.rglob("*-ru.md")) + list(project.content.rglob("*-kk.md")):
        path.unlink()
    build(project, NOW)
    assert "Skip to content" in (project.output / "index.html").read_text(encoding="utf-8")
    assert not (project.output / "ru").exists()


def test_site_yml_needs_the_title_in_every_language(tmp_path):
    project = make_project(tmp_path)
    text = (project.root / "site.yml").read_text(encoding="utf-8")
    (project.root / "site.yml").write_text(text.split("\n  kk:\n")[0] + "\n", encoding="utf-8")  # the translations block's kk
    (message,) = build_errors(project)
    assert message.startswith("site.yml:6: translations.kk: the site's title, tagline and description in 'kk' are needed because 'languages' lists it")


def test_transliterated_slugs_for_russian_and_kazakh_titles():
    assert make_slug("Демонстрация в Лондоне") == "demonstratsiya-v-londone"
    assert make_slug("Әділет үшін күрес: Жаңаөзен") == "adilet-ushin-kures-zhangaozen"  # ң is ng
    long = make_slug("Демонстрация – Қазақстандағы мұнайшылар мен олардың қауымдастықтарын қолдаңыз – Полиция")
    assert long == "demonstratsiya-qazaqstandaghy-munayshylar-men-olardyng-qauymdastyqtaryn" and len(long) <= 80


def test_a_msgstr_without_its_closing_quote_is_an_error_at_its_line(tmp_path, capsys):
    """Babel reads `msgstr "Новости` as "Новост" (the last letter taken for the quote); the build refuses it."""
    from placard.cli import main

    project = make_project(tmp_path)
    catalogue = own_catalogue(project, "ru")
    text = catalogue.read_text(encoding="utf-8")
    line = text.split("\n").index('msgstr "Новости"') + 1
    catalogue.write_text(text.replace('msgstr "Новости"', 'msgstr "Новости'), encoding="utf-8")
    assert main(["--root", str(project.root), "--now", NOW.isoformat()]) == 1
    err = capsys.readouterr().err
    assert f'templates/translations/ru.po:{line}: the text after msgstr is not closed: end it with a double quote ", e.g. msgstr "Новости"' in err
    assert "Traceback" not in err and not (project.output / "ru").exists()


@pytest.mark.parametrize(
    "written, message",
    [
        ("%(datum)s", "%(datum)s is not in the msgid; %(date)s is missing; keep every placeholder exactly as in the msgid (%(date)s): it is where a date, name or link goes"),
        ("", "%(date)s is missing; keep every placeholder exactly as in the msgid (%(date)s)"),
        ("%(date)s %(place)s", "%(place)s is not in the msgid; keep every placeholder exactly as in the msgid (%(date)s)"),
        ("%(date)d", "%(date)d is not in the msgid; %(date)s is missing"),
        ("%(date", "a % in the translation starts no placeholder; write the placeholders exactly as in the msgid (%(date)s), and %% for a percent sign"),
    ],
)
def test_a_placeholder_changed_in_a_translation_is_reported_at_the_po_line(tmp_path, written, message):
    project = make_project(tmp_path)
    catalogue = own_catalogue(project, "ru")
    text = catalogue.read_text(encoding="utf-8")
    old = 'msgstr "Сведения актуальны на %(date)s, когда была собрана эта страница."'
    line = text.split("\n").index(old)  # the msgid's line (1-based), where Babel says the message is
    catalogue.write_text(text.replace(old, old.replace("%(date)s", written)), encoding="utf-8")
    (error,) = build_errors(project)
    assert error.startswith(f'templates/translations/ru.po:{line}: msgstr: "Correct as of %(date)s, when this page was built.": {message}'), error


def test_a_placeholder_added_to_a_text_without_any_is_reported(tmp_path):
    project = make_project(tmp_path)
    catalogue = own_catalogue(project, "ru")
    text = catalogue.read_text(encoding="utf-8")
    catalogue.write_text(text.replace('msgstr "Новости"', 'msgstr "Новости %(date)s"'), encoding="utf-8")
    (error,) = build_errors(project)
    assert re.match(r'templates/translations/ru\.po:\d+: msgstr: "News": %\(date\)s is not in the msgid; keep every placeholder exactly as in the msgid \(none\)', error), error
