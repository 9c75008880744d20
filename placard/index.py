"""Site-wide lookups, computed once per build and shared by every page (never per page).

Templates and the renderer ask "where does post:x land?", "which events does this post call?",
"which posts carry this tag?"; answering by scanning the whole site for each of 10,000 pages made
builds quadratic. A SiteIndex answers from dictionaries built in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from .languages import LanguageView, translations_of, versions_in, view_of
from .models import Entity, Event, Page, Site
from .urls import anchor_of, entity_path, lang_prefix, path_of

SECTIONS = ("news", "calendar", "links", "tags")


@dataclass(frozen=True)
class SiteIndex:
    """Lookups over one loaded Site; frozen, and built by `index_site` only."""

    targets: Mapping[str, str]  # `kind:slug` -> output path (with anchor), from the default language
    targets_by_lang: Mapping[str, Mapping[str, str]]  # the same as linked from pages in each language
    groups: Mapping  # translation groups (placard.languages.translations_of)
    views: Mapping[str, LanguageView]  # the site as listed in each language
    menus: Mapping[str, tuple[Page, ...]]  # the pages in each language's main navigation
    entity_named: Mapping[str, Entity]  # entity slug -> entity
    events_calling: Mapping[str, tuple[Event, ...]]  # post slug -> events whose `posts` list it


def index_site(site: Site) -> SiteIndex:
    """Build every site-wide lookup in one pass over the site."""
    calling: dict[str, list[Event]] = {}
    for event in site.events:
        for slug in event.posts:
            calling.setdefault(slug, []).append(event)
    groups = translations_of(site)
    # Declared languages, and any other a translation is written in (its pages still need links and menus).
    languages = tuple(dict.fromkeys(site.config.languages + tuple(t.lang for t in site.translations)))
    firsts = first_items(site)
    unswapped = paths_of(firsts, site.config.language)  # the same in every language
    targets = {lang: MappingProxyType(link_targets(site, lang, groups, firsts, unswapped)) for lang in languages}
    views = {lang: view_of(site, lang, groups) for lang in languages}
    return SiteIndex(
        targets=targets[site.config.language],
        targets_by_lang=MappingProxyType(targets),
        groups=MappingProxyType(groups),
        views=MappingProxyType(views),
        menus=MappingProxyType({lang: tuple(p for p in view.pages if p.menu is not None) for lang, view in views.items()}),
        entity_named=MappingProxyType({entity.slug: entity for entity in site.entities}),
        events_calling=MappingProxyType({slug: tuple(events) for slug, events in calling.items()}),
    )


def first_items(site: Site) -> dict[str, Any]:
    """`kind:slug` -> the first of the site's items with it (an original comes before its translations)."""
    firsts: dict[str, Any] = {}
    for item in site.items():
        firsts.setdefault(f"{item.kind}:{item.slug}", item)
    return firsts


def paths_of(firsts: dict[str, Any], default: str) -> dict[str, str]:
    """`kind:slug` -> the output path (with anchor) of the item itself."""
    return {key: path_of(item, default) + anchor_of(item) for key, item in firsts.items()}


def link_targets(site: Site, lang: str | None = None, groups: dict | None = None,
                 firsts: dict[str, Any] | None = None, unswapped: dict[str, str] | None = None) -> dict[str, str]:
    """`kind:slug` -> output path (with anchor) for every published item, as linked from a page in
    `lang`: a link to an item leads to its translation in that language when there is one.
    (`firsts`, `unswapped`: first_items and paths_of them, the same in every language: only the
    few translated items are looked at again for each.)"""
    default = site.config.language
    lang = lang or default
    prefix = lang_prefix(lang, default)
    swaps = versions_in(groups if groups is not None else translations_of(site), lang)
    firsts = firsts if firsts is not None else first_items(site)
    targets = {f"section:{name}": f"{prefix}{name}/index.html" for name in SECTIONS}
    targets["section:home"] = f"{prefix}index.html"
    targets.update(unswapped if unswapped is not None else paths_of(firsts, default))
    for key, item in firsts.items():
        if item.kind == "entity":  # the entity's page in this language (the register and its pages are in every language)
            targets[key] = entity_path(item.slug, lang, default)
            continue
        shown = swaps.get(id(item))
        if shown is not None:
            targets[key] = path_of(shown, default) + anchor_of(shown)
    return targets
