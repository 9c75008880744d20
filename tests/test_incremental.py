"""The contract between the two sessions: after any sequence of edits, an incremental build (build.py's,
through .cache/ and output/, and the preview's, in memory) equals a cold build of the same files at
the same time, byte for byte.

Each sequence is drawn at random from a fixed seed (the same edits on every run, on every machine):
bodies, titles, dates and tags edited, posts added and removed, templates, site.yml, a catalogue and
a static file changed, a draft published, an event moved, and the clock moved forwards and back.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from conftest import NOW, editable, make_project, snapshot

import placard.incremental.session as session
from placard.pipeline import Project, build, build_site
from placard.serve import make_builder


def rewrite(project: Project, rel: str, change) -> None:
    """Apply `change` (text -> text) to one file of the project."""
    file = editable(project, rel)
    file.write_text(change(file.read_text(encoding="utf-8")), encoding="utf-8")


def posts(project: Project) -> list[str]:
    """The posts' files, in a stable order."""
    return sorted(p.relative_to(project.root).as_posix() for p in (project.content / "news").glob("*.md"))


def edit_body(project, rng, clock):
    rewrite(project, rng.choice(posts(project)), lambda t: t + f"\nA paragraph added, number {rng.randrange(1000)}.\n")


def edit_title(project, rng, clock):
    rewrite(project, rng.choice(posts(project)), lambda t: re.sub(r"(?m)^title: .*$", f'title: "Retitled, take {rng.randrange(100)}"', t, count=1))


def edit_date(project, rng, clock):
    day = f"20{rng.randrange(10, 13)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}"
    rewrite(project, rng.choice(posts(project)), lambda t: re.sub(r"(?m)^date: .*$", f"date: {day}", t, count=1))


def edit_tags(project, rng, clock):
    tag = rng.choice(["trials", "appeals", "london", "Әділет"])
    rewrite(project, rng.choice(posts(project)), lambda t: t.replace("---\n", f"---\ntags:\n  - {tag}\n", 1) if "\ntags:" not in t else t.replace("tags:\n", f"tags:\n  - {tag}-{rng.randrange(9)}\n", 1))


def add_post(project, rng, clock):
    number = rng.randrange(10**6)
    (project.content / "news" / f"added-{number}.md").write_text(
        f"---\ntitle: Added post {number}\nslug: added-{number}\ndate: 2012-0{rng.randrange(1, 10)}-01\nauthor: A. Dder\n---\n\nIt links to the [first post](post:first-post).\n",
        encoding="utf-8")


def remove_post(project, rng, clock):
    added = [p for p in posts(project) if "/added-" in p]
    if added:
        (project.root / rng.choice(added)).unlink()


def edit_template(project, rng, clock):
    rewrite(project, "templates/base.html", lambda t: t.replace("</body>", f"<!-- edit {rng.randrange(1000)} -->\n</body>", 1))


def edit_site_yml(project, rng, clock):
    rewrite(project, "site.yml", lambda t: re.sub(r"(?m)^tagline: .*$", f"tagline: Testing the generator, take {rng.randrange(100)}", t))


def edit_catalogue(project, rng, clock):
    news = f'msgid "News"\nmsgstr "Новости {rng.randrange(100)}"\n'  # the site's own wording, over the theme's
    rewrite(project, "templates/translations/ru.po", lambda t: re.sub(r'msgid "News"\nmsgstr "[^"]*"\n', news, t) if 'msgid "News"' in t else f"{t}\n{news}")


def edit_static(project, rng, clock):
    rewrite(project, "static/style.css", lambda t: t + f"\n/* edit {rng.randrange(1000)} */\n")


def publish_draft(project, rng, clock):
    rewrite(project, "content/news/draft-post.md", lambda t: t.replace("draft: true", "draft: false") if "draft: true" in t else t.replace("draft: false", "draft: true"))


def move_event(project, rng, clock):
    hour = rng.randrange(8, 20)
    rewrite(project, "content/events/demo.md", lambda t: re.sub(r"(?m)^starts: .*$", f"starts: 2011-12-21 {hour:02d}:00", t).replace("ends: 2011-12-21 14:00\n", ""))


def move_clock(project, rng, clock):
    clock[0] += rng.choice([timedelta(hours=1), timedelta(days=1), -timedelta(days=1), timedelta(days=4000), -timedelta(days=5000)])


EDITS = [edit_body, edit_title, edit_date, edit_tags, add_post, remove_post, edit_template, edit_site_yml,
         edit_catalogue, edit_static, publish_draft, move_event, move_clock]


@pytest.mark.parametrize("seed, keyed_by_stat", [(0, True), (1, True), (2, False)])
def test_incremental_builds_equal_cold_builds_after_random_edits(tmp_path, monkeypatch, seed, keyed_by_stat):
    """build.py and the preview, after each edit of a random sequence (every kind of edit once, in a
    random order, then three more), against a cold build."""
    if keyed_by_stat:  # every file counts as old enough to be cached by its stat (as on a real site between saves)
        monkeypatch.setattr(session, "RACY_SECONDS", -10**9)
    project = make_project(tmp_path)
    rng, clock = random.Random(seed), [NOW]
    preview = make_builder(project, lambda: clock[0])
    build(project, clock[0])
    preview()
    done = []
    for edit in rng.sample(EDITS, len(EDITS)) + rng.choices(EDITS, k=3):
        edit(project, rng, clock)
        done.append(edit.__name__)
        build(project, clock[0])
        assert snapshot(project.output) == build_site(project, clock[0])[1].files, done
        assert preview().files == build_site(project, clock[0], preview=True)[1].files, done
