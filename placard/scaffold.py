"""`build.py new`: start a post, event or page from a complete, valid example."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from .errors import BuildError, Problem
from .slugs import make_slug


def yaml_text(value: str) -> str:
    """Quote a value for YAML so that any title survives as text."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_new_post(title: str, slug: str, now: datetime) -> str:
    """Front matter and a placeholder body for a news post."""
    return f"""---
title: {yaml_text(title)}
slug: {slug}
date: {now:%Y-%m-%d %H:%M} {now:%z}
author: "Your name or group"
summary: "One or two sentences shown in lists and feeds."
tags:
  - news
# A photo at the top (and in lists, the feed and the share card): put the file next to this one.
# image:
#   src: photo.jpg
#   alt: "What the photo shows, for people who cannot see it"
draft: true
---

Write the post here in Markdown. Remove `draft: true` above when it is ready to publish.

A photo in the text: put the file (JPEG, PNG or WebP) next to this one and write
`![What the photo shows, for people who cannot see it](photo.jpg)` (without the backticks);
placard publishes smaller copies for phones, without the camera's GPS position or other metadata.
"""


def render_new_event(title: str, slug: str, now: datetime) -> str:
    """Front matter and a placeholder body for an event, with its permanent UID."""
    return f"""---
title: {yaml_text(title)}
slug: {slug}
uid: {uuid.uuid4()}
starts: {now:%Y-%m-%d} 12:00
ends: {now:%Y-%m-%d} 14:00
timezone: Europe/London
kind: static-protest
status: scheduled
venue: "Name of the place"
address: "Street and number, postcode"
city: London
country: United Kingdom
summary: "One sentence: who, what and why."
what_to_bring: "Banners, warm clothes"
# A photo at the top and on the share card: put the file next to this one.
# image:
#   src: photo.jpg
#   alt: "What the photo shows, for people who cannot see it"
draft: true
---

Describe the event here in Markdown.
"""


def render_new_page(title: str, slug: str, now: datetime) -> str:
    """Front matter and a placeholder body for a page."""
    return f"""---
title: {yaml_text(title)}
slug: {slug}
summary: "One sentence describing the page."
draft: true
---

Write the page here in Markdown.
"""


def render_translation(kind: str, title: str, slug: str, lang: str, key: str) -> str:
    """A translation: only its text; times, place, uid, dates and tags come from the original."""
    place = '''# venue: "The place's name in this language"
# city: "The city in this language"
''' if kind == "event" else ""
    return f"""---
title: {yaml_text(title)}
slug: {slug}
lang: {lang}
translation_key: {key}
summary: "One sentence in this language."
{place}draft: true
---

The translated text, in Markdown. Everything else (dates, times, place, tags) comes from the original,
the {kind} whose slug is '{key}'.
"""


TEMPLATES = {"post": ("news", render_new_post), "event": ("events", render_new_event), "page": ("pages", render_new_page)}


def write_new_item(content_dir: Path, kind: str, title: str, now: datetime, lang: str | None = None, translates: str | None = None) -> Path:
    """Write a new content file (a translation of `translates` if given); never overwrites an existing one.
    The slug is transliterated ASCII for Russian and Kazakh titles and is written into the file once."""
    folder, render = TEMPLATES[kind]
    if not title.strip():
        raise BuildError([Problem("title", None, "", f'is blank; give the {kind} its title in quotes, e.g. build.py new {kind} "Solidarity with the oil workers"')])
    slug = make_slug(title)
    if slug == "untitled" and make_slug(title + " x") == "x":  # nothing in the title makes a letter or digit of the address
        raise BuildError([Problem("title", None, "", f"'{title}' has no letters or digits to make the page's address from; "
                                                     "write the title in words (Latin, Cyrillic or Kazakh letters)")])
    name = f"{now:%Y-%m-%d}-{slug}.md" if kind != "page" else f"{slug}.md"
    target = content_dir / folder / name
    if target.exists():
        raise BuildError([Problem(f"content/{folder}/{name}", None, "", "already exists; nothing was changed (choose another title or edit that file)")])
    if translates and not lang:
        raise BuildError([Problem(f"content/{folder}/{name}", None, "", "a translation needs its language: add --lang ru (or kk)")])
    if translates:
        text = render_translation(kind, title, slug, lang, translates)
    else:
        text = render(title, slug, now)
        if lang:
            text = text.replace("\ndraft: true\n", f"\nlang: {lang}\ndraft: true\n", 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(text)
    return target


def render_new_entity(name: str, slug: str, kind: str) -> str:
    """Front matter and a placeholder description for an entity of the corporate-links register."""
    return f"""---
name: {yaml_text(name)}
slug: {slug}
type: {kind}
# country: United Kingdom
# website: https://example.org/
draft: true
---

Who this is, in a sentence or two of Markdown. Add ties with: build.py new tie {slug} <relation> <other-entity-slug>
"""


def write_new_entity(content_dir: Path, name: str, kind: str) -> Path:
    """Write content/links/<slug>.md for a new entity (a draft); never overwrites an existing file."""
    from .models import ENTITY_KINDS

    if kind not in ENTITY_KINDS:
        raise BuildError([Problem("--type", None, "", f"'{kind}' is not a kind of entity; use one of: {', '.join(ENTITY_KINDS)}")])
    slug = make_slug(name, fallback="")
    if not slug:
        raise BuildError([Problem("name", None, "", f"'{name}' has no letters or digits to make the entity's address from; write the name in words")])
    target = content_dir / "links" / f"{slug}.md"
    if target.exists():
        raise BuildError([Problem(f"content/links/{slug}.md", None, "", "already exists; nothing was changed (edit that file, or choose another name)")])
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(render_new_entity(name, slug, kind))
    return target


SOURCE_STUB = "REPLACE with the address where this tie is stated"


def tie_block(relation: str, obj: str, indent: str) -> list[str]:
    """The lines of a new tie whose source is a stub the build refuses until it is filled in (never an unsourced tie)."""
    return [f"{indent}- relation: {relation}\n", f"{indent}  object: {obj}\n", f"{indent}  sources:\n",
            f"{indent}    - url: {yaml_text(SOURCE_STUB)}  # or: - post: <slug of a post on this site>\n",
            f"{indent}      title: {yaml_text('Title of the article or document')}\n"]


def find_entity_file(content_dir: Path, slug: str) -> Path | None:
    """The entity file whose front matter says `slug: <slug>` (content/links/<slug>.md first)."""
    folder = content_dir / "links"
    first = folder / f"{slug}.md"
    candidates = [first] + sorted(p for p in folder.glob("*.md") if p != first) if folder.is_dir() else []
    for file in candidates:
        if file.is_file() and any(line.strip() in (f"slug: {slug}", f'slug: "{slug}"') for line in file.read_text(encoding="utf-8").splitlines()[:40]):
            return file
    return None


def write_new_tie(content_dir: Path, subject: str, relation: str, obj: str) -> tuple[Path, int]:
    """Add a tie (subject <relation> object) with a source stub to the subject's file; returns the file and the stub's line."""
    from .schema import SLUG_RE
    from .vocabulary import RELATIONS

    if relation not in RELATIONS:
        raise BuildError([Problem("relation", None, "", f"'{relation}' is not a relation; use one of: {', '.join(RELATIONS)}")])
    for value in (subject, obj):
        if not SLUG_RE.match(value):
            raise BuildError([Problem("slug", None, "", f"'{value}' is not an entity's slug (lowercase-words-with-hyphens, as in its file)")])
    file = find_entity_file(content_dir, subject)
    if file is None:
        raise BuildError([Problem(f"content/links/{subject}.md", None, "", f"no entity file has 'slug: {subject}'; start one with build.py new entity \"Name\" --type company")])
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---" or not any(line.strip() == "---" for line in lines[1:]):
        raise BuildError([Problem(file.as_posix(), 1, "", "has no front matter between two '---' lines; nothing was changed")])
    close = next(n for n in range(1, len(lines)) if lines[n].strip() == "---")
    ties = next((n for n in range(1, close) if lines[n].rstrip() == "ties:"), None)
    if ties is None:
        insert, new = close, ["ties:\n"] + tie_block(relation, obj, "  ")
    else:
        end = ties + 1
        while end < close and (lines[end].startswith((" ", "-", "#")) or not lines[end].strip()):
            end += 1
        first = next((lines[n] for n in range(ties + 1, end) if lines[n].lstrip().startswith("- ")), "  - ")
        insert, new = end, tie_block(relation, obj, first[: len(first) - len(first.lstrip())])
    lines[insert:insert] = new
    file.write_text("".join(lines), encoding="utf-8")
    return file, insert + len(new) - 1  # the stub url line, 1-based
