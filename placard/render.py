"""Render stage: Jinja2 templates -> an in-memory map of output path -> bytes.

Templates get one `url()` helper that makes every internal link relative to the page being
rendered, so the site works under any sub-path and from file://.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import pickle
import posixpath
import re
import traceback
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

import jinja2
from babel import Locale
from babel.dates import format_date, format_time, get_date_format
from markupsafe import Markup, escape

from .cache import TRACKED_NAMES, Digester, PageContext, PageEntry, Store, Trace, TracedSite, TracingContext, TracingEnvironment, digest_bytes, digest_text, digest_value, start_trace, stop_trace
from .calendar import ENGLISH, calendar_path, event_page_context, flyer_context, flyer_path, webcal_url
from .catalogue import CATALOGUE_DIR, LANGUAGE_NAMES, Catalogue, read_entries
from .errors import BuildError, Problem
from .index import SiteIndex, index_site
from .languages import LanguageView, group_of, localise
from .markup import Bodies, rebase_assets, resolve_links
from .models import ENTITY_KIND_LABELS, EVENT_KIND_LABELS, EVENT_STATUS_LABELS, RELATIONS, Site
from .output import Output, Staged, write_staged
from .register import build_register
from .urls import absolute_url, anchor_of, lang_prefix, make_relative, old_tag_slug, path_of, tag_slug
from .workers import can_fork, fork_map

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

    `inline_stylesheet` is static/style.css, `inline_favicon` static/favicon.png as a data: URL, for pages
    that cannot link to them (the 404 page)."""
    env = TracingEnvironment(  # notes a template reading Markdown texts, for the page cache
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        bytecode_cache=cache,
        auto_reload=False,  # one environment per build: no need to stat every template for every page
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
        partial_date=filter_partial_date,
    )
    env.globals.update(relations=RELATIONS, inline_stylesheet=read_stylesheet(static_dir), inline_favicon=read_favicon(static_dir),
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


def read_favicon(static_dir: Path | None) -> str:
    """static/favicon.png as a data: URL, for pages that cannot link to it (the 404 page), or ''."""
    file = static_dir / "favicon.png" if static_dir else None
    return "data:image/png;base64," + base64.b64encode(file.read_bytes()).decode() if file and file.is_file() else ""


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline <style> or <script> (CSP3 section 8.2)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(inline_style: str | None = None) -> str:
    """Nothing from any other host; styles, images, media and fonts from this site only; no inline
    script. A page with inline CSS (404) allows exactly that CSS by its hash, and data: images (its icon,
    inlined: a link to this site's icon from another address would be another host's image).

    connect-src 'self': crawlers' audits fetch /robots.txt from inside the page (Lighthouse 12 does it through
    the page's own loader), and default-src 'none' refused that, so Lighthouse called robots.txt "not valid"."""
    style, images = (csp_hash(inline_style), "'self' data:") if inline_style else ("'self'", "'self'")
    return (f"default-src 'none'; connect-src 'self'; style-src {style}; img-src {images}; font-src 'self'; media-src 'self'; "
            "script-src 'self'; base-uri 'none'; form-action 'none'")


def onion_base(config) -> str | None:
    """The first mirror whose host is an .onion address (for onion-location), or None."""
    for mirror in config.mirrors:
        if (urlsplit(mirror).hostname or "").endswith(".onion"):
            return mirror.rstrip("/") + "/"
    return None


OUTBOUND_LINK = re.compile(r'<a\b(?![^>]*\brel=)([^>]*\bhref="(?:https?:)?//[^"]*"[^>]*)>')


EXTERNAL_HREF = re.compile(r'href="(?:https?:)?//')  # a literal first: the regex engine scans for it


def mark_outbound_links(html: str) -> str:
    """rel="noopener noreferrer" on every link to another site: it learns neither this page's
    address nor gets a handle on its window (the referrer meta says the same; this is belt and braces).

    What OUTBOUND_LINK.sub would do, tried only at the <a tags before an external href (a few per
    page) rather than at every tag: 35 to 24 us for a post page, 100 to 13 us for a list page. A tag
    OUTBOUND_LINK matches has no '>' before its href, so it starts after the last '>' before the href."""
    parts: list[str] = []
    done = 0  # where the text not yet copied starts (after the last link marked)
    for hit in EXTERNAL_HREF.finditer(html):
        if hit.start() < done:
            continue
        match, start = None, max(html.rfind(">", 0, hit.start()) + 1, done)
        while match is None and (start := html.find("<a", start, hit.start())) != -1:
            match = OUTBOUND_LINK.match(html, start)
            start += 2
        if match is not None:
            parts += [html[done:match.start()], "<a", match.group(1), ' rel="noopener noreferrer">']
            done = match.end()
    return "".join([*parts, html[done:]]) if parts else html


def babel_locale(lang: str) -> str:
    """The Babel locale for one of our languages."""
    return BABEL_LOCALES.get(lang, lang)


def filter_date_long(value: date | datetime, lang: str = "en") -> str:
    """'16 December 2011' in the page's language."""
    # Babel's format_date shows a datetime's own calendar date (no conversion), so the date is the key.
    return format_date_cached(value.date() if isinstance(value, datetime) else value, lang)


@functools.lru_cache(maxsize=65536)  # pure; a post's date shows on its page, the news list and its tags
def format_date_cached(value: date, lang: str) -> str:
    pattern, locale = long_date_pattern(lang)
    return pattern.apply(value, locale)


@functools.lru_cache(maxsize=None)
def long_date_pattern(lang: str) -> tuple[Any, Locale]:
    """The locale's long date pattern, parsed once: what format_date(format="long") parses on every call."""
    locale = Locale.parse(babel_locale(lang))
    return get_date_format("long", locale=locale), locale


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


def make_url(page_path: str, options: RenderOptions, standalone: bool, config) -> Any:
    """`url(target)` for one page: a relative link from it to an item or an output path."""
    default, relative = config.language, make_relative(page_path, options.index_html)

    def url(target: Any) -> str:
        path = target if isinstance(target, str) else path_of(target, default) + anchor_of(target)
        if standalone:  # served at any address (404): relative links would break there
            return absolute_url(config.base_url, path)
        return relative(path)

    return url


def item_key(item) -> str:
    """The key of an item's converted body in the bodies map."""
    return f"{item.kind}:{item.lang}:{item.slug}"


def reply_key(item, number: int) -> str:
    """The key of one of an item's converted replies in the bodies map."""
    return f"{item_key(item)}:reply:{number}"


def plan_pages(site: Site, catalogues: dict[str, Catalogue] | None = None, index: SiteIndex | None = None) -> list[PageSpec]:
    """Every HTML page of the site, in every language, with its template and variables."""
    catalogues = catalogues or {}
    index = index or index_site(site)
    default = site.config.language
    register = build_register(site)
    specs = [PageSpec("404.html", "404.html", {"standalone": True}, lang=default, identity="404")]
    for lang in site.config.languages:
        specs += plan_language(site, lang, index.views[lang], register)
    for item in site.posts + site.events + site.pages + site.translations:
        if item.kind == "event":
            extra = event_page_context(item, site, catalogues.get(item.lang, ENGLISH))
        elif item.kind == "post":  # the events that call this post (or the original it translates), in its language
            original = localise(index.groups, item, default)
            extra = {"called_events": tuple(localise(index.groups, e, item.lang) for e in index.events_calling.get(original.slug, ()))}
        else:
            extra = {}
        template = {"post": "post.html", "event": "event.html", "page": "page.html"}[item.kind]
        identity = ":".join(group_of(item))
        specs.append(PageSpec(path_of(item, default), template, {item.kind: item, "item": item, **extra}, item.origin.path, item.lang, identity))
        if item.kind == "event":
            specs.append(PageSpec(flyer_path(item, default), "flyer.html", {"event": item, "item": item, **flyer_context(item, site)}, item.origin.path, item.lang, "flyer:" + identity))
    return with_alternates(specs, index)


PAGE_SIZE = 50  # posts per page of a list: about 20 KB, well inside the 50 KB page budget


@dataclass(frozen=True)
class Pager:
    """Where one page of a long list stands: its number, and the pages before and after it."""

    number: int
    total: int
    newer: str | None
    older: str | None


def paginate(folder: str, template: str, context: dict, posts: tuple, prefix: str) -> list[tuple[str, str, dict]]:
    """A list of posts as pages of PAGE_SIZE: folder/index.html, then folder/page/2/index.html, ...
    (paths within the language's folder; the pager's links include its `prefix`)."""
    chunks = [posts[start:start + PAGE_SIZE] for start in range(0, len(posts), PAGE_SIZE)] or [posts]
    paths = [f"{folder}index.html" if number == 1 else f"{folder}page/{number}/index.html" for number in range(1, len(chunks) + 1)]
    pages = []
    for number, (path, chunk) in enumerate(zip(paths, chunks), 1):
        newer = prefix + paths[number - 2] if number > 1 else None
        older = prefix + paths[number] if number < len(chunks) else None
        pages.append((path, template, {**context, "posts": chunk, "pager": Pager(number, len(chunks), newer, older)}))
    return pages


def plan_language(site: Site, lang: str, view: LanguageView, register) -> list[PageSpec]:
    """The section pages of one language (home, news, calendar, register, tags, mirrors), under its folder."""
    prefix = lang_prefix(lang, site.config.language)
    tags = tags_of(view)
    calendar = {"upcoming": view.upcoming(site.now), "past": view.past(site.now), "webcal": webcal_url(site.config, lang), "calendar_path": calendar_path(lang, site.config)}
    sections = [
        ("index.html", "home.html", {"upcoming": view.upcoming(site.now), "latest": view.posts[:5]}),
        ("calendar/index.html", "calendar.html", calendar),
        ("links/index.html", "links.html", {"entities": site.entities, "register": register}),
        ("tags/index.html", "tags.html", {"tags": tags}),
    ]
    if site.config.mirrors:
        sections.append(("mirrors/index.html", "mirrors.html", {}))
    sections += paginate("news/", "news.html", {}, tuple(view.posts), prefix)
    for tag, posts in tags.items():
        sections += paginate(f"tags/{tag_slug(tag)}/", "tag.html", {"tag": tag}, tuple(posts), prefix)
    return [PageSpec(prefix + path, template, context, "", lang, "section:" + path) for path, template, context in sections]


def with_alternates(specs: list[PageSpec], index: SiteIndex) -> list[PageSpec]:
    """Give each page the paths of its versions in other languages (for hreflang and the switcher)
    and its language's menu, as its own variables (so a cached page depends on exactly these)."""
    versions: dict[str, dict[str, str]] = {}
    for spec in specs:
        versions.setdefault(spec.identity, {})[spec.lang] = spec.path
    return [PageSpec(s.path, s.template, {**s.context, "alternates": versions[s.identity], "menu_pages": index.menus[s.lang]}, s.origin, s.lang, s.identity)
            for s in specs]


def tag_redirects(site: Site, index: SiteIndex, options: RenderOptions = RenderOptions()) -> dict[str, str]:
    """A small page at each tag address an earlier placard published (old_tag_slug) that now differs,
    leading to the tag's page: relative links, so it works from mirrors and file:// too. Where two tags
    shared the old address, none is guessed."""
    pages: dict[str, str] = {}
    for lang, view in index.views.items():
        prefix = lang_prefix(lang, site.config.language)
        moves: dict[str, set[tuple[str, str]]] = {}
        for tag, posts in tags_of(view).items():
            if old_tag_slug(tag) != tag_slug(tag):
                moves.setdefault(old_tag_slug(tag), set()).add((tag, tag_slug(tag)))
        for old, targets in moves.items():
            if len(targets) != 1:
                continue
            (tag, new), = targets
            count = max(1, -(-len(tags_of(view)[tag]) // PAGE_SIZE))
            for number in range(1, count + 1):
                tail = "index.html" if number == 1 else f"page/{number}/index.html"
                source, target = f"{prefix}tags/{old}/{tail}", f"{prefix}tags/{new}/{tail}"
                pages[source] = redirect_page(make_relative(source, options.index_html)(target), absolute_url(site.config.base_url, target), tag, lang)
    return pages


def redirect_page(url: str, canonical: str, title: str, lang: str) -> str:
    """An HTML page that sends browsers to `url` at once (a meta refresh: no script), with a plain link."""
    url, title = escape(url), escape(title)
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f'<meta name="robots" content="noindex">\n<link rel="canonical" href="{escape(canonical)}">\n'
            f'<meta http-equiv="refresh" content="0; url={url}">\n</head>\n<body>\n<h1>{title}</h1>\n<p>&rarr; <a href="{url}">{title}</a></p>\n</body>\n</html>\n')


def tags_of(view) -> dict[str, list]:
    """Tag name -> posts with that tag, tags sorted by name."""
    tags: dict[str, list] = {}
    for post in view.posts:
        for tag in post.tags:
            tags.setdefault(tag, []).append(post)
    return dict(sorted(tags.items(), key=lambda kv: kv[0].lower()))


def make_resolver(index: SiteIndex, page_path: str, options: RenderOptions, lang: str, trace: "Trace | None" = None):
    """Resolve `kind:slug` references from one page (to the item's version in the page's language)."""
    targets, relative = index.targets_by_lang[lang], make_relative(page_path, options.index_html)

    def resolve(ref: str, unpublished_ok: bool = False) -> str | None:
        if trace is not None:
            trace.refs.add(ref)  # also when it lands nowhere yet: the page renders again once it does
        if unpublished_ok and ref not in targets:
            return None  # an item held back (check_refs let only those through): its link is plain text for now
        return relative(targets[ref])

    return resolve


def render_page(env: jinja2.Environment, spec: PageSpec, site: Site, bodies: Mapping[str, str], options: RenderOptions = RenderOptions(),
                index: SiteIndex | None = None, trace: Trace | None = None) -> str:
    """Render one page; template errors become a TemplateProblem naming template and line.

    With a `trace`, every input the page reads beyond its own variables is noted in it (placard.cache)."""
    index = index or index_site(site)
    lang = spec.lang or site.config.language
    resolve = make_resolver(index, spec.path, options, lang, trace)
    groups = index.groups
    catalogue = env.globals["catalogues"].get(lang, ENGLISH)
    gettext = make_gettext(catalogue)

    def finish(item, html: str) -> Markup:
        source_dir = posixpath.dirname(item.origin.path.removeprefix("content/"))
        return Markup(resolve_links(rebase_assets(html, source_dir, spec.path, options.index_html), lambda ref: resolve(ref, True)))

    def read_body(key: str) -> str:
        if trace is not None:
            trace.bodies.add(key)
        return bodies[key]

    def body(item) -> Markup:
        return finish(item, read_body(item_key(item)))

    def reply_body(item, number: int) -> Markup:
        return finish(item, read_body(reply_key(item, number)))

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

    onion = onion_base(site.config)
    context = {
        "site": TracedSite(site, trace) if trace is not None else site,
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
        "view": index.views[lang],
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
        "entity_named": index.entity_named,
        "now": site.now,
        "canonical": absolute_url(site.config.base_url, spec.path),
        "standalone": False,
        "url": make_url(spec.path, options, bool(spec.context.get("standalone")), site.config),
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


def render_site(site: Site, bodies: Bodies | Mapping[str, str], env: jinja2.Environment, specs: list[PageSpec], options: RenderOptions = RenderOptions(),
                index: SiteIndex | None = None, cache: Store | None = None, previous: Mapping[str, PageEntry] | None = None,
                staging: Path | None = None) -> Output:
    """Render the given pages into an Output map; with a cache, pages whose every input is unchanged
    since `previous` (the pages of the last build still intact) are reused, not rendered.

    Many pages render on worker processes, one per core, each writing finished pages into `staging`
    (the folder that becomes the new output/) when given. Raises BuildError with the problems found
    in bodies converted while rendering and the first template error."""
    index = index or index_site(site)
    inputs = PageInputs(site, index, bodies, env, options, cache) if cache is not None else None
    previous = previous if previous is not None else {}
    output = Output(staging)
    todo: list[int] = []
    for number, spec in enumerate(specs):
        entry = previous.get(spec.path)
        base = inputs.base(spec, entry.base) if inputs is not None and entry is not None else None
        if base is not None and reusable(entry, inputs, base):
            if entry.data is not None:
                output.add(spec.path, entry.data, spec.origin or spec.template)
            else:
                output.keep(spec.path, spec.origin or spec.template)
        else:
            todo.append(number)
    job = RenderJob(site, bodies, env, specs, options, index, inputs)
    problems: list[Problem] = []
    entries: list[tuple[str, PageEntry]] = []
    forgotten: list[str] = []
    for number, page in render_pages(job, todo, staging):
        spec = specs[number]
        if page.problem is not None:
            problems.append(page.problem)
        elif page.staged is not None:
            output.add_staged(spec.path, page.staged, spec.origin or spec.template)
        else:
            output.add(spec.path, page.data, spec.origin or spec.template)
        if page.entry is not None:
            entries.append((spec.path, page.entry))
        elif page.problem is None:
            forgotten.append(spec.path)
        if cache is not None and len(entries) + len(forgotten) >= 1000:  # a statement for many pages, while workers render
            cache.put_pages(entries)
            cache.forget_pages(forgotten)
            entries, forgotten = [], []
    if cache is not None:
        cache.put_pages(entries)
        cache.forget_pages(forgotten)
    if isinstance(bodies, Bodies):  # bodies no page showed (none should be): converted and checked all the same
        for key in bodies.missing():
            bodies.convert(key)
    found = (bodies.problems() if isinstance(bodies, Bodies) else []) + problems[:1]
    if found:
        raise BuildError(found)
    if inputs is not None:
        inputs.keep_shared()
    return output


def reusable(entry: PageEntry, inputs: "PageInputs", base: bytes) -> bool:
    """Whether a page rendered before came from exactly these inputs."""
    return entry.base == base and all(inputs.of(dep) == seen for dep, seen in entry.deps)


@dataclass(frozen=True)
class RenderJob:
    """Everything rendering a page needs: handed to each worker process once, when it starts."""

    site: Site
    bodies: Any
    env: jinja2.Environment
    specs: list[PageSpec]
    options: RenderOptions
    index: SiteIndex
    inputs: "PageInputs | None"


@dataclass(frozen=True)
class RenderedPage:
    """One page rendered: its bytes (or where a worker wrote them), what it was rendered from, or the template error."""

    data: bytes | None = None
    staged: Staged | None = None
    entry: PageEntry | None = None
    problem: Problem | None = None


POOL_MIN_PAGES = 200  # fewer pages render faster here than two worker processes start
POOL_CHUNK = 48


def render_pages(job: RenderJob, todo: list[int], staging: Path | None) -> Iterator[tuple[int, RenderedPage]]:
    """Render the pages numbered `todo`, yielded in that order: here, or on worker processes when there
    are many and this process can fork (not while other threads run, e.g. the preview server's)."""
    if len(todo) < POOL_MIN_PAGES or not can_fork():
        for number in todo:
            yield number, render_one(job, number, None)
        return
    chunks = [todo[start:start + POOL_CHUNK] for start in range(0, len(todo), POOL_CHUNK)]
    done = 0
    try:
        for pages, fresh in fork_map(render_chunk, [(chunk, staging) for chunk in chunks], start_worker, (job,)):
            if isinstance(job.bodies, Bodies):
                job.bodies.absorb(fresh)
            for number, page in pages:
                yield number, page
            done += 1
    except BrokenProcessPool:  # a worker died (e.g. killed for memory): the rest renders here
        for chunk in chunks[done:]:
            for number in chunk:
                yield number, render_one(job, number, None)


_WORKER_JOB: RenderJob | None = None


def start_worker(job: RenderJob) -> None:
    """In a worker process: keep the job; read the cache through a connection of the worker's own."""
    global _WORKER_JOB
    _WORKER_JOB = job
    if isinstance(job.bodies, Bodies):
        job.bodies.for_worker()


def render_chunk(task: tuple[list[int], Path | None]) -> tuple[list[tuple[int, RenderedPage]], list]:
    """In a worker process: render some pages; returns them and the bodies converted on the way."""
    numbers, staging = task
    if isinstance(_WORKER_JOB.bodies, Bodies):  # the chunk's bodies first, in a row (see Bodies.prepare)
        _WORKER_JOB.bodies.prepare(key for number in numbers for key in shown_bodies(_WORKER_JOB.specs[number]))
    pages = [(number, render_one(_WORKER_JOB, number, staging)) for number in numbers]
    fresh = _WORKER_JOB.bodies.take_fresh() if isinstance(_WORKER_JOB.bodies, Bodies) else []
    return pages, fresh


def shown_bodies(spec: PageSpec) -> list[str]:
    """The keys of the Markdown texts an item's own page shows: its body and its replies."""
    item = spec.context.get("item")
    if item is None:
        return []
    return [item_key(item), *(reply_key(item, number) for number in range(len(getattr(item, "replies", ()))))]


def render_one(job: RenderJob, number: int, staging: Path | None) -> RenderedPage:
    """Render one page (traced, with a cache) and write it into `staging` if given, else keep its bytes."""
    spec = job.specs[number]
    trace = Trace() if job.inputs is not None else None
    try:
        text = render_page(job.env, spec, job.site, job.bodies, job.options, job.index, trace)
    except TemplateProblem as exc:
        return RenderedPage(problem=exc.problem)
    data = (mark_outbound_links(text) if spec.path.endswith(".html") else text).encode("utf-8")
    entry = page_entry(job.inputs, spec, trace, data, keep_bytes=staging is None) if job.inputs is not None else None
    if staging is not None:
        return RenderedPage(staged=write_staged(staging, spec.path, data), entry=entry)
    return RenderedPage(data=data, entry=entry)


# Context names fixed by a page's own key (its path, variables, config, options, templates) or whose
# reads are traced one by one (body, reply_body, link). A page that reads any other name (say a new
# variable added to render_page and not listed here) is never cached: slower, but never stale.
# Also the language helpers, which depend only on the page's language, its alternates (its own
# variables), the config and the catalogues (templates/translations/, part of the templates digest).
KEYED_NAMES = frozenset({"url", "config", "page_path", "lang", "options", "body", "reply_body", "link", "canonical",
                         "standalone", "csp", "onion_location", "absolute", "marked", "hreflang", "switcher",
                         "lang_of", "path_of", "prefix_of", "prefix", "_", "gettext", "gettext_in", "alternates"})


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

    def __init__(self, site: Site, index: SiteIndex, bodies: Mapping[str, str], env: jinja2.Environment, options: RenderOptions,
                 cache: Store | None = None) -> None:
        self.site, self.index, self.bodies = site, index, bodies
        self.digester = Digester(getattr(cache, "loaded", None))
        self.globals = frozenset(env.globals)  # covered by templates_digest (ours) or built into Jinja2
        templates, settings = templates_digest(env), self.digester.of((site.config, options))
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
        then every item the page names has the same metadata (its head, see placard.plan) as in the
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
