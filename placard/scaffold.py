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
draft: true
---

Write the post here in Markdown. Remove `draft: true` above when it is ready to publish.
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


TEMPLATES = {"post": ("news", render_new_post), "event": ("events", render_new_event), "page": ("pages", render_new_page)}


def write_new_item(content_dir: Path, kind: str, title: str, now: datetime) -> Path:
    """Write a new content file; never overwrites an existing one."""
    folder, render = TEMPLATES[kind]
    slug = make_slug(title)
    name = f"{now:%Y-%m-%d}-{slug}.md" if kind != "page" else f"{slug}.md"
    target = content_dir / folder / name
    if target.exists():
        raise BuildError([Problem(f"content/{folder}/{name}", None, "", "already exists; nothing was changed (choose another title or edit that file)")])
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "x", encoding="utf-8") as handle:
        handle.write(render(title, slug, now))
    return target
