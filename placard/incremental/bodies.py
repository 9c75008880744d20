"""The bodies map: every Markdown body of the site converted to checked HTML, lazily, from the cache,
here or in whichever render worker shows it first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..errors import Problem
from ..markup import BodySource, convert_checked
from .digest import digest_texts


class Bodies(Mapping):
    """Item key -> body HTML. Bodies converted earlier come from the cache (loaded when a page
    needs one); `digest` names a body by its Markdown text, which fixes its HTML.

    A body not converted yet is converted when first read (by the page that shows it, in whichever
    process renders that page); what it was converted to and any problems found in it are kept
    (`problems`), and clean bodies go to the cache. In a render worker the cache is read-only:
    fresh conversions wait in `fresh` for the main process to `absorb` them."""

    def __init__(self, sources: dict[str, BodySource], cache=None) -> None:
        self.sources = sources
        self.digests = digest_texts({key: source.text for key, source in sources.items()}, getattr(cache, "text_digests", None))
        self.cache = cache
        known = cache.known_bodies() if cache is not None else set()
        self.cached = {key for key, digest in self.digests.items() if digest in known}
        self.html: dict[str, str] = {}  # converted in this process and not in the cache (e.g. with problems)
        self.found: dict[str, list[Problem]] = {}  # key -> problems, for every body converted by this build
        self.fresh: list[tuple[str, str, list[Problem]]] | None = None  # a worker's conversions, for the main process

    def missing(self) -> list[str]:
        """Keys of the bodies not converted yet (neither cached nor converted by this build), in a stable order."""
        return [key for key in self.sources if key not in self.cached and key not in self.found]

    def convert(self, key: str) -> str:
        """Convert and check one body now."""
        html, problems = convert_checked(self.sources[key])
        if self.fresh is not None:  # a worker: kept here too until take_fresh sends it to the main process
            self.fresh.append((key, html, problems))
            self.html[key] = html
        else:
            self.add(key, html, problems)
        return html

    def prepare(self, keys: Iterable[str]) -> None:
        """Convert now, one after another, those of these bodies not converted yet: Python-Markdown
        runs faster in a row than interleaved with rendering templates (its code and data stay in
        the processor's caches; 0.7 s of 19.6 s CPU in a cold build of 10,000 posts)."""
        for key in keys:
            if key in self.sources and key not in self.html and key not in self.cached and key not in self.found:
                self.convert(key)

    def add(self, key: str, html: str, problems: list[Problem]) -> None:
        """A freshly converted body; clean ones go to the cache (and are read back from it when needed)."""
        self.absorb([(key, html, problems)])

    def for_worker(self) -> None:
        """Switch to a render worker's view: the cache read through a connection of its own, results held back."""
        self.cache = self.cache.reader() if self.cache is not None else None
        self.fresh = []

    def take_fresh(self) -> list[tuple[str, str, list[Problem]]]:
        """A worker's conversions since the last call (no longer kept in the worker)."""
        fresh, self.fresh = self.fresh or [], []
        for key, _html, _problems in fresh:
            self.html.pop(key, None)
        return fresh

    def absorb(self, fresh: list[tuple[str, str, list[Problem]]]) -> None:
        """Conversions made here or by a worker; the clean ones go to the cache in one statement."""
        clean = []
        for key, html, problems in fresh:
            if key in self.found:
                continue  # converted twice (by two workers): the first result stands, its problems once
            self.found[key] = problems
            if not problems and self.cache is not None:
                clean.append((self.digests[key], html))
                self.cached.add(key)
            else:
                self.html[key] = html
        if clean:
            self.cache.put_bodies(clean)

    def problems(self) -> list[Problem]:
        """Every problem found in the bodies converted by this build, in the order of the site's items."""
        return [problem for key in self.sources for problem in self.found.get(key, ())]

    def digest(self, key: str) -> bytes:
        return self.digests[key]

    def __getitem__(self, key: str) -> str:
        if key in self.html:
            return self.html[key]
        if key not in self.sources:
            raise KeyError(key)
        if key in self.cached:
            try:
                return self.cache.get_body(self.digests[key])
            except Exception:  # an unreadable cache entry: the body converts (and sanitizes) the same again
                return convert_checked(self.sources[key])[0]
        return self.convert(key)

    def __contains__(self, key: object) -> bool:
        return key in self.sources

    def __iter__(self):
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)
