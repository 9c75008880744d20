"""Serve stage: the live preview. One build callable, one failure policy.

Every change under content/, templates/, static/ or to site.yml rebuilds the whole site in
memory and reloads the browser. A failed rebuild is logged, shown in the browser as an overlay
on every page, and the last good site keeps being served. The preview never writes output/:
pages are served from the in-memory map of the last good build, so the served bytes are the
built bytes plus the reload script (and the overlay), which exist only here.

Reloads are driven by this module, not by livereload's Server: its watcher polls every 0.8 s
and drops any change within 3 s of the previous reload (LiveReloadHandler.DEFAULT_RELOAD_TIME).
Changes are seen with watchfiles (the OS's notifications: inotify, FSEvents, Windows; no
polling), grouped until the editor has finished saving, and the browser is reloaded with
livereload's script (livereload.js) and browser protocol.
"""

from __future__ import annotations

import asyncio
import errno
import html
import json
import logging
import mimetypes
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, Callable, Mapping
from urllib.parse import unquote, urlsplit

from livereload.handlers import LiveReloadJSHandler
from tornado import httpserver, netutil, web
from tornado.websocket import WebSocketHandler
from watchfiles import Change, awatch

from .editor import Editor
from .editor_http import EditorSite, editor_bar, editor_routes, is_loopback, make_messages, own_hosts
from .errors import BuildError, Problem
from .incremental.priority import Priority, Superseded
from .output import Output
from .pipeline import PreviewBuild, Project, preview_builder

DEBOUNCE_SECONDS = 0.01  # a save ends after this long without a change; editors save in several steps within a few ms
DEBOUNCE_LIMIT_SECONDS = 0.5  # rebuild at least this often while changes keep coming
POLL_MILLISECONDS = 250  # only where the OS cannot report changes
REBUILD_NICENESS = 10  # the rebuilds' thread's (yield_to_browser)
EARLY_GRACE_SECONDS = 0.5  # how long a rebuild waits for a browser to load a page it showed early (show_early)
SWITCH_SECONDS = 0.0005  # how often a thread holding the interpreter lets another run, while serving (see serve)
PORT_ATTEMPTS = 20
BUILD_ID_URL = "/__placard__/build"

Clock = Callable[[], datetime]
Log = Callable[[str], None]
Builder = Callable[[], Output]


# ---------------------------------------------------------------------------------------------
# The one build callable and the one failure policy (no sockets: unit-tested directly)


@dataclass(frozen=True)
class Failure:
    """Why the latest rebuild failed, ready to show in the browser."""

    title: str
    problems: tuple[Problem, ...]
    kept_last_good: bool = True  # False when no build has worked yet: there is nothing older to show


@dataclass(frozen=True)
class Preview:
    """What the server shows: the last good site, and the failure of the latest rebuild if any."""

    files: Mapping[str, bytes]
    failure: Failure | None = None
    generation: int = 0  # changes on every rebuild, good or bad; the browser compares it
    origins: Mapping[str, str] = field(default_factory=dict)  # output path -> what made it (content/... for an item's page)
    early: bool = False  # a running rebuild's first pages over the last site (publish_early): not yet the whole new site

    @property
    def pages(self) -> int:
        return sum(1 for path in self.files if path.endswith(".html"))


def system_clock() -> datetime:
    """The build time for the next rebuild: now (the only clock read in the preview)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def make_builder(project: Project, clock: Clock = system_clock, priority: Priority | None = None) -> Builder:
    """The build callable: a preview build at the clock's time (pipeline.preview_builder).

    A rebuild re-reads every file but parses, converts and renders only what a change affects (the
    edited post, the lists, feeds and pages that show it): the rest stays in memory between rebuilds.
    With `priority` (the server's), the pages the browsers show render first and are shown at once."""
    return ClockedBuild(preview_builder(project, priority), clock)


@dataclass(frozen=True)
class ClockedBuild:
    """make_builder's Builder: the preview's build at the clock's time; `early`: see pipeline.PreviewBuild."""

    build: PreviewBuild
    clock: Clock

    def __call__(self) -> Output:
        return self.build(self.clock())

    def early(self) -> dict[str, bytes]:
        return self.build.early()


def rebuild(build: Builder, previous: Preview, log: Log) -> Preview:
    """Run one build; on any failure log it and keep the previous site, with the failure attached.
    (Superseded, a later save stopping this build, goes to the caller: there is nothing to show.)"""
    started = time.perf_counter()
    generation = previous.generation + 1
    kept = bool(previous.files)
    still = "Still serving the last good site" if kept else "Nothing to show until it builds"
    try:
        output = build()
    except Superseded:
        raise
    except BuildError as error:
        count = len(error.problems)
        for problem in error.problems:
            log(str(problem))
        log(f"Rebuild failed: {count} problem{'s' if count != 1 else ''}. {still}; fix and save to retry.")
        title = f"The site could not be {'re' if kept else ''}built: {count} problem{'s' if count != 1 else ''}"
        return Preview(previous.files, Failure(title, tuple(error.problems), kept), generation, previous.origins)
    except Exception as error:  # a bug in placard must not stop the preview; the details go to the terminal
        log("".join(traceback.format_exception(error)).rstrip())
        log(f"Rebuild failed with an unexpected error (above). {still}.")
        message = (f"{type(error).__name__}: {error}. This is probably a bug in placard, not in your files; "
                   "the details are in the terminal. Undo your last change or ask for help.")
        return Preview(previous.files, Failure("The preview hit an unexpected error", (Problem("", None, "", message),), kept), generation, previous.origins)
    preview = Preview(dict(output.files), None, generation, dict(output.origins))
    log(f"rebuilt {preview.pages} pages in {round((time.perf_counter() - started) * 1000)} ms")
    return preview


# ---------------------------------------------------------------------------------------------
# What the browser gets: the built bytes, plus the reload script and the overlay (preview only)


PREVIEW_SCRIPT_URL = "/__placard__/preview.js"
# Served as a file (the preview's CSP runs no inline script): after livereload connects, reload if
# a rebuild finished while the page was loading (the generation the page was served with is in its
# script tag); load livereload.js; let the error overlay's button hide it.
PREVIEW_JS = (
    "(function(){var built=document.currentScript.getAttribute('data-built');"
    "document.addEventListener('LiveReloadConnect',function(){"
    "fetch('%s',{cache:'no-store'}).then(function(r){return r.text()})"
    ".then(function(now){if(now!==built)location.reload()})});"
    "document.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('[data-placard-hide]');"
    "if(b){var o=document.getElementById('placard-error-overlay');if(o)o.remove()}});"
    "var s=document.createElement('script');"
    "s.src='/livereload.js?port='+(location.port||(location.protocol==='https:'?443:80));"
    "document.head.appendChild(s)})();\n" % BUILD_ID_URL
)


def reload_script(generation: int) -> str:
    """The tag loading the preview's script (PREVIEW_JS), with the generation this page was served with."""
    return f'<script src="{PREVIEW_SCRIPT_URL}" data-built="{generation}"></script>'


def render_overlay(failure: Failure) -> str:
    """The error box shown over every page while the latest rebuild is failing; all text escaped."""
    items = []
    for problem in failure.problems:
        where = html.escape(problem.path) + (f", line {problem.line}" if problem.line else "")
        field = f"<em>{html.escape(problem.field)}</em>: " if problem.field else ""
        location = f"<strong>{where}</strong><br>" if problem.path else ""
        items.append(f"<li style=\"margin:0 0 .6em\">{location}{field}{html.escape(problem.message)}</li>")
    return (
        '<div id="placard-error-overlay" role="alert" style="position:fixed;z-index:2147483647;top:0;left:0;right:0;'
        "max-height:70vh;overflow:auto;box-sizing:border-box;margin:0;padding:1em 1.2em;background:#fff4f2;"
        "color:#3d0a00;border-bottom:4px solid #b3261e;font:16px/1.45 system-ui,sans-serif;"
        'box-shadow:0 4px 16px rgba(0,0,0,.3)">'
        f'<h2 style="margin:0 0 .5em;font-size:1.2em;color:#b3261e">{html.escape(failure.title)}</h2>'
        f'<ul style="margin:0 0 .8em;padding-left:1.2em">{"".join(items)}</ul>'
        f'<p style="margin:0">{"You are looking at the last version that worked. " if failure.kept_last_good else ""}'
        "Fix the file and save: this page updates by itself. Nothing has been published or deleted."
        ' <button type="button" data-placard-hide>Hide</button></p></div>'
    )


# The built pages carry a strict Content-Security-Policy that would block the reload script,
# its socket and the overlay's inline styles; the preview (loopback only) swaps in this one. Scripts
# only from this server's files, never inline: an injected handler must not run here either.
PREVIEW_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'"
)
EDITING_CSP = PREVIEW_CSP.replace(b"form-action 'none'", b"form-action 'self'")  # the editing bar's Undo is a form
CSP_META = re.compile(rb'(<meta http-equiv="Content-Security-Policy" content=")[^"]*(")')


def inject_preview(page: bytes, preview: Preview, bar: str = "") -> bytes:
    """Add the reload script (before </head>), the error overlay and the editing bar (after <body>) to one HTML page."""
    csp = EDITING_CSP if bar else PREVIEW_CSP
    page = CSP_META.sub(lambda m: m.group(1) + csp + m.group(2), page, count=1)
    script = reload_script(preview.generation).encode()
    head = page.find(b"</head>")
    page = page[:head] + script + page[head:] if head >= 0 else script + page
    if preview.failure is None and not bar:
        return page
    overlay = (render_overlay(preview.failure) if preview.failure else "").encode() + bar.encode()
    body = re.search(rb"<body[^>]*>", page)
    at = body.end() if body else len(page)
    return page[:at] + overlay + page[at:]


NOT_BUILT_PAGE = b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Preview</title></head><body><p>The site has not been built yet.</p></body></html>"


def resolve_request(url_path: str, files: Mapping[str, bytes]) -> tuple[str | None, str | None]:
    """(output path to serve, or a folder URL to redirect to); (None, None) if there is no such file."""
    rel = unquote(url_path).lstrip("/")
    key = rel + "index.html" if rel == "" or rel.endswith("/") else rel
    if key in files:
        return key, None
    if f"{rel}/index.html" in files:
        return None, "/" + url_path.lstrip("/") + "/"
    return None, None


def content_type(path: str) -> str:
    """The Content-Type for an output path (UTF-8 for text)."""
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return kind + "; charset=utf-8" if kind.startswith("text/") or kind.endswith(("xml", "javascript", "json")) else kind


# ---------------------------------------------------------------------------------------------
# The web application: pages from memory, livereload's socket and script


class PreviewState:
    """The current Preview, swapped whole after each rebuild, and the browsers waiting for a reload."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        self.sockets: set[ReloadSocket] = set()
        self.early: dict[str, bytes] = {}  # pages a running rebuild showed ahead of its end (publish_early)
        self.early_failure: Failure | None = None  # the overlay they were shown with (the last build's)
        self.loading: dict[str, list[threading.Event]] = {}  # pages reloading after an early showing -> who waits for them

    def viewed(self) -> frozenset[str]:
        """The output paths the connected browsers show (read from the build's thread: a copy)."""
        return frozenset(page for page in [sock.page for sock in list(self.sockets)] if page)

    def publish_early(self, pages: Mapping[str, bytes], loaded: threading.Event | None = None) -> None:
        """Show the pages a running rebuild rendered first, over the last site, and reload the browsers on them
        (not again on a page already shown early by this rebuild with the same bytes: placard.incremental.early's,
        then the same page as the rebuild renders it). `loaded` is set once a browser told to reload one of
        these pages has loaded it again (its livereload.js says so), or at once if none was."""
        fresh = {path: data for path, data in pages.items() if self.early.get(path) != data}
        if fresh:
            last = self.preview
            self.preview = Preview({**last.files, **fresh}, last.failure, last.generation + 1, last.origins, early=True)
            self.early, self.early_failure = {**self.early, **fresh}, last.failure
            for page in self.reload(lambda sock: sock.page in fresh):
                self.loading.setdefault(page, [])
        if loaded is not None:
            waiting = [path for path in pages if path in self.loading]
            for path in waiting:
                self.loading[path].append(loaded)
            if not waiting:
                loaded.set()

    def page_loaded(self, page: str | None) -> None:
        """A browser's livereload.js connected from this page: whoever waits for it to load again may go on."""
        for waiting in self.loading.pop(page, []):
            waiting.set()

    def publish(self, preview: Preview) -> None:
        """Show a new preview and tell every browser to reload (also after a failure), except one on a
        page shown early by this rebuild (publish_early) that came out the same, under the same overlay (none:
        a campaigner who fixed an error saw the overlay stay over the fixed page, shown early under it)."""
        early, self.early = (self.early if self.early_failure == preview.failure else {}), {}
        if preview.generation <= self.preview.generation:  # (an early showing took this rebuild's number)
            preview = Preview(preview.files, preview.failure, self.preview.generation + 1, preview.origins)
        self.preview = preview
        fresh = {path for path, data in early.items() if preview.failure is None and preview.files.get(path) == data}
        self.reload(lambda sock: sock.page not in fresh)
        for waiting in [event for events in self.loading.values() for event in events]:
            waiting.set()  # (nobody waits past a whole site)
        self.loading = {}

    def reload(self, chosen: Callable[["ReloadSocket"], bool]) -> set[str]:
        """Tell the chosen browsers to reload; a browser that went away is forgotten. Returns their pages."""
        message = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}
        told = set()
        for sock in list(self.sockets):
            if not chosen(sock):
                continue
            try:
                sock.write_message(message)
                told.add(sock.page)
            except Exception:  # a browser that went away is simply forgotten
                self.sockets.discard(sock)
        return told


class PageHandler(web.RequestHandler):
    """Serve the last good site from memory, with the preview additions on HTML pages."""

    def initialize(self, state: PreviewState, site: EditorSite | None = None) -> None:
        self.state = state
        self.site = site

    def get(self, url_path: str) -> None:
        if self.site is not None and self.site.allows(self.request):  # the pages carry the editor's token: never to a rebinding page
            self.set_status(403)
            self.finish("Refused: " + self.site.allows(self.request) + "\n")
            return
        preview = self.state.preview
        key, redirect = resolve_request(url_path, preview.files)
        if redirect:
            self.redirect(redirect + (f"?{self.request.query}" if self.request.query else ""))
            return
        self.set_header("Cache-Control", "no-store")
        if key is None:
            self.set_status(404)
            key = "404.html" if "404.html" in preview.files else None
        data = preview.files[key] if key else NOT_BUILT_PAGE
        path = key or "404.html"
        if path.endswith(".html"):
            bar = editor_bar(self.site, preview.origins.get(key or ""), key or "") if self.site is not None else ""
            data = inject_preview(data, preview, bar)
        self.set_header("Content-Type", content_type(path))
        self.finish(data)

    def head(self, url_path: str) -> None:
        self.get(url_path)


class PreviewScriptHandler(web.RequestHandler):
    """The preview's own script (PREVIEW_JS)."""

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.finish(PREVIEW_JS)


class BuildIdHandler(web.RequestHandler):
    """The current build generation, for the page's check after (re)connecting."""

    def initialize(self, state: PreviewState) -> None:
        self.state = state

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(str(self.state.preview.generation))


LIVERELOAD_PROTOCOL = "http://livereload.com/protocols/official-7"


class ReloadSocket(WebSocketHandler):
    """livereload's browser protocol for livereload.js: answer its hello, then send it reloads.

    A plain tornado WebSocketHandler rather than livereload's LiveReloadHandler, which keeps every
    browser in one set shared by all its instances, accepts sockets from any website (its
    check_origin returns True) and can only reload through its own watcher (reload_waiters reads
    LiveReloadHandler.watcher, a class attribute); using it would mean overriding those methods.
    tornado's own check_origin accepts only pages from this server."""

    def initialize(self, state: PreviewState) -> None:
        self.state = state
        self.page: str | None = None  # the output path this browser shows, from livereload.js's info

    def on_message(self, message: str | bytes) -> None:
        """The handshake: livereload.js sends hello, and reloads only after a hello back; then its info
        names the page it shows (rendered first after a template edit: placard.incremental.priority)."""
        try:
            data = json.loads(message)
            command = data.get("command")
        except (ValueError, AttributeError):
            return  # not livereload.js: nothing to answer
        if command == "info" and isinstance(data.get("url"), str):
            self.page = resolve_request(urlsplit(data["url"]).path, self.state.preview.files)[0]
            self.state.page_loaded(self.page)
        if command == "hello":
            self.write_message({"command": "hello", "protocols": [LIVERELOAD_PROTOCOL], "serverName": "placard"})
            self.state.sockets.add(self)  # from the hello, before the page checks the build id

    def on_close(self) -> None:
        self.state.sockets.discard(self)


def make_app(state: PreviewState, site: EditorSite | None = None) -> web.Application:
    """Routes: the reload socket and script, the build id, the editor (unless read-only), then every site path."""
    return web.Application(
        [
            (r"/livereload", ReloadSocket, {"state": state}),
            (r"/livereload\.js", LiveReloadJSHandler),
            (BUILD_ID_URL, BuildIdHandler, {"state": state}),
            (PREVIEW_SCRIPT_URL, PreviewScriptHandler),
            *(editor_routes(site) if site is not None else []),
            (r"/(.*)", PageHandler, {"state": state, "site": site}),
        ],
        log_function=lambda handler: None,  # the terminal is for rebuilds and problems, not requests
        websocket_ping_interval=None,
    )


def bind_port(host: str, port: int, log: Log) -> tuple[list[socket.socket], int]:
    """Listen on `port`, or on the next free one after it (saying so)."""
    for candidate in range(port, port + PORT_ATTEMPTS) if port else [0]:
        try:
            sockets = netutil.bind_sockets(candidate, host)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            log(f"Port {candidate} is already in use (another preview or program?); trying {candidate + 1}.")
            continue
        bound = sockets[0].getsockname()[1]
        if port and bound != port:
            log(f"Using port {bound} instead of {port}.")
        return sockets, bound
    raise OSError(errno.EADDRINUSE, f"ports {port} to {port + PORT_ATTEMPTS - 1} are all in use; choose another with --port")


# ---------------------------------------------------------------------------------------------
# Watching for changes: watchfiles, on the OS's change notifications


def watched_roots(project: Project) -> tuple[Path, ...]:
    """The folders whose changes trigger a rebuild."""
    return (project.content, project.templates, project.static)


EDITOR_LEFTOVERS = ("~", ".swp", ".tmp")  # backup and temporary files, skipped by the build (placard.content)


def is_relevant(name: str) -> bool:
    """Hidden files (editor swap and lock files) and editor leftovers never affect the site; the pipeline skips them."""
    return bool(name) and not name.startswith(".") and not name.endswith(EDITOR_LEFTOVERS)


def source_filter(project: Project) -> Callable[[Change, str], bool]:
    """watchfiles' filter: site.yml, a source folder, or a non-hidden path in one (not output/, .cache/, ...)."""
    roots = (project.root, project.root.resolve())  # FSEvents names files by their real path
    folders = {folder.name for folder in watched_roots(project)}

    def is_source_change(change: Change, path: str) -> bool:
        for root in roots:
            try:
                parts = Path(path).relative_to(root).parts
            except ValueError:
                continue
            if parts == (project.config_file.name,):
                return True
            return (bool(parts) and parts[0] in folders and not any(part.startswith(".") for part in parts)
                    and is_relevant(parts[-1]))
        return False

    return is_source_change


# ---------------------------------------------------------------------------------------------
# The server: build, serve, watch, rebuild on change (debounced, never dropped)


class PreviewServer:
    """Runs on an asyncio loop: serves the current Preview and rebuilds when sources change."""

    def __init__(self, project: Project, build: Builder, log: Log, debounce: float = DEBOUNCE_SECONDS, editing: bool = False,
                 clock: Clock = system_clock) -> None:
        self.project = project
        self.clock = clock  # the builds' (for the editor's checks: which items are published)
        self.editing = editing  # the editor's forms (placard.editor_http), off with `serve --read-only`
        self.editor_site: EditorSite | None = None
        self.build = build
        self.log = log
        self.debounce = debounce
        self.state = PreviewState(Preview({}))
        self.http: httpserver.HTTPServer | None = None
        self.watchers: list[asyncio.Task] = []
        self.stopping = asyncio.Event()  # ends both watchers
        self.folders_moved = asyncio.Event()  # ends the folder watcher, to watch the source folders anew
        self.polling = False  # the OS would not watch every folder: watchfiles polls instead
        self.building = False
        self.pending = False
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.saved: frozenset[str] = frozenset()  # the files saved since the last good rebuild began (absolute paths; replaced, never changed: read from threads)
        self.building_saved: frozenset[str] = frozenset()  # ... as the running rebuild began
        self.published = 0  # rebuilds whose site was shown: an early showing begun before the last one is stale
        self.rebuilder = ThreadPoolExecutor(1, thread_name_prefix="placard-rebuild", initializer=yield_to_browser)
        # For the builder (make_builder): the browsers' pages first, shown at once; a later save stops a rebuild.
        self.priority = Priority(self.state.viewed, self.show_early, lambda: self.pending, lambda: self.saved)

    def build_first(self) -> None:
        """The first build, on this thread, before the server's loop and threads exist (see serve):
        while no other thread runs it may fork worker processes and use every core (placard.incremental.workers),
        which halved the preview's start at 10,000 posts, and Ctrl-C stops it at once, as in
        `build.py`. Rebuilds run in a thread, so pages keep being served meanwhile."""
        self.state.publish(rebuild(self.build, self.state.preview, self.log))

    async def start(self, host: str, port: int) -> int:
        """Listen (on the next free port if need be) and start watching; returns the port."""
        sockets, self.port = bind_port(host, port, self.log)
        self.loop = asyncio.get_running_loop()
        self.editor_site = self.make_editor_site(host)
        self.http = httpserver.HTTPServer(make_app(self.state, self.editor_site))
        self.http.add_sockets(sockets)
        self.start_watching()
        return self.port

    def make_editor_site(self, host: str) -> EditorSite | None:
        """The editor for this server (its token made now), or None when read-only or not on this computer only."""
        if not self.editing:
            return None
        if not is_loopback(host):
            self.log(f"Editing in the browser is off: the preview listens on {host}, not only on this computer (127.0.0.1).")
            return None
        language, messages = make_messages(self.project)
        return EditorSite(Editor(self.project.root, clock=self.clock), lambda: self.state.preview, hosts=own_hosts(self.port), language=language,
                          messages=messages, log=self.log, clock=self.clock)

    def start_watching(self) -> None:
        """Watch the project folder (site.yml, source folders coming or going) and the source folders.

        watchfiles waits for the OS's notifications in its own threads and hands each batch to
        this loop: no polling (unless the OS cannot watch), nothing scanned between saves."""
        loop = asyncio.get_running_loop()
        self.watchers = [loop.create_task(self.watch_project_folder()), loop.create_task(self.watch_source_folders())]
        for task in self.watchers:
            task.add_done_callback(self.report_watcher_end)

    async def watch_project_folder(self) -> None:
        """site.yml, and content/, templates/ or static/ added or removed (a watch ends with its folder)."""
        async for changes in self.watch_changes([self.project.root], False, self.stopping):
            if any(Path(path).name != self.project.config_file.name for _, path in changes):
                self.folders_moved.set()
            self.saved |= {path for _, path in changes}
            self.start_rebuild()

    async def watch_source_folders(self) -> None:
        """Every file and folder in the source folders (added folders too), watched anew when one comes or goes."""
        while not self.stopping.is_set():
            self.folders_moved = asyncio.Event()
            folders = [folder for folder in watched_roots(self.project) if folder.is_dir()]
            if not folders:
                await self.folders_moved.wait()
                continue
            async for changes in self.watch_changes(folders, True, self.folders_moved):
                self.saved |= {path for _, path in changes}
                self.start_rebuild()

    async def watch_changes(self, paths: list[Path], recursive: bool, stop: asyncio.Event) -> AsyncIterator[set]:
        """watchfiles' batches of source changes until `stop` is set (seen within one step).

        A batch comes once no new change has come for `debounce` (editors save in several steps
        within a few ms: one rebuild), or DEBOUNCE_LIMIT_SECONDS after its first change while changes
        keep coming."""
        while True:
            try:
                async for changes in awatch(*paths, watch_filter=source_filter(self.project),
                                            debounce=round(DEBOUNCE_LIMIT_SECONDS * 1000), step=max(1, round(self.debounce * 1000)),
                                            stop_event=stop, recursive=recursive, force_polling=self.polling or None,
                                            poll_delay_ms=POLL_MILLISECONDS):
                    yield changes
                return
            except FileNotFoundError:
                return  # removed before it was watched: the project folder's watcher says so
            except OSError as error:
                if self.polling:
                    raise
                self.polling = True
                self.log(f"This computer cannot tell the preview about changes ({error}); checking for changes "
                         f"every {POLL_MILLISECONDS / 1000:g} s instead.")

    def report_watcher_end(self, task: asyncio.Task) -> None:
        """A watcher that fails must say so: the preview would silently stop rebuilding."""
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            self.log("".join(traceback.format_exception(error)).rstrip())
            self.log("The preview stopped watching for changes (error above). Stop it with Ctrl-C and start it again.")

    def start_rebuild(self) -> None:
        """Rebuild now, or as soon as the running rebuild ends: no change is ever dropped."""
        if self.building:
            self.pending = True  # (the running rebuild stops at its next page)
            self.show_saved_early()
            return
        asyncio.get_running_loop().create_task(self.rebuild_and_reload())

    def show_saved_early(self) -> None:
        """During a rebuild: the browsers' pages as the saved files make them over the last good build, at once,
        from another thread (placard.incremental.early), rather than after the running rebuild stops and the
        next one starts (saves a second apart waited 0.3 s more at 10,000 posts). Dropped if a rebuild's
        whole site is shown first: it is newer."""
        early = getattr(self.build, "early", None)
        if early is None or self.loop is None:
            return
        since = self.published

        def render() -> None:
            try:
                pages = early()
            except Exception as error:  # (a bug in placard: the rebuild that follows still shows everything)
                self.log("".join(traceback.format_exception(error)).rstrip())
                return
            if pages:
                self.loop.call_soon_threadsafe(self.publish_early_since, since, pages)

        self.loop.run_in_executor(None, render)

    def publish_early_since(self, since: int, pages: Mapping[str, bytes]) -> None:
        if since == self.published:
            self.state.publish_early(pages)

    def show_early(self, pages: Mapping[str, bytes]) -> None:
        """From the build's thread: the browsers' pages, rendered ahead of the rest, shown on the loop's; then the
        rebuild waits until they have loaded again (at most EARLY_GRACE_SECONDS): on two cores, a rebuild going
        on meanwhile took the processor from the browser, which showed a saved post 60-100 ms later."""
        if self.loop is not None:
            loaded = threading.Event()
            self.loop.call_soon_threadsafe(self.state.publish_early, dict(pages), loaded)
            loaded.wait(EARLY_GRACE_SECONDS)

    async def rebuild_and_reload(self) -> None:
        """Rebuild, swap the preview in and reload the browsers; repeat if files changed meanwhile
        (a rebuild still rendering when they do stops, and the next one starts at once)."""
        self.building = True
        try:
            self.building_saved = frozenset(self.saved)
            preview = await self.run_build()
            if preview is not None:
                self.state.publish(preview)
                self.published += 1
                if preview.failure is None:  # (after a failure the next rebuild's early pages still start from the last good one)
                    self.saved -= self.building_saved
        finally:
            self.building = False
        if self.pending:
            self.pending = False
            self.start_rebuild()

    async def run_build(self) -> Preview | None:
        """The build runs in a worker thread so pages keep being served while it runs; None if a later
        save superseded it."""
        previous = self.state.preview
        try:
            return await asyncio.get_running_loop().run_in_executor(self.rebuilder, rebuild, self.build, previous, self.log)
        except Superseded:
            self.log("A later save came during the rebuild: rebuilding with it.")
            return None

    async def close(self) -> None:
        """Stop listening and watching (both watchers end within one step), close browser connections."""
        self.stopping.set()
        self.folders_moved.set()
        await asyncio.gather(*self.watchers, return_exceptions=True)  # a failure was reported when it happened
        self.rebuilder.shutdown(wait=False)
        if self.http:
            self.http.stop()
            for sock in list(self.state.sockets):
                sock.close()
            await self.http.close_all_connections()


def yield_to_browser() -> None:
    """The rebuilds' thread runs at a lower priority than the server's and the browser's (on Linux, where a
    thread has its own): on two cores, a save that came during a rebuild was shown early while the rest
    of that rebuild ran, and the browser loaded the page more slowly for it. Elsewhere, as it is."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), REBUILD_NICENESS)
    except (AttributeError, OSError):
        pass  # (no per-thread priority here, or not allowed: the rebuilds only run at the usual one)


def print_flush(message: str) -> None:
    """Log to the terminal at once (the preview's only output)."""
    print(message, flush=True)


async def run_until_stopped(server: PreviewServer, host: str, port: int, open_browser: bool) -> None:
    """Serve until Ctrl-C (SIGINT) or SIGTERM, then close everything."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not on Windows, nor outside the main thread
            pass
    bound = await server.start(host, port)
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    url = f"http://{shown}:{bound}/"
    server.log(f"Serving the preview on {url} (drafts shown, marked). Rebuilds on every save. Press Ctrl-C to stop.")
    if server.editor_site is not None:
        server.log("Editing in the browser is on: every page has an Edit link (this computer only; `serve --read-only` turns it off).")
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        await stop.wait()
    finally:
        await server.close()


def serve(project: Project, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          clock: Clock | None = None, log: Log = print_flush, read_only: bool = False) -> int:
    """`build.py serve`: preview the site with live reload until Ctrl-C (editing in the browser unless read-only); exit status 0."""
    logging.getLogger("tornado.access").disabled = True
    clock = clock or system_clock
    server = PreviewServer(project, lambda: Output(), log, editing=not read_only, clock=clock)
    server.build = make_builder(project, clock, server.priority)  # (the server's pages first: its priority)
    try:
        server.build_first()
        # Rebuilds run in a thread beside the server's loop: a browser reloading a page shown early makes
        # several requests, each waiting for the interpreter's lock at every step while the rebuild runs
        # (up to 5 ms a wait, Python's default); at 0.5 ms the page and its files come back sooner.
        sys.setswitchinterval(SWITCH_SECONDS)
        asyncio.run(run_until_stopped(server, host, port, open_browser))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        log(f"Could not start the preview: {exc.strerror or exc}")
        return 1
    log("Preview stopped.")
    return 0
