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
from markupsafe import Markup, escape

from .calendar import ENGLISH, calendar_path, event_page_context, flyer_context, flyer_path, webcal_url
from .catalogue import CATALOGUE_DIR, LANGUAGE_NAMES, Catalogue, read_entries
from .errors import Problem
from .languages import LanguageView, group_of, localise, translations_of, view_of
from .markup import rebase_assets, resolve_links
from .models import ENTITY_KIND_LABELS, EVENT_KIND_LABELS, EVENT_STATUS_LABELS, RELATIONS, Site
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
    lang: str = ""  # the page's language ('' for the site's default)
    identity: str = ""  # pages with the same identity are translations of each other (hreflang, switcher)


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
    env.globals.update(url=template_url, relations=RELATIONS, inline_stylesheet=read_stylesheet(static_dir),
                       catalogues=read_catalogues(templates_dir), language_names=LANGUAGE_NAMES,
                       event_kinds=EVENT_KIND_LABELS, event_statuses=EVENT_STATUS_LABELS, entity_kinds=ENTITY_KIND_LABELS)
    env.tests["contains"] = lambda sequence, value: value in sequence
    return env


def read_catalogues(templates_dir: Path) -> dict[str, Catalogue]:
    """Every readable templates/translations/<lang>.po; pipeline.check_translations reports what is wrong."""
    catalogues = {}
    for file in sorted((templates_dir / CATALOGUE_DIR).glob("*.po")):
        try:
            entries = read_entries(file)
        except Exception:  # a broken catalogue is reported by check_catalogues, with its line
            continue
        catalogues[file.stem] = Catalogue(file.stem, {k: e.text for k, e in entries.items() if e.text and not e.fuzzy})
    return catalogues


def make_gettext(catalogue: Catalogue):
    """`_("text", name=value)` for templates: the catalogue's text, trusted like template text, with
    %(name)s placeholders filled by escaped values (Jinja2's "new style" gettext)."""

    @jinja2.pass_eval_context
    def gettext(eval_ctx, msgid: str, **variables) -> str:
        text = catalogue.gettext(msgid)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    return gettext


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


def plan_pages(site: Site, catalogues: dict[str, Catalogue] | None = None) -> list[PageSpec]:
    """Every HTML page of the site, in every language, with its template and variables."""
    catalogues = catalogues or {}
    default = site.config.language
    groups = translations_of(site)
    specs = [PageSpec("404.html", "404.html", {"standalone": True}, lang=default, identity="404")]
    for lang in site.config.languages:
        specs += plan_language(site, lang, view_of(site, lang, groups))
    for item in site.posts + site.events + site.pages + site.translations:
        extra = event_page_context(item, site, catalogues.get(item.lang, ENGLISH)) if item.kind == "event" else {}
        template = {"post": "post.html", "event": "event.html", "page": "page.html"}[item.kind]
        identity = ":".join(group_of(item))
        specs.append(PageSpec(path_of(item, default), template, {item.kind: item, "item": item, **extra}, item.origin.path, item.lang, identity))
        if item.kind == "event":
            specs.append(PageSpec(flyer_path(item, default), "flyer.html", {"event": item, "item": item, **flyer_context(item, site)}, item.origin.path, item.lang, "flyer:" + identity))
    return with_alternates(specs)


def plan_language(site: Site, lang: str, view: LanguageView) -> list[PageSpec]:
    """The section pages of one language (home, news, calendar, register, tags, mirrors), under its folder."""
    prefix = lang_prefix(lang, site.config.language)
    tags = tags_of(view)
    calendar = {"upcoming": view.upcoming(site.now), "past": view.past(site.now), "webcal": webcal_url(site.config, lang), "calendar_path": calendar_path(lang, site.config)}
    sections = [
        ("index.html", "home.html", {"upcoming": view.upcoming(site.now)}),
        ("news/index.html", "news.html", {"posts": view.posts}),
        ("calendar/index.html", "calendar.html", calendar),
        ("links/index.html", "links.html", {"entities": site.entities, "register": build_register(site)}),
        ("tags/index.html", "tags.html", {"tags": tags}),
    ]
    if site.config.mirrors:
        sections.append(("mirrors/index.html", "mirrors.html", {}))
    sections += [(f"tags/{tag_slug(tag)}/index.html", "tag.html", {"tag": tag, "posts": posts}) for tag, posts in tags.items()]
    return [PageSpec(prefix + path, template, context, "", lang, "section:" + path) for path, template, context in sections]


def with_alternates(specs: list[PageSpec]) -> list[PageSpec]:
    """Give each page the paths of its versions in other languages (for hreflang and the switcher)."""
    versions: dict[str, dict[str, str]] = {}
    for spec in specs:
        versions.setdefault(spec.identity, {})[spec.lang] = spec.path
    return [PageSpec(s.path, s.template, {**s.context, "alternates": versions[s.identity]}, s.origin, s.lang, s.identity) for s in specs]


def upcoming_events(site: Site) -> list:
    """Events that have not ended at build time, soonest first (in the default language)."""
    return view_of(site, site.config.language).upcoming(site.now)


def past_events(site: Site) -> list:
    """Events that ended before build time, newest first (in the default language)."""
    return view_of(site, site.config.language).past(site.now)


def tags_of(view) -> dict[str, list]:
    """Tag name -> posts with that tag, tags sorted by name."""
    tags: dict[str, list] = {}
    for post in view.posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    return dict(sorted(tags.items(), key=lambda kv: kv[0].lower()))


def make_resolver(site: Site, page_path: str, options: RenderOptions, lang: str | None = None):
    """Resolve `kind:slug` references from one page (to the item's version in the page's language)."""
    targets = link_targets(site, lang)

    def resolve(ref: str) -> str:
        return relative_url(page_path, targets[ref], options.index_html)

    return resolve


def link_targets(site: Site, lang: str | None = None) -> dict[str, str]:
    """`kind:slug` -> output path (with anchor) for every published item, as linked from a page in
    `lang`: a link to an item leads to its translation in that language when there is one."""
    default = site.config.language
    lang = lang or default
    prefix = lang_prefix(lang, default)
    groups = translations_of(site)
    targets = {f"section:{name}": f"{prefix}{name}/index.html" for name in ("news", "calendar", "links", "tags")}
    targets["section:home"] = f"{prefix}index.html"
    for item in site.items():
        shown = localise(groups, item, lang) if item.kind != "entity" else item
        targets.setdefault(f"{item.kind}:{item.slug}", path_of(shown, default) + anchor_of(shown))
    return targets


def render_page(env: jinja2.Environment, spec: PageSpec, site: Site, bodies: dict[str, str], options: RenderOptions) -> str:
    """Render one page; template errors become a TemplateProblem naming template and line."""
    lang = spec.lang or site.config.language
    resolve = make_resolver(site, spec.path, options, lang)
    groups = translations_of(site)
    catalogue = env.globals["catalogues"].get(lang, ENGLISH)
    gettext = make_gettext(catalogue)

    def finish(item, html: str) -> Markup:
        source_dir = posixpath.dirname(item.origin.path.removeprefix("content/"))
        return Markup(resolve_links(rebase_assets(html, source_dir, spec.path, options.index_html), resolve))

    def body(item) -> Markup:
        return finish(item, bodies[item_key(item)])

    def reply_body(item, index: int) -> Markup:
        return finish(item, bodies[f"{item_key(item)}:reply:{index}"])

    default = site.config.language
    alternates = spec.context.get("alternates", {})
    ordered = [code for code in site.config.languages if code in alternates]
    hreflang = [(code, absolute_url(site.config.base_url, alternates[code])) for code in ordered] if len(ordered) > 1 else []
    if hreflang:  # x-default: the default language's version, for readers of any other language
        hreflang.append(("x-default", absolute_url(site.config.base_url, alternates.get(default) or alternates[ordered[0]])))
    # Every other language: this page in it if there is one, else its home page (never a missing page).
    switcher = [(code, LANGUAGE_NAMES.get(code, code), alternates.get(code) or lang_prefix(code, default) + "index.html", code in alternates)
                for code in site.config.languages] if len(site.config.languages) > 1 else []

    def lang_of(item, name: str | None = None) -> Markup:
        """' lang="en"' where an item (or one field a translation left as in the original) is not in the page's language."""
        text_lang = default if name and name in getattr(item, "untranslated", ()) else item.lang
        return Markup(f' lang="{text_lang}"') if text_lang != lang else Markup("")

    def marked(item, name: str, text) -> Markup:
        """`text` (one field of an item), in a <span lang> when it is not in the page's language."""
        attribute = lang_of(item, name)
        return Markup(f"<span{attribute}>{escape(text)}</span>") if attribute else escape(text)

    context = {
        "site": site,
        "marked": marked,
        "hreflang": hreflang,
        "switcher": switcher,
        "lang_of": lang_of,
        "path_of": lambda item: path_of(item, default),
        "prefix_of": lambda code: lang_prefix(code, default),
        "config": site.config.in_language(lang),
        "page_path": spec.path,
        "lang": lang,
        "prefix": lang_prefix(lang, site.config.language),
        "view": view_of(site, lang, groups),
        "in_lang": lambda item: localise(groups, item, lang),
        "posts_about": lambda event: [localise(groups, p, lang) for p in site.posts if p.slug in event.posts],
        "events_calling": lambda post: [localise(groups, e, lang) for e in site.events if localise(groups, post, site.config.language).slug in e.posts],
        "alternates": {},
        "_": gettext,
        "gettext": gettext,
        "gettext_in": lambda msgid, code: env.globals["catalogues"].get(code, ENGLISH).gettext(msgid),
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
