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
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup, escape

from .calendar import ENGLISH, directions_of, event_ics_path
from .catalogue import LANGUAGE_NAMES, Catalogue
from .errors import BuildError, Problem
from .index import SiteIndex
from .languages import localise
from .derivatives import ImagePlan, lead_image_html, rewrite_body_images
from .markup import item_key, rebase_assets, reply_key, resolve_links
from .models import Site
from .output import Output
from .project import RenderOptions  # (defined beside Project: the nothing-changed check keys on it without the renderer)
from .pages import PageSpec
from .share import share_links
from .templating import make_gettext
from .share_cards import share_card_path
from .urls import absolute_url, anchor_of, lang_prefix, make_relative, path_of


class TemplateProblem(Exception):
    """A template failed to compile or render; carries a Problem naming template and line."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True)
class RenderInputs:
    """Everything a page renders from besides its own spec."""

    env: jinja2.Environment
    site: Site
    index: SiteIndex
    bodies: Mapping[str, str]  # item_key / reply_key -> the body's checked HTML
    catalogues: Mapping[str, Catalogue]
    options: RenderOptions = RenderOptions()
    images: ImagePlan = ImagePlan({}, ())  # the photos bodies show, published as derivatives (placard.derivatives)


class Observer(Protocol):
    """Told what a page reads beyond its own variables while it renders (placard.incremental notes it,
    to know when the page must be rendered again)."""

    def site_view(self, site: Site) -> Any:
        """The site as the template sees it."""

    def note_body(self, key: str) -> None:
        """The page shows this body."""

    def note_ref(self, ref: str) -> None:
        """The page links to this `kind:slug`."""

    def note_image(self, path: str) -> None:
        """The page shows this photo (its size and derivatives, from the image plan)."""

    def watching(self) -> AbstractContextManager:
        """Around the template's rendering."""


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline <style> or <script> (CSP3 section 8.2)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(inline_style: str | None = None, wasm: bool = False) -> str:
    """Nothing from any other host; styles, images, media and fonts from this site only; no inline
    script. A page with inline CSS (404) allows exactly that CSS by its hash, and data: images (its icon,
    inlined: a link to this site's icon from another address would be another host's image).

    connect-src 'self': crawlers' audits fetch /robots.txt from inside the page (Lighthouse 12 does it through
    the page's own loader), and default-src 'none' refused that, so Lighthouse called robots.txt "not valid"."""
    style, images = (csp_hash(inline_style), "'self' data:") if inline_style else ("'self'", "'self'")
    # The search page (`wasm`) runs Pagefind's WebAssembly engine, which CSP3 allows only with 'wasm-unsafe-eval'
    # (no eval of strings) and starts in a Web Worker from this site (worker-src falls back to script-src).
    scripts = "'self' 'wasm-unsafe-eval'" if wasm else "'self'"
    return (f"default-src 'none'; connect-src 'self'; style-src {style}; img-src {images}; font-src 'self'; media-src 'self'; "
            f"script-src {scripts}; base-uri 'none'; form-action 'none'")


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


def make_url(page_path: str, options: RenderOptions, standalone: bool, config) -> Any:
    """`url(target)` for one page: a relative link from it to an item or an output path."""
    default, relative = config.language, make_relative(page_path, options.index_html)
    root = urlsplit(config.base_url).path or "/"  # base_url ends in /

    def url(target: Any) -> str:
        path = target if isinstance(target, str) else path_of(target, default) + anchor_of(target)
        if standalone:  # served at any depth (404): relative links would break, and absolute ones would send a
            return root + path  # mirror's visitors to the main host (perhaps the blocked one); so from the host's root
        return relative(path)

    return url


def make_resolver(index: SiteIndex, page_path: str, options: RenderOptions, lang: str, observer: Observer | None = None):
    """Resolve `kind:slug` references from one page (to the item's version in the page's language)."""
    targets, relative = index.targets_by_lang[lang], make_relative(page_path, options.index_html)

    def resolve(ref: str, unpublished_ok: bool = False) -> str | None:
        if observer is not None:
            observer.note_ref(ref)  # also when it lands nowhere yet: the page renders again once it does
        if unpublished_ok and ref not in targets:
            return None  # an item held back (check_refs let only those through): its link is plain text for now
        return relative(targets[ref])

    return resolve


def render_page(inputs: RenderInputs, spec: PageSpec, observer: Observer | None = None) -> str:
    """Render one page; template errors become a TemplateProblem naming template and line.

    An `observer` is told every input the page reads beyond its own variables."""
    env, site, index, bodies, options = inputs.env, inputs.site, inputs.index, inputs.bodies, inputs.options
    lang = spec.lang or site.config.language
    resolve = make_resolver(index, spec.path, options, lang, observer)
    groups = index.groups
    catalogues = inputs.catalogues
    gettext = make_gettext(catalogues.get(lang, ENGLISH))

    page_url = make_relative(spec.path, options.index_html)
    first_image = [True]  # the page's first image loads at once (it is likely in view); the others lazily

    def find_image(target: str):
        if observer is not None:
            observer.note_image(target)
        return inputs.images.images.get(target)

    def lead_image(item, where: str = "page") -> Markup:
        """An item's own photo: "page" (at the top of it), "list" (a thumbnail) or "feed" (a plain <img>)."""
        absolute = lambda path: absolute_url(site.config.base_url, path)  # noqa: E731
        return Markup(lead_image_html(item, find_image, page_url, where, first_image, absolute))

    def finish(item, html: str) -> Markup:
        source_dir = posixpath.dirname(item.origin.path.removeprefix("content/"))
        html = rewrite_body_images(html, source_dir, find_image, page_url, first_image)
        return Markup(resolve_links(rebase_assets(html, source_dir, spec.path, options.index_html), lambda ref: resolve(ref, True)))

    def read_body(key: str) -> str:
        if observer is not None:
            observer.note_body(key)
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
    # Every other language: this page in it if there is one; else, from a translation, the original it
    # translates (what that language's lists show, marked untranslated); else that language's home page.
    original = alternates.get(default) if "item" in spec.context and spec.lang != default else None
    switcher = [(code, LANGUAGE_NAMES.get(code, code), alternates.get(code) or original or lang_prefix(code, default) + "index.html", code in alternates)
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
    canonical = absolute_url(site.config.base_url, spec.path)
    context = {
        "site": observer.site_view(site) if observer is not None else site,
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
        "gettext_in": lambda msgid, code: catalogues.get(code, ENGLISH).gettext(msgid),
        "options": options,
        "body": body,
        "lead_image": lead_image,
        "share_card": lambda item: share_card_path(item, default),
        "reply_body": reply_body,
        "link": lambda ref: resolve(ref),
        "entity_named": index.entity_named,
        "now": site.now,
        "canonical": canonical,
        "share_links": lambda title: share_links(canonical, title),
        "directions": directions_of,
        "ics_of": lambda event: event_ics_path(event, default),
        "standalone": False,
        "url": make_url(spec.path, options, bool(spec.context.get("standalone")), site.config),
        "csp": content_security_policy(env.globals["inline_stylesheet"] if spec.context.get("standalone") else None, bool(spec.context.get("search_page"))),
        "onion_location": absolute_url(onion, spec.path) if onion and not spec.context.get("standalone") else None,
        "absolute": lambda target: absolute_url(site.config.base_url, target if isinstance(target, str) else path_of(target, site.config.language)),
        **spec.context,
    }
    with observer.watching() if observer is not None else nullcontext():
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


def finish_page(spec: PageSpec, text: str) -> bytes:
    """A rendered page's bytes: links to other sites marked (mark_outbound_links) in HTML."""
    return (mark_outbound_links(text) if spec.path.endswith(".html") else text).encode("utf-8")


def render_pages(inputs: RenderInputs, specs: list[PageSpec]) -> Output:
    """Render every page, one after another, into an Output map; the first template error stops it."""
    output = Output()
    for spec in specs:
        try:
            data = finish_page(spec, render_page(inputs, spec))
        except TemplateProblem as exc:
            raise BuildError([exc.problem]) from None
        output.add(spec.path, data, spec.origin or spec.template)
    return output
