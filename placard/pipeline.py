"""The build pipeline in one place: load and validate -> render in memory -> write."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .content import load_config, load_site
from .errors import BuildError, Problem, Problems
from .feeds import plan_feeds
from .markup import check_refs, convert_markdown
from .models import Site
from .output import Output, OutputPathError, write_output
from .register import add_open_data
from .render import RenderOptions, TemplateProblem, item_key, link_targets, load_templates, plan_pages, render_site


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


def build_site(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions()) -> tuple[Site, Output]:
    """Load, validate and render the whole site in memory; raises BuildError listing every problem."""
    config = load_config(project.config_file)
    site = load_site(project.root, project.content, config, now, preview)
    bodies = convert_bodies(site)
    env = load_templates(project.templates)
    try:
        output = render_site(site, bodies, env, plan_pages(site) + plan_feeds(site), options)
        add_open_data(output, site)  # links/ties.json and links/ties.csv
        add_tree(output, project.static, "static/")
        add_content_assets(output, project)
    except TemplateProblem as exc:
        raise BuildError([exc.problem]) from None
    except OutputPathError as exc:
        raise BuildError([Problem("output/", None, "", str(exc))]) from None
    return site, output


def build(project: Project, now: datetime, preview: bool = False, options: RenderOptions = RenderOptions()) -> BuildReport:
    """Build the site and swap it into output/; on any problem output/ is left untouched."""
    started = time.perf_counter()
    site, output = build_site(project, now, preview, options)
    write_output(output.files, project.output)
    pages = sum(1 for path in output.files if path.endswith(".html"))
    return BuildReport(site, pages, len(output), round((time.perf_counter() - started) * 1000))


def convert_bodies(site: Site) -> dict[str, str]:
    """Convert every Markdown body (and reply) to HTML, checking links to other items."""
    problems = Problems()
    targets = link_targets(site)
    bodies: dict[str, str] = {}
    for item in site.items():
        check_refs(item, targets, problems)
        bodies[item_key(item)] = convert_markdown(item.body)
        for index, reply in enumerate(getattr(item, "replies", ())):
            bodies[f"{item_key(item)}:reply:{index}"] = convert_markdown(reply.body)
    problems.raise_if_any()
    return bodies


def add_tree(output: Output, folder: Path, origin: str) -> None:
    """Copy a folder of files (static/) into the site root as they are."""
    if not folder.is_dir():
        return
    for file in sorted(folder.rglob("*")):
        if file.is_file() and not file.name.startswith("."):
            output.add(file.relative_to(folder).as_posix(), file.read_bytes(), origin + file.relative_to(folder).as_posix())


def add_content_assets(output: Output, project: Project) -> None:
    """Copy non-Markdown files from content/ (images, PDFs) to the same place in the site."""
    for file in sorted(project.content.rglob("*")):
        rel = file.relative_to(project.content)
        if file.is_file() and file.suffix.lower() != ".md" and not any(p.startswith(".") for p in rel.parts):
            output.add(rel.as_posix(), file.read_bytes(), "content/" + rel.as_posix())
