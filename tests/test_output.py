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
