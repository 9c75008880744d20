"""Page keys: what a page was rendered from (its own key and the digests of what its trace noted),
so that a page whose every input is unchanged is reused instead of rendered."""

from __future__ import annotations

import pickle

import jinja2

from ..pages import PageSpec
from ..render import RenderInputs
from .digest import Digester, PageContext, digest_bytes, digest_text, digest_value
from .store import PageEntry, Store
from .tracing import TRACKED_NAMES, Trace


# Context names fixed by a page's own key (its path, variables, config, options, templates) or whose
# reads are traced one by one (body, reply_body, link). A page that reads any other name (say a new
# variable added to render_page and not listed here) is never cached: slower, but never stale.
# Also the language helpers, which depend only on the page's language, its alternates (its own
# variables), the config and the catalogues (templates/translations/, part of the templates digest).
KEYED_NAMES = frozenset({"url", "config", "page_path", "lang", "options", "body", "reply_body", "link", "canonical",
                         "standalone", "csp", "onion_location", "absolute", "marked", "hreflang", "switcher",
                         "lang_of", "path_of", "prefix_of", "prefix", "_", "gettext", "gettext_in", "alternates",
                         "lead_image", "share_card",  # (lead_image: the photo traced by note_image; share_card: the item's path)
                         # pure functions of the page's address, the config and the item passed (placard.render)
                         "share_links", "directions", "ics_of"})


def page_entry(inputs: "PageInputs", spec: PageSpec, trace: Trace, data: bytes, keep_bytes: bool = True) -> PageEntry | None:
    """What a freshly rendered page came from, for the cache; None if something it read cannot be digested."""
    unknown = trace.names - TRACKED_NAMES - KEYED_NAMES - spec.context.keys() - inputs.globals
    base = inputs.base(spec)
    if unknown or base is None:
        return None
    deps = tuple((dep, inputs.of(dep)) for dep in trace.deps())
    if any(seen is None for _dep, seen in deps):
        return None
    return PageEntry(base, deps, data if keep_bytes else None)


LAST_SHARED = "pages shared"  # memo: the last build's templates, config and options digest (PageInputs.shared)


class PageInputs:
    """Digests of what pages are rendered from, each computed at most once per build."""

    def __init__(self, render: RenderInputs, cache: Store | None = None) -> None:
        self.site, self.index, self.bodies = render.site, render.index, render.bodies
        self.images = render.images.images
        self.digester = Digester(getattr(cache, "loaded", None))
        self.globals = frozenset(render.env.globals)  # covered by templates_digest (ours) or built into Jinja2
        # (the catalogues are templates/translations/*.po, which templates_digest reads with the templates)
        templates, settings = templates_digest(render.env), self.digester.of((render.site.config, render.options))
        self.shared = digest_bytes(templates, settings) if templates is not None and settings is not None else None
        self.memo: dict[tuple[str, str], bytes | None] = {}
        self.keys: dict[str, bytes] | None = None
        self.cache = cache
        self.same_shared = cache is not None and self.shared is not None and cache.get_memo(LAST_SHARED, self.shared) is not None

    def base(self, spec: PageSpec, before: bytes | None = None) -> bytes | None:
        """The page's own key: the templates, config and options, its path, template and variables
        (a pickle of them in which items stand by reference, and the keys of those items).

        `before` is the key the last build gave the page. It still holds when the templates, config
        and options are the same and the page's variables come from the last build's plan, kept:
        then every item the page names has the same metadata (its head, see placard.incremental.plan_memo) as in the
        last build, and what else a page shows of an item, its Markdown, it reads through body() and
        reply_body(), which are traced (TracingEnvironment makes a page reading the text otherwise
        uncacheable). So a prose edit re-renders the pages showing that text, not the lists naming it."""
        if self.shared is None:
            return None  # something the pages depend on cannot be digested: render every page
        context = spec.context
        if before is not None and self.same_shared and isinstance(context, PageContext) and context.kept:
            return before
        if isinstance(context, PageContext):  # planned from this site's items: they stand by their path
            try:
                own = digest_bytes(context.blob, b"".join(map(self.item_keys().__getitem__, context.refs)))
            except (pickle.PicklingError, KeyError):
                return None
        else:
            own = self.digester.of(context)
        if own is None:
            return None
        return digest_bytes(self.shared, spec.path.encode("utf-8", "surrogatepass"), spec.template.encode("utf-8", "surrogatepass"),
                            spec.origin.encode("utf-8", "surrogatepass"), own)

    def keep_shared(self) -> None:
        """After pages rendered well: note what they shared, for the next build's `base` (see there)."""
        if self.cache is not None and self.shared is not None and not self.same_shared:
            self.cache.put_memo(LAST_SHARED, self.shared, True)

    def item_keys(self) -> dict[str, bytes]:
        """Each item's key (see Digester.item) by its file's path."""
        if self.keys is None:
            self.keys = {item.origin.path: self.digester.item(item) for item in self.site.items()}
        return self.keys

    def of(self, dep: tuple[str, str]) -> bytes | None:
        """The current digest of one dependency noted by a trace; None if it cannot be digested."""
        if dep not in self.memo:
            self.memo[dep] = self.compute(*dep)
        return self.memo[dep]

    def compute(self, kind: str, name: str) -> bytes | None:
        if kind == "name":
            values = {"site": "attributes tracked one by one", "now": self.site.now, "entity_named": self.index.entity_named}
            return self.digester.of(values[name]) if name in values else None
        if kind == "site":
            value = getattr(self.site, name, None)
            return None if callable(value) else self.digester.of(value)
        if kind == "body":
            if name not in self.bodies:
                return None
            digest = getattr(self.bodies, "digest", None)
            return digest(name) if digest else digest_text(self.bodies[name])
        if kind == "image":  # the photo's size, widths and formats (its derivatives' names follow from them)
            return digest_text(repr(self.images.get(name)))
        if kind == "ref":  # where the reference lands, from a page in any language
            return digest_text("\0".join(targets.get(name, "\0missing") for _lang, targets in sorted(self.index.targets_by_lang.items())))
        return None


def templates_digest(env: jinja2.Environment) -> bytes | None:
    """Digest of every template's source and of the globals templates read (e.g. the inline stylesheet)."""
    parts = []
    for name in sorted(env.list_templates()):
        parts += [name.encode("utf-8"), env.loader.get_source(env, name)[0].encode("utf-8")]
    data = digest_value({k: v for k, v in env.globals.items() if not callable(v)})  # e.g. the inline stylesheet
    return digest_bytes(*parts, data) if data is not None else None


def reusable(entry: PageEntry, inputs: "PageInputs", base: bytes) -> bool:
    """Whether a page rendered before came from exactly these inputs."""
    return entry.base == base and all(inputs.of(dep) == seen for dep, seen in entry.deps)
