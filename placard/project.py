"""What a build is of and what it says: the project's folders, the rendering options, the summary.

Light on purpose (dataclasses and paths): the command line and the nothing-changed check
(placard.incremental.unchanged) use these without importing the stages, so a build with nothing to
do starts in a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .theme import DEFAULT_THEME, Layers, theme_layers

if TYPE_CHECKING:
    from .models import Site


@dataclass(frozen=True)
class RenderOptions:
    """Choices that change every page: folder-style links or explicit index.html (file://)."""

    index_html: bool = False


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
class BuildSummary:
    """What a build published and held back, for its summary (kept for a build with nothing to do)."""

    posts: int
    events: int
    pages: int
    entities: int
    ties: int
    held_back: tuple[tuple[str, str], ...]  # (path, why) of each item not published

    @classmethod
    def of(cls, site: Site) -> "BuildSummary":
        return cls(len(site.posts), len(site.events), len(site.pages), len(site.entities),
                   sum(len(entity.ties) for entity in site.entities), tuple((held.path, held.reason) for held in site.held_back))

    def as_dict(self) -> dict:
        return {**self.__dict__, "held_back": [list(pair) for pair in self.held_back]}

    @classmethod
    def from_dict(cls, values: dict) -> "BuildSummary":
        return cls(**{**values, "held_back": tuple(tuple(pair) for pair in values["held_back"])})


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line."""

    summary: BuildSummary
    pages: int
    files: int
    milliseconds: int
    notes: tuple[str, ...] = ()  # not fatal: e.g. catalogue messages no template uses any more
    unchanged: bool = False  # nothing had changed since the last build: nothing was written
