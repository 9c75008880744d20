"""The build pipeline in one place: load and validate -> plan -> render in memory -> write.

Each step is a stage (a function from values to values); the session decides how each runs: directly
(PlainSession) or incrementally, through the cache and worker processes (placard.incremental).
"""

from __future__ import annotations

import gc
import shutil
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from collections.abc import Mapping
from typing import Callable, Iterator

import jinja2

from .calendar import SHARE_IMAGE, render_calendar
from .catalogue import CatalogueReport, check_catalogues
from .content import ContentProblems, display_path, iter_content_files, load_config, make_inside_check, unreadable
from .documents import decode_bytes, parse_yaml
from .derivatives import ImagePlan
from .errors import BuildError, Problem, Problems
from .images import ImageError, strip_metadata
from .incremental.priority import Priority
from .incremental.progress import Progress
from .incremental.session import IncrementalSession, PlainSession, Session
from .incremental.store import CACHE_DIR, CheckedBytecodeCache, MemoryStore, TemplateCache, open_store
from .incremental.unchanged import record_build, unchanged_report
from .index import index_site
from .markup import check_refs, pending_link_notes, pending_refs
from .models import Site
from .pages import next_change
from .output import Made, Output, OutputPathError, staging_beside, write_output
from .redirects import (ADDRESSES_FILE, alias_redirects, current_addresses, moved_redirects, parse_addresses, redirect_pages,
                        render_addresses, render_redirects_file, tag_redirects)
from .register import render_open_data
from .colour import accent_stylesheet
from .render import RenderInputs, RenderOptions, TemplateProblem
from .search import SearchUnavailable
from .share_cards import plan_share_cards
from .identity import ICON_SIZES, site_accent, site_icon
from .share_image import draw_share_image
from .theme import Layers
from .urls import entity_path, is_placeholder, path_of
from .project import BuildReport, BuildSummary, Project  # (defined there: the command line uses them without the stages)


def build_site(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions(),
               session: Session | None = None) -> tuple[Site, Output]:
    """Load, validate and render the whole site in memory; raises BuildError listing every problem."""
    session = session or PlainSession()
    config = load_config(project.config_file)
    site = load_site(project, config, now, preview, session)
    index = index_site(site)
    bodies = session.bodies(site, index)
    report = check_translations(project, config, session.messages(project))
    inputs = RenderInputs(session.environment(project), site, index, bodies, report.catalogues, options, session.images(project, site))  # derivatives.py
    output = guarded(session.render, inputs, session.plan(site, report.catalogues, index))  # (the plan, unnamed, is freed here)
    guarded(add_data_files, output, project, site, report.catalogues, index, options, session, inputs.images)
    output.notes = placeholder_notes(project, config) + pending_link_notes(site, index.targets) + report.unused
    session.keep(site, output)
    return site, output


def guarded(step: Callable, *args):
    """Run one step whose failures name a file: a template's line, or a path two files would share."""
    try:
        return step(*args)
    except TemplateProblem as exc:
        raise BuildError([exc.problem]) from None
    except OutputPathError as exc:
        raise BuildError([Problem(exc.origin or "output/", None, "", str(exc))]) from None


def add_data_files(output: Output, project: Project, site: Site, catalogues, index, options: RenderOptions, session: Session,
                   images: ImagePlan = ImagePlan({}, ())) -> None:
    """What the templates do not render: the .ics feeds, the register's open data, static/ and content's
    assets (photos bodies show: as their derivatives, the originals only if site.yml asks), and redirect
    pages where addresses moved."""
    add_files(output, render_calendar(site, catalogues, index.views), "calendar")
    add_files(output, render_open_data(site), "content/links/")  # ties.json and ties.csv
    add_static(output, project, site)
    add_tree(output, project, project.content, skip_markdown=True, skip=set() if images.publish_originals else set(images.images))
    add_files(output, published_images(session, project, site, images), "a photo's smaller copies or a share card (placard.derivatives, share_cards)")
    add_moved_pages(output, project, site, index, options)
    if site.config.search and not site.preview:  # (the preview's search page says search is not available there)
        add_search_index(output, project, site, session)


def published_images(session: Session, project: Project, site: Site, images: ImagePlan) -> dict[str, Made]:
    """The photos' derivatives and every post's and event's share card (derivatives.py, share_cards.py)."""
    accent = site_accent(site.config, project.static_layers)
    return {**session.derivatives(project, images), **session.share_cards(project, plan_share_cards(site, images, accent))}


def load_site(project: Project, config, now: datetime, preview: bool, session: Session) -> Site:
    """The session's site; on problems, BuildError listing them all: the files' own, and those the
    next checks find in the files that did load (so one run lists every problem)."""
    try:
        return session.load_site(project, config, now, preview)
    except ContentProblems as exc:
        raise BuildError([*exc.problems, *later_problems(project, exc, session)]) from None


def later_problems(project: Project, failed: ContentProblems, session: Session) -> list[Problem]:
    """After the load stage found problems: the checks the build would make next, on the files that
    loaded (links and markup in their text) and on the catalogues, so one run lists every problem."""
    site = failed.site
    targets = {**index_site(site).targets, **{ref: "" for ref in failed.broken}}  # a link to a broken file: its own problem says why
    problems = Problems()
    for item in site.items():
        check_refs(item, targets, problems, failed.hints, pending_refs(site))
    problems.items.extend(session.body_problems(site))
    try:
        check_translations(project, site.config, session.messages(project))
    except BuildError as exc:
        problems.items.extend(exc.problems)
    return problems.items


def build(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions(), use_cache: bool = True,
          progress: Progress | None = None, checked: tuple[tuple[str, bool], float] | None = None) -> BuildReport:
    """Build the site and swap it into output/; on any problem output/ is left untouched.

    The cache in .cache/ (safe to delete) makes builds after the first redo only what changed, and
    a build with nothing to change return at once (placard.incremental.unchanged). `checked`: the
    inputs' state and the start time, from a caller that already found there is something to do
    (the command line checks before importing this module)."""
    started = checked[1] if checked else time.perf_counter()
    shortcut = use_cache and not preview
    if checked:
        inputs = checked[0]
    elif shortcut:
        inputs, kept = unchanged_report(project, options, now, started)  # the inputs' metadata, read once
        if kept is not None:
            return kept
    else:
        inputs = ("", False)
    cache_notes: list[str] = []  # why the cache was not used, if so
    store = (open_store(project.root, project.output, cache_notes) if use_cache else None) or MemoryStore()  # (reads output/'s pages meanwhile)
    staging = staging_beside(project.output)
    session = IncrementalSession(store, project.output, staging, compiled_templates(project) if use_cache else None, progress)
    try:
        with not_collecting():
            site, output = build_site(project, now, preview, options, session)
        write_output(output, project.output, session.take_output_list())
        session.record_written(output, project.output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # swapped in as output/ by now, or a failed build's pages
        session.close()
    pages = sum(1 for path in output.paths() if path.endswith(".html"))
    notes = output.notes + tuple(cache_notes + store.notes)  # (the store's: damaged, or could not be saved)
    summary = BuildSummary.of(site)
    if shortcut:
        record_build(project, inputs, now, next_change(site), list(output.paths()),
                     {"site": summary.as_dict(), "pages": pages, "files": len(output)}, output.notes)
    return BuildReport(summary, pages, len(output), round((time.perf_counter() - started) * 1000), notes)


def preview_builder(project: Project, priority: Priority | None = None) -> "PreviewBuild":
    """The preview's build: drafts shown (marked), in memory; what a rebuild can reuse (items, bodies,
    pages, compiled templates) stays in memory between rebuilds, and a failed or superseded build is
    forgotten. `priority`: the server's pages to render first (placard.incremental.priority)."""
    return PreviewBuild(project, IncrementalSession(MemoryStore(), bytecode_cache=TemplateCache(), priority=priority), priority)


class PreviewBuild:
    """preview_builder's: called with the build's time, it builds; `early()` gives the browsers' pages as the
    files saved since the last good build make them over it (placard.incremental.early), {} if it cannot."""

    def __init__(self, project: Project, session: IncrementalSession, priority: Priority | None) -> None:
        self.project, self.session, self.priority = project, session, priority

    def __call__(self, now: datetime) -> Output:
        try:
            with not_collecting():
                pages = self.early()  # (the browsers' pages first, from the last good build, when only items' files changed)
                if pages:
                    self.priority.show(pages)
                return build_site(self.project, now, preview=True, session=self.session)[1]
        except BaseException:
            self.session.rollback()  # the next rebuild starts from the last good one
            raise

    def early(self) -> dict[str, bytes]:
        return self.session.render_early(self.project)


def placeholder_notes(project: Project, config) -> tuple[str, ...]:
    """A note (not a problem: examples and tests build with one) while base_url is an example address."""
    if not is_placeholder(config.base_url):
        return ()
    line = parse_yaml(decode_bytes(project.config_file.read_bytes())).lines.get("base_url")  # (read and valid: load_config did)
    return (f"site.yml:{line}: base_url: '{config.base_url}' is an example address, not a real site; the feeds, the "
            "calendar subscription, the sitemap, the mirrors page and every page's canonical link point there. "
            "Set it to the site's public address before publishing (see docs/deploy.md)",)


@contextmanager
def not_collecting() -> Iterator[None]:
    """No cyclic garbage collection in this process while a build runs: what it allocates (items,
    the plan, page entries, digests) lives until the build ends, so each pass of the collector over
    a million objects found nothing to free, while costing a tenth of a rebuild at 10,000 posts.
    Worker processes, which render thousands of pages (Jinja2's macros leave cycles), collect as
    usual, only less often (placard.incremental.workers)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compiled_templates(project: Project) -> jinja2.BytecodeCache | None:
    """Templates compiled by earlier builds, beside the cache (Jinja2 recompiles any whose source changed;
    a damaged file is compiled again, see CheckedBytecodeCache)."""
    folder = project.root / CACHE_DIR / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for unchecked in folder.glob("__jinja2_*.cache"):  # written by Jinja2's own cache (placard before format 8)
            unchecked.unlink()
    except OSError:
        return None
    return CheckedBytecodeCache(folder)


def check_translations(project: Project, config, required: dict[str, str]) -> CatalogueReport:
    """Every language in site.yml needs its interface text in templates/translations/<lang>.po."""
    report = check_catalogues(project.template_layers, config.languages, required=required)
    if report.missing:
        raise BuildError([Problem(*problem) for problem in report.missing])
    return report


def add_files(output: Output, files: Mapping[str, Made], origin: str) -> None:
    """Add files made by a stage other than the templates (e.g. the .ics feeds), or by the session for one
    (written into staging, or kept in output/ as the last build left them)."""
    for path, made in files.items():
        output.put(path, made, origin)


def add_tree(output: Output, project: Project, folder: Path, skip_markdown: bool = False, skip: set[str] = frozenset()) -> None:
    """Copy a folder's files (static/, assets in content/) to the same place in the site; images lose EXIF/GPS.
    Files at a path in `skip` (photos published as derivatives) are not copied."""
    if not folder.is_dir():
        return
    problems = Problems()
    inside = make_inside_check(project.root)
    faults: list[tuple[str, str]] = []
    for file in iter_content_files(folder, skip_suffix=".md" if skip_markdown else None, faults=faults):
        rel = file.relative_to(folder).as_posix()
        if rel in skip:
            continue
        outside = inside(file)
        if outside:
            problems.add(display_path(file, project.root), None, "", outside)
            continue
        try:
            data = file.read_bytes()
        except OSError as exc:
            problems.add(display_path(file, project.root), None, "", unreadable(exc))
            continue
        try:  # every published image loses EXIF/GPS: campaigners put photos in static/ too
            data = strip_metadata(data)
        except ImageError as exc:
            problems.add(display_path(file, project.root), None, "", str(exc))
            continue
        output.add(rel, data, display_path(file, project.root))
    for path, why in faults:
        problems.add(display_path(Path(path), project.root), None, "", why)
    problems.raise_if_any()


def add_static(output: Output, project: Project, site: Site) -> None:
    """The site's static/ files, then the theme's that the site does not override, and the share
    picture and icons drawn from the site's settings where the site has none of its own."""
    add_tree(output, project, project.static)
    own = output.paths()
    for rel, file in Layers((project.theme / "static",)).files().items():  # (the site's own are in already)
        if rel not in own:
            output.add(rel, file.read_bytes(), f"placard's theme: static/{rel}")
    if SHARE_IMAGE not in output.paths():
        output.add(SHARE_IMAGE, draw_share_image(site.config.title, site.config.tagline), "the site's title (site.yml)")
    for icon in ICON_SIZES:
        if icon not in output.paths():
            output.add(icon, site_icon(icon, site.config, project.static_layers), "the site's logo or title and accent (site.yml)")
    if site.config.accent_colour:
        output.add("accent.css", accent_stylesheet(site.config.accent_colour), "site.yml accent_colour")


def add_redirects(output: Output, pages: dict[str, str], origin: str = "a tag's earlier address") -> None:
    """Redirect pages at addresses that moved, never over a real page or file."""
    taken = output.paths()
    for path, data in pages.items():
        if path not in taken:
            output.add(path, data, origin)


def add_search_index(output: Output, project: Project, site: Site, session: Session) -> None:
    """Pagefind's bundle for the pages of posts, events, pages and entities in every language (drafts and held-back
    items are not published, so never indexed), from the pages as this build made them (in memory or staged)."""
    default = site.config.language
    languages = {path_of(item, default): item.lang for item in site.posts + site.events + site.pages + site.translations if not item.draft}
    languages |= {entity_path(entity.slug, lang, default): lang for lang in site.config.languages for entity in site.entities if not entity.draft}
    pages = output.reader(list(languages), project.output)  # (read one by one: never all in memory)
    try:
        bundle = session.search_index(pages, languages)
    except SearchUnavailable as exc:
        raise BuildError([Problem("site.yml", None, "search", str(exc))]) from None
    add_files(output, bundle, "the search index (Pagefind)")


def read_previous(file: Path) -> bytes | None:
    """A file the last build wrote into output/, or None (a first build, or output/ elsewhere)."""
    try:
        return file.read_bytes()
    except OSError:
        return None


def add_moved_pages(output: Output, project: Project, site: Site, index, options: RenderOptions) -> None:
    """Redirect pages at every old address: each item's `aliases:`, where the last build published a page that
    has moved since (its addresses.json), and tags' earlier slugs; then _redirects and the new addresses.json.
    An alias over a page of the site, or claimed by two files, stops the build with the file and line."""
    previous = parse_addresses(read_previous(project.output / ADDRESSES_FILE))
    current = current_addresses(site, index)
    taken, claimed, problems = output.paths(), {}, Problems()
    for redirect in alias_redirects(site):
        if redirect.source in taken:
            owner = output.origins.get(redirect.source) or "a page of the site"
            problems.add(redirect.origin, redirect.line, "aliases", f"'{redirect.source}' is the address of a page of this site now ({owner}); "
                         "remove it from aliases: a redirect there would replace that page")
        elif redirect.source in claimed:
            problems.add(redirect.origin, redirect.line, "aliases", f"'{redirect.source}' is also an old address in {claimed[redirect.source].origin}; "
                         "an old address can lead to one page only: remove it from one of the two files")
        else:
            claimed[redirect.source] = redirect
    problems.raise_if_any()
    moved = [r for r in moved_redirects(site, previous, current) if r.source not in taken and r.source not in claimed]
    redirects = list(claimed.values()) + moved
    add_redirects(output, redirect_pages(redirects, site, options), "an earlier address of a page (aliases:, or addresses.json)")
    add_redirects(output, tag_redirects(site, index, options))
    if redirects:
        output.add("_redirects", render_redirects_file(redirects, site.config.base_url), "the pages' earlier addresses")
    output.add(ADDRESSES_FILE, render_addresses(previous, current), "the pages' addresses")
