"""The site in each of its languages: which version of each item a language shows, and its translations.

Every language lists every item: in its own language when a translation exists, otherwise in the
original's language (templates then mark that passage with `lang`). Translations of one item share a
group: (kind, translation_key) where the key of a default-language item is its translation_key or slug.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Site


def group_of(item) -> tuple[str, str]:
    """The translation group an item belongs to; an item in another language without a key is on its own."""
    if item.kind != "entity" and item.translation_key:
        return (item.kind, item.translation_key)
    return (item.kind, f"{item.lang}:{item.slug}")


@dataclass(frozen=True)
class LanguageView:
    """What the pages of one language list: each item in that language where translated."""

    lang: str
    posts: tuple
    events: tuple
    pages: tuple

    def upcoming(self, now) -> list:
        """Events that have not ended at build time, soonest first."""
        return [e for e in self.events if e.finishes > now]

    def past(self, now) -> list:
        """Events that ended before build time, newest first."""
        return sorted((e for e in self.events if e.finishes <= now), key=lambda e: (e.starts, e.slug), reverse=True)


def translations_of(site: Site) -> dict[tuple[str, str], dict[str, object]]:
    """Translation group -> {lang: item} for every published post, event and page."""
    groups: dict[tuple[str, str], dict[str, object]] = {}
    for item in site.posts + site.events + site.pages + site.translations:
        groups.setdefault(group_of(item), {})[item.lang] = item
    return groups


def view_of(site: Site, lang: str, groups: dict | None = None) -> LanguageView:
    """The site as listed in `lang`: originals replaced by their `lang` translation where there is one."""
    swaps = versions_in(groups if groups is not None else translations_of(site), lang)

    def local(items: tuple) -> tuple:
        return tuple([swaps.get(id(item), item) for item in items]) if swaps else items

    return LanguageView(lang, local(site.posts), local(site.events), local(site.pages))


def versions_in(groups: dict, lang: str) -> dict[int, object]:
    """id(item) -> its version in `lang`, for every item that has another version there (the few
    translated ones: looking up the group of each of 10,000 posts cost a tenth of a rebuild)."""
    return {id(item): versions[lang] for versions in groups.values() if len(versions) > 1 and lang in versions
            for item in versions.values() if item is not versions[lang]}


def localise(site_groups: dict, item, lang: str):
    """The version of `item` in `lang`, or the item itself when it has no translation there."""
    return site_groups.get(group_of(item), {}).get(lang, item)
