"""Site-wide lookups, computed once per build and shared by every page (never per page).

Templates and the renderer ask "where does post:x land?", "which events does this post call?",
"which posts carry this tag?"; answering by scanning the whole site for each of 10,000 pages made
builds quadratic. A SiteIndex answers from dictionaries built in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from .models import Entity, Event, Post, Site
from .urls import anchor_of, lang_prefix, path_of

SECTIONS = ("news", "calendar", "links", "tags")


@dataclass(frozen=True)
class SiteIndex:
    """Lookups over one loaded Site; frozen, and built by `index_site` only."""

    targets: Mapping[str, str]  # `kind:slug` -> output path (with anchor)
    entity_named: Mapping[str, Entity]  # entity slug -> entity
    events_calling: Mapping[str, tuple[Event, ...]]  # post slug -> events whose `posts` list it
    tags: Mapping[str, tuple[Post, ...]]  # tag -> posts with it, tags sorted by name
    upcoming: tuple[Event, ...]  # not over at build time, soonest first
    past: tuple[Event, ...]  # over at build time, newest first


def index_site(site: Site) -> SiteIndex:
    """Build every site-wide lookup in one pass over the site."""
    calling: dict[str, list[Event]] = {}
    for event in site.events:
        for slug in event.posts:
            calling.setdefault(slug, []).append(event)
    tags: dict[str, list[Post]] = {}
    for post in site.posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    return SiteIndex(
        targets=MappingProxyType(link_targets(site)),
        entity_named=MappingProxyType({entity.slug: entity for entity in site.entities}),
        events_calling=MappingProxyType({slug: tuple(events) for slug, events in calling.items()}),
        tags=MappingProxyType({tag: tuple(posts) for tag, posts in sorted(tags.items(), key=lambda kv: kv[0].lower())}),
        upcoming=tuple(e for e in site.events if e.finishes > site.now),
        past=tuple(sorted((e for e in site.events if e.finishes <= site.now), key=lambda e: (e.starts, e.slug), reverse=True)),
    )


def link_targets(site: Site) -> dict[str, str]:
    """`kind:slug` -> output path (with anchor) for every published item and section."""
    default = site.config.language
    prefix = lang_prefix(default, default)
    targets = {f"section:{name}": f"{prefix}{name}/index.html" for name in SECTIONS}
    targets["section:home"] = f"{prefix}index.html"
    targets.update({f"{item.kind}:{item.slug}": path_of(item, default) + anchor_of(item) for item in site.items()})
    return targets
