"""Problems found in campaign content, reported as `path:line: field: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one file, in words a campaigner can act on."""

    path: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class FieldError(ValueError):
    """Raised by a field parser; the loader adds the file, line and field name."""


class BuildError(Exception):
    """The build stopped because of problems in the content or templates; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.path, p.line or 0, p.field, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects every problem of a build stage so campaigners see them all at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, line: int | None, field: str, message: str) -> None:
        """Record one problem."""
        self.items.append(Problem(str(path), line, field, message))

    def raise_if_any(self) -> None:
        """Stop the build if anything was recorded."""
        if self.items:
            raise BuildError(self.items)
