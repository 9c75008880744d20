"""Guarded writes: nothing outside output/, nothing twice, old site kept on failure."""

import pytest

from placard.output import Output, OutputPathError, write_output


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "C:/x", "a\\b", ""])
def test_paths_outside_output_are_refused(bad):
    with pytest.raises(OutputPathError):
        Output().add(bad, b"")


def test_a_path_written_twice_is_refused():
    output = Output()
    output.add("a/index.html", "one", "content/news/a.md")
    with pytest.raises(OutputPathError, match="both this file and content/news/a.md would be written to a/index.html"):
        output.add("a/./index.html", "two", "content/news/b.md")


def test_write_swaps_in_a_complete_site(tmp_path):
    out = tmp_path / "output"
    write_output({"index.html": b"one", "a/b.html": b"two"}, out)
    write_output({"index.html": b"new"}, out)
    assert (out / "index.html").read_bytes() == b"new" and not (out / "a").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["output"]


def test_failed_write_keeps_old_site(tmp_path, monkeypatch):
    out = tmp_path / "output"
    write_output({"index.html": b"old"}, out)

    def disk_full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_bytes", disk_full)
    with pytest.raises(OSError):
        write_output({"index.html": b"new"}, out)
    monkeypatch.undo()
    assert (out / "index.html").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["output"]


def test_unchanged_files_keep_their_inode_and_mtime(tmp_path):
    out = tmp_path / "output"
    write_output({"same.html": b"same", "changed.html": b"one"}, out)
    same, changed = (out / "same.html").stat(), (out / "changed.html").stat()
    write_output({"same.html": b"same", "changed.html": b"two"}, out)
    assert (out / "same.html").stat().st_ino == same.st_ino
    assert (out / "same.html").stat().st_mtime_ns == same.st_mtime_ns
    assert (out / "changed.html").read_bytes() == b"two" and (out / "changed.html").stat().st_ino != changed.st_ino


# ---------------------------------------------------------------------------------------------
# The swap into output/: atomic at every instant, and nothing left behind by a killed build

import os
import signal
import subprocess
import sys

import placard.output as output_module
from conftest import snapshot

OLD, NEW = {"index.html": b"old", "a/b.html": b"old b", "gone.html": b"x"}, {"index.html": b"new", "a/b.html": b"new b", "c.html": b"c"}


def dead_pid() -> int:
    """The pid of a process that has ended (for folders a killed build left)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(child.stdout)


def beside(tmp_path):
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "output")


@pytest.mark.skipif(output_module.renameat2() is None, reason="renameat2 is Linux's")
def test_the_swap_is_one_exchange_where_linux_has_it(tmp_path, monkeypatch):
    out = tmp_path / "output"
    write_output(OLD, out)
    calls = []
    real = output_module.exchange_paths

    def spy(a, b):
        calls.append(real(a, b))
        return calls[-1]

    def refuse(*args):
        raise AssertionError("no rename of output/ itself")

    monkeypatch.setattr(output_module, "exchange_paths", spy)
    monkeypatch.setattr(output_module, "rename_twice", refuse)
    write_output(NEW, out)
    assert calls == [True] and snapshot(out) == NEW and beside(tmp_path) == []


def test_without_the_exchange_two_renames_swap_the_site(tmp_path, monkeypatch):
    out = tmp_path / "output"
    write_output(OLD, out)
    monkeypatch.setattr(output_module, "exchange_paths", lambda a, b: False)  # another system, or a file system without it
    write_output(NEW, out)
    assert snapshot(out) == NEW and beside(tmp_path) == []


class Killed(BaseException):
    """Stands for the build being killed at that step."""


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two renames"])
def test_a_build_stopped_at_any_step_leaves_a_whole_site(tmp_path, monkeypatch, exchange):
    """Every call that touches the disk while the site is written and swapped in, interrupted in turn:
    output/ is the whole old site or the whole new one, and the next write leaves nothing beside it."""
    out = tmp_path / "output"
    if not exchange:
        monkeypatch.setattr(output_module, "exchange_paths", lambda a, b: False)
    steps = ["exchange_paths", "rename_twice", "write_file", "copy_previous", "link_if_same", "staging_beside", "list_files"]
    os_steps = ["rename", "replace", "link", "mkdir", "unlink", "rmdir"]
    stopped_at = 0
    for number in range(1, 200):
        write_output(OLD, out)
        calls = [0]

        def counted(real):
            def step(*args, **kwargs):
                calls[0] += 1
                if calls[0] == number:
                    raise Killed
                return real(*args, **kwargs)
            return step

        with monkeypatch.context() as patch:
            for name in steps:
                patch.setattr(output_module, name, counted(getattr(output_module, name)))
            for name in os_steps:
                patch.setattr(output_module.os, name, counted(getattr(os, name)))
            patch.setattr(output_module.shutil, "rmtree", counted(shutil_rmtree))
            try:
                write_output(NEW, out)
                break
            except Killed:
                stopped_at += 1
        assert snapshot(out) in (OLD, NEW), number
    assert stopped_at >= 8  # (each step was interrupted once, then the write ran through)
    pid = dead_pid()  # the folders left, as a build really killed would have left them (this process is alive)
    for name in beside(tmp_path):
        os.rename(tmp_path / name, tmp_path / name.replace(f"-{os.getpid()}-", f"-{pid}-"))
    write_output(NEW, out)
    assert snapshot(out) == NEW and beside(tmp_path) == []


shutil_rmtree = output_module.shutil.rmtree  # (the real one: the test patches the module's)


def test_folders_left_by_a_killed_build_are_removed_by_the_next(tmp_path):
    out = tmp_path / "output"
    write_output(OLD, out)
    pid = dead_pid()
    for name in (f".output.new-{pid}-abc", f".output.old-{pid}-def", ".output.new-k2j4", f".output.new-{os.getppid()}-live"):
        (tmp_path / name / "site" / "news").mkdir(parents=True)
        (tmp_path / name / "site" / "news" / "index.html").write_bytes(b"a whole copy of the site")
    write_output(NEW, out)
    assert snapshot(out) == NEW
    assert beside(tmp_path) == [f".output.new-{os.getppid()}-live"]  # a build still running keeps its folder


def test_output_missing_after_a_kill_between_two_renames_is_put_back(tmp_path):
    out = tmp_path / "output"
    old = tmp_path / f".output.old-{dead_pid()}-xyz" / "site"
    old.mkdir(parents=True)
    (old / "index.html").write_bytes(b"the last good site")
    output_module.remove_leftovers(out)  # (as the next build's write_output does first)
    assert snapshot(out) == {"index.html": b"the last good site"} and beside(tmp_path) == []


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_ctrl_c_while_files_are_renamed_into_place_waits_for_the_last(tmp_path, monkeypatch):
    """The few-files path renames each changed file into output/: Ctrl-C arriving at the first waits for all."""
    out = tmp_path / "output"
    files = {f"p{n}/index.html": b"old" for n in range(100)}
    write_output(files, out)
    changed = {**files, "p1/index.html": b"new 1", "p2/index.html": b"new 2"}
    real = os.replace

    def interrupted(a, b):
        os.kill(os.getpid(), signal.SIGINT)
        return real(a, b)

    monkeypatch.setattr(output_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_output(changed, out)
    monkeypatch.undo()
    assert snapshot(out) == changed and beside(tmp_path) == []
