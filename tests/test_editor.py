"""The preview's editor without a browser: forms generated from the schemas, files written in the format a
person writes (order and comments kept), checked by the build before writing, confined to content/,
stale saves refused, undo exact; and over HTTP: foreign Host, foreign Origin and missing token refused."""

from __future__ import annotations

import base64
import http.client
import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import REPO, make_project

from placard.editor import (SCHEMAS, Editor, EditRefused, controls_for, form_values, kind_of, raise_sequence,
                            split_source, join_source)
from placard.models import EVENT_SCHEMA
from placard.serve import Preview
from placard.schema import Field, choice

WHEN = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def seed_files() -> list[Path]:
    return sorted((REPO / "content").rglob("*.md"))


# --- forms from the schemas ------------------------------------------------------------------


def test_every_schema_field_has_a_control_and_a_new_field_appears_by_itself():
    for kind, schema in SCHEMAS.items():
        assert [control.key for control in controls_for(schema)] == list(schema)
    widened = {**EVENT_SCHEMA, "banner_colour": Field(choice("red", "black"))}
    added = controls_for(widened)[-1]
    assert (added.key, added.widget, added.options) == ("banner_colour", "select", ("red", "black"))


def test_controls_follow_the_parsers():
    event = {c.key: c for c in controls_for(EVENT_SCHEMA)}
    assert event["starts"].widget == "local-time" and event["previous_start"].widget == "local-time"
    assert event["timezone"].widget == "timezone"
    assert event["status"].widget == "select" and "cancelled" in event["status"].options
    assert event["posts"].widget == "lines" and event["uid"].widget == "uid"
    entity = {c.key: c for c in controls_for(SCHEMAS["entity"])}
    ties = entity["ties"]
    assert ties.widget == "records"
    relation = next(c for c in ties.records if c.key == "relation")
    assert relation.widget == "select" and "lobbies-for" in relation.options and "other" in relation.options
    sources = next(c for c in ties.records if c.key == "sources")
    assert sources.widget == "records" and [c.key for c in sources.records][:2] == ["post", "url"]


# --- writing: the same bytes when nothing changed, comments and order kept ----------------


@pytest.mark.parametrize("file", seed_files(), ids=lambda f: f.name)
def test_saving_a_seed_file_unchanged_writes_the_same_bytes(tmp_path, file):
    seed = {f"content/{f.parent.name}/{f.name}": f.read_bytes() for f in seed_files()}  # (the site-wide checks need its neighbours)
    project = make_project(tmp_path, {**seed, "site.yml": (REPO / "site.yml").read_bytes()}, fixture="none")
    editor = Editor(project.root, clock=lambda: WHEN)
    rel = f"content/{file.parent.name}/{file.name}"
    kind, text, source, values = editor.open_file(rel)
    target, new, problems = editor.prepare(kind, rel, values, source.body, text)
    assert problems == []
    assert new.encode() == file.read_bytes()


COMMENTED = """\
---
# Written by hand; keep this comment.
title: "Vigil at the embassy"
slug: vigil
uid: 0e4a6017-1fff-47a2-bf32-ef0292c51230
starts: 2026-12-10 18:00   # after work
timezone: Europe/London
venue: Embassy steps
---

Bring candles.
"""


def test_a_change_keeps_comments_order_and_quotes_and_raises_the_sequence(tmp_path):
    project = make_project(tmp_path, {"content/events/vigil.md": COMMENTED})
    editor = Editor(project.root, clock=lambda: WHEN)
    kind, text, source, values = editor.open_file("content/events/vigil.md")
    values["venue"] = "Embassy gates"
    values["city"] = "London"
    target, new, problems = editor.prepare(kind, "content/events/vigil.md", values, source.body, text)
    assert problems == []
    assert new == COMMENTED.replace("venue: Embassy steps", "venue: Embassy gates\ncity: London").replace(
        "uid: 0e4a6017-1fff-47a2-bf32-ef0292c51230\n", "uid: 0e4a6017-1fff-47a2-bf32-ef0292c51230\nsequence: 1\n")


def test_sequence_rises_once_per_save_and_not_for_other_fields():
    old = {"starts": "2026-12-10 18:00", "status": "scheduled", "sequence": "2", "summary": "a"}
    assert raise_sequence(old, {**old, "summary": "b"})["sequence"] == "2"
    assert raise_sequence(old, {**old, "status": "cancelled"})["sequence"] == "3"
    assert raise_sequence(old, {**old, "status": "cancelled", "sequence": "5"})["sequence"] == "5"
    moved = raise_sequence(old, {**old, "starts": "2026-12-11 18:00", "status": "rescheduled"})
    assert moved["previous_start"] == "2026-12-10 18:00" and moved["sequence"] == "3"


def test_new_items_get_a_uid_and_a_dated_file_name(tmp_path):
    editor = Editor(make_project(tmp_path).root, clock=lambda: WHEN)
    values = editor.new_values("event")
    assert re.fullmatch(r"[0-9a-f-]{36}", values["uid"]) and values["timezone"] == "Europe/London"
    values.update(title="Vigil", slug="vigil", starts="2026-12-10 18:00")
    target, text, problems = editor.prepare("event", None, values, "Bring candles.\n", None)
    assert problems == [] and target == "content/events/2026-12-10-vigil.md"
    assert text.startswith(f"---\ntitle: Vigil\nslug: vigil\nuid: {values['uid']}\nstarts: 2026-12-10 18:00\n")


# --- checking before writing -------------------------------------------------------------


def test_every_problem_is_reported_in_the_builds_words_and_nothing_is_written(tmp_path):
    project = make_project(tmp_path)
    editor = Editor(project.root, clock=lambda: WHEN)
    before = sorted(p.name for p in project.content.rglob("*"))
    values = editor.new_values("event")
    values.update(title="Vigil", slug="Vigil Now", starts="2026-02-30 18:00", timezone="Europe/Londn")
    target, text, problems = editor.prepare("event", None, values, "x\n", None)
    fields = {p.field: p.message for p in problems}
    assert "slug" in fields and "not a valid slug" in fields["slug"]
    assert "Did you mean 'Europe/London'?" in fields["timezone"]
    assert sorted(p.name for p in project.content.rglob("*")) == before


def test_a_tie_without_source_is_named_at_its_row(tmp_path):
    editor = Editor(make_project(tmp_path).root, clock=lambda: WHEN)
    values = editor.new_values("entity")
    values.update(name="Acme Two", slug="acme-two", type="company",
                  ties=[{"relation": "owns", "object": "acme", "sources": []}])
    _, _, problems = editor.prepare("entity", None, values, "", None)
    assert [(p.field, "at least one source" in p.message) for p in problems] == [("ties[1].sources", True)]


def test_a_tie_to_an_entity_that_does_not_exist_is_found_before_writing(tmp_path):
    project = make_project(tmp_path)
    editor = Editor(project.root, clock=lambda: WHEN)
    before = sorted(p.name for p in project.content.rglob("*"))
    values = editor.new_values("entity")
    values.update(name="Acme Two", slug="acme-two", type="company",
                  ties=[{"relation": "owns", "object": "acmee", "sources": [{"post": "first-post"}]}])
    _, _, problems = editor.prepare("entity", None, values, "", None)
    assert [(p.path, p.field) for p in problems] == [("content/links/acme-two.md", "ties[1].object")]
    assert "no published entity has slug 'acmee' (did you mean 'acme'?)" in problems[0].message
    assert sorted(p.name for p in project.content.rglob("*")) == before


def test_references_slugs_and_uids_are_checked_with_the_rest_of_the_site(tmp_path):
    project = make_project(tmp_path)
    editor = Editor(project.root, clock=lambda: WHEN)
    post = editor.new_values("post") | {"title": "Again", "slug": "first-post", "date": "2011-12-20", "author": "A"}
    _, _, problems = editor.prepare("post", None, post, "See [the vigil](event:vigil).\n", None)
    assert {p.field for p in problems} == {"slug", "body"}
    assert any("also used by content/news/first-post.md" in p.message for p in problems)
    assert any("the link 'event:vigil' points to no published event" in p.message for p in problems)
    demo = (project.content / "events" / "demo.md").read_text(encoding="utf-8")
    uid = re.search(r"^uid: (\S+)", demo, re.M).group(1)
    event = editor.new_values("event") | {"title": "Copy", "slug": "copy", "starts": "2026-12-10 18:00", "uid": uid, "posts": ["no-such-post"]}
    _, _, problems = editor.prepare("event", None, event, "", None)
    assert sorted(p.field for p in problems) == ["posts", "uid"]


def test_a_change_that_breaks_another_file_names_that_file(tmp_path):
    project = make_project(tmp_path)
    editor = Editor(project.root, clock=lambda: WHEN)
    rel = "content/links/exchange.md"
    kind, text, source, values = editor.open_file(rel)
    values["slug"] = "the-exchange"
    _, _, problems = editor.prepare(kind, rel, values, source.body, text)
    assert [(p.path, p.field) for p in problems] == [("content/links/acme.md", "ties[1].object")]


def test_form_values_read_rows_and_drop_removed_and_empty_ones():
    controls = controls_for(SCHEMAS["entity"])
    form = {"name": ["A"], "ties.count": ["3"], "ties.0.relation": ["owns"], "ties.0.object": ["b"],
            "ties.0.sources.count": ["1"], "ties.0.sources.0.post": ["p"], "ties.1.relation": ["owns"], "ties.1.remove": ["1"],
            "aliases": ["One\r\n\r\nTwo\r\n"]}
    values = form_values(form, controls)
    assert values["aliases"] == ["One", "Two"]
    assert [t["object"] for t in values["ties"]] == ["b"] and values["ties"][0]["sources"][0]["post"] == "p"


# --- files: confined, atomic, never overwritten by surprise, undo exact --------------------


@pytest.mark.parametrize("rel", ["site.yml", "content/../site.yml", "/etc/passwd", "content/news/../../site.yml",
                                 "content/news/x.txt", "content/.git/config.md", "content/news/./a.md"])
def test_writes_outside_content_are_refused(tmp_path, rel):
    editor = Editor(make_project(tmp_path).root, clock=lambda: WHEN)
    with pytest.raises(EditRefused):
        editor.save(rel, "---\ntitle: x\n---\n", None, WHEN)


def test_a_symlink_out_of_content_is_refused(tmp_path):
    project = make_project(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, project.content / "news" / "escape")
    with pytest.raises(EditRefused, match="symbolic link"):
        Editor(project.root, clock=lambda: WHEN).save("content/news/escape/a.md", "---\ntitle: x\n---\n", None, WHEN)
    assert list(outside.iterdir()) == []


def test_a_file_changed_since_the_form_opened_is_refused_with_the_difference(tmp_path):
    project = make_project(tmp_path, {"content/events/vigil.md": COMMENTED})
    editor = Editor(project.root, clock=lambda: WHEN)
    target = project.content / "events" / "vigil.md"
    kind, text, source, values = editor.open_file("content/events/vigil.md")
    target.write_text(COMMENTED.replace("Bring candles.", "Bring torches."), encoding="utf-8")  # the other tab, or a text editor
    values["venue"] = "Elsewhere"
    rel, new, problems = editor.prepare(kind, "content/events/vigil.md", values, source.body, text)
    with pytest.raises(EditRefused) as refused:
        editor.save(rel, new, text, WHEN)
    assert "changed since this form was opened" in str(refused.value)
    assert "-Bring candles.\n+Bring torches." in refused.value.diff
    assert "Bring torches." in target.read_text(encoding="utf-8")


def test_undo_restores_the_previous_bytes_exactly_and_keeps_a_dated_copy(tmp_path):
    original = COMMENTED.replace("\n", "\r\n").encode("utf-8")  # CRLF, as some editors write
    project = make_project(tmp_path, {"content/events/vigil.md": original})
    editor = Editor(project.root, clock=lambda: WHEN)
    target = project.content / "events" / "vigil.md"
    kind, text, source, values = editor.open_file("content/events/vigil.md")
    values["venue"] = "Elsewhere"
    rel, new, problems = editor.prepare(kind, "content/events/vigil.md", values, source.body, text)
    assert problems == []
    editor.save(rel, new, original, WHEN)
    assert b"venue: Elsewhere\r\n" in target.read_bytes() and b"\n\n" not in target.read_bytes()
    copies = [p for p in (project.root / ".placard-history").iterdir() if p.name != ".gitignore"]
    assert [p.read_bytes() for p in copies] == [original]
    assert (project.root / ".placard-history" / ".gitignore").read_text().splitlines()[-1] == "*"
    editor.undo(WHEN)
    assert target.read_bytes() == original
    with pytest.raises(EditRefused, match="no save to undo"):
        editor.undo(WHEN)


def test_undo_of_a_new_file_removes_it_and_undo_refuses_after_a_later_change(tmp_path):
    project = make_project(tmp_path)
    editor = Editor(project.root, clock=lambda: WHEN)
    values = editor.new_values("page")
    values.update(title="Contact", slug="contact")
    rel, text, problems = editor.prepare("page", None, values, "Write to us.\n", None)
    editor.save(rel, text, None, WHEN)
    (project.root / rel).write_text(text + "More.\n", encoding="utf-8")
    with pytest.raises(EditRefused, match="changed after the last save"):
        editor.undo(WHEN)
    (project.root / rel).write_text(text, encoding="utf-8")
    editor.undo(WHEN)
    assert not (project.root / rel).exists()


def test_split_and_join_keep_a_file_without_blank_line_after_the_front_matter():
    for text in ("---\ntitle: A\n---\nBody\n", "---\ntitle: A\n---\n\n\nBody\n", "----  \ntitle: A # a\n---\n", "---\ntitle: A\n---"):
        assert join_source(split_source(text)) == text + ("\n" if not text.endswith("\n") else "")
    assert kind_of("content/links/a.md") == "entity"


# --- over HTTP: only the preview's own pages may write -------------------------------------


@pytest.fixture()
def preview(tmp_path):
    """A preview server with editing on, on a free loopback port, in a thread (no watcher: rebuilds not needed)."""
    import asyncio

    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.testing import bind_unused_port

    from placard.editor_http import EditorSite, own_hosts
    from placard.serve import Preview, PreviewState, make_app

    project = make_project(tmp_path)
    state = PreviewState(Preview({"index.html": b'<!DOCTYPE html><html lang="en"><head><title>Home</title></head><body><p>home</p></body></html>'}, None, 1))
    started, box = threading.Event(), {}

    def serve() -> None:
        asploop = asyncio.new_event_loop()
        asyncio.set_event_loop(asploop)
        sock, port = bind_unused_port()
        site = EditorSite(Editor(project.root, clock=lambda: WHEN), lambda: state.preview, clock=lambda: WHEN, hosts=own_hosts(port), rebuild_wait=0)
        site_box = site
        HTTPServer(make_app(state, site_box)).add_sockets([sock])
        box.update(port=port, loop=IOLoop.current(), site=site)
        started.set()
        IOLoop.current().start()

    threading.Thread(target=serve, daemon=True).start()
    assert started.wait(10)
    yield project, box["port"], box["site"]
    box["loop"].add_callback(box["loop"].stop)


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = urlencode(body or {}, doseq=True) if body is not None else None
    all_headers = {"Host": f"127.0.0.1:{port}", **({"Content-Type": "application/x-www-form-urlencoded"} if data else {}), **(headers or {})}
    connection.request(method, path, data, all_headers)
    response = connection.getresponse()
    return response.status, response.read().decode()


def new_page_form(token: str) -> dict:
    return {"__token": token, "__kind": "page", "__file": "", "__base": "", "title": "Contact", "slug": "contact", "__body": "Write to us.\n", "__action": "save"}


def test_the_form_carries_the_token_and_the_page_the_edit_bar(preview):
    project, port, site = preview
    status, form = request(port, "GET", "/__placard__/edit?" + urlencode({"file": "content/pages/about.md"}))
    assert status == 200 and f'name="__token" value="{site.editor.token}"' in form
    assert '<label for="f-title">Title <code class="key" lang="en">title</code>' in form and 'aria-describedby="f-title-help"' in form
    status, page = request(port, "GET", "/")
    assert status == 200 and 'id="placard-editor-bar"' in page and "/__placard__/new/event" in page


def test_a_same_origin_post_with_the_token_writes(preview):
    project, port, site = preview
    status, _ = request(port, "POST", "/__placard__/save", new_page_form(site.editor.token), {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 303
    assert (project.content / "pages" / "contact.md").read_text(encoding="utf-8") == "---\ntitle: Contact\nslug: contact\n---\n\nWrite to us.\n"


def test_a_post_from_a_page_without_referrer_is_recognised_by_fetch_metadata(preview):
    project, port, site = preview  # the site's pages say no-referrer: the browser sends Origin: null
    status, _ = request(port, "POST", "/__placard__/save", new_page_form(site.editor.token), {"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert status == 303


@pytest.mark.parametrize("case", ["cross-origin", "no origin", "null origin cross-site", "no token", "wrong token", "foreign host", "rebinding host"])
def test_posts_from_elsewhere_are_refused_and_write_nothing(preview, case):
    project, port, site = preview
    form = new_page_form(site.editor.token)
    headers = {"Origin": f"http://127.0.0.1:{port}"}
    if case == "cross-origin":
        headers["Origin"] = "https://evil.example"
    elif case == "no origin":
        headers = {}
    elif case == "null origin cross-site":  # a sandboxed frame or a no-referrer page elsewhere
        headers = {"Origin": "null", "Sec-Fetch-Site": "cross-site"}
    elif case == "no token":
        del form["__token"]
    elif case == "wrong token":
        form["__token"] = "x" * 43
    elif case == "foreign host":
        headers = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    elif case == "rebinding host":  # evil.example resolved to 127.0.0.1: the browser still names evil.example
        headers = {"Host": "evil.example", "Origin": "http://evil.example"}
    status, text = request(port, "POST", "/__placard__/save", form, headers)
    assert status == 403 and text.startswith("Refused:")
    assert not (project.content / "pages" / "contact.md").exists()


def test_pages_and_forms_are_refused_to_a_foreign_host(preview):
    project, port, site = preview
    for path in ("/", "/__placard__/edit?file=content/pages/about.md", "/__placard__/new/post"):
        status, text = request(port, "GET", path, headers={"Host": f"evil.example:{port}"})
        assert status == 403 and site.editor.token not in text


def test_read_only_preview_has_no_editor(tmp_path):
    from placard.serve import PreviewServer

    server = PreviewServer(make_project(tmp_path), lambda: None, lambda line: None, editing=False)
    assert server.make_editor_site("127.0.0.1") is None
    logged: list[str] = []
    server = PreviewServer(make_project(tmp_path / "b"), lambda: None, logged.append, editing=True)
    assert server.make_editor_site("0.0.0.0") is None and "Editing in the browser is off" in logged[0]
    assert server.make_editor_site("127.0.0.1") is not None


def test_the_bar_and_the_form_speak_the_pages_language(preview):
    from placard.editor_http import editor_bar, make_messages

    project, port, site = preview
    site.language, site.messages = make_messages(project)
    bar = editor_bar(site, "content/pages/about.md", "ru/about/index.html")
    assert 'lang="ru"' in bar and "Изменить эту страницу" in bar and "Новое событие" in bar and "lang=ru" in bar
    assert "New event" in editor_bar(site, None, "index.html")
    status, form = request(port, "GET", "/__placard__/new/event?lang=kk")
    assert status == 200 and '<html lang="kk">' in form and "Тексеру және сақтау" in form and 'name="__lang" value="kk"' in form
    # the fields by their names in the form's language, each with its front-matter key (as in the README)
    assert '<label for="f-timezone">Уақыт белдеуі <code class="key" lang="en">timezone</code>' in form
    assert 'Басталуы <code class="key" lang="en">starts</code>' in form


def test_every_field_a_form_shows_has_a_label_in_plain_words():
    from placard.editor import RECORDS, SCHEMAS
    from placard.vocabulary import FIELD_LABELS

    keys = {key for schema in (*SCHEMAS.values(), *RECORDS.values()) for key in schema}
    assert sorted(keys - set(FIELD_LABELS)) == []


def test_in_a_git_project_each_save_is_a_commit_and_other_staged_work_stays_staged(tmp_path):
    import subprocess

    project = make_project(tmp_path, {"content/events/vigil.md": COMMENTED})
    def git(*args):
        return subprocess.run(["git", "-C", str(project.root), *args], capture_output=True, text=True, check=True).stdout
    git("init", "-q")
    git("config", "user.name", "Campaigner")
    git("config", "user.email", "campaigner@example.org")
    git("add", "content/events/vigil.md")
    git("commit", "-qm", "start")
    (project.content / "pages" / "about.md").write_text("---\ntitle: About\nslug: about\n---\nStaged by hand.\n", encoding="utf-8")
    git("add", "content/pages/about.md")
    editor = Editor(project.root, clock=lambda: WHEN)
    target = project.content / "events" / "vigil.md"
    target.write_text(COMMENTED + "Changed in a text editor, not committed.\n", encoding="utf-8")
    kind, text, source, values = editor.open_file("content/events/vigil.md")
    values["venue"] = "Elsewhere"
    rel, new, problems = editor.prepare(kind, "content/events/vigil.md", values, source.body, text)
    editor.save(rel, new, target.read_bytes(), WHEN)
    log = git("log", "--format=%s").splitlines()
    assert log == ["content/events/vigil.md: saved in the preview's editor",
                   "content/events/vigil.md: as it was before the preview's editor saved it", "start"]
    assert "Changed in a text editor, not committed." in git("show", "HEAD~1:content/events/vigil.md")
    assert git("diff", "--cached", "--name-only").split() == ["content/pages/about.md"]  # still staged, not committed
    assert ".placard-history" not in git("status", "--porcelain")
    assert editor.notes == []


def test_a_line_the_build_does_not_know_can_be_removed_in_the_form(preview):
    project, port, site = preview
    text = "---\ntitle: About\nslug: about\nends_at: 2026-12-10\n---\n\nAbout us.\n"
    (project.content / "pages" / "about.md").write_text(text, encoding="utf-8")
    form = {"__token": site.editor.token, "__kind": "page", "__file": "content/pages/about.md",
            "__base": base64.b64encode(text.encode()).decode(), "title": "About", "slug": "about", "__body": "About us.\n", "__action": "save"}
    origin = {"Origin": f"http://127.0.0.1:{port}"}
    status, page = request(port, "POST", "/__placard__/save", form, origin)
    assert status == 422 and '<code>ends_at: 2026-12-10</code>' in page and 'id="f-ends_at-error"' in page
    assert "unknown field" in page
    status, _ = request(port, "POST", "/__placard__/save", {**form, "__drop": "ends_at"}, origin)
    assert status == 303
    assert (project.content / "pages" / "about.md").read_text(encoding="utf-8") == text.replace("ends_at: 2026-12-10\n", "")


def test_the_forms_and_the_bar_are_valid_html_for_the_nu_checker(preview, tmp_path):
    from test_accessible import vnu_errors, vnu_missing

    if vnu_missing():
        pytest.skip(vnu_missing())
    project, port, site = preview
    pages = {}
    for kind in SCHEMAS:
        pages[f"new-{kind}.html"] = request(port, "GET", f"/__placard__/new/{kind}")[1]
    for rel in ("content/links/jane-doe.md", "content/events/demo.md", "content/events/demo-ru.md", "content/news/first-post.md"):
        pages[rel.replace("/", "-") + ".html"] = request(port, "GET", "/__placard__/edit?" + urlencode({"file": rel}))[1]
    bad = new_page_form(site.editor.token) | {"slug": "Bad Slug", "menu": "x"}
    status, pages["problems.html"] = request(port, "POST", "/__placard__/save", bad, {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 422
    pages["home-with-bar.html"] = request(port, "GET", "/")[1]
    for rel in ("content/pages/about.md", "content/news/first-post.md"):  # asked to confirm; refused, with the files it would break
        form = {"__token": site.editor.token, "__file": rel, "__base": base64.b64encode((project.root / rel).read_bytes()).decode()}
        pages["delete-" + rel.replace("/", "-") + ".html"] = request(port, "POST", "/__placard__/delete", form, {"Origin": f"http://127.0.0.1:{port}"})[1]
    checked, errors = vnu_errors({name: text.encode() for name, text in pages.items()}, tmp_path / "forms")
    assert len(checked) == 12 and errors == []


def test_a_slug_another_file_has_is_refused_beside_the_slug(preview):
    project, port, site = preview
    site.current = lambda: Preview({}, None, 1, {"contact/index.html": "content/pages/write-to-us.md"})  # its slug is contact
    status, page = request(port, "POST", "/__placard__/save", new_page_form(site.editor.token), {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 422 and 'id="f-slug-error"' in page and "already the slug of content/pages/write-to-us.md" in page
    assert not (project.content / "pages" / "contact.md").exists()


def test_a_reply_of_several_lines_is_edited_in_a_text_area_and_kept(preview):
    project, port, site = preview
    text = ("---\ntitle: Thread\nslug: thread\ndate: 2011-12-18\nauthor: A\nreplies:\n  - author: B\n    date: 2011-12-19\n"
            "    body: |\n      First line.\n      Second line.\n---\n\nPost.\n")
    (project.content / "news" / "thread.md").write_text(text, encoding="utf-8")
    status, form = request(port, "GET", "/__placard__/edit?" + urlencode({"file": "content/news/thread.md"}))
    assert '<textarea id="f-replies.0.body" name="replies.0.body" rows=' in form and "First line.\nSecond line." in form
    editor = Editor(project.root, clock=lambda: WHEN)
    kind, original, source, values = editor.open_file("content/news/thread.md")
    assert values["replies"][0]["body"] == "First line.\nSecond line.\n"
    values["replies"][0]["author"] = "C"
    _, new, problems = editor.prepare(kind, "content/news/thread.md", values, source.body, original)
    assert problems == [] and new == text.replace("author: B", "author: C")


def test_a_tie_to_a_missing_entity_is_shown_beside_its_field_and_nothing_is_written(preview):
    project, port, site = preview
    form = {"__token": site.editor.token, "__kind": "entity", "__file": "", "__base": "", "__action": "save",
            "name": "Acme Two", "slug": "acme-two", "type": "company", "ties.count": "1", "ties.0.relation": "owns",
            "ties.0.object": "acmee", "ties.0.sources.count": "1", "ties.0.sources.0.post": "first-post", "__body": ""}
    status, page = request(port, "POST", "/__placard__/save", form, {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 422
    error = re.search(r'<p class="error" id="f-ties.0.object-error">([^<]*)</p>', page)
    assert error and "no published entity has slug &#39;acmee&#39; (did you mean &#39;acme&#39;?)" in error.group(1)
    assert 'aria-describedby="f-ties.0.object-help f-ties.0.object-error" aria-invalid="true"' in page
    assert not (project.content / "links" / "acme-two.md").exists()


def test_a_problem_caused_in_another_file_is_listed_with_that_file(preview):
    project, port, site = preview
    rel = "content/links/exchange.md"
    base = (project.root / rel).read_bytes()
    form = {"__token": site.editor.token, "__kind": "entity", "__file": rel, "__base": base64.b64encode(base).decode(),
            "__action": "save", "name": "Exchange", "slug": "the-exchange", "type": "institution", "__body": ""}
    status, page = request(port, "POST", "/__placard__/save", form, {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 422 and "<li>content/links/acme.md: ties[1].object: no published entity has slug &#39;exchange&#39;" in page
    assert (project.root / rel).read_bytes() == base


def every_control():
    """Every control any form shows: each kind's, each translation's, each record's and part's."""
    from placard.editor import RECORDS
    from placard.models import TRANSLATION_SCHEMAS

    def walk(controls):
        for control in controls:
            yield control
            yield from walk(control.records)

    for schema in (*SCHEMAS.values(), *RECORDS.values(), *TRANSLATION_SCHEMAS.values()):
        yield from walk(controls_for(schema))


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_fields_help_is_in_the_forms_language(lang):
    """Fails when a schema's help or a parser's docstring changes (or a field is added) without its translation."""
    from placard.catalogue import check_catalogues
    from placard.editor import HELP_TEXTS, translated_help
    from placard.project import Project

    gettext = check_catalogues(Project(REPO).template_layers, (lang,)).catalogues[lang].gettext
    english_only = sorted({c.help for c in every_control() if c.help and translated_help(c.help, gettext) == c.help})
    assert english_only == []
    assert sorted({c.help for c in every_control() if c.help and not c.help.startswith("one of: ")} - set(HELP_TEXTS)) == []


def test_the_kk_event_forms_help_is_kazakh_the_values_as_written(preview):
    project, port, site = preview
    from placard.editor_http import make_messages

    site.language, site.messages = make_messages(project)
    status, form = request(port, "GET", "/__placard__/new/event?lang=kk")
    assert status == 200
    assert '<p class="help" id="f-timezone-help">мысалы Europe/London</p>' in form
    assert '<p class="help" id="f-status-help">мыналардың бірі: scheduled, cancelled, postponed, rescheduled, moved-online</p>' in form
    assert "Іс-шараның өз уақыт белдеуіндегі уақыты" in form
    status, form = request(port, "GET", "/__placard__/new/post?lang=ru")
    assert '<p class="help" id="f-slug-help">строчные-слова-через-дефис; задаёт адрес страницы</p>' in form


# --- deleting a file ---------------------------------------------------------------------


def test_deleting_a_file_asks_first_then_undo_restores_its_bytes_exactly(preview):
    from placard.editor_http import make_messages

    project, port, site = preview
    site.language, site.messages = make_messages(project)
    rel = "content/pages/about.md"
    target = project.root / rel
    original = target.read_bytes()
    origin = {"Origin": f"http://127.0.0.1:{port}"}
    form = {"__token": site.editor.token, "__file": rel, "__base": base64.b64encode(original).decode(), "__lang": "ru"}
    status, edit = request(port, "GET", "/__placard__/edit?" + urlencode({"file": rel, "lang": "ru"}))
    assert '<form method="post" action="/__placard__/delete" class="delete-form">' in edit and "Удалить этот файл" in edit
    status, page = request(port, "POST", "/__placard__/delete", form, origin)
    assert status == 200 and "Удалить content/pages/about.md?" in page and 'name="__confirm" value="yes"' in page
    assert target.read_bytes() == original  # asked, not done
    status, _ = request(port, "POST", "/__placard__/delete", {**form, "__confirm": "yes"}, origin)
    assert status == 303 and not target.exists()
    assert [copy.read_bytes() for copy in (project.root / ".placard-history").glob("*about.md")] == [original]
    status, _ = request(port, "POST", "/__placard__/undo", {"__token": site.editor.token}, origin)
    assert status == 303 and target.read_bytes() == original and site.editor.saves == []


def test_a_delete_that_would_break_other_files_is_refused_with_their_list_and_writes_nothing(preview):
    project, port, site = preview
    rel = "content/news/first-post.md"
    before = {path: path.read_bytes() for path in project.content.rglob("*") if path.is_file()}
    form = {"__token": site.editor.token, "__file": rel, "__base": base64.b64encode((project.root / rel).read_bytes()).decode()}
    for confirm in ({}, {"__confirm": "yes"}):  # refused when asking, and when confirming (a form sent anyway)
        status, page = request(port, "POST", "/__placard__/delete", {**form, **confirm}, {"Origin": f"http://127.0.0.1:{port}"})
        assert status == 409 and "Other files link to this one: deleting it would break them." in page
        listed = re.findall(r'<li><a href="/__placard__/edit\?file=([^&]+)&amp;lang=en">', page)
        assert [name.replace("%2F", "/") for name in listed] == ["content/events/demo-ru.md", "content/events/demo.md", "content/links/acme.md",
                                                                 "content/news/first-post-kk.md", "content/news/second-post.md"]
        assert "content/news/second-post.md</a>:14: body: the link &#39;post:first-post&#39; points to no published post" in page
        assert "content/links/acme.md</a>:11: ties[1].sources[1].post: no published post has slug &#39;first-post&#39;" in page
        assert 'name="__confirm"' not in page
    assert {path: path.read_bytes() for path in project.content.rglob("*") if path.is_file()} == before
    assert site.editor.saves == [] and not (project.root / ".placard-history").exists()


def test_a_delete_is_refused_when_the_file_changed_or_without_the_token(preview):
    project, port, site = preview
    rel = "content/pages/about.md"
    target = project.root / rel
    old = target.read_bytes()
    target.write_bytes(old + b"\nChanged in a text editor.\n")
    form = {"__token": site.editor.token, "__file": rel, "__base": base64.b64encode(old).decode(), "__confirm": "yes"}
    status, page = request(port, "POST", "/__placard__/delete", form, {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 409 and "was changed since this form was opened" in page and "+Changed in a text editor." in page
    for refused in ({**form, "__token": ""}, form):
        headers = {"Origin": "https://evil.example"} if refused is form else {"Origin": f"http://127.0.0.1:{port}"}
        assert request(port, "POST", "/__placard__/delete", refused, headers)[0] == 403
    assert target.exists() and site.editor.saves == []


def test_in_a_git_project_a_delete_is_a_commit_and_undo_brings_the_file_back(tmp_path):
    import subprocess

    project = make_project(tmp_path, {"content/events/vigil.md": COMMENTED})
    def git(*args):
        return subprocess.run(["git", "-C", str(project.root), *args], capture_output=True, text=True, check=True).stdout
    git("init", "-q")
    git("config", "user.name", "Campaigner")
    git("config", "user.email", "campaigner@example.org")
    git("add", "-A")
    git("commit", "-qm", "start")
    editor = Editor(project.root, clock=lambda: WHEN)
    base = (project.content / "events" / "vigil.md").read_bytes()
    editor.delete("content/events/vigil.md", base, WHEN)
    assert git("log", "--format=%s", "-1") == "content/events/vigil.md: deleted in the preview's editor\n"
    assert git("status", "--porcelain", "--", "content/events/vigil.md") == ""
    editor.undo(WHEN)
    assert (project.content / "events" / "vigil.md").read_bytes() == base
    assert git("log", "--format=%s", "-1") == "content/events/vigil.md: last save undone in the preview's editor\n"


def test_the_delete_confirmation_lists_the_photos_only_that_file_shows(preview):
    from test_editor_upload import photo_with_exif

    project, port, site = preview
    for name in ("only.jpg", "shared.jpg"):
        (project.content / "pages" / name).write_bytes(photo_with_exif())
    about = project.content / "pages" / "about.md"
    about.write_text(about.read_text(encoding="utf-8") + "\n![Only here](only.jpg)\n\n![Shared](shared.jpg)\n", encoding="utf-8")
    (project.content / "pages" / "other.md").write_text("---\ntitle: Other\nslug: other\n---\n\n![Shared too](shared.jpg)\n", encoding="utf-8")
    form = {"__token": site.editor.token, "__file": "content/pages/about.md", "__base": base64.b64encode(about.read_bytes()).decode()}
    status, page = request(port, "POST", "/__placard__/delete", form, {"Origin": f"http://127.0.0.1:{port}"})
    assert status == 200 and '<ul id="photos-left"><li><code>content/pages/only.jpg</code></li></ul>' in page
