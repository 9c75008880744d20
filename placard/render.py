"""Render stage: Jinja2 templates -> an in-memory map of output path -> bytes.

Templates get one `url()` helper that makes every internal link relative to the page being
rendered, so the site works under any sub-path and from file://.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import posixpath
import re
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import jinja2
from babel.dates import format_date, format_datetime, format_time
from markupsafe import Markup

from .cache import TRACKED_NAMES, Digester, PageEntry, Store, Trace, TracedSite, TracingContext, digest_bytes, digest_text, digest_value, start_trace, stop_trace
from .calendar import event_page_context, flyer_context, flyer_path, webcal_url
from .errors import Problem
from .index import SiteIndex, index_site
from .markup import rebase_assets, resolve_links
from .models import RELATIONS, Site
from .output import Output
from .urls import absolute_url, anchor_of, lang_prefix, path_of, relative_url, tag_slug

BABEL_LOCALES = {"en": "en_GB", "ru": "ru", "kk": "kk"}


class TemplateProblem(Exception):
    """A template failed to compile or render; carries a Problem naming template and line."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class RenderOptions:
    """Choices that change every page: folder-style links or explicit index.html (file://)."""

    index_html: bool = False


@dataclass(frozen=True)
class PageSpec:
    """One page to render: where it goes, with which template and variables."""

    path: str
    template: str
    context: dict = field(default_factory=dict)
    origin: str = ""


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory between builds (the preview server); Jinja2 recompiles
    any template whose source checksum changed, so a stale template is never used."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Hand Jinja2 the stored code; it checks the checksum and discards it if the source changed."""
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep the freshly compiled code for the next build."""
        self.compiled[bucket.key] = bucket.bytecode_to_string()


def load_templates(templates_dir: Path, static_dir: Path | None = None, cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """The Jinja2 environment: autoescaping, undefined variables are errors, our filters.

    `inline_stylesheet` is static/style.css for pages that cannot link to it (the 404 page)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        bytecode_cache=cache,
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.context_class = TracingContext  # notes what each page reads, for the page cache
    env.filters.update(
        date_long=filter_date_long,
        datetime_long=filter_datetime_long,
        time_short=filter_time_short,
        iso=filter_iso,
        tag_slug=tag_slug,
    )
    env.globals.update(url=template_url, relations=RELATIONS, inline_stylesheet=read_stylesheet(static_dir))
    env.tests["contains"] = lambda sequence, value: value in sequence
    return env


def read_stylesheet(static_dir: Path | None) -> Markup:
    """static/style.css as trusted text for a <style> element (it is our own file)."""
    file = static_dir / "style.css" if static_dir else None
    css = file.read_text(encoding="utf-8") if file and file.is_file() else ""
    return Markup(css.replace("</", "<\\/"))


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline <style> or <script> (CSP3 section 8.2)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(inline_style: str | None = None) -> str:
    """Nothing from any other host; styles, images, media and fonts from this site only; no inline
    script. A page with inline CSS (404) allows exactly that CSS by its hash."""
    style = csp_hash(inline_style) if inline_style else "'self'"
    return (f"default-src 'none'; style-src {style}; img-src 'self'; font-src 'self'; media-src 'self'; "
            "script-src 'self'; base-uri 'none'; form-action 'none'")


def onion_base(config) -> str | None:
    """The first mirror whose host is an .onion address (for onion-location), or None."""
    for mirror in config.mirrors:
        if (urlsplit(mirror).hostname or "").endswith(".onion"):
            return mirror.rstrip("/") + "/"
    return None


OUTBOUND_LINK = re.compile(r'<a\b(?![^>]*\brel=)([^>]*\bhref="(?:https?:)?//[^"]*"[^>]*)>')


def mark_outbound_links(html: str) -> str:
    """rel="noopener noreferrer" on every link to another site: it learns neither this page's
    address nor gets a handle on its window (the referrer meta says the same; this is belt and braces)."""
    return OUTBOUND_LINK.sub(r'<a\1 rel="noopener noreferrer">', html)


def babel_locale(lang: str) -> str:
    """The Babel locale for one of our languages."""
    return BABEL_LOCALES.get(lang, lang)


def filter_date_long(value: date | datetime, lang: str = "en") -> str:
    """'16 December 2011' in the page's language."""
    # The zone is part of the key: equal datetimes in two zones can fall on different days.
    return format_date_cached(type(value), value, getattr(value, "tzinfo", None), lang)


@functools.lru_cache(maxsize=65536)  # pure; a post's date shows on its page, the news list and its tags
def format_date_cached(_kind: type, value: date | datetime, _zone: Any, lang: str) -> str:
    return format_date(value, format="long", locale=babel_locale(lang))


def filter_datetime_long(value: datetime, lang: str = "en") -> str:
    """'16 December 2011, 12:00 GMT' in the page's language and the value's own zone."""
    return f"{filter_date_long(value, lang)}, {filter_time_short(value, lang)}"


def filter_time_short(value: datetime, lang: str = "en") -> str:
    """'12:00 GMT': 24-hour local time and the zone's abbreviation at that moment."""
    clock = format_time(value, format="HH:mm", locale=babel_locale(lang))
    return f"{clock} {value.tzname()}" if value.tzinfo else clock


def filter_iso(value: date | datetime) -> str:
    """ISO 8601, for <time datetime> and feeds."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


@jinja2.pass_context
def template_url(context: Any, target: Any) -> str:
    """A relative link from the page being rendered to an item or an output path."""
    page_path = context["page_path"]
    index_html = context["options"].index_html
    if context["standalone"]:  # served at any address (404): relative links would break there
        path = target if isinstance(target, str) else path_of(target, context["site"].config.language) + anchor_of(target)
        return absolute_url(context["site"].config.base_url, path)
    if isinstance(target, str):
        return relative_url(page_path, target, index_html)
    default = context["site"].config.language
    return relative_url(page_path, path_of(target, default) + anchor_of(target), index_html)


def item_key(item) -> str:
    """The key of an item's converted body in the bodies map."""
    return f"{item.kind}:{item.lang}:{item.slug}"


def plan_pages(site: Site, index: SiteIndex | None = None) -> list[PageSpec]:
    """Every HTML page of the site with its template and variables."""
    index = index or index_site(site)
    default = site.config.language
    prefix = lang_prefix(default, default)
    specs = [
        PageSpec(f"{prefix}index.html", "home.html", {"upcoming": index.upcoming}),
        PageSpec(f"{prefix}news/index.html", "news.html", {"posts": site.posts}),
        PageSpec(f"{prefix}calendar/index.html", "calendar.html", {"upcoming": index.upcoming, "past": index.past, "webcal": webcal_url(site.config)}),
        PageSpec(f"{prefix}links/index.html", "links.html", {"entities": site.entities}),
        PageSpec(f"{prefix}tags/index.html", "tags.html", {"tags": index.tags}),
        PageSpec("404.html", "404.html", {"standalone": True}),
    ]
    if site.config.mirrors:
        specs.append(PageSpec(f"{prefix}mirrors/index.html", "mirrors.html", {}))
    for tag, posts in index.tags.items():
        specs.append(PageSpec(f"{prefix}tags/{tag_slug(tag)}/index.html", "tag.html", {"tag": tag, "posts": posts}))
    for kind, items, template in (("post", site.posts, "post.html"), ("event", site.events, "event.html"), ("page", site.pages, "page.html")):
        for item in items:
            extra = event_page_context(item, site) if kind == "event" else {"called_events": index.events_calling.get(item.slug, ())} if kind == "post" else {}
            specs.append(PageSpec(path_of(item, default), template, {kind: item, "item": item, **extra}, item.origin.path))
    for event in site.events:
        specs.append(PageSpec(flyer_path(event, default), "flyer.html", {"event": event, "item": event, **flyer_context(event, site)}, event.origin.path))
    return specs


def upcoming_events(site: Site) -> tuple:
    """Events that have not ended at build time, soonest first."""
    return index_site(site).upcoming


def past_events(site: Site) -> tuple:
    """Events that ended before build time, newest first."""
    return index_site(site).past


def tags_of(site: Site):
    """Tag name -> posts with that tag, tags sorted by name."""
    return index_site(site).tags


def make_resolver(index: SiteIndex, page_path: str, options: RenderOptions, trace: "Trace | None" = None):
    """Resolve `kind:slug` references from one page (through the site's one link table)."""
    targets = index.targets

    def resolve(ref: str) -> str:
        if trace is not None:
            trace.refs.add(ref)
        return relative_url(page_path, targets[ref], options.index_html)

    return resolve


def render_page(env: jinja2.Environment, spec: PageSpec, site: Site, bodies: Mapping[str, str], options: RenderOptions = RenderOptions(),
                index: SiteIndex | None = None, trace: Trace | None = None) -> str:
    """Render one page; template errors become a TemplateProblem naming template and line.

    With a `trace`, every input the page reads beyond its own variables is noted in it (placard.cache)."""
    index = index or index_site(site)
    resolve = make_resolver(index, spec.path, options, trace)

    def finish(item, html: str) -> Markup:
        source_dir = posixpath.dirname(item.origin.path.removeprefix("content/"))
        return Markup(resolve_links(rebase_assets(html, source_dir, spec.path, options.index_html), resolve))

    def read_body(key: str) -> str:
        if trace is not None:
            trace.bodies.add(key)
        return bodies[key]

    def body(item) -> Markup:
        return finish(item, read_body(item_key(item)))

    def reply_body(item, index: int) -> Markup:
        return finish(item, read_body(f"{item_key(item)}:reply:{index}"))

    onion = onion_base(site.config)
    context = {
        "site": TracedSite(site, trace) if trace is not None else site,
        "config": site.config,
        "page_path": spec.path,
        "lang": spec.context.get("item").lang if spec.context.get("item") else site.config.language,
        "options": options,
        "body": body,
        "reply_body": reply_body,
        "link": lambda ref: resolve(ref),
        "entity_named": index.entity_named,
        "now": site.now,
        "canonical": absolute_url(site.config.base_url, spec.path),
        "standalone": False,
        "csp": content_security_policy(env.globals["inline_stylesheet"] if spec.context.get("standalone") else None),
        "onion_location": absolute_url(onion, spec.path) if onion and not spec.context.get("standalone") else None,
        "absolute": lambda target: absolute_url(site.config.base_url, target if isinstance(target, str) else path_of(target, site.config.language)),
        **spec.context,
    }
    token = start_trace(trace) if trace is not None else None
    try:
        return env.get_template(spec.template).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(Problem(f"templates/{exc.name or spec.template}", exc.lineno, "", f"template syntax error: {exc.message}")) from None
    except Exception as exc:  # any error raised by template code is the template's problem
        raise TemplateProblem(template_runtime_problem(exc, spec)) from None
    finally:
        if token is not None:
            stop_trace(token)


def template_runtime_problem(exc: Exception, spec: PageSpec) -> Problem:
    """Find the template file and line a runtime error (e.g. an undefined variable) came from."""
    name, line = spec.template, None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".html", ".xml", ".txt", ".svg")):
            name, line = Path(frame.filename).name, frame.lineno
    while_rendering = f" (while rendering {spec.origin or spec.path})"
    message = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
    return Problem(f"templates/{name}", line, "", f"{message}{while_rendering}")


def render_site(site: Site, bodies: Mapping[str, str], env: jinja2.Environment, specs: list[PageSpec], options: RenderOptions = RenderOptions(),
                index: SiteIndex | None = None, cache: Store | None = None) -> Output:
    """Render the given pages into an Output map; with a cache, pages whose every input is unchanged are reused."""
    index = index or index_site(site)
    inputs = PageInputs(site, index, bodies, env, options, cache) if cache is not None else None
    cached = cache.get_pages() if cache is not None else {}
    output = Output()
    for spec in specs:
        base = inputs.base(spec) if inputs else None
        data = reuse_page(cached.get(spec.path), inputs, base) if base is not None else None
        if data is None:
            trace = Trace() if inputs else None
            text = render_page(env, spec, site, bodies, options, index, trace)
            data = (mark_outbound_links(text) if spec.path.endswith(".html") else text).encode("utf-8")
            if base is not None:
                remember_page(cache, inputs, spec, base, trace, data)
        output.add(spec.path, data, spec.origin or spec.template)
    return output


def reuse_page(entry: PageEntry | None, inputs: "PageInputs", base: bytes) -> bytes | None:
    """The cached bytes of a page if it was rendered from exactly these inputs, else None."""
    if entry is None or entry.base != base:
        return None
    if all(inputs.of(dep) == seen for dep, seen in entry.deps):
        return entry.data
    return None


# Context names fixed by a page's own key (its path, variables, config, options, templates) or whose
# reads are traced one by one (body, reply_body, link). A page that reads any other name (say a new
# variable added to render_page and not listed here) is never cached: slower, but never stale.
KEYED_NAMES = frozenset({"config", "page_path", "lang", "options", "body", "reply_body", "link", "canonical",
                         "standalone", "csp", "onion_location", "absolute"})


def remember_page(cache: Store, inputs: "PageInputs", spec: PageSpec, base: bytes, trace: Trace, data: bytes) -> None:
    """Keep a freshly rendered page with the digests of everything it read (unless one cannot be digested)."""
    unknown = trace.names - TRACKED_NAMES - KEYED_NAMES - spec.context.keys() - inputs.globals
    if unknown:
        return
    deps = tuple((dep, inputs.of(dep)) for dep in trace.deps())
    if all(seen is not None for _dep, seen in deps):
        cache.put_pages([(spec.path, PageEntry(base, deps, data))])


class PageInputs:
    """Digests of what pages are rendered from, each computed at most once per build."""

    def __init__(self, site: Site, index: SiteIndex, bodies: Mapping[str, str], env: jinja2.Environment, options: RenderOptions,
                 cache: Store | None = None) -> None:
        self.site, self.index, self.bodies = site, index, bodies
        self.digester = Digester(getattr(cache, "loaded", None))
        self.globals = frozenset(env.globals)  # covered by templates_digest (ours) or built into Jinja2
        templates, settings = templates_digest(env), self.digester.of((site.config, options))
        self.shared = digest_bytes(templates, settings) if templates is not None and settings is not None else None
        self.memo: dict[tuple[str, str], bytes | None] = {}

    def base(self, spec: PageSpec) -> bytes | None:
        """The page's own key: the templates, config and options, its path, template and variables."""
        if self.shared is None:
            return None  # something the pages depend on cannot be digested: render every page
        own = self.digester.of((spec.path, spec.template, spec.origin, spec.context))
        return digest_bytes(self.shared, own) if own is not None else None

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
        if kind == "ref":
            return digest_text(self.index.targets.get(name, "\0missing"))
        return None


def templates_digest(env: jinja2.Environment) -> bytes | None:
    """Digest of every template's source and of the globals templates read (e.g. the inline stylesheet)."""
    parts = []
    for name in sorted(env.list_templates()):
        parts += [name.encode("utf-8"), env.loader.get_source(env, name)[0].encode("utf-8")]
    data = digest_value({k: v for k, v in env.globals.items() if not callable(v)})  # e.g. the inline stylesheet
    return digest_bytes(*parts, data) if data is not None else None
