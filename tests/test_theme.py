"""A tool for many campaigns: `placard init`, the theme layer (a site's files over the package's),
`placard theme diff|copy`, `placard migrate`, placard_version, and a build from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import NOW, REPO, build_errors, make_project

from placard import installed_version
from placard.cli import main
from placard.models import CONFIG_SCHEMA
from placard.pipeline import Project, build
from placard.serve import make_builder
from placard.starter import starter_files
from placard.theme import DEFAULT_THEME


def init_site(tmp_path: Path, languages: str = "en,ru") -> Project:
    """`placard init` into a new folder."""
    folder = tmp_path / "newsite"
    assert main(["init", str(folder), "--languages", languages, "--now", NOW.isoformat()]) == 0
    return Project(folder)


def test_init_writes_a_site_that_builds_checks_and_serves(tmp_path, capsys):
    project = init_site(tmp_path, "en,ru,kk")
    assert main(["--root", str(project.root), "--now", NOW.isoformat()]) == 0
    assert main(["check", "--root", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert "Check passed: 0 findings" in out, out
    assert "1 posts, 1 events, 1 pages, 2 entities with 1 ties" in out
    for page in ("index.html", "ru/index.html", "kk/index.html", "calendar/example-protest/index.html", "links/index.html",
                 "ru/news/example-news-post-ru/index.html", "share.png"):
        assert (project.output / page).is_file(), page
    assert not (project.root / "templates").exists()  # everything comes from the theme
    built = make_builder(project, lambda: NOW)()  # the preview's build of the same site, in memory
    assert b"<h1>Example campaign</h1>" in built.files["index.html"], built.files["index.html"][:2000]


def test_init_writes_every_setting_of_site_yml_and_the_site_files(tmp_path):
    files = starter_files(("en", "ru"), NOW)
    site_yml = files["site.yml"]
    for key in CONFIG_SCHEMA:
        assert f"\n{key}:" in site_yml or f"\n# {key}:" in site_yml, f"site.yml of `placard init` does not explain {key}"
    assert f"placard_version: {installed_version()}" in site_yml
    for name in (".gitignore", ".github/workflows/publish.yml", "README.md", "build.py", "requirements.txt"):
        assert name in files, name
    assert "/output/" in files[".gitignore"] and "schedule:" in files[".github/workflows/publish.yml"]
    assert f"placard=={installed_version()}" in files["requirements.txt"]


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    folder = tmp_path / "taken"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["init", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{folder}: is not an empty folder; nothing was written" in err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_init_refuses_a_language_the_theme_has_no_text_for(tmp_path, capsys):
    assert main(["init", str(tmp_path / "x"), "--languages", "en,de"]) == 1
    assert "--languages: 'en,de': placard's theme has interface text in en, ru, kk" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_site_overriding_one_template_gets_every_other_from_the_theme(tmp_path):
    project = init_site(tmp_path)
    own = project.root / "templates" / "page.html"
    own.parent.mkdir()
    own.write_text((DEFAULT_THEME / "templates" / "page.html").read_text(encoding="utf-8").replace("<h1>", '<h1 class="own">', 1), encoding="utf-8")
    build(project, NOW)
    assert '<h1 class="own">' in (project.output / "about" / "index.html").read_text(encoding="utf-8")
    post = (project.output / "news" / "example-news-post" / "index.html").read_text(encoding="utf-8")
    assert 'class="own"' not in post and "Example news post" in post


def test_a_site_stylesheet_replaces_the_theme_one_and_the_theme_scripts_stay(tmp_path):
    project = init_site(tmp_path)
    (project.root / "static").mkdir()
    (project.root / "static" / "style.css").write_text("body { color: #111; }\n", encoding="utf-8")
    build(project, NOW)
    assert (project.output / "style.css").read_text(encoding="utf-8") == "body { color: #111; }\n"
    assert (project.output / "early.js").read_bytes() == (DEFAULT_THEME / "static" / "early.js").read_bytes()


def test_a_site_catalogue_overrides_one_message_and_keeps_the_rest(tmp_path):
    project = init_site(tmp_path)
    catalogue = project.root / "templates" / "translations" / "ru.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text('msgid ""\nmsgstr ""\n"Language: ru\\n"\n\nmsgid "News"\nmsgstr "Вести"\n', encoding="utf-8")
    build(project, NOW)
    page = (project.output / "ru" / "index.html").read_text(encoding="utf-8")
    assert "Вести" in page and "Новости" not in page and "Этот сайт ничего не загружает с других сайтов." in page  # the site's word, the theme's for the rest


def test_the_seed_campaign_keeps_only_the_files_it_changes():
    own = sorted(p.relative_to(REPO).as_posix() for part in ("templates", "static") for p in (REPO / part).rglob("*") if p.is_file())
    assert own == ["static/share.png", "templates/translations/en.po", "templates/translations/kk.po", "templates/translations/ru.po"]
    out = subprocess.run([sys.executable, "-m", "placard", "theme", "diff", "--root", str(REPO)], capture_output=True, text=True, check=True).stdout
    assert "the same as the theme's" not in out, out  # every override really changes something
    assert 'templates/translations/ru.po:9: "Who profits: the corporate links": the site says "Кто наживается: казахстанская нефть и Сити"' in out


def test_theme_diff_shows_each_override_against_the_theme(tmp_path, capsys):
    project = init_site(tmp_path)
    assert main(["theme", "copy", "templates/post.html", "--root", str(project.root)]) == 0
    assert main(["theme", "copy", "static/early.js", "--root", str(project.root)]) == 0
    post = project.root / "templates" / "post.html"
    post.write_text(post.read_text(encoding="utf-8").replace("</article>", "<p>Share this post.</p>\n</article>", 1), encoding="utf-8")
    capsys.readouterr()
    assert main(["theme", "diff", "--root", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert "--- placard theme: templates/post.html\n+++ this site: templates/post.html\n" in out
    assert "+<p>Share this post.</p>\n" in out
    assert "static/early.js: the same as the theme's; delete it to follow future fixes" in out


def test_theme_copy_refuses_an_unknown_file_and_an_existing_one(tmp_path, capsys):
    project = init_site(tmp_path)
    assert main(["theme", "copy", "templates/nope.html", "--root", str(project.root)]) == 1
    assert "templates/nope.html: is not a file of placard's theme; name one such as" in capsys.readouterr().err
    assert main(["theme", "copy", "templates/base.html", "--root", str(project.root)]) == 0
    assert main(["theme", "copy", "templates/base.html", "--root", str(project.root)]) == 1
    assert "templates/base.html: is already the site's own; nothing was changed" in capsys.readouterr().err


def test_migrate_dry_run_lists_changes_file_by_file_and_writes_nothing(tmp_path, capsys):
    """A site from before the theme layer: full copies of the default templates, no placard_version."""
    project = make_project(tmp_path)
    (project.root / "templates" / "base.html").write_bytes((DEFAULT_THEME / "templates" / "base.html").read_bytes())
    (project.root / "static" / "style.css").write_bytes((DEFAULT_THEME / "static" / "style.css").read_bytes())
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    assert main(["migrate", "--dry-run", "--root", str(project.root)]) == 0
    out = capsys.readouterr().out
    assert f"site.yml: add 'placard_version: {installed_version()}' at the top" in out
    assert "templates/base.html: delete: the same as placard's theme, which now provides it" in out
    assert "static/style.css: delete: the same as placard's theme" in out
    assert "Dry run: 3 changes listed, nothing written" in out
    assert {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()} == before
    assert main(["migrate", "--root", str(project.root)]) == 0
    assert not (project.root / "templates" / "base.html").exists()
    build(project, NOW)  # still builds, from the theme
    capsys.readouterr()
    assert main(["migrate", "--root", str(project.root)]) == 0
    assert "Nothing to change" in capsys.readouterr().out


def test_a_site_made_with_a_newer_placard_is_refused_with_what_to_do(tmp_path):
    project = make_project(tmp_path, {"site.yml": "title: T\ntagline: T\ndescription: D\nbase_url: https://example.org/\ntimezone: Europe/London\nplacard_version: 99.0\n"})
    (error,) = build_errors(project)
    assert error.startswith(f"site.yml:6: placard_version: this site was made with placard 99.0, newer than the installed {installed_version()}; upgrade placard")


def test_a_content_format_change_stops_the_build_until_the_site_migrates(tmp_path, monkeypatch):
    from placard import versions

    monkeypatch.setattr(versions, "FORMAT_CHANGES", ("0.0.5",))
    project = make_project(tmp_path, {"site.yml": "title: T\ntagline: T\ndescription: D\nbase_url: https://example.org/\ntimezone: Europe/London\nplacard_version: 0.0.1\n"})
    (error,) = build_errors(project)
    assert error == ("site.yml:6: placard_version: placard 0.0.5 changed the content format since 0.0.1; run `placard migrate --dry-run` "
                     "to see what to change, file by file, then `placard migrate` to change it")


def test_version_comes_from_the_package_metadata(capsys):
    from importlib import metadata

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"placard {metadata.version('placard')}"


@pytest.mark.skipif(not os.environ.get("VIRTUAL_ENV") and sys.prefix == sys.base_prefix, reason="needs a virtual environment with pip")
def test_a_site_builds_with_placard_installed_from_a_wheel_not_the_source(tmp_path):
    """The wheel carries the theme and the .pot; a build from it never reads the source tree."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("placard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "placard/theme/templates/base.html" in names and "placard/messages.pot" in names and "placard/theme/static/style.css" in names
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = ("import placard, sys; from placard.cli import main; "
              f"assert placard.__file__.startswith({str(target)!r}), placard.__file__; "
              f"sys.exit(main(['init', {str(site)!r}, '--languages', 'en,ru', '--now', {NOW.isoformat()!r}]) "
              f"or main(['--root', {str(site)!r}, '--now', {NOW.isoformat()!r}]) or main(['check', '--root', {str(site)!r}]))")
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Check passed: 0 findings" in run.stdout
    assert (site / "output" / "ru" / "index.html").is_file()


@pytest.mark.parametrize("when", [NOW, NOW.replace(month=1, day=1, hour=0, minute=30)], ids=["november", "new year's night"])
def test_the_starter_post_is_published_and_its_protest_upcoming_whenever_init_runs(tmp_path, when):
    folder = tmp_path / "site"
    assert main(["init", str(folder), "--now", when.isoformat()]) == 0
    report = build(Project(folder), when)
    assert (report.summary.posts, report.summary.events, report.summary.held_back) == (1, 1, ())
    assert 'class="next-event' in (folder / "output" / "index.html").read_text(encoding="utf-8")  # the home page leads with it
