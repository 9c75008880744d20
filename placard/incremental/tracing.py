"""Tracing what a page reads while it renders: the names, `site` attributes, bodies and links beyond its own variables.

A page's cache entry depends on exactly what its trace noted (placard.incremental.page_keys)."""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any

import jinja2.runtime

from ..internals import JINJA2_FAST, call_plain


@dataclass
class Trace:
    """The inputs one page read beyond its own variables: names, `site` attributes, bodies, links, photos."""

    names: set[str] = field(default_factory=set)
    site_attrs: set[str] = field(default_factory=set)
    bodies: set[str] = field(default_factory=set)
    refs: set[str] = field(default_factory=set)
    images: set[str] = field(default_factory=set)

    def site_view(self, site: Any) -> "TracedSite":
        """The site as templates see it while this page renders: every attribute read is noted."""
        return TracedSite(site, self)

    def note_body(self, key: str) -> None:
        self.bodies.add(key)

    def note_ref(self, ref: str) -> None:
        self.refs.add(ref)

    def note_image(self, path: str) -> None:
        self.images.add(path)

    @contextmanager
    def watching(self):
        """Names the template reads (TracingContext) are noted here meanwhile."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)

    def deps(self) -> list[tuple[str, str]]:
        """The dependencies to check next time, in a stable order."""
        found = [("name", n) for n in self.names & TRACKED_NAMES]
        found += [("site", a) for a in self.site_attrs] + [("body", b) for b in self.bodies] + [("ref", r) for r in self.refs]
        found += [("image", i) for i in self.images]
        return sorted(found)


# Context names whose value is not fixed by the page's own key (path, template, variables, config,
# options, templates): reading one makes it a dependency of the page.
TRACKED_NAMES = frozenset({"site", "now", "entity_named"})


_CURRENT: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("placard_trace", default=None)


class TracingContext(jinja2.runtime.Context):
    """Jinja2's template context, noting every top-level name a template (or a macro it imports) reads.

    Both methods run for every name and every call in every page, so they are Jinja2's own, inlined."""

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:  # set by the template itself (imported macros): not noted
            return self.vars[key]
        if key in self.parent:  # given to the template: noted
            trace = _CURRENT.get()
            if trace is not None:
                trace.names.add(key)
            return self.parent[key]
        return jinja2.runtime.missing

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja2's names, free for keywords)
        """Context.call, with a plain function (our page helpers: url, _, lang_of...) called directly.
        Jinja2 looks for its pass_context/pass_environment marks (attributes, so a marked function has
        a __dict__) on every call: 4% of the time of a list page (placard.internals.call_plain)."""
        if JINJA2_FAST and type(__obj) is FunctionType and not __obj.__dict__:
            try:
                return call_plain(__obj, args, kwargs)
            except StopIteration:  # as Jinja2 does
                return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")
        return super().call(__obj, *args, **kwargs)


RAW_TEXT = "an item's Markdown text"  # noted as a name no page may read and stay cached


TEXT_FIELDS = frozenset({"body"})  # an item's (or a reply's) Markdown, which pages show through body() and reply_body()


class TracingEnvironment(jinja2.Environment):
    """Jinja2's environment, noting a template that reads an item's Markdown text itself instead of
    through body() or reply_body(): a page key follows an item's text only through those, so such a
    page is never cached (slower, never stale). Jinja2's getattr and getitem, with that one check."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute in TEXT_FIELDS:
            note_raw_text()
        # Jinja2's own body, not a call to it: this runs for every attribute every template reads.
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str) and argument in TEXT_FIELDS:
            note_raw_text()
        return super().getitem(obj, argument)


def note_raw_text() -> None:
    trace = _CURRENT.get()
    if trace is not None:
        trace.names.add(RAW_TEXT)


class TracedSite:
    """The Site as templates see it while a page renders: every attribute read is noted."""

    __slots__ = ("_site", "_trace")

    def __init__(self, site: Any, trace: Trace) -> None:
        object.__setattr__(self, "_site", site)
        object.__setattr__(self, "_trace", trace)

    def __getattr__(self, name: str) -> Any:
        self._trace.site_attrs.add(name)
        return getattr(self._site, name)
