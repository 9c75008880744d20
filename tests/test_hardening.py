"""Hardening: awkward but valid input builds; every failure of the run itself keeps the last good site."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOW, REPO, build_errors, make_project, snapshot

from placard.cli import main
from placard.pipeline import build, build_site
from placard.slugs import make_slug

POST = "---\ntitle: {title}\nslug: {slug}\ndate: 2011-12-16\nauthor: {author}\nsummary: {summary}\n---\n\nText.\n"


def test_yaml_surprises_stay_text(tmp_path):
    project = make_project(tmp_path, {"content/news/odd.md": POST.format(title="no", slug="odd", author="12:00", summary="2011-12-21")})
    site, output = build_site(project, NOW)
    post = next(p for p in site.posts if p.slug == "odd")
    assert (post.title, post.author, post.summary) == ("no", "12:00", "2011-12-21")
    assert "<h1 class=\"p-name\">no</h1>" in output.files["news/odd/index.html"].decode()


def test_bom_crlf_spaces_and_cyrillic_file_names_build(tmp_path):
    text = "\ufeff" + POST.format(title="Жаңаөзен", slug="zhanaozen", author="Ә", summary="s").replace("\n", "\r\n")
    project = make_project(tmp_path, {"content/news/Жаңаөзен ереуіл.md": text.encode("utf-8")})
    site, output = build_site(project, NOW)
    assert "news/zhanaozen/index.html" in output.files
    assert "Жаңаөзен" in output.files["news/zhanaozen/index.html"].decode()


def test_very_large_file_has_a_clear_limit(tmp_path):
    project = make_project(tmp_path, {"content/news/huge.md": "---\ntitle: x\n---\n" + "word " * 600_000})
    assert any("content/news/huge.md: the file is" in e and "the limit is 2048 KB" in e for e in build_errors(project))


def test_symlink_outside_the_project_is_refused(tmp_path):
    project = make_project(tmp_path)
    secret = tmp_path / "secret.md"
    secret.write_text(POST.format(title="x", slug="x", author="x", summary="x"))
    (project.content / "news" / "link.md").symlink_to(secret)
    (project.static / "leak.txt").symlink_to(secret)
    errors = build_errors(project)
    assert any(e.startswith("content/news/link.md: is a link to") and "outside the project" in e for e in errors)


def _prepare(tmp_path):
    """A built project whose next build changes every page (so every file is written again)."""
    project = make_project(tmp_path)
    build(project, NOW)
    config = project.config_file.read_text(encoding="utf-8")
    project.config_file.write_text(config.replace("title: Test campaign", "title: Renamed campaign"), encoding="utf-8")
    return project, snapshot(project.output)


def _run(project):
    return main(["--root", str(project.root), "--now", NOW.isoformat()])


def test_unwritable_output_keeps_the_old_site(tmp_path, monkeypatch, capsys):
    project, before = _prepare(tmp_path)

    def refuse(*args):
        raise PermissionError(13, "Permission denied", str(project.output))

    monkeypatch.setattr("placard.output.os.rename", refuse)
    monkeypatch.setattr("placard.output.exchange_paths", refuse)  # (the swap on Linux: renameat2)
    assert _run(project) == 1
    monkeypatch.undo()
    assert "could not write the site: Permission denied. output/ was not changed" in capsys.readouterr().err
    assert snapshot(project.output) == before
    assert sorted(p.name for p in project.root.iterdir() if p.name.startswith(".output")) == []


def test_disk_full_keeps_the_old_site(tmp_path, monkeypatch, capsys):
    project, before = _prepare(tmp_path)
    real = Path.write_bytes
    calls = []

    def fill_up(self, data):
        calls.append(self)
        if len(calls) > 3:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", fill_up)
    assert _run(project) == 1
    monkeypatch.undo()
    assert "No space left on device" in capsys.readouterr().err
    assert snapshot(project.output) == before
    assert not [p for p in project.root.iterdir() if p.name.startswith(".output")]


def test_ctrl_c_during_a_build_keeps_the_old_site(tmp_path, monkeypatch, capsys):
    project, before = _prepare(tmp_path)
    real = Path.write_bytes
    calls = []

    def interrupt(self, data):
        calls.append(self)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", interrupt)
    assert _run(project) == 130
    monkeypatch.undo()
    assert "Interrupted. output/ was not changed." in capsys.readouterr().err
    assert snapshot(project.output) == before


def test_builds_are_deterministic_across_folders_and_hash_seeds(tmp_path):
    outputs = []
    for n, seed in enumerate(["1", "4242"]):
        project = make_project(tmp_path / f"run{n}")
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(project.root), "--now", NOW.isoformat()],
                       cwd=tmp_path / f"run{n}", env=env, check=True, capture_output=True)
        outputs.append(snapshot(project.output))
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize(
    "title, slug",
    [
        ("Striking workers slaughtered in Kazakhstan", "striking-workers-slaughtered-in-kazakhstan"),
        ("Әлем Қазақстан", "alem-qazaqstan"),
        ("Ғұмыр Үміт Һ Іле Өмір Ң", "ghumyr-umit-h-ile-omir-ng"),
        ("Жаңаөзен: забастовка нефтяников", "zhangaozen-zabastovka-neftyanikov"),
        ("Щука съел ёж", "shchuka-sel-yozh"),
        ("!!!", "untitled"),
    ],
)
def test_slugs_transliterate_russian_and_kazakh(title, slug):
    assert make_slug(title) == slug
