"""The build pipeline in one place: load and validate -> render in memory -> write."""

from __future__ import annotations

import gc
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

import jinja2

from .calendar import render_calendar
from .catalogue import CatalogueReport, check_catalogues, required_messages, template_signature
from .content import ContentProblems, display_path, iter_content_files, load_config, load_site, make_inside_check, unreadable
from .documents import decode_bytes, parse_yaml
from .errors import BuildError, Problem, Problems
from .images import ImageError, strip_metadata
from .cache import CACHE_DIR, CheckedBytecodeCache, Store, digest_value, file_signature, open_store
from .index import SiteIndex, index_site
from .markup import Bodies, BodySource, check_refs, find_refs
from .models import Site
from .output import Output, OutputPathError, staging_beside, write_output
from .urls import is_placeholder
from .register import render_open_data
from .plan import plan_site
from .render import RenderOptions, TemplateCache, TemplateProblem, item_key, load_templates, render_site, reply_key, tag_redirects


@dataclass(frozen=True)
class Project:
    """Where a campaign's files are; the one configuration object besides site.yml."""

    root: Path

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
               template_cache: TemplateCache | None = None, cache: Store | None = None, staging: Path | None = None) -> tuple[Site, Output]:
    """Load, validate and render the whole site in memory; raises BuildError listing every problem.

    With a cache (placard.cache), only what changed since the cached builds is parsed, converted and
    rendered. With `staging` (a folder beside output/, see build), pages rendered by worker processes
    are written there instead of being sent back, and unchanged pages stay in output/ as they are."""
    config = load_config(project.config_file)
    try:
        site = load_site(project.root, project.content, config, now, preview, cache)
    except ContentProblems as exc:
        raise BuildError([*exc.problems, *later_problems(project, exc, cache)]) from None
    index = index_site(site)
    bodies = convert_bodies(site, index, cache)
    env = load_templates(project.templates, project.static, template_cache)
    check_translations(project, config, cache)
    catalogues = env.globals["catalogues"]
    previous = cache.get_pages(project.output if staging is not None else None) if cache is not None else {}
    try:
        pages = plan_site(site, catalogues, index, cache)
        output = render_site(site, bodies, env, pages, options, index, cache, previous, staging)
        add_files(output, render_calendar(site, catalogues, index.views), "calendar")
        add_files(output, render_open_data(site), "content/links/")  # ties.json and ties.csv
        add_tree(output, project, project.static)
        add_tree(output, project, project.content, skip_markdown=True)
        add_redirects(output, tag_redirects(site, index, options))
    except TemplateProblem as exc:
        raise BuildError([exc.problem]) from None
    except OutputPathError as exc:
        raise BuildError([Problem(exc.origin or "output/", None, "", str(exc))]) from None
    keep_cache(cache, site, bodies, output)
    return site, output


def later_problems(project: Project, failed: ContentProblems, cache: Store | None) -> list[Problem]:
    """After the load stage found problems: the checks the build would make next, on the files that
    loaded (links and markup in their text) and on the catalogues, so one run lists every problem."""
    found: list[Problem] = []
    site = failed.site
    index = index_site(site)
    targets = {**index.targets, **{ref: "" for ref in failed.broken}}  # a link to a broken file: its own problem says why
    problems = Problems()
    for item in site.items():
        check_refs(item, targets, problems, failed.hints, pending_refs(site))
    found += problems.items
    try:
        bodies = convert_bodies(site, index, cache, check=False, eager=None)
        found += bodies.problems()
    except BuildError as exc:
        found += exc.problems
    try:
        check_translations(project, site.config, cache)
    except BuildError as exc:
        found += exc.problems
    return found


def build(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions(), use_cache: bool = True) -> BuildReport:
    """Build the site and swap it into output/; on any problem output/ is left untouched.

    The cache in .cache/ (safe to delete) makes builds after the first redo only what changed."""
    started = time.perf_counter()
    cache_notes: list[str] = []  # why the cache was not used or saved, if so
    cache = open_store(project.root, project.output, cache_notes) if use_cache else None  # (reads output/'s pages meanwhile)
    staging = staging_beside(project.output)
    try:
        with not_collecting():
            site, output = build_site(project, now, preview, options, compiled_templates(project, cache), cache, staging)
        write_output(output, project.output, take_output_list(cache))
        record_written(cache, output, project.output)
        unused = check_translations(project, site.config, cache).unused
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # swapped in as output/ by now, or a failed build's pages
        if cache is not None:
            cache.close()
    pages = sum(1 for path in output.paths() if path.endswith(".html"))
    notes = placeholder_notes(project, site.config) + pending_link_notes(site) + unused + tuple(cache_notes + (cache.notes if cache is not None else []))
    return BuildReport(site, pages, len(output), round((time.perf_counter() - started) * 1000), notes)


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
    usual, only less often (placard.workers)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compiled_templates(project: Project, cache: Store | None) -> jinja2.BytecodeCache | None:
    """Templates compiled by earlier builds, beside the cache (Jinja2 recompiles any whose source changed;
    a damaged file is compiled again, see CheckedBytecodeCache)."""
    if cache is None:
        return None
    folder = project.root / CACHE_DIR / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for unchecked in folder.glob("__jinja2_*.cache"):  # written by Jinja2's own cache (placard before format 8)
            unchecked.unlink()
    except OSError:
        return None
    return CheckedBytecodeCache(folder)


def check_translations(project: Project, config, cache: Store | None = None) -> CatalogueReport:
    """Every language in site.yml needs its interface text in templates/translations/<lang>.po."""
    report = check_catalogues(project.templates, config.languages, required=messages_needed(project, cache))
    if report.missing:
        raise BuildError([Problem(*problem) for problem in report.missing])
    return report


def messages_needed(project: Project, cache: Store | None) -> dict[str, str]:
    """The messages templates and code use; extracting them parses every template, so the cache keeps them
    (keyed on the template files; placard's own code is part of the cache's version)."""
    if cache is None:
        return required_messages(project.templates)
    key = digest_value(template_signature(project.templates))
    found = cache.get_memo("messages", key)
    if found is None:
        found = required_messages(project.templates)
        cache.put_memo("messages", key, found)
    return found


EAGER_BODIES = 100  # up to this many bodies to convert: here and now; more: by the render workers, on every core


def convert_bodies(site: Site, index: SiteIndex | None = None, cache: Store | None = None, check: bool = True, eager: int | None = EAGER_BODIES) -> Bodies:
    """Every Markdown body (and reply) of the site, checked for links to other items; bodies not in the
    cache are converted and checked now if they are few, else where their page renders (render_site
    reports their problems). `check=False` leaves out the links; `eager=None` converts every body now."""
    index = index or index_site(site)
    problems = Problems()
    sources: dict[str, BodySource] = {}
    pending = pending_refs(site)
    for item in site.items():
        if check:
            check_refs(item, index.targets, problems, pending=pending)
        sources[item_key(item)] = BodySource(item.origin.path, item.body, item.body_line)
        for number, reply in enumerate(getattr(item, "replies", ())):
            sources[reply_key(item, number)] = BodySource(item.origin.path, reply.body, reply.line)
    bodies = Bodies(sources, cache)
    missing = bodies.missing()
    if eager is None or len(missing) <= eager:
        for key in missing:
            bodies.convert(key)
        problems.items.extend(bodies.problems())
    problems.raise_if_any()
    return bodies


def pending_refs(site: Site) -> frozenset[str]:
    """'kind:slug' of the items this build holds back (drafts, scheduled): links to them are plain text for now."""
    return frozenset(held.ref for held in site.held_back if held.ref)


def pending_link_notes(site: Site, index: SiteIndex | None = None) -> tuple[str, ...]:
    """One summary line per link shown as plain text because its target is not published yet."""
    held = {held.ref: held for held in site.held_back if held.ref}
    if not held:
        return ()
    targets = (index or index_site(site)).targets
    notes = []
    for item in site.items():
        for line, ref in find_refs(item.body, item.body_line):
            target = held.get(ref.split("#", 1)[0])
            if target is not None and ref.split("#", 1)[0] not in targets:
                notes.append(f"{item.origin.path}:{line}: the link '{ref}' is shown as plain text until {target.path} is published ({target.reason.split(';')[0]})")
    return tuple(notes)


def keep_cache(cache: Store | None, site: Site, bodies: Bodies, output: Output) -> None:
    """After a good build: forget cache entries it did not use, and commit the rest at once."""
    if cache is None:
        return
    try:
        cache.prune({item.origin.path for item in site.items()} | {held.path for held in site.held_back}, set(bodies.digests.values()), output.paths())
        cache.commit()
    except Exception:  # the cache only saves time: a build never fails because of it
        pass


OUTPUT_MEMO = b"files in output/"


def take_output_list(cache: Store | None) -> set[str] | None:
    """The files the last build left in output/, if the cache knows; forgotten (durably) before output/
    changes, so a build interrupted while writing leaves no stale list for the next one to trust."""
    if cache is None:
        return None
    try:
        known = cache.get_memo("output", OUTPUT_MEMO)
        if known is not None:
            cache.put_memo("output", OUTPUT_MEMO, None)
            cache.commit()
        return known
    except Exception:  # the cache only saves time
        return None


def record_written(cache: Store | None, output: Output, out_dir: Path) -> None:
    """After output/ was written: note each rendered page's file there, so the next build can keep it."""
    if cache is None:
        return
    base = str(out_dir.resolve()) + os.sep
    try:
        cache.record_written({path: file_signature(base + path) for path in [*output.files, *output.staged]})
        cache.put_memo("output", OUTPUT_MEMO, output.paths())  # what output/ holds now: the next build need not walk it
        cache.commit()
    except Exception:  # the cache only saves time
        pass


def add_files(output: Output, files: dict[str, bytes], origin: str) -> None:
    """Add files made by a stage other than the templates (e.g. the .ics feeds)."""
    for path, data in files.items():
        output.add(path, data, origin)


def add_redirects(output: Output, pages: dict[str, str]) -> None:
    """Redirect pages at addresses that moved, never over a real page or file."""
    taken = output.paths()
    for path, data in pages.items():
        if path not in taken:
            output.add(path, data, "a tag's earlier address")


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
