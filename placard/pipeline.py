"""The build pipeline in one place: load and validate -> plan -> render in memory -> write.

Each step is a stage (a function from values to values); the session decides how each runs: directly
(PlainSession) or incrementally, through the cache and worker processes (placard.incremental).
"""

from __future__ import annotations

import gc
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import jinja2

from .calendar import SHARE_IMAGE, render_calendar
from .catalogue import CatalogueReport, check_catalogues
from .content import ContentProblems, display_path, iter_content_files, load_config, make_inside_check, unreadable
from .documents import decode_bytes, parse_yaml
from .errors import BuildError, Problem, Problems
from .images import ImageError, strip_metadata
from .share_image import draw_share_image
from .incremental.session import IncrementalSession, PlainSession, Session
from .incremental.store import CACHE_DIR, CheckedBytecodeCache, MemoryStore, TemplateCache, open_store
from .index import index_site
from .markup import check_refs, pending_link_notes, pending_refs
from .models import Site
from .output import Output, OutputPathError, staging_beside, write_output
from .redirects import tag_redirects
from .register import render_open_data
from .colour import accent_stylesheet
from .render import RenderInputs, RenderOptions, TemplateProblem
from .theme import DEFAULT_THEME, Layers, theme_layers
from .urls import is_placeholder


@dataclass(frozen=True)
class Project:
    """Where a campaign's files are; the one configuration object besides site.yml."""

    root: Path
    theme: Path = DEFAULT_THEME  # the templates and static files a site does not override

    @property
    def config_file(self) -> Path:
        return self.root / "site.yml"

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def static(self) -> Path:
        return self.root / "static"

    @property
    def template_layers(self) -> Layers:
        """The site's templates/ over the theme's."""
        return theme_layers(self.templates, self.theme, "templates")

    @property
    def static_layers(self) -> Layers:
        """The site's static/ over the theme's."""
        return theme_layers(self.static, self.theme, "static")

    @property
    def output(self) -> Path:
        return self.root / "output"


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line."""

    site: Site
    pages: int
    files: int
    milliseconds: int
    notes: tuple[str, ...] = ()  # not fatal: e.g. catalogue messages no template uses any more


def build_site(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions(),
               session: Session | None = None) -> tuple[Site, Output]:
    """Load, validate and render the whole site in memory; raises BuildError listing every problem."""
    session = session or PlainSession()
    config = load_config(project.config_file)
    site = load_site(project, config, now, preview, session)
    index = index_site(site)
    bodies = session.bodies(site, index)
    report = check_translations(project, config, session.messages(project))
    specs = session.plan(site, report.catalogues, index)
    inputs = RenderInputs(session.environment(project), site, index, bodies, report.catalogues, options)
    output = guarded(session.render, inputs, specs)
    guarded(add_data_files, output, project, site, report.catalogues, index, options)
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


def add_data_files(output: Output, project: Project, site: Site, catalogues, index, options: RenderOptions) -> None:
    """What the templates do not render: the .ics feeds, the register's open data, static/ and content's
    assets, and redirect pages where addresses moved."""
    add_files(output, render_calendar(site, catalogues, index.views), "calendar")
    add_files(output, render_open_data(site), "content/links/")  # ties.json and ties.csv
    add_static(output, project, site)
    add_tree(output, project, project.content, skip_markdown=True)
    add_redirects(output, tag_redirects(site, index, options))


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


def build(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions(), use_cache: bool = True) -> BuildReport:
    """Build the site and swap it into output/; on any problem output/ is left untouched.

    The cache in .cache/ (safe to delete) makes builds after the first redo only what changed."""
    started = time.perf_counter()
    cache_notes: list[str] = []  # why the cache was not used, if so
    store = (open_store(project.root, project.output, cache_notes) if use_cache else None) or MemoryStore()  # (reads output/'s pages meanwhile)
    staging = staging_beside(project.output)
    session = IncrementalSession(store, project.output, staging, compiled_templates(project) if use_cache else None)
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
    return BuildReport(site, pages, len(output), round((time.perf_counter() - started) * 1000), notes)


def preview_builder(project: Project) -> Callable[[datetime], Output]:
    """The preview's build: drafts shown (marked), in memory; what a rebuild can reuse (items, bodies,
    pages, compiled templates) stays in memory between rebuilds, and a failed build is forgotten."""
    session = IncrementalSession(MemoryStore(), bytecode_cache=TemplateCache())

    def build_preview(now: datetime) -> Output:
        try:
            with not_collecting():
                return build_site(project, now, preview=True, session=session)[1]
        except BaseException:
            session.rollback()  # the next rebuild starts from the last good one
            raise

    return build_preview


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


def add_files(output: Output, files: dict[str, bytes], origin: str) -> None:
    """Add files made by a stage other than the templates (e.g. the .ics feeds)."""
    for path, data in files.items():
        output.add(path, data, origin)


def add_tree(output: Output, project: Project, folder: Path, skip_markdown: bool = False) -> None:
    """Copy a folder's files (static/, assets in content/) to the same place in the site; images lose EXIF/GPS."""
    if not folder.is_dir():
        return
    problems = Problems()
    inside = make_inside_check(project.root)
    faults: list[tuple[str, str]] = []
    for file in iter_content_files(folder, skip_suffix=".md" if skip_markdown else None, faults=faults):
        rel = file.relative_to(folder).as_posix()
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
    picture drawn from the site's title when neither has one."""
    add_tree(output, project, project.static)
    own = output.paths()
    for rel, file in project.static_layers.files().items():
        if file.is_relative_to(project.theme) and rel not in own:
            output.add(rel, file.read_bytes(), f"placard's theme: static/{rel}")
    if SHARE_IMAGE not in output.paths():
        output.add(SHARE_IMAGE, draw_share_image(site.config.title, site.config.tagline), "the site's title (site.yml)")
    if site.config.accent_colour:
        output.add("accent.css", accent_stylesheet(site.config.accent_colour), "site.yml accent_colour")


def add_redirects(output: Output, pages: dict[str, str]) -> None:
    """Redirect pages at addresses that moved, never over a real page or file."""
    taken = output.paths()
    for path, data in pages.items():
        if path not in taken:
            output.add(path, data, "a tag's earlier address")
