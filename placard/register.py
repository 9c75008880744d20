"""Register stage: the corporate-links register as table rows, numbered sources, a diagram and open data.

A tie is written once, in its subject's file; here it is shown from both sides (the object's
table lists it with the reverse label), every source gets one page-wide footnote number, and
`ties.json` / `ties.csv` give allies every tie with its sources.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from .diagram import render_diagram
from .markup import find_refs
from .models import Entity, Post, Site, Source, Tie
from .urls import absolute_url, lang_prefix, path_of

DATA_DIR = "links"
CSV_COLUMNS = (
    "tie_id", "subject", "subject_name", "relation", "label", "reverse_label", "object", "object_name",
    "role", "since", "until", "note", "source_number", "source_post", "source_url", "source_title",
    "source_publisher", "source_published", "source_accessed", "source_archived",
)


@dataclass(frozen=True)
class Footnote:
    """A numbered source on the register page; `post` is set when it cites a post on this site."""

    number: int
    source: Source
    post: Post | None = None


@dataclass(frozen=True)
class Row:
    """One line of an entity's table: a tie as read from that entity's side."""

    tie: Tie
    label: str
    counterpart: Entity
    outgoing: bool
    footnotes: tuple[Footnote, ...]


@dataclass(frozen=True)
class Register:
    """Everything the register page shows, computed once from the validated site."""

    entities: tuple[Entity, ...]
    ties: tuple[Tie, ...]
    rows: dict[str, tuple[Row, ...]]
    footnotes: tuple[Footnote, ...]
    mentions: dict[str, tuple[Post, ...]]
    diagram: str
    sources: dict[str, tuple[Footnote, ...]] = field(default_factory=dict)  # entity slug -> the footnotes its rows cite, by number

    def linked_diagram(self, url, prefix: str) -> str:
        """The diagram with each box a link to its entity's page, for a page in the language folder `prefix`
        (`url` makes the page's relative links: folder-style, or index.html for file://)."""
        return render_diagram(list(self.entities), list(self.ties), DIAGRAM_TITLE, describe_diagram(self.entities, self.ties),
                              href=lambda slug: url(f"{prefix}{DATA_DIR}/{slug}/index.html"))


def collect_ties(site: Site) -> tuple[Tie, ...]:
    """Every tie, in register order: by subject entity (as listed), then as written in its file."""
    return tuple(tie for entity in site.entities for tie in entity.ties)


def source_key(source: Source) -> tuple:
    """Two identical sources share one footnote number."""
    return (source.post, source.url, source.title, source.publisher, source.published, source.accessed, source.archived)


def number_sources(site: Site, ties: tuple[Tie, ...]) -> dict[tuple, Footnote]:
    """Page-wide footnote numbers, in order of first citation."""
    posts = {post.slug: post for post in site.posts}
    numbered: dict[tuple, Footnote] = {}
    for tie in ties:
        for source in tie.sources:
            key = source_key(source)
            if key not in numbered:
                numbered[key] = Footnote(len(numbered) + 1, source, posts.get(source.post) if source.post else None)
    return numbered


def rows_of(entity: Entity, ties: tuple[Tie, ...], named: dict[str, Entity], numbered: dict[tuple, Footnote]) -> tuple[Row, ...]:
    """An entity's ties from its own side: the ties it states, then the ties that name it."""
    rows = []
    for tie in ties:
        notes = tuple(numbered[source_key(s)] for s in tie.sources)
        if tie.subject == entity.slug:
            rows.append(Row(tie, tie.label, named[tie.object], True, notes))
        elif tie.object == entity.slug:
            rows.append(Row(tie, tie.reverse_label, named[tie.subject], False, notes))
    return tuple(sorted(rows, key=lambda row: not row.outgoing))


def mentions_of(entity: Entity, site: Site, ties: tuple[Tie, ...]) -> tuple[Post, ...]:
    """Posts that link to the entity (`entity:slug`), are cited by a tie it is part of, or carry a tag that is
    its name or one of its aliases (letter case aside), newest first."""
    cited = {s.post for t in ties if entity.slug in (t.subject, t.object) for s in t.sources if s.post}
    linking = {post.slug for post in site.posts if any(ref.split("#", 1)[0] == f"entity:{entity.slug}" for _, ref in find_refs(post.body, post.body_line))}
    names = {name.casefold() for name in (entity.name, *entity.aliases)}
    tagged = {post.slug for post in site.posts if any(tag.casefold() in names for tag in post.tags)}
    return tuple(post for post in site.posts if post.slug in cited | linking | tagged)


def sources_of(rows: tuple[Row, ...]) -> tuple[Footnote, ...]:
    """The footnotes an entity's rows cite, once each, by number (its page lists just these)."""
    return tuple(sorted({note.number: note for row in rows for note in row.footnotes}.values(), key=lambda note: note.number))


DIAGRAM_TITLE = "Diagram of the ties between the entities in the register"


def describe_diagram(entities: tuple[Entity, ...], ties: tuple[Tie, ...]) -> str:
    """The diagram's text description, pointing to the tables that say the same in words."""
    return (
        f"{len(entities)} people, companies, governments and organisations as boxes, and {len(ties)} ties as arrows "
        "from the entity that states the tie to its counterpart, each labelled with the relation; "
        "each box links to the entity's page, and a legend says how each kind of entity is drawn. "
        "The tables below list every tie with its sources."
    )


def build_register(site: Site) -> Register:
    """Rows, footnotes, mentions and the diagram for the register page."""
    ties = collect_ties(site)
    named = {entity.slug: entity for entity in site.entities}
    numbered = number_sources(site, ties)
    diagram = render_diagram(list(site.entities), list(ties), DIAGRAM_TITLE, describe_diagram(site.entities, ties))
    rows = {entity.slug: rows_of(entity, ties, named, numbered) for entity in site.entities}
    return Register(
        entities=site.entities,
        ties=ties,
        rows=rows,
        footnotes=tuple(numbered.values()),
        mentions={entity.slug: mentions_of(entity, site, ties) for entity in site.entities},
        diagram=diagram,
        sources={slug: sources_of(entity_rows) for slug, entity_rows in rows.items()},
    )


def tie_ids(ties: tuple[Tie, ...]) -> list[str]:
    """A stable id per tie: subject, relation and object, numbered when the same triple recurs."""
    ids, seen = [], {}
    for tie in ties:
        base = f"{tie.subject}/{tie.relation}/{tie.object}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}/{seen[base]}")
    return ids


def source_record(source: Source, site: Site) -> dict:
    """A source as open data; a post on this site gets its public address from base_url."""
    if source.post:
        post = next(p for p in site.posts if p.slug == source.post)
        return {
            "post": post.slug,
            "url": absolute_url(site.config.base_url, path_of(post, site.config.language)),
            "title": post.title,
            "publisher": site.config.title,
            "published": post.date.date().isoformat(),
            "accessed": None,
            "archived": None,
        }
    return {"post": None, "url": source.url, "title": source.title, "publisher": source.publisher,
            "published": source.published, "accessed": source.accessed.isoformat() if source.accessed else None, "archived": source.archived}


def tie_records(site: Site) -> list[dict]:
    """Every tie with both entities' names and all its sources, as plain data."""
    named = {entity.slug: entity for entity in site.entities}
    ties = collect_ties(site)
    return [
        {
            "id": tie_id,
            "subject": tie.subject,
            "subject_name": named[tie.subject].name,
            "relation": tie.relation,
            "label": tie.label,
            "reverse_label": tie.reverse_label,
            "object": tie.object,
            "object_name": named[tie.object].name,
            "role": tie.role,
            "since": tie.since,
            "until": tie.until,
            "note": tie.note,
            "sources": [source_record(source, site) for source in tie.sources],
        }
        for tie_id, tie in zip(tie_ids(ties), ties)
    ]


def render_ties_json(site: Site) -> str:
    """ties.json: the entities and every tie with its sources."""
    page = absolute_url(site.config.base_url, f"{lang_prefix(site.config.language, site.config.language)}{DATA_DIR}/index.html")
    data = {
        "title": f"{site.config.title}: corporate-links register",
        "page": page,
        **({"license": site.config.copyright} if site.config.copyright else {}),
        "entities": [
            {"slug": e.slug, "name": e.name, "type": e.entity_kind, "aliases": list(e.aliases), "country": e.country,
             "website": e.website, "url": absolute_url(site.config.base_url, f"{DATA_DIR}/{e.slug}/index.html")}
            for e in site.entities
        ],
        "ties": tie_records(site),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render_ties_csv(site: Site) -> str:
    """ties.csv: one row per source of each tie (a tie with two sources has two rows, same tie_id)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in tie_records(site):
        tie = [spreadsheet_text(record[k]) for k in ("id", "subject", "subject_name", "relation", "label", "reverse_label", "object", "object_name", "role", "since", "until", "note")]
        for number, source in enumerate(record["sources"], 1):
            writer.writerow(tie + [number] + [spreadsheet_text(source[k]) for k in ("post", "url", "title", "publisher", "published", "accessed", "archived")])
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str | None) -> str:
    """A CSV cell that spreadsheets show as text: one starting like a formula (`=HYPERLINK(...)`, `+1`,
    `@SUM`) gets a leading apostrophe, as OWASP advises against CSV injection, since allies open this
    file in Excel or LibreOffice and a name copied from elsewhere must not run there. ties.json keeps
    the text exactly as written."""
    text = value or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render_open_data(site: Site) -> dict[str, bytes]:
    """links/ties.json and links/ties.csv, by output path."""
    return {
        f"{DATA_DIR}/ties.json": render_ties_json(site).encode("utf-8"),
        f"{DATA_DIR}/ties.csv": render_ties_csv(site).encode("utf-8"),
    }
