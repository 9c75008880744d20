"""Typed, validated content: what the rest of the pipeline may rely on without re-checking."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .catalogue import N_

# Relation vocabulary for ties: key -> (label read from the subject, label read from the object).
# A tie is written once, in the subject's file; the register shows it from both sides.
RELATIONS: dict[str, tuple[str, str]] = {
    "owns": (N_("owns"), N_("owned by")),
    "invests-in": (N_("invests in"), N_("receives investment from")),
    "listed-on": (N_("listed on"), N_("lists")),
    "lends-to": (N_("lends to"), N_("borrows from")),
    "lobbies-for": (N_("lobbies for"), N_("lobbied for by")),
    "employs": (N_("employs"), N_("employed by")),
    "trades": (N_("trades"), N_("traded by")),
    "member-of": (N_("member of"), N_("has as member")),
    "chairman-of": (N_("chairman of"), N_("chaired by")),
    "director-of": (N_("director of"), N_("directed by")),
    "controls": (N_("controls"), N_("controlled by")),
    "other": (N_("linked to"), N_("linked to")),
}
ENTITY_KIND_LABELS = {"person": N_("Person"), "company": N_("Company"), "public-body": N_("Public body"),
                      "government": N_("Government"), "organisation": N_("Organisation")}
EVENT_KIND_LABELS = {"static-protest": N_("Static protest"), "march": N_("March"), "meeting": N_("Meeting"),
                     "online": N_("Online"), "vigil": N_("Vigil"), "other": N_("Other")}
EVENT_STATUS_LABELS = {"scheduled": N_("Scheduled"), "cancelled": N_("Cancelled"), "postponed": N_("Postponed"),
                       "rescheduled": N_("Rescheduled"), "moved-online": N_("Moved online")}
ENTITY_KINDS = tuple(ENTITY_KIND_LABELS)
EVENT_KINDS = tuple(EVENT_KIND_LABELS)
EVENT_STATUSES = tuple(EVENT_STATUS_LABELS)


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
    languages: tuple[str, ...] = ("en",)
    mirrors: tuple[str, ...] = ()
    translations: tuple[tuple[str, SiteTexts], ...] = ()  # (lang, texts) for each language but the default

    def in_language(self, lang: str) -> "SiteConfig":
        """The same settings with the title, tagline and description in `lang` (the default's if not given)."""
        texts = dict(self.translations).get(lang)
        if texts is None:
            return self
        return replace(self, title=texts.title, tagline=texts.tagline, description=texts.description)


@dataclass(frozen=True)
class Reply:
    """A reply kept under the post it answers (a static archive of a thread, no comment form)."""

    author: str
    date: datetime | date
    body: str
    line: int


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
    draft: bool = False
    lang: str = "en"
    translation_key: str | None = None
    original: str | None = None  # for a translation: the file of the default-language item it translates
    untranslated: tuple[str, ...] = ()  # for a translation: text fields shown as in the original (in its language)
    kind: str = field(default="post", init=False)


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
    original: str | None = None  # for a translation: the file of the default-language item it translates
    untranslated: tuple[str, ...] = ()  # for a translation: text fields shown as in the original (in its language)
    kind: str = field(default="page", init=False)


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
    draft: bool = False
    publish: datetime | None = None
    lang: str = "en"
    translation_key: str | None = None
    original: str | None = None  # for a translation: the file of the default-language item it translates
    untranslated: tuple[str, ...] = ()  # for a translation: text fields shown as in the original (in its language)
    kind: str = field(default="event", init=False)

    @property
    def finishes(self) -> datetime:
        """When the event is over: its end, else its start; all-day events last to the end of their last day."""
        last = self.ends or self.starts
        return last + timedelta(days=1) if self.all_day else last


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


@dataclass(frozen=True)
class HeldBack:
    """An item not published by this build, and why: builds never drop anything silently."""

    path: str
    reason: str
    ref: str = ""  # 'kind:slug' a link to it is written as (an original's), shown as plain text until it is published


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
