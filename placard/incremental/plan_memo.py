"""The kept plan: the last build's plan of every page (placard.pages), whenever nothing the plan
depends on has changed.

Planning reads every item's metadata (dates, tags, slugs, titles, translations), never its prose:
the only thing it takes from a Markdown text is the `kind:slug` links in it (the register lists
the posts linking to an entity). So when one post's text is edited, the site's pages are the same
pages, with the same variables, and a build need not plan 11,000 pages and digest their variables
again (a third of a rebuild at 10,000 posts). The plan is kept with:
  - its shape: site.yml, the interface text, whether this is a preview, which events have ended
    (the only thing planning reads from the clock) and the order of every list of the Site;
  - each item's file key (see placard.incremental.session.file_key) and, where an item's file changed, its
    head: the item with its Markdown texts blanked, plus the links in those texts.
It is reused only if the shape is the same and every item whose file changed has the same head.

Variables are kept as a pickle in which each content item stands as its file's path
(PageContext): a page's key is that pickle plus the keys of the items it names, and a page is
only unpickled, against this build's items, when it is rendered again.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

from ..catalogue import Catalogue
from ..index import SiteIndex
from ..markup import find_refs
from ..models import Site
from ..pages import PageSpec, plan_site
from .digest import PageContext, digest_bytes, digest_value, page_recipe
from .store import Store, item_texts

PLAN_MEMO, HEADS_MEMO = "plan", "plan heads"


def plan_kept(site: Site, catalogues: dict[str, Catalogue], index: SiteIndex, cache: Store) -> list[PageSpec]:
    """Every page and feed of the site (pages.plan_site); the last build's plan when it still holds."""
    items = items_by_path(site)
    shape = plan_shape(site, catalogues) if cache is not None and items is not None else None
    heads = cache.get_memo(HEADS_MEMO, shape) if shape is not None else None
    rows = cache.get_memo(PLAN_MEMO, shape) if heads is not None else None
    if rows is not None:
        now_heads = current_heads(items, heads, cache)
        if now_heads is not None:
            if now_heads != heads:
                cache.put_memo(HEADS_MEMO, shape, now_heads)
            return [PageSpec(path, template, PageContext(blob, refs, items, kept=True), origin, lang, identity)
                    for path, template, origin, lang, identity, blob, refs in rows]
    specs, rows = with_page_contexts(plan_site(site, catalogues, index), items or {})
    if cache is not None:  # (a plan that cannot be kept forgets the last one: its heads would go stale)
        cache.put_memo(HEADS_MEMO, shape or b"", current_heads(items, None, cache) if shape is not None and rows is not None else None)
        cache.put_memo(PLAN_MEMO, shape or b"", rows if shape is not None else None)
    return specs


def items_by_path(site: Site) -> dict[str, Any] | None:
    """Each item of the site by its file's path; None if two share one (then no plan is kept)."""
    items = {item.origin.path: item for item in site.items()}
    return items if len(items) == len(site.items()) else None


def plan_shape(site: Site, catalogues: dict[str, Catalogue]) -> bytes | None:
    """Digest of what planning reads besides the items themselves (see the module's docstring)."""
    ended = [(item.origin.path, item.finishes <= site.now) for item in site.items() if hasattr(item, "finishes")]
    lists = [[item.origin.path for item in items] for items in (site.posts, site.events, site.pages, site.entities, site.translations)]
    return digest_value((site.config, site.preview, catalogues, ended, lists, [(h.path, h.reason) for h in site.held_back]))


def current_heads(items: dict[str, Any], kept: dict[str, tuple] | None, cache: Store) -> dict[str, tuple] | None:
    """path -> (file key, head) for every item; with `kept` (the plan's), None if an item's head
    differs from the one the plan was made from. A head is computed only where the file key does
    not prove the item unchanged, and kept only for items without a key (e.g. translations)."""
    loaded, replaced = cache.loaded, cache.replaced
    heads = {}
    for path, item in items.items():
        hit = loaded.get(id(item))
        key = hit[1] if hit is not None and hit[0] is item else None
        old = kept.get(path) if kept is not None else None
        if kept is not None and old is None:
            return None  # an item the plan does not know
        if old is not None and key is not None and key == old[0]:
            heads[path] = (key, None)  # the same file: the very item the plan was made from
            continue
        head = head_of(item) if kept is not None or key is None else None
        if old is not None:
            before = old[1] if old[1] is not None else (head_of(replaced[path]) if path in replaced else None)
            if before is None or before != head:
                return None
        heads[path] = (key, None) if key is not None else (None, head)
    return heads


def head_of(item: Any) -> bytes:
    """Digest of what planning may read from an item: all of it but its Markdown texts, and the links in those."""
    blank: dict[str, Any] = {"body": ""}
    if hasattr(item, "replies"):
        blank["replies"] = tuple(dataclasses.replace(reply, body="") for reply in item.replies)
    links = [ref for text in item_texts(item) for _line, ref in find_refs(text, 0)]
    return digest_bytes(pickle.dumps(dataclasses.replace(item, **blank), protocol=5), "\0".join(links).encode("utf-8", "surrogatepass"))


def with_page_contexts(specs: list[PageSpec], items: dict[str, Any]) -> tuple[list[PageSpec], list[tuple] | None]:
    """The specs with PageContext variables, and the rows to keep them by (None if a page's
    variables cannot be pickled or name an item that is not one of the site's: that page keeps its
    variables as planned, and the plan is not kept)."""
    paths = {id(item): path for path, item in items.items()}
    out, rows = [], []
    for spec in specs:
        try:
            blob, named = page_recipe(spec.context, paths)
        except (pickle.PicklingError, TypeError, AttributeError):
            named = None
        if named is None or not all(id(item) in paths for item in named):
            out.append(spec)
            rows = None
            continue
        refs = tuple(paths[id(item)] for item in named)
        # Without its planned value: a page's variables are unpickled when it renders, as when the plan is kept, so
        # the plan is not held twice (13,204 pages at 10,000 posts: 18 MB of values beside their 12 MB of pickles).
        out.append(PageSpec(spec.path, spec.template, PageContext(blob, refs, items), spec.origin, spec.lang, spec.identity))
        if rows is not None:
            rows.append((spec.path, spec.template, spec.origin, spec.lang, spec.identity, blob, refs))
    return out, rows
