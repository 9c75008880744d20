"""Rendering many pages: reusing the unchanged ones (page_keys) and rendering the rest on forked
worker processes, each writing its pages straight into the staging folder."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from ..errors import BuildError, Problem
from ..markup import item_key, reply_key
from ..output import Output, Staged, write_staged
from ..pages import PageSpec
from ..render import RenderInputs, TemplateProblem, finish_page, render_page
from .priority import Priority, check_superseded, order_first
from .progress import NoProgress, Progress
from .page_keys import PageInputs, page_entry, reusable
from .store import PageEntry, Store
from .tracing import Trace
from .workers import can_fork, fork_map


def render_site(render: RenderInputs, specs: list[PageSpec], store: Store, previous: Mapping[str, PageEntry],
                staging: Path | None = None, progress: Progress | None = None, priority: Priority | None = None) -> Output:
    """Render the given pages into an Output map; pages whose every input is unchanged since `previous`
    (the pages of the last build still intact) are reused, not rendered.

    Many pages render on worker processes, one per core, each writing finished pages into `staging`
    (the folder that becomes the new output/) when given. Raises BuildError with the problems found
    in bodies converted while rendering and the first template error.

    With a `priority` (the preview), the pages the browsers show render first and are handed over at
    once, and a later save stops the rendering (Superseded): see priority.py."""
    keys = PageInputs(render, store)
    output = Output(staging)
    todo: list[int] = []
    for number, spec in enumerate(specs):
        entry = previous.get(spec.path)
        base = keys.base(spec, entry.base) if entry is not None else None
        if base is not None and reusable(entry, keys, base):
            if entry.data is not None:
                output.add(spec.path, entry.data, spec.origin or spec.template)
            else:
                output.keep(spec.path, spec.origin or spec.template)
        else:
            todo.append(number)
    todo, waiting = order_first(todo, [spec.path for spec in specs], priority)
    shown: dict[str, bytes] = {}
    job = RenderJob(render, specs, keys)
    progress = progress or NoProgress()
    progress.start("rendering pages", len(todo))
    problems: list[Problem] = []
    entries: list[tuple[str, PageEntry]] = []
    forgotten: list[str] = []
    for number, page in render_numbered(job, todo, staging):
        check_superseded(priority)
        spec = specs[number]
        if spec.path in waiting:
            waiting.discard(spec.path)
            if page.data is not None:  # (a page with a template error is shown as the build's failure, at its end)
                shown[spec.path] = page.data
            if not waiting and shown:  # the browsers' pages are done: to them now, the rest meanwhile
                priority.show(shown)
        if page.problem is not None:
            problems.append(page.problem)
        elif page.staged is not None:
            output.add_staged(spec.path, page.staged, spec.origin or spec.template)
        else:
            output.add(spec.path, page.data, spec.origin or spec.template)
        progress.advance()
        if page.entry is not None:
            entries.append((spec.path, page.entry))
        elif page.problem is None:
            forgotten.append(spec.path)
        if len(entries) + len(forgotten) >= 1000:  # a statement for many pages, while workers render
            store.put_pages(entries)
            store.forget_pages(forgotten)
            entries, forgotten = [], []
    progress.finish()
    store.put_pages(entries)
    store.forget_pages(forgotten)
    bodies = render.bodies
    for key in bodies.missing():  # bodies no page showed (none should be): converted and checked all the same
        bodies.convert(key)
    found = bodies.problems() + problems[:1]
    if found:
        raise BuildError(found)
    keys.keep_shared()
    return output


@dataclass(frozen=True)
class RenderJob:
    """Everything rendering a page needs: handed to each worker process once, when it starts."""

    render: RenderInputs  # its bodies: a Bodies
    specs: list[PageSpec]
    keys: PageInputs


@dataclass(frozen=True)
class RenderedPage:
    """One page rendered: its bytes (or where a worker wrote them), what it was rendered from, or the template error."""

    data: bytes | None = None
    staged: Staged | None = None
    entry: PageEntry | None = None
    problem: Problem | None = None


POOL_MIN_PAGES = 200  # fewer pages render faster here than two worker processes start
POOL_CHUNK = 48


def render_numbered(job: RenderJob, todo: list[int], staging: Path | None) -> Iterator[tuple[int, RenderedPage]]:
    """Render the pages numbered `todo`, yielded in that order: here, or on worker processes when there
    are many and this process can fork (not while other threads run, e.g. the preview server's)."""
    if len(todo) < POOL_MIN_PAGES or not can_fork():
        for number in todo:
            yield number, render_one(job, number, None)
        return
    chunks = [todo[start:start + POOL_CHUNK] for start in range(0, len(todo), POOL_CHUNK)]
    done = 0
    try:
        for pages, fresh in fork_map(render_chunk, [(chunk, staging) for chunk in chunks], start_worker, (job,)):
            job.render.bodies.absorb(fresh)
            for number, page in pages:
                yield number, page
            done += 1
    except BrokenProcessPool:  # a worker died (e.g. killed for memory): the rest renders here
        for chunk in chunks[done:]:
            for number in chunk:
                yield number, render_one(job, number, None)


_WORKER_JOB: RenderJob | None = None


def start_worker(job: RenderJob) -> None:
    """In a worker process: keep the job; read the cache through a connection of the worker's own."""
    global _WORKER_JOB
    _WORKER_JOB = job
    job.render.bodies.for_worker()


def render_chunk(task: tuple[list[int], Path | None]) -> tuple[list[tuple[int, RenderedPage]], list]:
    """In a worker process: render some pages; returns them and the bodies converted on the way."""
    numbers, staging = task
    bodies = _WORKER_JOB.render.bodies
    bodies.prepare(key for number in numbers for key in shown_bodies(_WORKER_JOB.specs[number]))  # in a row (see Bodies.prepare)
    pages = [(number, render_one(_WORKER_JOB, number, staging)) for number in numbers]
    return pages, bodies.take_fresh()


def shown_bodies(spec: PageSpec) -> list[str]:
    """The keys of the Markdown texts an item's own page shows: its body and its replies."""
    item = spec.context.get("item")
    if item is None:
        return []
    return [item_key(item), *(reply_key(item, number) for number in range(len(getattr(item, "replies", ()))))]


def render_one(job: RenderJob, number: int, staging: Path | None) -> RenderedPage:
    """Render one page, traced, and write it into `staging` if given, else keep its bytes."""
    spec = job.specs[number]
    trace = Trace()
    try:
        data = finish_page(spec, render_page(job.render, spec, trace))
    except TemplateProblem as exc:
        return RenderedPage(problem=exc.problem)
    entry = page_entry(job.keys, spec, trace, data, keep_bytes=staging is None)
    if staging is not None:
        return RenderedPage(staged=write_staged(staging, spec.path, data), entry=entry)
    return RenderedPage(data=data, entry=entry)
