"""Worker processes: results in order, and work stopped at once when the build stops (Ctrl-C, a problem)."""

import asyncio
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from placard.incremental.workers import can_fork, fork_map

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork and no other threads")


def square(number: int) -> int:
    return number * number


def test_results_come_back_in_order():
    assert list(fork_map(square, range(40))) == [n * n for n in range(40)]


def slow_marker(task: tuple[str, int]) -> int:
    """Finish instantly for task 0; otherwise take a minute, then leave a marker file."""
    folder, number = task
    if number:
        time.sleep(60)
        Path(folder, f"done-{number}").write_text("finished")
    return os.getpid()


def test_stopping_early_stops_the_workers_at_once(tmp_path):
    results = fork_map(slow_marker, [(str(tmp_path), n) for n in range(6)])
    next(results)
    results.close()  # what Ctrl-C, or a problem found by the caller, does to the generator
    assert multiprocessing.active_children() == []
    assert list(tmp_path.iterdir()) == []  # killed, not left to finish their minute


def test_workers_forked_from_an_event_loop_end_when_stopped_and_leave_its_signals_alone(tmp_path):
    """Workers forked from a process running an asyncio loop whose SIGTERM handler stops a server:
    stopping the workers (SIGTERM) must end them, not reach that handler."""

    async def scenario() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stopped.set)
        try:
            results = fork_map(slow_marker, [(str(tmp_path), n) for n in range(6)])
            next(results)
            started = time.monotonic()
            results.close()
            took = time.monotonic() - started
            await asyncio.sleep(0.3)  # time for a signal byte on the loop's wakeup socket to be read
            return stopped.is_set(), took
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    stopped, took = asyncio.run(scenario())
    assert not stopped
    assert took < 3  # ended at once, not waited for (fork_map gives each worker 5 s)
    assert multiprocessing.active_children() == [] and list(tmp_path.iterdir()) == []
