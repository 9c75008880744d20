"""Shared test helpers: build throwaway projects in temporary folders; never touch the repo's content/ or output/."""

from __future__ import annotations

import shutil
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from placard.errors import BuildError
from placard.pipeline import Project, build
from placard.theme import DEFAULT_THEME

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)

SITE_YML = """\
title: Test campaign
tagline: Testing the generator
description: A small site used by the tests.
base_url: https://example.org/campaign/
language: en
timezone: Europe/London
search: false
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write {relative path: text or bytes} under root (text is dedented)."""
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(textwrap.dedent(data), encoding="utf-8")


def make_project(tmp_path: Path, files: dict[str, str | bytes] | None = None, *, fixture: str = "site", with_site_yml: bool = True) -> Project:
    """A project in tmp_path: the repo's own templates and static (what the seed campaign overrides in
    placard's theme), a fixture's content, plus `files`."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    source = FIXTURES / fixture
    if source.exists():
        shutil.copytree(source, root, dirs_exist_ok=True)
    else:
        (root / "content").mkdir(parents=True)
    if with_site_yml and not (root / "site.yml").exists():
        (root / "site.yml").write_text(SITE_YML, encoding="utf-8")
    write_files(root, files or {})
    return Project(root)


def eject(project: Project, *names: str) -> None:
    """Copy theme files (`templates/base.html`, `static/style.css`) into the project, to override them."""
    for name in names:
        target = project.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEFAULT_THEME / name, target)


def editable(project: Project, rel: str) -> Path:
    """The project's own file at `rel`, copied from the theme first if the project does not override it
    yet (what a campaigner does to change a template)."""
    file = project.root / rel
    if not file.exists() and (DEFAULT_THEME / rel).is_file():
        eject(project, rel)
    return file


def build_errors(project: Project, now: datetime = NOW) -> list[str]:
    """Build and return the problem lines (fails the test if the build succeeds)."""
    with pytest.raises(BuildError) as info:
        build(project, now)
    return [str(p) for p in info.value.problems]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes, to prove a failed build changed nothing."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """The small fixture site in a temporary folder."""
    return make_project(tmp_path)
