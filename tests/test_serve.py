"""The live preview: rebuild and failure policy, overlay injection and request mapping without
sockets; then one end-to-end run of `build.py serve` on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import threading
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from conftest import NOW, REPO, SITE_YML, editable, make_project, snapshot

from placard.errors import BuildError, Problem
from placard.pipeline import build, build_site
from placard.serve import (Failure, Preview, bind_port, inject_preview, make_builder, rebuild, render_overlay,
                           resolve_request)

BROKEN_YAML = "---\ntitle: [unclosed\n---\nBody\n"
FIXED_POST = "---\ntitle: Fixed title\nslug: broken\ndate: 2011-12-20\nauthor: A. Writer\n---\nBody\n"


def quiet_build(project, clock=lambda: NOW):
    """A builder and a list collecting what it logs."""
    lines: list[str] = []
    return make_builder(project, clock), lines


def strip_preview(page: bytes) -> bytes:
    """Remove what the preview adds to a page, to compare with the built bytes."""
    page = re.sub(rb'<script src="/__placard__/preview.js" data-built="\d+"></script>', b"", page)
    return re.sub(rb'<div id="placard-error-overlay".*?</div>', b"", page, flags=re.S)


# --- the rebuild function and its failure policy ------------------------------------------


def test_rebuild_serves_exactly_the_preview_build(project):
    build_fn, lines = quiet_build(project)
    preview = rebuild(build_fn, Preview({}), lines.append)
    _, expected = build_site(project, NOW, preview=True)
    assert dict(preview.files) == expected.files
    assert preview.failure is None and preview.generation == 1
    pages = sum(1 for path in expected.files if path.endswith(".html"))
    assert re.fullmatch(rf"rebuilt {pages} pages in \d+ ms", lines[-1])
    assert "Draft: not published" in preview.files["news/not-ready/index.html"].decode()


def test_failed_rebuild_keeps_last_good_site_and_lists_problems(project):
    build_fn, lines = quiet_build(project)
    good = rebuild(build_fn, Preview({}), lines.append)
    (project.content / "news/broken.md").write_text(BROKEN_YAML, encoding="utf-8")
    bad = rebuild(build_fn, good, lines.append)
    assert bad.files == good.files
    assert bad.generation == good.generation + 1  # still a new generation: the browser must reload
    assert bad.failure.title == "The site could not be rebuilt: 1 problem" and bad.failure.kept_last_good
    assert "You are looking at the last version that worked." in render_overlay(bad.failure)
    (problem,) = bad.failure.problems
    assert (problem.path, problem.line) == ("content/news/broken.md", 2)
    assert any(line.startswith("content/news/broken.md:2:") for line in lines)
    assert "Still serving the last good site" in lines[-1]


def test_fixing_the_file_clears_the_failure(project):
    build_fn, lines = quiet_build(project)
    broken = project.content / "news/broken.md"
    broken.write_text(BROKEN_YAML, encoding="utf-8")
    bad = rebuild(build_fn, Preview({}), lines.append)
    assert bad.files == {} and bad.failure.title == "The site could not be built: 1 problem"
    assert not bad.failure.kept_last_good and "Nothing to show until it builds" in lines[-1]
    assert "last version that worked" not in render_overlay(bad.failure)
    broken.write_text(FIXED_POST, encoding="utf-8")
    fixed = rebuild(build_fn, bad, lines.append)
    assert fixed.failure is None, lines
    assert "Fixed title" in fixed.files["news/broken/index.html"].decode()


def test_unexpected_exception_becomes_a_failure_not_a_crash():
    def exploding_build():
        raise ZeroDivisionError("division by zero")

    lines: list[str] = []
    previous = Preview({"index.html": b"<html></html>"}, None, 4)
    result = rebuild(exploding_build, previous, lines.append)
    assert result.files == previous.files and result.generation == 5
    assert result.failure.title == "The preview hit an unexpected error"
    assert "ZeroDivisionError: division by zero" in result.failure.problems[0].message
    assert "Traceback" in lines[0] and "unexpected error" in lines[-1]


def test_template_error_names_template_and_line(project):
    build_fn, lines = quiet_build(project)
    (project.templates / "page.html").write_text('{% extends "base.html" %}\n{% block main %}\n{{ page.nonexistent_field }}\n{% endblock %}\n', encoding="utf-8")
    result = rebuild(build_fn, Preview({}), lines.append)
    (problem,) = result.failure.problems
    assert problem.path == "templates/page.html" and problem.line == 3
    assert "nonexistent_field" in problem.message


def test_builder_reads_the_injected_clock_at_every_rebuild(project):
    times = iter([NOW, NOW + timedelta(days=400)])
    build_fn = make_builder(project, lambda: next(times))
    first = build_fn().files["calendar/index.html"].decode()  # "Correct as of <build date>"
    second = build_fn().files["calendar/index.html"].decode()
    assert "26 November 2026" in first and "31 December 2027" in second


def test_template_edits_are_picked_up_despite_the_compile_cache(project):
    build_fn, _ = quiet_build(project)
    build_fn()
    base = editable(project, "templates/base.html")  # the site's own copy of the theme's, then changed
    base.write_text(base.read_text(encoding="utf-8").replace('class="skip"', 'class="skip edited"'), encoding="utf-8")
    assert 'class="skip edited"' in build_fn().files["index.html"].decode()


def test_preview_never_writes_output_and_build_never_gets_preview_additions(project):
    build_fn, lines = quiet_build(project)
    preview = rebuild(build_fn, Preview({}), lines.append)
    assert not project.output.exists()
    build(project, NOW)
    built = snapshot(project.output)
    assert not any(b"livereload" in data or b"placard-error-overlay" in data for data in built.values())
    assert preview.files["style.css"] == built["style.css"]
    assert preview.files["about/index.html"] != built["about/index.html"]  # only by the preview banner
    assert preview.files["about/index.html"].replace(b'<p class="preview-banner">Preview: drafts are shown here and never published.</p>', b"") == built["about/index.html"]


def test_a_change_during_a_rebuild_is_never_dropped(tmp_path):
    from placard.pipeline import Project
    from placard.serve import PreviewServer

    builds: list[float] = []

    def slow_build():
        builds.append(time.monotonic())
        time.sleep(0.15)
        return build_site_stub()

    async def scenario() -> list[int]:
        server = PreviewServer(Project(tmp_path), slow_build, lambda line: None)
        server.start_rebuild()
        await wait_until(lambda: builds)  # the rebuild is now running
        generations = [server.state.preview.generation]
        server.start_rebuild()  # a save during the rebuild
        server.start_rebuild()  # and another: both are in the files the next rebuild reads
        await wait_until(lambda: server.state.preview.generation == 2 and not server.building)
        await asyncio.sleep(0.3)  # time for a wrong third rebuild
        generations.append(server.state.preview.generation)
        return generations

    assert asyncio.run(scenario()) == [0, 2]
    assert len(builds) == 2 and builds[1] - builds[0] >= 0.15  # the second waited for the first


def test_the_first_build_runs_on_the_callers_thread_so_it_may_use_every_core(tmp_path):
    """Worker processes are forked only while no other thread runs (placard.incremental.workers.can_fork):
    the first build runs before the server has started any thread; rebuilds run in a thread."""
    from placard.pipeline import Project
    from placard.serve import PreviewServer

    threads: list[threading.Thread] = []

    def build():
        threads.append(threading.current_thread())
        return build_site_stub()

    async def scenario() -> None:
        await server.start("127.0.0.1", 0)
        try:
            server.start_rebuild()
            await wait_until(lambda: server.state.preview.generation == 2 and not server.building)
        finally:
            await server.close()

    server = PreviewServer(Project(tmp_path), build, lambda line: None)
    server.build_first()
    asyncio.run(scenario())
    assert threads[0] is threading.current_thread()
    assert len(threads) == 2 and threads[1] is not threading.current_thread()


def test_ctrl_c_during_the_first_build_stops_the_preview_at_once(tmp_path, monkeypatch):
    from placard import serve as serve_module
    from placard.pipeline import Project

    finished: list[bool] = []

    def build():
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the first build runs
        time.sleep(2)
        finished.append(True)
        return build_site_stub()

    monkeypatch.setattr(serve_module, "make_builder", lambda project, clock, priority: build)
    log: list[str] = []
    started = time.monotonic()
    assert serve_module.serve(Project(tmp_path), port=0, log=log.append) == 0
    assert finished == [] and time.monotonic() - started < 1.5
    assert log == ["Preview stopped."]


def build_site_stub():
    from placard.output import Output

    output = Output()
    output.add("index.html", "<html><head></head><body></body></html>")
    return output


# --- what the browser gets ------------------------------------------------------------------


def test_injection_adds_script_and_nothing_else_when_the_build_is_good():
    page = b"<!DOCTYPE html><html><head><title>x</title></head><body class=a><p>hi</p></body></html>"
    served = inject_preview(page, Preview({}, None, 7))
    assert served.index(b'<script src="/__placard__/preview.js"') < served.index(b"</head>")
    assert b'data-built="7"' in served and b"placard-error-overlay" not in served
    assert strip_preview(served) == page


def test_overlay_lists_every_problem_escaped_after_body():
    failure = Failure("The site could not be rebuilt: 2 problems", (
        Problem("content/news/a<b>.md", 3, "title", "must not contain <script>alert(1)</script>"),
        Problem("templates/post.html", 12, "", "template syntax error: unexpected '}'"),
    ))
    page = b"<html><head></head><body class=a><p>hi</p></body></html>"
    served = inject_preview(page, Preview({}, failure, 2))
    overlay_at = served.index(b'<div id="placard-error-overlay"')
    assert served.index(b"<body class=a>") < overlay_at < served.index(b"<p>hi</p>")
    text = served.decode()
    assert "content/news/a&lt;b&gt;.md, line 3" in text and "<em>title</em>: must not contain &lt;script&gt;" in text
    assert "templates/post.html, line 12" in text and "unexpected &#x27;}&#x27;" in text
    assert "<script>alert(1)" not in text
    assert strip_preview(served) == page


def test_overlay_without_a_file_shows_only_the_message():
    overlay = render_overlay(Failure("The preview hit an unexpected error", (Problem("", None, "", "KeyError: 'x'"),)))
    assert "<strong>" not in overlay and "KeyError: &#x27;x&#x27;" in overlay


def test_requests_map_to_output_paths_only():
    files = {"index.html": b"", "news/index.html": b"", "style.css": b"", "news/a b/index.html": b""}
    assert resolve_request("", files) == ("index.html", None)
    assert resolve_request("news/", files) == ("news/index.html", None)
    assert resolve_request("news", files) == (None, "/news/")
    assert resolve_request("news/a%20b/", files) == ("news/a b/index.html", None)
    assert resolve_request("style.css", files) == ("style.css", None)
    assert resolve_request("../site.yml", files) == (None, None)
    assert resolve_request("missing.html", files) == (None, None)


def test_port_in_use_takes_the_next_free_port_and_says_so():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    lines: list[str] = []
    try:
        sockets, bound = bind_port("127.0.0.1", port, lines.append)
        for sock in sockets:
            sock.close()
    finally:
        busy.close()
    assert bound != port
    assert lines[0].startswith(f"Port {port} is already in use")
    assert lines[-1] == f"Using port {bound} instead of {port}."


# --- watching: watchfiles on a real project in tmp_path -------------------------------------


async def wait_until(condition, timeout: float = 5.0) -> None:
    """Wait (bounded, generously) for condition() to hold."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_source_filter_keeps_sources_and_drops_editor_files_cache_and_output(tmp_path):
    from watchfiles import Change

    from placard.serve import source_filter

    project = make_project(tmp_path)
    keep = source_filter(project)
    root = project.root
    sources = ["site.yml", "content", "static", "templates/base.html", "content/news/first-post.md",
               "content/new-folder", "content/new-folder/photo.jpg", "static/style.css"]
    others = ["content/news/.first-post.md.swp", "content/news/first-post.md~", "content/news/first-post.md.tmp",
              "content/.git/index", "content/.hidden/post.md", ".cache/store.sqlite", ".cache", "output/index.html",
              "output", "notes.txt", ".site.yml.swp", "site.yml~", "elsewhere/content/post.md"]
    assert [path for path in sources if not keep(Change.modified, str(root / path))] == []
    assert [path for path in others if keep(Change.modified, str(root / path))] == []
    assert not keep(Change.added, str(tmp_path / "content" / "post.md"))  # another project's content/
    assert keep(Change.deleted, str(root.resolve() / "content/news/first-post.md"))  # FSEvents' real path


class Watched:
    """A PreviewServer on a tmp project with a stub build counting rebuilds, inside a running loop."""

    def __init__(self, project, debounce: float | None = None) -> None:
        from placard.serve import PreviewServer

        self.builds: list[float] = []
        self.log: list[str] = []
        options = {"debounce": debounce} if debounce else {}
        self.server = PreviewServer(project, self.build, self.log.append, **options)

    def build(self):
        self.builds.append(time.monotonic())
        return build_site_stub()

    async def __aenter__(self) -> "Watched":
        await self.server.start("127.0.0.1", 0)
        await asyncio.sleep(0.2)  # watchfiles has placed its watches (it does so in its own thread)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.close()

    async def rebuilds_after(self, save, settle: float = 0.3) -> int:
        """How many rebuilds `save()` causes: wait for the first, then long enough for any extra one."""
        before = len(self.builds)
        save()
        await wait_until(lambda: len(self.builds) > before and not self.server.building)
        await asyncio.sleep(settle)
        return len(self.builds) - before


def test_the_rebuild_is_told_the_files_saved_since_the_last_good_one(tmp_path):
    """What placard.incremental.early reads again (Priority.changed): the saved sources, until a rebuild succeeds."""
    project = make_project(tmp_path)
    post = project.content / "news" / "first-post.md"

    async def scenario() -> tuple:
        async with Watched(project) as watched:
            seen, count = [], watched.build
            watched.server.build = lambda: seen.append(set(watched.server.priority.changed())) or count()
            await watched.rebuilds_after(lambda: post.write_text(post.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8"))
            return seen, set(watched.server.saved)

    seen, left = asyncio.run(scenario())
    assert seen == [{str(post)}] and left == set()  # told during the rebuild, forgotten after it succeeded


def test_a_save_in_several_steps_is_one_rebuild(tmp_path):
    project = make_project(tmp_path)
    post = project.content / "news" / "first-post.md"

    def save_like_an_editor() -> None:  # a temporary file, renamed over the post, its mode set: 50 ms apart
        temporary = post.with_name(".first-post.md.swp")
        temporary.write_text(post.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
        time.sleep(0.05)
        os.replace(temporary, post)
        time.sleep(0.05)
        os.chmod(post, 0o600)

    def save_in_place() -> None:  # two writes 50 ms apart
        with post.open("a", encoding="utf-8") as file:
            file.write("Edited again.")
            file.flush()
            time.sleep(0.05)
            file.write("\n")

    async def scenario() -> list[int]:
        async with Watched(project, debounce=0.2) as watched:  # the steps merge into one save: 0.2 s is 4 times their gap
            return [await watched.rebuilds_after(save_like_an_editor), await watched.rebuilds_after(save_in_place),
                    await watched.rebuilds_after(lambda: (project.root / "site.yml").write_text(SITE_YML + "tagline: x\n"))]

    assert asyncio.run(scenario()) == [1, 1, 1]


def test_changes_outside_the_sources_do_not_rebuild(tmp_path):
    project = make_project(tmp_path)

    def save_elsewhere() -> None:
        (project.content / "news" / ".first-post.md.swp").write_text("swap")
        (project.content / "news" / "first-post.md~").write_text("backup")
        (project.root / ".cache").mkdir()
        (project.root / ".cache" / "store").write_text("cache")
        (project.root / "output").mkdir()
        (project.root / "output" / "index.html").write_text("built")
        (project.root / "notes.txt").write_text("not a source")
        (tmp_path / "elsewhere.md").write_text("outside the project")

    async def scenario() -> tuple[int, int]:
        async with Watched(project) as watched:
            save_elsewhere()
            await asyncio.sleep(0.5)  # many times the 25 ms a rebuild takes to start
            ignored = len(watched.builds)
            return ignored, await watched.rebuilds_after(lambda: (project.content / "news" / "first-post.md").write_text("changed"))

    assert asyncio.run(scenario()) == (0, 1)  # and the watcher still works


def test_added_and_removed_folders_are_watched(tmp_path):
    import shutil

    project = make_project(tmp_path)
    shutil.rmtree(project.static)  # a source folder missing at the start
    folder = project.content / "new-folder"

    async def scenario() -> list[int]:
        async with Watched(project) as watched:
            counts = [await watched.rebuilds_after(folder.mkdir)]
            counts.append(await watched.rebuilds_after(lambda: (folder / "photo.jpg").write_bytes(b"x")))
            counts.append(await watched.rebuilds_after(lambda: shutil.rmtree(folder)))
            counts.append(await watched.rebuilds_after(project.static.mkdir))
            counts.append(await watched.rebuilds_after(lambda: (project.static / "style.css").write_text("p{}")))
            shutil.rmtree(project.templates)  # removed and made again: its new folder is watched
            await wait_until(lambda: not watched.server.building)
            await asyncio.sleep(0.3)
            project.templates.mkdir()
            await asyncio.sleep(0.3)
            counts.append(await watched.rebuilds_after(lambda: (project.templates / "base.html").write_text("x")))
            return counts

    counts = asyncio.run(scenario())
    assert counts[:5] == [1, 1, 1, 1, 1] and counts[5] == 1


def test_stopping_the_server_stops_the_watchers(tmp_path):
    project = make_project(tmp_path)

    async def scenario() -> tuple[float, bool, int]:
        watched = Watched(project)
        await watched.__aenter__()
        assert await watched.rebuilds_after(lambda: (project.content / "a.md").write_text("x"), settle=0.1) == 1
        started = time.monotonic()
        await watched.server.close()
        took = time.monotonic() - started
        count = len(watched.builds)
        (project.content / "b.md").write_text("after the stop")
        await asyncio.sleep(0.5)
        return took, all(task.done() for task in watched.server.watchers), len(watched.builds) - count

    took, done, after = asyncio.run(scenario())
    assert done and after == 0
    assert took < 2  # within a step or so, not watchfiles' 5 s timeout


def test_watching_falls_back_to_polling_where_the_system_cannot_notify(tmp_path, monkeypatch):
    import errno

    from placard import serve as serve_module

    real_awatch = serve_module.awatch

    def awatch_without_notifications(*paths, force_polling=None, **options):
        if not force_polling:
            raise OSError(errno.ENOSPC, "OS file watch limit reached")
        return real_awatch(*paths, force_polling=force_polling, **options)

    monkeypatch.setattr(serve_module, "awatch", awatch_without_notifications)
    project = make_project(tmp_path)

    async def scenario() -> tuple[int, list[str]]:
        async with Watched(project) as watched:
            count = await watched.rebuilds_after(lambda: (project.content / "news" / "first-post.md").write_text("changed"))
            return count, watched.log

    count, log = asyncio.run(scenario())
    assert count == 1
    assert [line for line in log if "cannot tell the preview about changes" in line] == [
        "This computer cannot tell the preview about changes ([Errno 28] OS file watch limit reached); "
        "checking for changes every 0.25 s instead."]


def test_reload_socket_is_per_server_and_refuses_other_websites(tmp_path):
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    from placard.pipeline import Project
    from placard.serve import PreviewServer

    async def connect(port: int, origin: str | None = None):
        headers = {"Origin": origin} if origin else {}
        ws = await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers=headers, connect_timeout=5))
        ws.write_message("not json")  # ignored, the socket stays open
        ws.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
        hello = json.loads(await asyncio.wait_for(ws.read_message(), 5))
        assert hello["command"] == "hello" and "http://livereload.com/protocols/official-7" in hello["protocols"]
        return ws

    async def scenario() -> None:
        servers = [PreviewServer(Project(tmp_path / name), build_site_stub, lambda line: None) for name in "ab"]
        ports = [await server.start("127.0.0.1", 0) for server in servers]
        try:
            first = await connect(ports[0], f"http://127.0.0.1:{ports[0]}")
            second = await connect(ports[1])
            assert len(servers[0].state.sockets) == 1 and len(servers[1].state.sockets) == 1
            servers[0].start_rebuild()
            assert json.loads(await asyncio.wait_for(first.read_message(), 5))["command"] == "reload"
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(second.read_message(), 0.3)  # the other server's browser is not reloaded
            with pytest.raises(HTTPClientError) as refused:
                await connect(ports[0], "https://some-website.example")
            assert refused.value.code == 403
            first.close()
            await wait_until(lambda: not servers[0].state.sockets)
        finally:
            for server in servers:
                await server.close()

    asyncio.run(scenario())


# --- end to end: the real command on a loopback port -----------------------------------------


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def next_reload(ws, timeout: float = 5.0) -> dict:
    """Wait (bounded) for the reload message livereload.js would act on."""
    deadline = time.monotonic() + timeout
    while True:
        message = await asyncio.wait_for(ws.read_message(), max(0.1, deadline - time.monotonic()))
        assert message is not None, "the server closed the reload socket"
        data = json.loads(message)
        if data["command"] == "reload":
            return data


def test_serve_end_to_end(tmp_path):
    from tornado.websocket import websocket_connect

    project = make_project(tmp_path)
    before = snapshot(project.content)
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--root", str(project.root), "--now", NOW.isoformat(), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    log: list[str] = []
    try:
        for line in process.stdout:
            log.append(line)
            if line.startswith("Serving the preview on"):
                break
        base = re.search(r"http://127\.0\.0\.1:\d+/", log[-1]).group(0)
        status, page = fetch(base + "about/")
        assert status == 200 and "About the" in page and '<script src="/__placard__/preview.js" data-built="1">' in page
        assert "Preview: drafts are shown" in page
        status, script = fetch(base + "livereload.js")
        assert status == 200 and "LiveReload" in script
        status, script = fetch(base + "__placard__/preview.js")
        assert status == 200 and "/livereload.js?port=" in script and "LiveReloadConnect" in script
        assert fetch(base + "no-such-page/")[0] == 404

        async def edit_break_fix() -> None:
            ws = await websocket_connect(base.replace("http", "ws") + "livereload", connect_timeout=5)
            ws.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
            assert json.loads(await asyncio.wait_for(ws.read_message(), 5))["command"] == "hello"
            about = project.content / "pages/about.md"
            about.write_text(about.read_text().replace("About the", "Changed: about the"), encoding="utf-8")
            await next_reload(ws)
            assert "Changed: about the" in fetch(base + "about/")[1]
            assert fetch(base + "__placard__/build")[1] == "2"  # what a page loaded meanwhile compares with
            about.write_text("---\ntitle: [oops\n---\nBody\n", encoding="utf-8")
            await next_reload(ws)  # a failed rebuild reloads too, to show the overlay
            status, broken = fetch(base + "about/")
            assert status == 200 and 'id="placard-error-overlay"' in broken
            assert "content/pages/about.md, line 2" in broken and "Changed: about the" in broken
            assert 'id="placard-error-overlay"' in fetch(base + "news/")[1]
            about.write_text("---\ntitle: About\nslug: about\n---\nFixed again.\n", encoding="utf-8")
            await next_reload(ws)
            fixed = fetch(base + "about/")[1]
            assert "Fixed again." in fixed and "placard-error-overlay" not in fixed
            ws.close()

        asyncio.run(edit_break_fix())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate()
    output = "".join(log) + rest
    assert process.returncode == 0, output
    assert "Preview stopped." in output and "Traceback" not in output
    assert "content/pages/about.md:2:" in output and re.search(r"rebuilt \d+ pages in \d+ ms", output)
    assert not project.output.exists()
    after = snapshot(project.content)
    assert set(after) == set(before)  # nothing deleted from content/


def test_preview_relaxes_the_csp_only_in_served_pages():
    from placard.serve import PREVIEW_CSP, Preview, inject_preview

    page = b'<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'"></head><body>x</body></html>'
    served = inject_preview(page, Preview(files={}, generation=3))
    assert PREVIEW_CSP in served and b"default-src 'none'" not in served
    assert b"<script src=" in served and b"<script" not in page
    assert b"script-src 'self';" in PREVIEW_CSP and b"'unsafe-inline'; style-src" not in PREVIEW_CSP


def test_in_the_preview_injected_inline_script_does_not_run_but_the_preview_script_does():
    """A real browser (Chromium, if installed with Playwright) on the preview server: the page's inline
    handler and inline script are blocked by the preview's CSP; the overlay's Hide button still works."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(path)), None)
    if chromium is None:
        pytest.skip("no Chromium installed")
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.testing import bind_unused_port
    from placard.serve import PreviewState, make_app

    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
            "<title>clean</title></head><body><p>hi</p>"
            "<img src=\"missing.png\" alt=\"\" onerror=\"document.title='handler ran'\"><script>document.title='inline ran'</script></body></html>")
    failure = Failure("The site could not be rebuilt: 1 problem", (Problem("content/x.md", 1, "title", "missing"),), True)
    state = PreviewState(Preview({"index.html": page.encode()}, failure, 1))
    started, ports, loops = threading.Event(), [], []

    def serve() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        sock, port = bind_unused_port()  # (on 127.0.0.1)
        HTTPServer(make_app(state)).add_sockets([sock])
        ports.append(port)
        loops.append(IOLoop.current())
        started.set()
        IOLoop.current().start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            tab = browser.new_page()
            tab.goto(f"http://127.0.0.1:{ports[0]}/", wait_until="load")
            tab.wait_for_timeout(300)
            assert tab.title() == "clean"  # neither the onerror handler nor the inline script ran
            tab.click("[data-placard-hide]")
            tab.wait_for_selector("#placard-error-overlay", state="detached", timeout=5000)  # preview.js ran
            browser.close()
    finally:
        loops[0].add_callback(loops[0].stop)
        thread.join(10)


def test_a_save_during_a_rebuild_is_shown_early_at_once_and_a_stale_early_showing_is_dropped(tmp_path):
    """placard.incremental.early from the server's side: not after the running rebuild stops, but at the save."""
    from placard.pipeline import Project
    from placard.serve import PreviewServer

    class SlowBuild:
        def __init__(self) -> None:
            self.started: list[float] = []

        def __call__(self):
            self.started.append(time.monotonic())
            time.sleep(0.4)
            return build_site_stub()

        def early(self) -> dict:
            return {"index.html": b"<html><head></head><body>early</body></html>"}

    build = SlowBuild()

    async def scenario():
        server = PreviewServer(Project(tmp_path), build, lambda line: None)
        server.loop = asyncio.get_running_loop()
        server.start_rebuild()
        await wait_until(lambda: build.started)
        saved_at = time.monotonic()
        server.start_rebuild()  # a save during the rebuild
        await wait_until(lambda: server.state.preview.early)
        shown_after = time.monotonic() - saved_at
        shown = server.state.preview.files["index.html"]
        await wait_until(lambda: len(build.started) == 2 and not server.building)
        final = server.state.preview
        server.publish_early_since(server.published - 1, build.early())  # begun before the last rebuild was shown: stale
        return shown_after, shown, final, server.state.preview

    shown_after, shown, final, after = asyncio.run(scenario())
    assert b"early" in shown and shown_after < 0.3  # before the running rebuild (0.4 s) ended
    assert not final.early and b"early" not in final.files["index.html"] and after is final
