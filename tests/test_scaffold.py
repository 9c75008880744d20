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


def test_new_in_russian_and_kazakh_gets_an_ascii_slug_and_translations_build(tmp_path, capsys):
    project = make_project(tmp_path)
    base = ["--root", str(project.root), "--now", NOW.isoformat(), "new"]
    assert main(base + ["post", "Солидарность с Жанаозеном", "--lang", "ru"]) == 0
    assert main(base + ["event", "Палата алдындағы демонстрация", "--lang", "kk", "--translates", "demo"]) == 0
    written = (project.content / "events" / "2026-11-26-palata-aldyndaghy-demonstratsiya.md").read_text(encoding="utf-8")
    assert "slug: palata-aldyndaghy-demonstratsiya\nlang: kk\ntranslation_key: demo\n" in written and "starts:" not in written
    site, output = build_site(project, NOW, preview=True)
    assert "ru/news/solidarnost-s-zhanaozenom/index.html" in output.files
    page = output.files["kk/calendar/palata-aldyndaghy-demonstratsiya/index.html"].decode()
    assert "Палата алдындағы демонстрация" in page and "21 желтоқсан" in page  # the original's date, in Kazakh


def test_root_and_now_work_after_the_command(tmp_path, capsys):
    project = make_project(tmp_path)
    assert main(["build", "--root", str(project.root), "--now", NOW.isoformat()]) == 0
    assert (project.output / "index.html").is_file()
    assert "Built " in capsys.readouterr().out


def test_a_bad_now_is_explained_not_a_traceback(tmp_path, capsys):
    project = make_project(tmp_path)
    assert main(["--root", str(project.root), "--now", "tomorrow"]) == 2
    assert "--now: 'tomorrow' is not a date and time" in capsys.readouterr().err


import pytest  # noqa: E402


@pytest.mark.parametrize(
    "title, message",
    [
        ("  ", 'title: is blank; give the post its title in quotes, e.g. build.py new post "Solidarity with the oil workers"'),
        ("", 'title: is blank; give the post its title in quotes'),
        ("!!! ?", "title: '!!! ?' has no letters or digits to make the page's address from; write the title in words (Latin, Cyrillic or Kazakh letters)"),
        ("— …", "title: '— …' has no letters or digits to make the page's address from"),
    ],
)
def test_new_refuses_a_title_the_next_build_would_reject(tmp_path, capsys, title, message):
    project = make_project(tmp_path)
    before = sorted(project.content.rglob("*"))
    assert main(["--root", str(project.root), "--now", NOW.isoformat(), "new", "post", title]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err, err
    assert sorted(project.content.rglob("*")) == before


def test_a_title_named_untitled_is_still_a_title(tmp_path, capsys):
    project = make_project(tmp_path)
    assert main(["--root", str(project.root), "--now", NOW.isoformat(), "new", "page", "Untitled"]) == 0
    assert (project.content / "pages" / "untitled.md").is_file()


def test_new_entity_and_new_tie_write_a_tie_the_build_refuses_until_its_source_is_written(tmp_path):
    """`new entity` starts a draft entity file; `new tie` adds a tie with a source stub to the subject's file,
    in its ties: list (or a new one), and the build names the stub's line until a real source replaces it."""
    from conftest import NOW, build_errors, make_project

    from placard.errors import BuildError
    from placard.scaffold import write_new_entity, write_new_tie

    project = make_project(tmp_path)
    entity = write_new_entity(project.content, "Example Holding", "company")
    assert entity.name == "example-holding.md" and "type: company\n" in entity.read_text() and "draft: true\n" in entity.read_text()
    entity.write_text(entity.read_text().replace("draft: true\n", ""))
    file, line = write_new_tie(project.content, "example-holding", "owns", "acme")  # no ties: yet
    assert file == entity and line == 11
    file, line = write_new_tie(project.content, "jane-doe", "member-of", "example-holding")  # appended to its ties
    text = file.read_text()
    assert text.index("relation: member-of") > text.index("relation: director-of") and text.count("  - relation:") == 2
    errors = build_errors(project, NOW)
    assert f"content/links/jane-doe.md:{line}: ties[2].sources[1].url: 'REPLACE with the address where this tie is stated' is not a full web address; it must start with https:// (or http://)" in errors
    assert any(e.startswith("content/links/example-holding.md:11: ties[1].sources[1].url:") for e in errors), errors
    with pytest.raises(BuildError, match="not a relation"):
        write_new_tie(project.content, "jane-doe", "bribes", "acme")
    with pytest.raises(BuildError, match="no entity file has 'slug: nobody'"):
        write_new_tie(project.content, "nobody", "owns", "acme")
    with pytest.raises(BuildError, match="not a kind of entity"):
        write_new_entity(project.content, "X", "bank")
