"""Worker processes for the stages that can use every core (parsing content, converting and rendering).

Workers are forked: they start with this process's memory (the site, its index, the templates)
without copying or pickling it. A process running other threads (the preview server) does not
fork, because a forked child can inherit a lock another thread held; those builds run here.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

WORKERS = 2  # the machines campaigns build on have two cores or more; more workers than cores only add memory


def can_fork() -> bool:
    """Whether this process may start forked workers."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def fork_map(function: Callable[[Any], Any], tasks: Iterable[Any], initializer: Callable[..., None] | None = None,
             initargs: tuple = ()) -> Iterator[Any]:
    """`function` over `tasks` on forked workers, results in order as they come (raises BrokenProcessPool
    if a worker dies, e.g. killed for memory: the caller does the rest itself)."""
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(WORKERS, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        yield from pool.map(function, tasks)
