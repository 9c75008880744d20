"""The nothing-changed build (placard.incremental.unchanged): decided from file metadata, never wrong:
whenever it says nothing changed, a build from scratch at that moment gives exactly output/'s bytes."""

from __future__ import annotations

import io
import os
import re
import threading
from datetime import timedelta

import pytest
from conftest import NOW, snapshot

from placard.incremental import unchanged
from placard.pipeline import build, build_site


@pytest.fixture
def steady(monkeypatch):
    """Files written by the test count as settled at once (outside tests, only after RACY_SECONDS)."""
    monkeypatch.setattr(unchanged, "RACY_SECONDS", -60.0)


def stats(folder):
    """(inode, mtime) of every file: proof that a build wrote nothing."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def test_a_build_with_nothing_changed_writes_nothing_and_reports_the_same(project, steady):
    first = build(project, NOW)
    before = stats(project.output)
    again = build(project, NOW + timedelta(hours=1))  # the same day, nothing due
    assert again.unchanged and not first.unchanged
    assert stats(project.output) == before
    assert (again.pages, again.files, again.summary, again.notes) == (first.pages, first.files, first.summary, first.notes)
    assert snapshot(project.output) == build_site(project, NOW + timedelta(hours=1))[1].files


def test_fresh_files_are_not_trusted_to_be_unchanged(project):
    """A file saved in the last RACY_SECONDS could change again within the same clock tick unseen."""
    build(project, NOW)
    assert not build(project, NOW).unchanged


@pytest.mark.parametrize("split", [False, True], ids=["one process", "two processes"])
@pytest.mark.parametrize("change", ["edit a page", "replace a file", "delete a file"])
def test_a_change_inside_output_means_a_real_build(project, steady, change, split, monkeypatch):
    if split:  # (as at 100,000 posts: the second half of output/'s files is checked by a forked process)
        monkeypatch.setattr(unchanged, "ASIDE_AT", 0)
    build(project, NOW)
    if change == "edit a page":
        (project.output / "index.html").write_text("edited by hand", encoding="utf-8")
    elif change == "replace a file":
        (project.output / "feed.new").write_bytes((project.output / "feed.xml").read_bytes())
        os.replace(project.output / "feed.new", project.output / "feed.xml")  # the same bytes, another file
    else:
        (project.output / "feed.xml").unlink()
    report = build(project, NOW)
    assert not report.unchanged
    assert snapshot(project.output) == build_site(project, NOW)[1].files


def test_a_file_added_to_output_by_hand_is_left_alone_with_or_without_a_build(project, steady):
    """Not a reason to build: a build leaves a file it did not write where it is, so output/ would be the same."""
    build(project, NOW)
    (project.output / "news" / "stray.html").write_text("stray", encoding="utf-8")
    assert build(project, NOW).unchanged
    built = snapshot(project.output)
    assert built.pop("news/stray.html") == b"stray"
    assert built == build_site(project, NOW)[1].files
    (project.root / ".cache" / "unchanged.json").unlink()
    assert not build(project, NOW).unchanged and snapshot(project.output)["news/stray.html"] == b"stray"  # (a real build, the same)


def test_the_outputs_digest_is_the_same_in_one_process_or_two_and_sees_either_half(tmp_path, monkeypatch):
    names = [f"{n:03d}.html" for n in range(40)]
    for name in names:
        (tmp_path / name).write_text(name, encoding="utf-8")
    alone = unchanged.outputs_state(tmp_path, names)
    monkeypatch.setattr(unchanged, "ASIDE_AT", 0)
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    assert unchanged.outputs_state(tmp_path, names) == alone and forks
    for name in (names[0], names[-1]):  # one in each part
        os.utime(tmp_path / name, ns=(0, 12345))
        assert unchanged.outputs_state(tmp_path, names) != alone, name
    (tmp_path / names[-1]).unlink()  # gone from the half the child checks
    assert unchanged.outputs_state(tmp_path, names) == "changed"
    monkeypatch.setattr(os, "fork", lambda: (_ for _ in ()).throw(OSError("no more processes")))
    assert unchanged.outputs_state(tmp_path, names) == "changed"  # (the same answer without a second process)


def test_an_edited_content_file_means_a_real_build(project, steady):
    build(project, NOW)
    post = project.content / "news" / "first-post.md"
    post.write_text(post.read_text(encoding="utf-8").replace("\n---\n", "\n---\nAn added line.\n\n", 1), encoding="utf-8")
    assert not build(project, NOW).unchanged
    assert "An added line." in (project.output / "news" / "first-post" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("later", [timedelta(days=1), timedelta(days=365 * 4), -timedelta(hours=1)],
                         ids=["the date turns", "a scheduled post falls due", "the clock goes back"])
def test_time_that_changes_the_site_means_a_real_build(project, steady, later):
    build(project, NOW)
    report = build(project, NOW + later)
    assert not report.unchanged
    assert snapshot(project.output) == build_site(project, NOW + later)[1].files


def test_a_damaged_memo_means_a_real_build(project, steady):
    build(project, NOW)
    memo = project.root / ".cache" / unchanged.MEMO_FILE
    memo.write_bytes(memo.read_bytes()[:40])
    assert not build(project, NOW).unchanged
    os.remove(memo)
    assert not build(project, NOW).unchanged
    assert build(project, NOW).unchanged


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_long_build_shows_its_progress_on_a_terminal_only(project, monkeypatch):
    from placard.incremental import progress

    monkeypatch.setattr(progress, "SHOWN_FROM", 1)  # (the fixture is small)
    screen = Terminal()
    build(project, NOW, progress=progress.progress_for(screen))
    shown = screen.getvalue()
    assert re.search(r"rendering pages: +\d+%\|[^|]*\| \d+/\d+ \[", shown), shown  # stage, done/total, rate, time left
    # The bars leave no thread behind (tqdm's monitor): with one, the next stage's workers would not fork.
    from placard.incremental.workers import can_fork
    assert [thread.name for thread in threading.enumerate()] == ["MainThread"] and can_fork()
    log = io.StringIO()  # a CI log: not a terminal
    (project.content / "news" / "first-post.md").touch()
    build(project, NOW, progress=progress.progress_for(log))
    assert log.getvalue() == ""


HEAVY = ("jinja2", "markdown", "nh3", "PIL", "babel", "icalendar", "numpy", "networkx", "yaml", "sqlite3", "tqdm",
         "concurrent.futures", "placard.pipeline", "placard.models", "placard.content", "placard.render", "placard.incremental.store")


def test_a_build_with_nothing_to_do_imports_nothing_heavy(project, steady):
    """build.py's nothing-changed path decides from metadata alone: none of the stages or their libraries
    are imported (0.2 s of start-up before it, at 10,000 posts half of the whole check)."""
    import subprocess
    import sys

    from conftest import REPO

    build(project, NOW)
    script = ("import sys; sys.path.insert(0, sys.argv[1])\n"
              "import placard.incremental.unchanged as u; u.RACY_SECONDS = -60.0  # (the files were written just now)\n"
              "from placard.cli import main\n"
              "code = main(['--root', sys.argv[2], '--now', sys.argv[3]])\n"
              f"print(code, sorted(name for name in {HEAVY!r} if name in sys.modules))\n")
    run = subprocess.run([sys.executable, "-c", script, str(REPO), str(project.root), NOW.isoformat()],
                         capture_output=True, text=True, check=True)
    assert run.stdout.startswith("Nothing changed since the last build"), run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "0 []"
