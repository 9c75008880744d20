"""The theme layer: a site's own templates/ and static/ over the defaults shipped in the package.

A site keeps only the files it changes; every other file comes from the theme, so upgrading placard
brings every template fix to a site that overrode only its stylesheet (the lookup order of Hugo and
Zola themes: the site's file first, then the theme's). Message catalogues merge per message instead
(a site's `templates/translations/ru.po` may hold just the lines it words differently).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# Package data: the same files from a source tree, an installed wheel or an editable install.
DEFAULT_THEME = Path(str(resources.files(__package__).joinpath("theme")))


@dataclass(frozen=True)
class Layers:
    """Folders searched in order for a file: the site's own first, then the theme's."""

    dirs: tuple[Path, ...]

    def find(self, name: str) -> Path | None:
        """The first layer's file of that name (a path relative to each folder), or None."""
        for folder in self.dirs:
            file = folder / name
            if file.is_file():
                return file
        return None

    def files(self) -> dict[str, Path]:
        """Relative name -> the file that wins, for every file in any layer, sorted by name."""
        found: dict[str, Path] = {}
        for folder in self.dirs:
            if folder.is_dir():
                for file in folder.rglob("*"):
                    if file.is_file():
                        found.setdefault(file.relative_to(folder).as_posix(), file)
        return dict(sorted(found.items()))

    def all_of(self, name: str) -> tuple[Path, ...]:
        """Every layer's file of that name, the site's first (catalogues merge them)."""
        return tuple(folder / name for folder in self.dirs if (folder / name).is_file())

    def display(self, file: Path) -> str:
        """A file as a campaigner names it: `templates/post.html`, the path in their site that would
        override it, whichever layer it comes from."""
        for folder in self.dirs:
            if file.is_relative_to(folder):
                return f"{self.own.name}/{file.relative_to(folder).as_posix()}"
        return file.as_posix()

    @property
    def own(self) -> Path:
        """The site's own folder (the first layer)."""
        return self.dirs[0]


def theme_layers(site_dir: Path, theme: Path, part: str) -> Layers:
    """A site's folder (`templates` or `static`) over the theme's folder of the same name."""
    return Layers((site_dir, theme / part))
