"""Typed, validated content: what the rest of the pipeline may rely on without re-checking."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .schema import (
    Field,
    FieldError,
    choice,
    list_of,
    parse_bool,
    parse_colour,
    parse_date,
    parse_datetime_tz,
    parse_duration,
    parse_int,
    parse_local_datetime,
    parse_old_address,
    parse_partial_date,
    parse_relation,
    parse_slug,
    parse_text,
    parse_timezone,
    parse_url,
    parse_uuid,
)
from .versions import parse_placard_version
from .vocabulary import ENTITY_KIND_LABELS, EVENT_KIND_LABELS, EVENT_STATUS_LABELS, RELATIONS

ENTITY_KINDS = tuple(ENTITY_KIND_LABELS)
EVENT_KINDS = tuple(EVENT_KIND_LABELS)
EVENT_STATUSES = tuple(EVENT_STATUS_LABELS)
LANGUAGES = ("en", "ru", "kk")

# Each model below is declared with the schema of its front matter (or site.yml) beside it: the
# fields campaigners write, how each is read (placard.schema), which are required. validate_fields
# reads a file with it; tests/test_schema_models.py checks every field lands in the model, and the
# README's field tables list exactly these.

# Old addresses of a post, event or page (its own file's, also in a translation): a redirect page stays at each.
ALIASES = Field(list_of(parse_old_address), default=(),
                help=" (addresses this page had before, from the site's root, e.g. news/old-slug/; each keeps leading here)")

# Fields every post, event, page and entity has.
COMMON = {
    "draft": Field(parse_bool, default=False),
    "lang": Field(choice(*LANGUAGES), default=None),
    "translation_key": Field(parse_slug),
}


@dataclass(frozen=True)
class LeadImage:
    """A post's or event's own photo (`image:` with `src:` and `alt:`): on its page, in lists, the feed, its share card."""

    src: str  # relative to the Markdown file, like a body's ![...](src)
    alt: str
    line: int = 0  # of `src:` in the file, for messages


def parse_lead_image(value) -> LeadImage:
    """`image:` with `src:` (a photo next to the file) and `alt:` (what it shows, for people who cannot see it)."""
    example = "image:\n  src: square.jpg\n  alt: Police lines across the square"
    if not isinstance(value, dict):
        raise FieldError(f"must give the photo's file and what it shows, like:\n{example}")
    unknown = sorted(set(value) - {"src", "alt"})
    if unknown:
        raise FieldError(f"'{unknown[0]}' is not known here (only src and alt are); like:\n{example}")
    src, alt = value.get("src"), value.get("alt")
    if not isinstance(src, str) or not src.strip():
        raise FieldError(f"needs 'src:', the photo's file name next to this file, like:\n{example}")
    if not isinstance(alt, str) or not alt.strip():
        raise FieldError(f"needs 'alt:', a few words saying what the photo shows (read aloud to people who cannot see it), like:\n{example}")
    return LeadImage(src.strip(), alt.strip(), getattr(value, "lines", {}).get("src", getattr(value, "line", 0)))


@dataclass(frozen=True)
class Origin:
    """Where an item came from, for messages: the file shown to campaigners and its line."""

    path: str
    line: int = 1


@dataclass(frozen=True)
class SiteTexts:
    """The site's own name and description in one language (site.yml, or its `translations:`)."""

    title: str
    tagline: str
    description: str


SITE_TEXT_SCHEMA = {
    "title": Field(parse_text, required=True),
    "tagline": Field(parse_text, required=True),
    "description": Field(parse_text, required=True),
}


ACTION_KINDS = ("petition", "donate", "write", "volunteer", "follow", "other")


@dataclass(frozen=True)
class Action:
    """Something a visitor can do for the campaign (site.yml `actions:`): a labelled link to where it is done."""

    kind: str
    url: str
    label: str  # in the site's default language
    labels: tuple[tuple[str, str], ...] = ()  # (lang, label) for each language but the default

    def label_in(self, lang: str) -> str:
        """The label in `lang`, else the default language's."""
        return dict(self.labels).get(lang, self.label)


ACTION_SCHEMA = {
    "kind": Field(choice(*ACTION_KINDS), required=True, help=f" (one of: {', '.join(ACTION_KINDS)})"),
    "url": Field(parse_url, required=True, help=" (where the visitor does it: https://...)"),
    "label": Field(parse_text, required=True, help=" (what the button says, e.g. 'Sign the petition')"),
    "labels": Field(lambda v: v, default=(), help=""),
}


@dataclass(frozen=True)
class Logo:
    """The campaign's logo: a file in static/, with its size in CSS pixels (placard.identity measured it)."""

    name: str
    width: int
    height: int


@dataclass(frozen=True)
class SiteConfig:
    """The site-wide settings from site.yml."""

    title: str
    tagline: str
    description: str
    base_url: str
    language: str
    timezone: ZoneInfo
    organisation: str | None
    contact: str | None = None
    copyright: str | None = None
    press_contact: str | None = None  # for journalists (an email or phone number)
    signal: str | None = None  # a Signal number or username, for sources who need it private
    secure_email: str | None = None  # an email address that takes PGP-encrypted mail
    pgp_key: str | None = None  # the public key's file in static/, e.g. campaign.asc (content.py checks it is there)
    postal_address: str | None = None
    accent_colour: str | None = None  # #rrggbb for links and buttons, refused below WCAG AA contrast (placard.colour)
    logo: Logo | None = None  # shown before the name in every page's header; the icons are drawn from a PNG one
    languages: tuple[str, ...] = ("en",)
    mirrors: tuple[str, ...] = ()
    translations: tuple[tuple[str, SiteTexts], ...] = ()  # (lang, texts) for each language but the default
    placard_version: str | None = None  # the placard version the site was made with (placard.versions)
    search: bool = True  # a Pagefind index and a search page in each language (placard.search)
    max_image_mb: int = 25  # a referenced photo bigger than this is refused with what to do (placard.derivatives)
    publish_originals: bool = False  # publish photos as they are (metadata stripped) beside their derivatives
    page_budget_kb: int = 150  # `build.py check` fails a page a phone loads more of (placard.check)
    event_duration: timedelta = timedelta(hours=2)  # what calendars show for an event without `ends` (said in its description)
    actions: tuple[Action, ...] = ()  # the first is the campaign's primary action

    def in_language(self, lang: str) -> "SiteConfig":
        """The same settings with the title, tagline and description in `lang` (the default's if not given)."""
        texts = dict(self.translations).get(lang)
        if texts is None:
            return self
        return replace(self, title=texts.title, tagline=texts.tagline, description=texts.description)


CONFIG_SCHEMA = {
    "title": Field(parse_text, required=True),
    "tagline": Field(parse_text, required=True),
    "description": Field(parse_text, required=True),
    "base_url": Field(parse_url, required=True),
    "language": Field(choice(*LANGUAGES), default="en"),
    "languages": Field(list_of(choice(*LANGUAGES)), default=None),
    "timezone": Field(parse_timezone, required=True),
    "organisation": Field(parse_text),
    "contact": Field(parse_text),
    "copyright": Field(parse_text),
    "press_contact": Field(parse_text),
    "signal": Field(parse_text),
    "secure_email": Field(parse_text),
    "pgp_key": Field(parse_text, help=" (the name of the public key's file in static/, e.g. campaign.asc)"),
    "postal_address": Field(parse_text),
    "accent_colour": Field(parse_colour, help=' (e.g. "#a4161a")'),
    "logo": Field(parse_text, help=" (the name of the logo's file in static/, .svg or .png, e.g. logo.svg)"),
    "mirrors": Field(list_of(parse_url), default=()),
    "translations": Field(lambda v: v, default=None),
    "placard_version": Field(parse_placard_version, help=" (the placard version the site was made with, e.g. 0.1.0)"),
    "search": Field(parse_bool, default=True, help=" (true: a search page in each language, with an index built by Pagefind)"),
    "max_image_mb": Field(parse_int, default=25, help=" (the largest photo file accepted, in megabytes, e.g. 25)"),
    "publish_originals": Field(parse_bool, default=False, help=" (true to publish each photo's original file too, metadata removed)"),
    "page_budget_kb": Field(parse_int, default=150, help=" (what a phone may load for one page, in kilobytes, e.g. 150)"),
    "actions": Field(lambda v: v, default=(), help=""),
    "event_duration": Field(parse_duration, default=timedelta(hours=2),
                            help=" (how long calendar apps show an event without 'ends', e.g. 2:00 or 90 minutes)"),
}


@dataclass(frozen=True)
class Reply:
    """A reply kept under the post it answers (a static archive of a thread, no comment form)."""

    author: str
    date: datetime | date
    body: str
    line: int


REPLY_SCHEMA = {
    "author": Field(parse_text, required=True),
    "date": Field(parse_datetime_tz, required=True),
    "body": Field(parse_text, required=True),
}


@dataclass(frozen=True)
class Post:
    """A news post."""

    slug: str
    title: str
    date: datetime
    author: str
    body: str
    origin: Origin
    body_line: int
    summary: str | None = None
    tags: tuple[str, ...] = ()
    replies: tuple[Reply, ...] = ()
    updated: datetime | None = None
    source_note: str | None = None
    genre: str = "post"  # what kind of text it is ("report", "appeal"), for citations: "the appeal of 18 December 2011"
    image: LeadImage | None = None
    draft: bool = False
    lang: str = "en"
    translation_key: str | None = None
    aliases: tuple[str, ...] = ()  # old addresses (output paths) that lead here by a redirect page
    aliases_line: int = 0  # line of `aliases:` in the item's file, for messages
    original: str | None = None  # for a translation: the file of the default-language item it translates
    untranslated: tuple[str, ...] = ()  # for a translation: text fields shown as in the original (in its language)
    kind: str = field(default="post", init=False)


POST_SCHEMA = {
    "title": Field(parse_text, required=True),
    "slug": Field(parse_slug, required=True, help=" (lowercase-words-with-hyphens; it fixes the page's address)"),
    "date": Field(parse_datetime_tz, required=True),
    "author": Field(parse_text, required=True),
    "summary": Field(parse_text),
    "tags": Field(list_of(parse_text), default=()),
    "replies": Field(lambda v: v, default=()),
    "updated": Field(parse_datetime_tz),
    "source_note": Field(parse_text),
    "genre": Field(parse_text, default="post", help=""),
    "aliases": ALIASES,
    "image": Field(parse_lead_image, help=" (the photo at the top of the page, with src: and alt:)"),
    **COMMON,
}


@dataclass(frozen=True)
class Page:
    """A standalone page such as About."""

    slug: str
    title: str
    body: str
    origin: Origin
    body_line: int
    summary: str | None = None
    menu: int | None = None
    draft: bool = False
    publish: datetime | None = None
    lang: str = "en"
    translation_key: str | None = None
    aliases: tuple[str, ...] = ()  # old addresses (output paths) that lead here by a redirect page
    aliases_line: int = 0  # line of `aliases:` in the item's file, for messages
    original: str | None = None  # for a translation: the file of the default-language item it translates
    untranslated: tuple[str, ...] = ()  # for a translation: text fields shown as in the original (in its language)
    kind: str = field(default="page", init=False)


PAGE_SCHEMA = {
    "title": Field(parse_text, required=True),
    "slug": Field(parse_slug, required=True),
    "summary": Field(parse_text),
    "menu": Field(parse_int),
    "publish": Field(parse_datetime_tz),
    "aliases": ALIASES,
    **COMMON,
}


@dataclass(frozen=True)
class Event:
    """A protest, march or meeting: its own times and place, separate from any publication date."""

    slug: str
    title: str
    uid: str
    starts: datetime  # aware, in `timezone`; midnight for all-day events
    ends: datetime | None
    timezone: ZoneInfo
    all_day: bool
    kind_of_event: str
    status: str
    body: str
    origin: Origin
    body_line: int
    venue: str | None = None
    address: str | None = None
    city: str | None = None
    country: str | None = None
    address_on_request: bool = False
    summary: str | None = None
    sequence: int = 0
    previous_start: datetime | None = None
    updated: datetime | None = None
    organizer: str | None = None
    accessibility: str | None = None
    what_to_bring: str | None = None
    contact: str | None = None
    safety: str | None = None
    posts: tuple[str, ...] = ()
    image: LeadImage | None = None
    draft: bool = False
    publish: datetime | None = None
    lang: str = "en"
    translation_key: str | None = None
    aliases: tuple[str, ...] = ()  # old addresses (output paths) that lead here by a redirect page
    aliases_line: int = 0  # line of `aliases:` in the item's file, for messages
    original: str | None = None  # for a translation: the file of the default-language item it translates
    untranslated: tuple[str, ...] = ()  # for a translation: text fields shown as in the original (in its language)
    kind: str = field(default="event", init=False)

    @property
    def finishes(self) -> datetime:
        """When the event is over: its end, else its start; all-day events last to the end of their last day."""
        last = self.ends or self.starts
        return last + timedelta(days=1) if self.all_day else last


EVENT_SCHEMA = {
    "title": Field(parse_text, required=True),
    "slug": Field(parse_slug, required=True),
    "uid": Field(parse_uuid),  # required; load_event explains a missing one with a fresh UUID to paste
    "sequence": Field(parse_int, default=0),
    "starts": Field(parse_text, required=True, help=" (YYYY-MM-DD HH:MM, or YYYY-MM-DD for an all-day event)", widget="local-time"),
    "ends": Field(parse_text, widget="local-time"),
    "timezone": Field(parse_timezone, required=True, help=" (e.g. Europe/London)"),
    "ambiguous_time": Field(choice("earlier", "later")),
    "kind": Field(choice(*EVENT_KINDS), default="static-protest"),
    "status": Field(choice(*EVENT_STATUSES), default="scheduled"),
    "previous_start": Field(parse_local_datetime),
    "updated": Field(parse_datetime_tz),
    "venue": Field(parse_text),
    "address": Field(parse_text),
    "city": Field(parse_text),
    "country": Field(parse_text),
    "address_on_request": Field(parse_bool, default=False),
    "summary": Field(parse_text),
    "organizer": Field(parse_text),
    "accessibility": Field(parse_text),
    "what_to_bring": Field(parse_text),
    "contact": Field(parse_text),
    "safety": Field(parse_text),
    "posts": Field(list_of(parse_slug), default=()),
    "image": Field(parse_lead_image),
    "publish": Field(parse_datetime_tz),
    "aliases": ALIASES,
    **COMMON,
}


@dataclass(frozen=True)
class Source:
    """Evidence for a tie: a post on this site (`post`), or an external publication (`url`, `title`...)."""

    post: str | None = None
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    published: str | None = None  # partial date: 2011, 2011-12 or 2011-12-18
    accessed: date | None = None  # full date the campaigner last checked the page
    archived: str | None = None  # a copy in a web archive, in case the original disappears
    line: int = 0  # line of the source in its entity file, for messages


SOURCE_SCHEMA = {
    "post": Field(parse_slug),
    "url": Field(parse_url),
    "title": Field(parse_text),
    "publisher": Field(parse_text),
    "published": Field(parse_partial_date),
    "accessed": Field(parse_date),
    "archived": Field(parse_url),
}


@dataclass(frozen=True)
class Tie:
    """One sourced claim: `subject` <relation> `object`, with optional role and dates."""

    subject: str
    relation: str
    object: str
    sources: tuple[Source, ...]
    line: int
    role: str | None = None
    since: str | None = None  # partial date: 2006, 2006-10 or 2006-10-01
    until: str | None = None  # partial date, never before `since`
    note: str | None = None
    object_line: int = 0  # line of `object:`, for messages about the counterpart

    @property
    def label(self) -> str:
        """The relation read from the subject, e.g. 'chairman of'."""
        return RELATIONS[self.relation][0]

    @property
    def reverse_label(self) -> str:
        """The relation read from the object, e.g. 'chaired by'."""
        return RELATIONS[self.relation][1]


TIE_SCHEMA = {
    "relation": Field(parse_relation, required=True, help=f" (one of: {', '.join(RELATIONS)})"),
    "object": Field(parse_slug, required=True, help=" (the slug of the other entity)"),
    "role": Field(parse_text),
    "since": Field(parse_partial_date),
    "until": Field(parse_partial_date),
    "note": Field(parse_text),
    "sources": Field(lambda v: v, required=True, help=" with at least one source below it: '- post: <slug of a news post>' or '- url: https://...' with 'title:'; a tie without a source is never published"),
}


@dataclass(frozen=True)
class Entity:
    """A person, company, public body, government or organisation in the corporate-links register."""

    slug: str
    name: str
    entity_kind: str
    body: str
    origin: Origin
    body_line: int
    ties: tuple[Tie, ...] = ()
    aliases: tuple[str, ...] = ()
    country: str | None = None
    website: str | None = None
    draft: bool = False
    lang: str = "en"
    translation_key: str | None = None
    kind: str = field(default="entity", init=False)

    @property
    def title(self) -> str:
        """Entities are titled by their name."""
        return self.name


ENTITY_SCHEMA = {
    "name": Field(parse_text, required=True),
    "slug": Field(parse_slug, required=True),
    "type": Field(choice(*ENTITY_KINDS), required=True),
    "aliases": Field(list_of(parse_text), default=()),
    "country": Field(parse_text),
    "website": Field(parse_url),
    "ties": Field(lambda v: v, default=()),
    **COMMON,
}

# A translation file gives only the text of an item; dates, times, place, uid, status and tags come from
# the original in the site's default language, so translations can never disagree with it.
TRANSLATION_COMMON = {
    "title": Field(parse_text, required=True),
    "slug": Field(parse_slug, required=True, help=" (ASCII, e.g. transliterated from the title: build.py new --lang ru ...)"),
    "lang": Field(choice(*LANGUAGES), required=True),
    "translation_key": Field(parse_slug, required=True),
    "summary": Field(parse_text),
    "draft": Field(parse_bool, default=False),
    "aliases": ALIASES,
}


TRANSLATION_SCHEMAS = {
    "post": {**TRANSLATION_COMMON, "source_note": Field(parse_text)},
    "page": dict(TRANSLATION_COMMON),
    "event": {**TRANSLATION_COMMON, **{key: Field(parse_text) for key in (
        "venue", "address", "city", "country", "organizer", "accessibility", "what_to_bring", "contact", "safety")}},
}


@dataclass(frozen=True)
class HeldBack:
    """An item not published by this build, and why: builds never drop anything silently."""

    path: str
    reason: str
    ref: str = ""  # 'kind:slug' a link to it is written as (an original's), shown as plain text until it is published
    until: datetime | None = None  # when a scheduled item is due: the first build after then publishes it


@dataclass(frozen=True)
class Site:
    """Everything loaded and validated; the renderer's only input besides templates."""

    config: SiteConfig
    now: datetime
    posts: tuple[Post, ...]  # newest first
    events: tuple[Event, ...]  # soonest first
    pages: tuple[Page, ...]
    entities: tuple[Entity, ...]
    held_back: tuple[HeldBack, ...] = ()
    preview: bool = False
    translations: tuple = ()  # translated posts, events and pages (each with `original` set)

    def items(self) -> tuple:
        """Every published item, translations included, in a stable order."""
        return self.posts + self.events + self.pages + self.entities + self.translations
