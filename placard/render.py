"""Render stage: Jinja2 templates -> an in-memory map of output path -> bytes.

Templates get one `url()` helper that makes every internal link relative to the page being
rendered, so the site works under any sub-path and from file://.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import re
import traceback
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from babel.dates import format_date, format_datetime, format_time
from markupsafe import Markup

from .calendar import event_page_context, flyer_context, flyer_path, webcal_url
from .errors import Problem
from .markup import rebase_assets, resolve_links
from .models import RELATIONS, Site
from .output import Output
from .register import build_register
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
    env.filters.update(
        date_long=filter_date_long,
        datetime_long=filter_datetime_long,
        time_short=filter_time_short,
        iso=filter_iso,
        tag_slug=tag_slug,
        partial_date=filter_partial_date,
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
    return format_date(value, format="long", locale=babel_locale(lang))


def filter_datetime_long(value: datetime, lang: str = "en") -> str:
    """'16 December 2011, 12:00 GMT' in the page's language and the value's own zone."""
    return f"{filter_date_long(value, lang)}, {filter_time_short(value, lang)}"


def filter_time_short(value: datetime, lang: str = "en") -> str:
    """'12:00 GMT': 24-hour local time and the zone's abbreviation at that moment."""
    clock = format_time(value, format="HH:mm", locale=babel_locale(lang))
    return f"{clock} {value.tzname()}" if value.tzinfo else clock


def filter_partial_date(value: str, lang: str = "en") -> str:
    """'2006', 'October 2006' or '1 October 2006' for a partial date of the register."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return value
    if len(parts) == 2:
        return format_date(date(parts[0], parts[1], 1), format="LLLL y", locale=babel_locale(lang))
    return filter_date_long(date(*parts), lang)


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


def plan_pages(site: Site) -> list[PageSpec]:
    """Every HTML page of the site with its template and variables."""
    default = site.config.language
    prefix = lang_prefix(default, default)
    specs = [
        PageSpec(f"{prefix}index.html", "home.html", {"upcoming": upcoming_events(site)}),
        PageSpec(f"{prefix}news/index.html", "news.html", {"posts": site.posts}),
        PageSpec(f"{prefix}calendar/index.html", "calendar.html", {"upcoming": upcoming_events(site), "past": past_events(site), "webcal": webcal_url(site.config)}),
        PageSpec(f"{prefix}links/index.html", "links.html", {"entities": site.entities, "register": build_register(site)}),
        PageSpec(f"{prefix}tags/index.html", "tags.html", {"tags": tags_of(site)}),
        PageSpec("404.html", "404.html", {"standalone": True}),
    ]
    if site.config.mirrors:
        specs.append(PageSpec(f"{prefix}mirrors/index.html", "mirrors.html", {}))
    for tag, posts in tags_of(site).items():
        specs.append(PageSpec(f"{prefix}tags/{tag_slug(tag)}/index.html", "tag.html", {"tag": tag, "posts": posts}))
    for kind, items, template in (("post", site.posts, "post.html"), ("event", site.events, "event.html"), ("page", site.pages, "page.html")):
        for item in items:
            extra = event_page_context(item, site) if kind == "event" else {}
            specs.append(PageSpec(path_of(item, default), template, {kind: item, "item": item, **extra}, item.origin.path))
    for event in site.events:
        specs.append(PageSpec(flyer_path(event, default), "flyer.html", {"event": event, "item": event, **flyer_context(event, site)}, event.origin.path))
    return specs


def upcoming_events(site: Site) -> list:
    """Events that have not ended at build time, soonest first."""
    return [e for e in site.events if e.finishes > site.now]


def past_events(site: Site) -> list:
    """Events that ended before build time, newest first."""
    return sorted((e for e in site.events if e.finishes <= site.now), key=lambda e: (e.starts, e.slug), reverse=True)


def tags_of(site: Site) -> dict[str, list]:
    """Tag name -> posts with that tag, tags sorted by name."""
    tags: dict[str, list] = {}
    for post in site.posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    return dict(sorted(tags.items(), key=lambda kv: kv[0].lower()))


def make_resolver(site: Site, page_path: str, options: RenderOptions):
    """Resolve `kind:slug` references from one page."""
    targets = link_targets(site)

    def resolve(ref: str) -> str:
        return relative_url(page_path, targets[ref], options.index_html)

    return resolve


def link_targets(site: Site) -> dict[str, str]:
    """`kind:slug` -> output path (with anchor) for every published item."""
    default = site.config.language
    prefix = lang_prefix(default, default)
    targets = {f"section:{name}": f"{prefix}{name}/index.html" for name in ("news", "calendar", "links", "tags")}
    targets["section:home"] = f"{prefix}index.html"
    targets.update({f"{item.kind}:{item.slug}": path_of(item, default) + anchor_of(item) for item in site.items()})
    return targets


def render_page(env: jinja2.Environment, spec: PageSpec, site: Site, bodies: dict[str, str], options: RenderOptions) -> str:
    """Render one page; template errors become a TemplateProblem naming template and line."""
    resolve = make_resolver(site, spec.path, options)

    def finish(item, html: str) -> Markup:
        source_dir = posixpath.dirname(item.origin.path.removeprefix("content/"))
        return Markup(resolve_links(rebase_assets(html, source_dir, spec.path, options.index_html), resolve))

    def body(item) -> Markup:
        return finish(item, bodies[item_key(item)])

    def reply_body(item, index: int) -> Markup:
        return finish(item, bodies[f"{item_key(item)}:reply:{index}"])

    context = {
        "site": site,
        "config": site.config,
        "page_path": spec.path,
        "lang": spec.context.get("item").lang if spec.context.get("item") else site.config.language,
        "options": options,
        "body": body,
        "reply_body": reply_body,
        "link": lambda ref: resolve(ref),
        "entity_named": {entity.slug: entity for entity in site.entities},
        "now": site.now,
        "canonical": absolute_url(site.config.base_url, spec.path),
        "standalone": False,
        "csp": content_security_policy(env.globals["inline_stylesheet"] if spec.context.get("standalone") else None),
        "onion_location": absolute_url(onion_base(site.config), spec.path) if onion_base(site.config) and not spec.context.get("standalone") else None,
        "absolute": lambda target: absolute_url(site.config.base_url, target if isinstance(target, str) else path_of(target, site.config.language)),
        **spec.context,
    }
    try:
        return env.get_template(spec.template).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(Problem(f"templates/{exc.name or spec.template}", exc.lineno, "", f"template syntax error: {exc.message}")) from None
    except Exception as exc:  # any error raised by template code is the template's problem
        raise TemplateProblem(template_runtime_problem(exc, spec)) from None


def template_runtime_problem(exc: Exception, spec: PageSpec) -> Problem:
    """Find the template file and line a runtime error (e.g. an undefined variable) came from."""
    name, line = spec.template, None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".html", ".xml", ".txt", ".svg")):
            name, line = Path(frame.filename).name, frame.lineno
    while_rendering = f" (while rendering {spec.origin or spec.path})"
    message = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
    return Problem(f"templates/{name}", line, "", f"{message}{while_rendering}")


def render_site(site: Site, bodies: dict[str, str], env: jinja2.Environment, specs: list[PageSpec], options: RenderOptions = RenderOptions()) -> Output:
    """Render the given pages into an Output map."""
    output = Output()
    for spec in specs:
        text = render_page(env, spec, site, bodies, options)
        output.add(spec.path, mark_outbound_links(text) if spec.path.endswith(".html") else text, spec.origin or spec.template)
    return output
