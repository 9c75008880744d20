"""The build pipeline in one place: load and validate -> render in memory -> write."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .calendar import render_calendar
from .catalogue import check_catalogues
from .content import check_inside, display_path, iter_content_files, load_config, load_site
from .errors import BuildError, Problem, Problems
from .feeds import plan_feeds
from .images import ImageError, strip_metadata
from .markup import check_embeds, check_html, check_refs, convert_markdown
from .models import Site
from .output import Output, OutputPathError, write_output
from .register import render_open_data
from .render import RenderOptions, TemplateCache, TemplateProblem, item_key, link_targets, load_templates, plan_pages, render_site


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
               template_cache: TemplateCache | None = None) -> tuple[Site, Output]:
    """Load, validate and render the whole site in memory; raises BuildError listing every problem."""
    config = load_config(project.config_file)
    site = load_site(project.root, project.content, config, now, preview)
    bodies = convert_bodies(site)
    env = load_templates(project.templates, project.static, template_cache)
    check_translations(project, config)
    catalogues = env.globals["catalogues"]
    try:
        output = render_site(site, bodies, env, plan_pages(site, catalogues) + plan_feeds(site), options)
        add_files(output, render_calendar(site, catalogues), "calendar")
        add_files(output, render_open_data(site), "content/links/")  # ties.json and ties.csv
        add_tree(output, project, project.static)
        add_tree(output, project, project.content, skip_markdown=True)
    except TemplateProblem as exc:
        raise BuildError([exc.problem]) from None
    except OutputPathError as exc:
        raise BuildError([Problem(exc.origin or "output/", None, "", str(exc))]) from None
    return site, output


def build(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions()) -> BuildReport:
    """Build the site and swap it into output/; on any problem output/ is left untouched."""
    started = time.perf_counter()
    site, output = build_site(project, now, preview, options)
    write_output(output.files, project.output)
    pages = sum(1 for path in output.files if path.endswith(".html"))
    unused = check_catalogues(project.templates, site.config.languages).unused
    return BuildReport(site, pages, len(output), round((time.perf_counter() - started) * 1000), unused)


def check_translations(project: Project, config) -> None:
    """Every language in site.yml needs its interface text in templates/translations/<lang>.po."""
    report = check_catalogues(project.templates, config.languages)
    if report.missing:
        raise BuildError([Problem(*problem) for problem in report.missing])


def convert_bodies(site: Site) -> dict[str, str]:
    """Convert every Markdown body (and reply) to HTML, checking links to other items."""
    problems = Problems()
    targets = link_targets(site)
    bodies: dict[str, str] = {}
    for item in site.items():
        check_refs(item, targets, problems)
        bodies[item_key(item)] = html = convert_markdown(item.body)
        check_html(item.origin.path, item.body, item.body_line, html, problems)
        check_embeds(item.origin.path, item.body, html, item.body_line, problems)
        for index, reply in enumerate(getattr(item, "replies", ())):
            bodies[f"{item_key(item)}:reply:{index}"] = html = convert_markdown(reply.body)
            check_html(item.origin.path, reply.body, reply.line, html, problems)
            check_embeds(item.origin.path, reply.body, html, reply.line, problems)
    problems.raise_if_any()
    return bodies


def add_files(output: Output, files: dict[str, bytes], origin: str) -> None:
    """Add files made by a stage other than the templates (e.g. the .ics feeds)."""
    for path, data in files.items():
        output.add(path, data, origin)


def add_tree(output: Output, project: Project, folder: Path, skip_markdown: bool = False) -> None:
    """Copy a folder's files (static/, assets in content/) to the same place in the site; content photos lose EXIF/GPS."""
    if not folder.is_dir():
        return
    problems = Problems()
    for file in iter_content_files(folder):
        rel = file.relative_to(folder).as_posix()
        if skip_markdown and file.suffix.lower() == ".md":
            continue
        outside = check_inside(file, project.root)
        if outside:
            problems.add(display_path(file, project.root), None, "", outside)
            continue
        data = file.read_bytes()
        if skip_markdown:  # images campaigners put in content/ lose EXIF/GPS (static/ is ours, copied as is)
            try:
                data = strip_metadata(data)
            except ImageError as exc:
                problems.add(display_path(file, project.root), None, "", str(exc))
                continue
        output.add(rel, data, display_path(file, project.root))
    problems.raise_if_any()
