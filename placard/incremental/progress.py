"""What a long build is doing, on a terminal: the stage, items done of the total, rate and time left
(tqdm). Nothing when the output is not a terminal (CI logs keep only the summary), and nothing for
work too small to watch. The stages never know: the session reports around them."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

SHOWN_FROM = 500  # items: fewer finish before a bar would be worth drawing


class Progress(Protocol):
    """Told when a stage starts (with its number of items) and as items finish."""

    def start(self, stage: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    """Shows nothing (not a terminal, tests, the preview)."""

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class TerminalProgress:
    """One tqdm bar per stage on the terminal, removed when the stage ends."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.bar = stream, None

    def start(self, stage: str, total: int) -> None:
        self.finish()
        if total >= SHOWN_FROM:
            from tqdm import tqdm  # (loaded only for a build big enough to show)

            class Bar(tqdm):
                # No monitor thread (tqdm's documented switch): a process running another thread does not fork
                # (workers.can_fork), so after the first bar a terminal's build rendered on one core, and a
                # Ctrl-C could land on that thread while renames into output/ had it blocked (output.py).
                monitor_interval = 0

            self.bar = Bar(total=total, desc=stage, unit=" pages" if "render" in stage else " files", file=self.stream,
                            leave=False, mininterval=0.2, dynamic_ncols=True)

    def advance(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_for(stream: TextIO | None = None) -> Progress:
    """A terminal's progress display, or none where the output goes to a file or a pipe."""
    stream = stream or sys.stderr
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return TerminalProgress(stream) if interactive else NoProgress()
