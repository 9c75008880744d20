"""Templating: the Jinja2 environment every page renders in, with the filters and the gettext of the
message catalogues that templates use. Autoescaping is on, undefined names are errors.
"""

from __future__ import annotations

import base64
import functools
from datetime import date, datetime, timedelta
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_date, format_time, format_timedelta, get_date_format
from markupsafe import Markup

from .identity import site_icon
from .catalogue import LANGUAGE_NAMES, Catalogue
from .theme import Layers
from .models import ENTITY_KIND_LABELS, EVENT_KIND_LABELS, EVENT_STATUS_LABELS, RELATIONS
from .urls import tag_slug


BABEL_LOCALES = {"en": "en_GB", "ru": "ru", "kk": "kk"}


def make_environment(templates: Layers, static: Layers | None = None, bytecode_cache: jinja2.BytecodeCache | None = None,
                     environment_class: type[jinja2.Environment] = jinja2.Environment) -> jinja2.Environment:
    """The Jinja2 environment: autoescaping, undefined variables are errors, our filters and globals.

    Templates are looked up in the site's templates/ first, then the theme's. `inline_stylesheet` is
    static/style.css, `inline_favicon(config)` the site's icon as a data: URL, for pages that cannot link
    to them (the 404 page). The
    environment's class is the caller's to choose (placard.incremental traces what pages read)."""
    env = environment_class(
        loader=jinja2.FileSystemLoader([str(folder) for folder in templates.dirs]),
        bytecode_cache=bytecode_cache,
        auto_reload=False,  # one environment per build: no need to stat every template for every page
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        date_long=filter_date_long,
        date_full=filter_date_full,
        datetime_long=filter_datetime_long,
        time_short=filter_time_short,
        iso=filter_iso,
        tag_slug=tag_slug,
        partial_date=filter_partial_date,
    )
    env.globals.update(relations=RELATIONS, inline_stylesheet=read_stylesheet(static), inline_favicon=read_favicon(static),
                       language_names=LANGUAGE_NAMES,
                       event_kinds=EVENT_KIND_LABELS, event_statuses=EVENT_STATUS_LABELS, entity_kinds=ENTITY_KIND_LABELS)
    env.tests["contains"] = lambda sequence, value: value in sequence
    return env


def make_gettext(catalogue: Catalogue):
    """`_("text", name=value)` for templates: the catalogue's text, trusted like template text, with
    %(name)s placeholders filled by escaped values (Jinja2's "new style" gettext)."""

    @jinja2.pass_eval_context
    def gettext(eval_ctx, msgid: str, **variables) -> str:
        text = catalogue.gettext(msgid)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    return gettext


def read_stylesheet(static: Layers | None) -> Markup:
    """static/style.css as trusted text for a <style> element (it is our own file)."""
    file = static.find("style.css") if static else None
    css = file.read_text(encoding="utf-8") if file and file.is_file() else ""
    return Markup(css.replace("</", "<\\/"))


def babel_locale(lang: str) -> str:
    """The Babel locale for one of our languages."""
    return BABEL_LOCALES.get(lang, lang)


def filter_date_long(value: date | datetime, lang: str = "en") -> str:
    """'16 December 2011' in the page's language."""
    # Babel's format_date shows a datetime's own calendar date (no conversion), so the date is the key.
    return format_date_cached(value.date() if isinstance(value, datetime) else value, lang)


@functools.lru_cache(maxsize=65536)  # pure; a post's date shows on its page, the news list and its tags
def format_date_cached(value: date, lang: str) -> str:
    pattern, locale = long_date_pattern(lang)
    return pattern.apply(value, locale)


@functools.lru_cache(maxsize=None)
def long_date_pattern(lang: str) -> tuple[Any, Locale]:
    """The locale's long date pattern, parsed once: what format_date(format="long") parses on every call."""
    locale = Locale.parse(babel_locale(lang))
    return get_date_format("long", locale=locale), locale


def filter_date_full(value: date | datetime, lang: str = "en") -> str:
    """'Wednesday, 21 December 2011' in the page's language: event dates always say the weekday."""
    return format_full_date_cached(value.date() if isinstance(value, datetime) else value, lang)


@functools.lru_cache(maxsize=4096)
def format_full_date_cached(value: date, lang: str) -> str:
    return format_date(value, format="full", locale=babel_locale(lang))


def format_duration(value: timedelta, lang: str = "en") -> str:
    """'2 hours', '1 hour 30 minutes' in `lang` (Babel's units; never rounded, unlike format_timedelta alone)."""
    hours, minutes = divmod(int(value.total_seconds()) // 60, 60)
    parts = [format_timedelta(timedelta(hours=hours), threshold=1, format="long", locale=babel_locale(lang))] if hours else []
    if minutes or not hours:
        parts.append(format_timedelta(timedelta(minutes=minutes), threshold=1, format="long", locale=babel_locale(lang)))
    return " ".join(parts)


def filter_datetime_long(value: datetime, lang: str = "en") -> str:
    """'16 December 2011, 12:00 GMT' in the page's language and the value's own zone."""
    return f"{filter_date_long(value, lang)}, {filter_time_short(value, lang)}"


def filter_time_short(value: datetime, lang: str = "en") -> str:
    """'12:00 GMT': 24-hour local time and the zone's abbreviation at that moment."""
    clock = format_time(value, format="HH:mm", locale=babel_locale(lang))
    return f"{clock} {value.tzname()}" if value.tzinfo else clock


def filter_partial_date(value: str, lang: str = "en") -> str:
    """'2006', 'October 2006' or '1 October 2006' for a partial date of the register."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return value
    if len(parts) == 2:
        return format_date(date(parts[0], parts[1], 1), format="LLLL y", locale=babel_locale(lang))
    return filter_date_long(date(*parts), lang)


def filter_iso(value: date | datetime) -> str:
    """ISO 8601, for <time datetime> and feeds."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def read_favicon(static: Layers | None):
    """The site's icon as a data: URL, for pages that cannot link to it (the 404 page): a function of the
    site's settings, since without a static/favicon.png of its own the icon is drawn from them."""
    def inline_favicon(config) -> str:
        return "data:image/png;base64," + base64.b64encode(site_icon("favicon.png", config, static)).decode() if static else ""
    return inline_favicon
