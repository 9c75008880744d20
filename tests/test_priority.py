"""The preview's rendering order (placard.incremental.priority): after a template edit the pages the
browsers show render first and are shown at once; a later save stops the rebuild; what is finally
served is the whole, correct site. Then the server's side: which browsers reload when."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import NOW, editable, make_project

from placard.errors import BuildError
from placard.incremental.priority import Priority, Superseded, order_first
from placard.pipeline import build_site, preview_builder
from placard.serve import Preview, PreviewState

WANTED = "about/index.html"


class Recorder:
    """A server stand-in: the pages it asks for first, what it was shown and when, and a save after N pages."""

    def __init__(self, wanted=(), stop_after: int | None = None) -> None:
        self.wanted, self.stop_after = set(wanted), stop_after
        self.rendered = 0  # pages rendered so far (superseded is asked once per page)
        self.shown: list[tuple[int, dict]] = []

    def superseded(self) -> bool:
        self.rendered += 1
        return self.stop_after is not None and self.rendered > self.stop_after

    def priority(self) -> Priority:
        return Priority(lambda: self.wanted, lambda pages: self.shown.append((self.rendered, dict(pages))), self.superseded,
                        lambda: self.saved)

    saved: frozenset = frozenset()  # the files saved since the last good build, as the server tells (early.py)


def restyled(project) -> None:
    """An edit to the template every page extends, so every page renders again."""
    base = editable(project, "templates/base.html")
    text = base.read_text(encoding="utf-8")
    assert text.count("</footer>") == 1
    base.write_text(text.replace("</footer>", '<p class="restyled">Restyled.</p></footer>'), encoding="utf-8")


def test_after_a_template_edit_the_browsers_page_renders_first_and_is_shown_before_the_rest(tmp_path):
    project = make_project(tmp_path)
    recorder = Recorder()
    build = preview_builder(project, recorder.priority())
    build(NOW)
    assert recorder.shown == []  # no browser on a page yet: nothing shown early
    recorder.wanted, recorder.rendered = {WANTED}, 0
    restyled(project)
    output = build(NOW)
    assert recorder.rendered >= 50  # every page rendered again
    ((rendered_then, pages),) = recorder.shown
    assert rendered_then == 1 and set(pages) == {WANTED}  # shown when it alone was rendered
    assert b"Restyled." in pages[WANTED] and pages[WANTED] == output.files[WANTED]  # the final page, early
    assert output.files == build_site(project, NOW, preview=True)[1].files  # the whole site, as a plain build makes it


def test_after_an_edit_to_one_page_it_is_shown_before_the_rest_of_the_rebuild(tmp_path):
    project = make_project(tmp_path)
    recorder = Recorder({WANTED})
    build = preview_builder(project, recorder.priority())
    build(NOW)
    about = project.content / "pages/about.md"
    about.write_text(about.read_text(encoding="utf-8").replace("About the", "Now about the"), encoding="utf-8")
    recorder.shown.clear()
    recorder.rendered = 0
    output = build(NOW)
    assert 1 < recorder.rendered < 40  # a few pages: the page, the lists that show it
    ((rendered_then, pages),) = recorder.shown
    assert rendered_then == 1 and b"Now about the" in pages[WANTED] and pages[WANTED] == output.files[WANTED]


def saved_about(project, recorder, old: str = "About the", new: str = "Now about the") -> None:
    """Edit the about page's file, and tell the recorder as the server's watcher would."""
    about = project.content / "pages/about.md"
    about.write_text(about.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    recorder.saved, recorder.shown, recorder.rendered = frozenset({str(about)}), [], 0


def test_a_saved_items_page_is_shown_from_the_last_good_build_before_the_rebuild_starts(tmp_path):
    """placard.incremental.early: only the saved file read again, the browser's page rendered from the last plan."""
    project = make_project(tmp_path)
    recorder = Recorder({WANTED})
    build = preview_builder(project, recorder.priority())
    build(NOW)
    saved_about(project, recorder)
    output = build(NOW)
    (before_any, early), *rest = recorder.shown
    assert before_any == 0 and set(early) == {WANTED}  # shown before the rebuild rendered (or checked, or planned) anything
    assert b"Now about the" in early[WANTED] and early[WANTED] == output.files[WANTED]  # the page the rebuild makes
    assert [pages for _, pages in rest] == [early]  # (the rebuild's own early showing: the same bytes, so the server does not reload again)
    assert output.files == build_site(project, NOW, preview=True)[1].files


@pytest.mark.parametrize("saved", ["a template", "an invalid item", "a body that cannot be published", "a new file"])
def test_anything_but_items_saved_valid_is_left_to_the_rebuild(tmp_path, saved):
    project = make_project(tmp_path)
    recorder = Recorder({WANTED})
    build = preview_builder(project, recorder.priority())
    build(NOW)
    if saved == "a template":
        restyled(project)
        recorder.saved, recorder.shown, recorder.rendered = frozenset({str(project.root / "templates/base.html")}), [], 0
    elif saved == "an invalid item":
        saved_about(project, recorder, "title:", "title: [unclosed\nwhat:")
    elif saved == "a body that cannot be published":
        saved_about(project, recorder, "About the", "<script>alert(1)</script> About the")
    else:
        new = project.content / "pages/new.md"
        new.write_text("---\ntitle: New\nslug: new\n---\n\nNew page.\n", encoding="utf-8")
        recorder.saved, recorder.shown, recorder.rendered = frozenset({str(new)}), [], 0
    if saved in ("an invalid item", "a body that cannot be published"):
        with pytest.raises(BuildError):
            build(NOW)
    else:
        build(NOW)
    assert all(rendered_then >= 1 for rendered_then, _ in recorder.shown)  # nothing shown before the rebuild rendered it


def test_a_rebuild_of_the_browsers_page_alone_is_shown_at_its_end(tmp_path):
    project = make_project(tmp_path)
    recorder = Recorder({WANTED})
    build = preview_builder(project, recorder.priority())
    build(NOW)
    recorder.shown.clear()
    build(NOW)  # nothing changed: nothing to render
    assert recorder.shown == []


def test_a_later_save_stops_the_rebuild_and_the_next_one_builds_the_whole_site(tmp_path):
    project = make_project(tmp_path)
    recorder = Recorder({WANTED})
    build = preview_builder(project, recorder.priority())
    build(NOW)
    restyled(project)
    recorder.rendered, recorder.stop_after = 0, 5
    with pytest.raises(Superseded):
        build(NOW)
    assert recorder.rendered == 6  # stopped at the first page after the save
    recorder.stop_after, recorder.shown = None, []
    output = build(NOW)  # the superseded rebuild was forgotten: this one renders everything again
    assert output.files == build_site(project, NOW, preview=True)[1].files


def test_order_first_puts_the_wanted_pages_first_and_keeps_the_rest_in_order():
    paths = [f"p{n}/index.html" for n in range(60)]
    priority = Priority(lambda: {"p7/index.html", "p42/index.html", "elsewhere/index.html"}, lambda pages: None, lambda: False)
    todo, first = order_first(list(range(60)), paths, priority)
    assert todo[:2] == [7, 42] and todo[2:] == [n for n in range(60) if n not in (7, 42)]
    assert first == {"p7/index.html", "p42/index.html"}
    assert order_first([7], paths, priority) == ([7], {"p7/index.html"})  # alone: still before the data files
    assert order_first(list(range(60)), paths, None) == (list(range(60)), set())


class FakeSocket:
    def __init__(self, page):
        self.page, self.messages = page, []

    def write_message(self, message):
        self.messages.append(message["command"])


def test_the_early_pages_reload_their_browsers_and_the_end_reloads_only_what_changed_since():
    state = PreviewState(Preview({"a.html": b"old a", "b.html": b"old b"}, generation=3))
    on_a, on_b = FakeSocket("a.html"), FakeSocket("b.html")
    state.sockets = {on_a, on_b}
    assert state.viewed() == {"a.html", "b.html"}
    state.publish_early({"a.html": b"new a"})
    assert (on_a.messages, on_b.messages) == (["reload"], [])
    assert state.preview.files == {"a.html": b"new a", "b.html": b"old b"} and state.preview.generation == 4
    assert state.preview.early  # (the editor waits past it for the whole rebuild: an item's new page is not in it)
    state.publish(Preview({"a.html": b"new a", "b.html": b"new b"}, generation=4))  # the rebuild's number: taken by the early showing
    assert (on_a.messages, on_b.messages) == (["reload"], ["reload"])  # a: already showing the final bytes
    assert state.preview.generation == 5 and not state.preview.early  # a page loaded from the early showing sees a newer build
    state.publish_early({"a.html": b"newer a"})
    state.publish(Preview({"a.html": b"newest a", "b.html": b"new b"}, generation=6))  # a changed again after its early showing
    assert on_a.messages == ["reload"] * 3 and on_b.messages == ["reload"] * 2


def test_a_page_shown_early_twice_with_the_same_bytes_reloads_its_browser_once():
    state = PreviewState(Preview({"a.html": b"old a"}, generation=3))
    on_a = FakeSocket("a.html")
    state.sockets = {on_a}
    state.publish_early({"a.html": b"new a"})  # early.py's, before the rebuild
    state.publish_early({"a.html": b"new a"})  # the rebuild's own first page: the same
    assert on_a.messages == ["reload"] and state.preview.generation == 4
    state.publish_early({"a.html": b"newer a"})  # the rebuild made it differently (a list on it changed)
    assert on_a.messages == ["reload", "reload"]
    state.publish(Preview({"a.html": b"newer a"}, generation=5))
    assert on_a.messages == ["reload", "reload"]


def test_a_browser_names_its_page_in_livereloads_info(tmp_path):
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    from placard.output import Output
    from placard.pipeline import Project
    from placard.serve import PreviewServer

    def stub():
        output = Output()
        output.add("index.html", "<html><head></head><body></body></html>")
        output.add("news/x/index.html", "<html><head></head><body></body></html>")
        return output

    async def scenario():
        server = PreviewServer(Project(tmp_path), stub, lambda line: None)
        server.build_first()
        port = await server.start("127.0.0.1", 0)
        try:
            ws = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}/livereload", connect_timeout=5))
            ws.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
            await asyncio.wait_for(ws.read_message(), 5)
            ws.write_message(json.dumps({"command": "info", "plugins": {}, "url": f"http://127.0.0.1:{port}/news/x/?q=1"}))
            for _ in range(100):
                if server.state.viewed():
                    break
                await asyncio.sleep(0.02)
            assert server.state.viewed() == {"news/x/index.html"} and server.priority.wanted() == {"news/x/index.html"}
            ws.close()
        finally:
            await server.close()

    asyncio.run(scenario())


def test_a_fixed_error_reloads_a_page_shown_early_under_the_overlay():
    """Found at 10,000 posts (bench/serve_bench.py --posts 10000): the fix's early showing came with the last
    build's overlay, and the end, seeing the page's bytes unchanged, did not reload it: the overlay stayed."""
    from placard.errors import Problem
    from placard.serve import Failure

    failure = Failure("The site could not be rebuilt", (Problem("content/news/a.md", 2, "title", "unclosed"),), "kept")
    state = PreviewState(Preview({"a.html": b"old a"}, failure, generation=3))
    on_a = FakeSocket("a.html")
    state.sockets = {on_a}
    state.publish_early({"a.html": b"fixed a"})
    assert state.preview.failure == failure and on_a.messages == ["reload"]  # the rest may still fail: the overlay stays meanwhile
    state.publish(Preview({"a.html": b"fixed a"}, generation=4))
    assert state.preview.failure is None and on_a.messages == ["reload", "reload"]  # the same bytes, but now without the overlay
