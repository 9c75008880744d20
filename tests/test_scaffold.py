"""`build.py new` writes a valid, complete starting file and never overwrites."""

from conftest import NOW, make_project

from placard.cli import main
from placard.pipeline import build_site


def test_new_items_build_in_preview(tmp_path, capsys):
    project = make_project(tmp_path)
    for kind, title in [("post", "Solidarity with Zhanaozen!"), ("event", "Vigil: 16 December"), ("page", "Contact us")]:
        assert main(["--root", str(project.root), "--now", NOW.isoformat(), "new", kind, title]) == 0
    site, output = build_site(project, NOW, preview=True)
    assert "news/solidarity-with-zhanaozen/index.html" in output.files
    assert "calendar/vigil-16-december/index.html" in output.files
    assert "contact-us/index.html" in output.files


def test_new_never_overwrites(tmp_path, capsys):
    project = make_project(tmp_path)
    args = ["--root", str(project.root), "--now", NOW.isoformat(), "new", "page", "About"]
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err
