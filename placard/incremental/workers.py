"""Worker processes for the stages that can use every core (parsing content, converting and rendering).

Workers are forked: they start with this process's memory (the site, its index, the templates)
without copying or pickling it. A process running other threads (the preview server) does not
fork, because a forked child can inherit a lock another thread held; those builds run here.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from ..internals import pool_processes

WORKERS = 2  # the machines campaigns build on have two cores or more; more workers than cores only add memory


def can_fork() -> bool:
    """Whether this process may start forked workers."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def fork_map(function: Callable[[Any], Any], tasks: Iterable[Any], initializer: Callable[..., None] | None = None,
             initargs: tuple = ()) -> Iterator[Any]:
    """`function` over `tasks` on forked workers, results in order as they come (raises BrokenProcessPool
    if a worker dies, e.g. killed for memory: the caller does the rest itself)."""
    context = multiprocessing.get_context("fork")
    # The workers' collector leaves what they inherit alone: walking the site's million objects in every
    # full pass cost each worker seconds, and writing to their headers copied the memory it shares with us.
    gc.freeze()
    pool = ProcessPoolExecutor(WORKERS, mp_context=context, initializer=start_worker, initargs=(initializer, initargs))
    try:
        # Not pool.map: on Ctrl-C it cancels futures its pool then fails to mark broken (a traceback).
        # The first submit forks the workers. SIGTERM stays blocked meanwhile, so that a worker stopped
        # before start_worker made SIGTERM end it holds the signal until then (see there).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            pending = [pool.submit(function, task) for task in tasks]
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        pending.reverse()
        while pending:
            yield pending.pop().result()  # popped: a result is let go once the caller has it
    except BaseException:  # Ctrl-C, a problem, or the caller stopped early: stop the work already queued, at once
        workers, manager = pool_processes(pool)  # (shutdown forgets them)
        for process in workers:
            process.terminate()
        for process in workers:  # gone before the caller cleans up what they were writing
            process.join(5)
        pool.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            # The pool's own thread reaps the workers too; whichever of us loses that race sees no exit
            # status, so wait for it (bounded) rather than leave a worker counted as running.
            manager.join(5)
        raise
    finally:
        gc.unfreeze()
    pool.shutdown()


WORKER_GC_THRESHOLD = 20_000  # allocations between collections of the youngest generation (Python's default: 700)


def start_worker(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """In a new worker: leave Ctrl-C to the main process (it stops the workers), end at SIGTERM,
    collect garbage (the build stopped collecting in the main process, see pipeline.not_collecting),
    though less often than after every 700 allocations; then the caller's set-up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Forked from a process running an asyncio loop with signal handlers (a server's), a worker
    # inherits the loop's SIGTERM handler and wakeup socket: being stopped (SIGTERM, see fork_map)
    # would then reach the loop, which typically stops the server, while the worker ran on. (The
    # preview forks before its loop starts, see serve.PreviewServer.build_first.) A worker stopped
    # must just end.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # (blocked while fork_map forked us)
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])
    gc.enable()
    if initializer is not None:
        initializer(*initargs)
