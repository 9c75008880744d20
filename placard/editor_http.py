"""The preview's editor over HTTP (tornado handlers for placard.serve): forms, saves, undo, the body's live preview.

Only this server's own pages may write: every request must name the preview's own Host (127.0.0.1,
localhost or [::1] with its port: a DNS-rebinding page names its own host and is refused), every
POST must come from the preview's own Origin and carry the token made when `serve` started. The
files are written by placard.editor (confined to content/).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Callable
from urllib.parse import urlencode
from zoneinfo import available_timezones

import jinja2
from tornado import web

from .catalogue import check_catalogues
from .content import load_config
from .documents import DocumentError, decode_bytes, parse_document
from .derivatives import DEFAULT_MAX_MB
from .editor import (FOLDERS, PHOTO_SUFFIXES, SCHEMAS, Editor, EditRefused, WouldBreak, check_upload, content_file, field_name, photos_left, form_values, kind_of, markdown_image, photo_stem,
                     render_body, translated_help, unknown_fields)
from .errors import BuildError, Problem
from .models import LANGUAGES
from .vocabulary import N_
from .urls import anchor_of, path_of

EDITOR_URL = "/__placard__"
TOKEN_FIELD = "__token"  # the form's own fields start with __, which no front-matter key does (an event has a `kind`)
FILES = Path(__file__).parent / "editor_files"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
SAVE_WAIT_SECONDS = 10.0  # after a save, wait this long at most for the rebuild before showing the page
NEW_LABELS = {"post": "New post", "event": "New event", "entity": "New entity", "page": "New page"}
# The text of the editor's interface (form.html and the editing bar): marked here so that every language's
# catalogue has them (placard/theme/templates/translations/*.po, checked by tests/test_languages.py).
EDITOR_TEXTS = (
    N_('Preview editor'),
    N_('Edit this page'),
    N_('Edit an entry'),
    N_('New post'),
    N_('New event'),
    N_('New entity'),
    N_('New page'),
    N_('Undo last save'),
    N_('Edit'),
    N_('placard preview'),
    N_('Back to the preview'),
    N_('Not saved'),
    N_('Nothing was undone'),
    N_('Nothing was written: fix these problems and save again'),
    N_('required'),
    N_('not set'),
    N_('One per line.'),
    N_('Remove this one when saving'),
    N_('Add one more'),
    N_('Date'),
    N_("Time, in the event's own time zone (timezone below); empty for an all-day event"),
    N_('Date and time (YYYY-MM-DD HH:MM)'),
    N_('Text (Markdown)'),
    N_('Text'),
    N_("Written in Markdown, as in a file. The preview beside it is made by the site's own converter."),
    N_('Preview of the text'),
    N_('Check and save'),
    N_('Lines the site does not know'),
    N_('Remove this line when saving'),
    N_('Add a photo'),
    N_('A JPEG, PNG or WebP photo from this computer. It is checked as the build checks photos (format, size) and saved next to this file without its metadata (camera, time, place).'),
    N_('Photo file'),
    N_('What the photo shows'),
    N_('A few words, read aloud to people who cannot see the photo.'),
    N_('Upload and add to the text'),
    N_('Upload as the lead photo'),
    N_('The photo was not added'),
    N_('Photo added'),
    N_('Choose a photo file first; nothing was uploaded.'),
    N_('Say in a few words what the photo shows (it is read aloud to people who cannot see it); nothing was uploaded.'),
    N_('Saved as %(file)s, without its metadata (camera, time, place).'),
    N_('The name %(name)s was taken, so the photo got another name.'),
    N_('It is at the end of the text below: save to show it on the page.'),
    N_('It is the lead photo above: save to show it on the page.'),
    N_('Like every file in content/, it is published with the site even if no page shows it: Undo last save removes it again.'),
    N_('A photo was chosen but not uploaded, so nothing was saved: choose it again and press Upload and add to the text or Upload as the lead photo, then save.'),
    N_('Delete this file'),
    N_('Delete %(file)s?'),
    N_('This removes the file %(file)s from content/, and its page from the site. Undo last save puts it back.'),
    N_('Yes, delete it'),
    N_('No, keep it'),
    N_('Not deleted'),
    N_('These photos are shown by this file only. They stay in content/, and the site still publishes them as files, until you delete them there:'),
    N_('Other files link to this one: deleting it would break them. Change or remove their links first; nothing was deleted.'),
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
URL_RE = re.compile(r"^https?://\S+$")


def is_loopback(host: str) -> bool:
    """Whether the preview listens on this machine only (the editor is refused otherwise)."""
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def own_hosts(port: int) -> frozenset[str]:
    """The Host headers the preview answers: its loopback names with its port."""
    return frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)


def make_environment() -> jinja2.Environment:
    """The form's template, autoescaped, with the tests it uses to choose date and time pickers."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(FILES), autoescape=True, undefined=jinja2.StrictUndefined)
    env.tests["match_date"] = lambda text: bool(DATE_RE.match(text or ""))
    env.tests["match_time"] = lambda text: bool(TIME_RE.match(text or ""))
    env.tests["match_url"] = lambda text: bool(URL_RE.match(text or ""))
    env.tests["match_number"] = lambda text: (text or "").isdigit()
    return env


@dataclass
class EditorSite:
    """What the editor's handlers share: the editor, the hosts it answers, the preview it waits for."""

    editor: Editor
    current: Callable[[], object]  # the current Preview (its generation, whether it is early, its origins)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    hosts: frozenset[str] = frozenset()
    log: Callable[[str], None] = lambda line: None  # the terminal
    rebuild_wait: float = SAVE_WAIT_SECONDS  # how long a save waits for the watcher's rebuild before showing the page
    language: Callable[[], str] = lambda: "en"
    messages: Callable[[str], Callable[[str], str]] = lambda lang: (lambda text: text)  # a language's gettext
    environment: jinja2.Environment = field(default_factory=make_environment)
    zones: tuple[str, ...] = field(default_factory=lambda: tuple(sorted(available_timezones())))

    def allows(self, request) -> str | None:
        """Why a request is refused (foreign Host, foreign Origin), or None."""
        host = request.headers.get("Host", "")
        if host not in self.hosts:
            return f"this preview answers only at http://127.0.0.1:{next(iter(self.hosts), ':').rsplit(':', 1)[-1]}/ (Host '{host}' refused)"
        if request.method == "POST":
            origin = request.headers.get("Origin")
            # The site's pages send no referrer, so a browser names their Origin 'null'; Sec-Fetch-Site, which
            # no page can set (a forbidden header, Fetch Metadata), then says whether it came from this server.
            same_site = origin in (None, "null") and request.headers.get("Sec-Fetch-Site") == "same-origin"
            if origin != f"http://{host}" and not same_site:
                return "a change must come from the preview's own pages (Origin refused)"
        return None

    def output_of(self, rel: str, text: str | None = None) -> tuple[str, object] | None:
        """(output path, item) of the page a content file makes (its text, else the file's), or None."""
        try:
            kind = kind_of(rel)
            text = decode_bytes((self.editor.root / rel).read_bytes()) if text is None else text
            meta = parse_document(rel, text).meta
            config = self.editor.config()
        except (EditRefused, OSError, DocumentError, BuildError, ValueError):
            return None
        item = SimpleNamespace(kind=kind, slug=str(meta.get("slug") or "").strip(), lang=str(meta.get("lang") or config.language).strip())
        return (path_of(item, config.language), item) if item.slug else None

    def page_of(self, rel: str) -> str:
        """The preview address of the page showing a content file (the register's anchor for an entity)."""
        found = self.output_of(rel)
        return "/" + found[0].removesuffix("index.html") + anchor_of(found[1]) if found else "/"

    def slug_problem(self, rel: str, text: str) -> Problem | None:
        """The slug taken by another file (its page is already that file's in the last good build), or None."""
        found = self.output_of(rel, text)
        if found is None or found[1].kind == "entity":
            return None  # (entities share the register page; the build checks their slugs)
        other = self.current().origins.get(found[0], "")
        if other.startswith("content/") and other != rel:
            return Problem(rel, None, "slug", f"'{found[1].slug}' is already the slug of {other} (both would be /{found[0].removesuffix('index.html')}); choose another slug")
        return None


def make_messages(project) -> tuple[Callable[[], str], Callable[[str], Callable[[str], str]]]:
    """The site's default language (site.yml) and each language's gettext from the theme's and site's catalogues."""
    def language() -> str:
        try:
            return load_config(project.config_file).language
        except BuildError:
            return "en"

    def messages(lang: str) -> Callable[[str], str]:
        catalogue = check_catalogues(project.template_layers, (lang,)).catalogues.get(lang)
        return catalogue.gettext if catalogue is not None else (lambda text: text)

    return language, messages


def page_language(site: EditorSite, page_path: str) -> str:
    """The language of a preview page, from its folder (ru/..., kk/...), else the site's default."""
    first = page_path.split("/", 1)[0]
    return first if first in LANGUAGES and "/" in page_path else site.language()


def editor_bar(site: EditorSite, origin: str | None, page_path: str) -> str:
    """The preview's editing bar on every page, in the page's language: Edit (the page's own file), New ..., Undo last save."""
    lang = page_language(site, page_path)
    t = site.messages(lang)
    esc = jinja2.utils.markupsafe.escape

    def edit_link(rel: str, text: str, extra: str = "") -> str:
        return f'<a href="{EDITOR_URL}/edit?{esc(urlencode({"file": rel, "lang": lang}))}"{extra}>{esc(text)}</a>'

    links = []
    if origin and origin.startswith("content/"):
        links.append(edit_link(origin, t("Edit this page"), " data-placard-edit"))
    if page_path.endswith("links/index.html"):
        entries = sorted((site.editor.content / "links").glob("*.md")) if (site.editor.content / "links").is_dir() else []
        if entries:
            items = "".join(f"<li>{edit_link('content/links/' + entry.name, entry.stem)}</li>" for entry in entries)
            links.append(f'<details style="display:inline-block"><summary>{esc(t("Edit an entry"))}</summary><ul style="margin:0;max-height:40vh;overflow:auto">{items}</ul></details>')
    for kind, label in NEW_LABELS.items():
        links.append(f'<a href="{EDITOR_URL}/new/{kind}?lang={lang}">{esc(t(label))}</a>')
    undo = (f'<form method="post" action="{EDITOR_URL}/undo" style="display:inline;margin:0">'
            f'<input type="hidden" name="{TOKEN_FIELD}" value="{esc(site.editor.token)}"><input type="hidden" name="__lang" value="{lang}">'
            f'<button type="submit">{esc(t("Undo last save"))}</button></form>') if site.editor.saves else ""
    return (f'<nav id="placard-editor-bar" lang="{lang}" aria-label="' + str(esc(t("Preview editor"))) + '" style="position:fixed;z-index:2147483646;'
            "right:.5em;bottom:.5em;max-width:calc(100% - 1em);box-sizing:border-box;background:#fff;color:#111;border:2px solid #333;"
            'border-radius:6px;padding:.3em .6em;font:15px/1.6 system-ui,sans-serif;display:flex;flex-wrap:wrap;gap:.2em .9em;align-items:center">'
            + "".join(links) + undo + "</nav>")


class EditorHandler(web.RequestHandler):
    """Shared checks: the preview's own Host always; on POST its own Origin and the token."""

    def initialize(self, site: EditorSite) -> None:
        self.site = site

    def prepare(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                   "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        reason = self.site.allows(self.request)
        if reason is None and self.request.method == "POST":
            token = self.get_body_argument(TOKEN_FIELD, "")
            if not hmac.compare_digest(token.encode(), self.site.editor.token.encode()):
                reason = "this form is out of date or did not come from the preview (no valid token); reload the page and try again"
        if reason:
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish("Refused: " + reason + "\n")

    def lang(self) -> str:
        """The form's language: the page's it was opened from (?lang=, then the form's __lang), else the site's."""
        wanted = self.get_argument("__lang", None) or self.get_query_argument("lang", "")
        return wanted if wanted in LANGUAGES else self.site.language()

    def t(self, text: str) -> str:
        """An interface text in the form's language (its catalogue read once per request)."""
        if not hasattr(self, "gettext"):
            self.gettext = self.site.messages(self.lang())
        return self.gettext(text)

    def show_form(self, kind: str, rel: str, base: bytes | None, values: dict, body: str, problems=(), refusal: str = "",
                  diff: str = "", status: int = 200, controls=None, drop: tuple[str, ...] = (), target: str = "",
                  upload: tuple[str, bool] = ("", False), upload_alt: str = "") -> None:
        """Render the form (its values, its problems beside their fields; those it would cause in other files
        than `target`, the file to write, listed with their file; `upload`: what an upload did, and whether it was refused)."""
        controls = controls or self.site.editor.controls(kind, None)
        unknown = unknown_fields(parse_document(rel, decode_bytes(base)).meta, controls) if base is not None else []
        known = set(field_names(controls, values)) | {key for key, _ in unknown}
        errors: dict[str, list[str]] = {}
        listed = []
        for problem in problems:
            elsewhere = problem.path not in ("", rel, target)
            name = field_name(problem.field)
            shown = name if not elsewhere and (name in known or name == "body") else ""
            if shown:
                errors.setdefault(shown, []).append(problem.message)
            listed.append(SimpleNamespace(field=problem.path + (f": {problem.field}" if problem.field else "") if elsewhere else problem.field,
                                          message=problem.message, name=shown))
        heading = f"{self.t('Edit')} {rel}" if base is not None else self.t(NEW_LABELS[kind])
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.site.environment.get_template("form.html").render(
            lang=self.lang(), t=self.t, help_of=lambda text: translated_help(text, self.t), heading=heading, file=rel if base is not None else "", kind=kind,
            base=base64.b64encode(base).decode() if base is not None else "", token=self.site.editor.token,
            controls=controls, values=values, body=body, errors=errors, unknown=unknown, drop=drop, problems=listed, refusal=refusal, diff=diff,
            zones=self.site.zones, back=self.site.page_of(rel) if base is not None else "/",
            upload=upload[0], upload_refused=upload[1], upload_alt=upload_alt, folder=rel.rsplit("/", 1)[0] if rel else f"content/{FOLDERS[kind]}"))


def field_names(controls, values: dict, prefix: str = ""):
    """Every name the form gives a control, records' rows included (where problems can be shown)."""
    for control in controls:
        name = prefix + control.key
        yield name
        if control.widget == "records":
            for index, row in enumerate(values.get(control.key) or []):
                yield f"{name}.{index}"
                yield from field_names(control.records, row, f"{name}.{index}.")


class EditHandler(EditorHandler):
    """GET /__placard__/edit?file=content/...: the form for an existing file."""

    def get(self) -> None:
        rel = self.get_query_argument("file", "")
        try:
            kind, text, source, values = self.site.editor.open_file(rel)
        except (EditRefused, DocumentError) as error:
            self.set_status(404 if isinstance(error, EditRefused) else 422)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"Cannot edit {rel}: {getattr(error, 'message', error)}\n")
            return
        meta = parse_document(rel, text).meta
        self.show_form(kind, rel, text.encode("utf-8"), values, source.body, controls=self.site.editor.controls(kind, meta))


class NewHandler(EditorHandler):
    """GET /__placard__/new/<kind>: the form for a new item, with the schema's defaults."""

    def get(self, kind: str) -> None:
        self.show_form(kind, "", None, self.site.editor.new_values(kind), "")


class SaveHandler(EditorHandler):
    """POST /__placard__/save: add a row, or check the whole file and write it (then show its page, rebuilt)."""

    async def post(self) -> None:
        editor = self.site.editor
        kind = self.get_body_argument("__kind", "")
        if kind not in SCHEMAS:
            raise web.HTTPError(400)
        rel = self.get_body_argument("__file", "")
        try:
            base_bytes = base64.b64decode(self.get_body_argument("__base", ""), validate=True) if rel else None
            base = decode_bytes(base_bytes) if base_bytes is not None else None
            meta = parse_document(rel, base).meta if base is not None else None
        except (binascii.Error, DocumentError, ValueError):
            raise web.HTTPError(400) from None
        controls = editor.controls(kind, meta)
        form = {key: [value.decode("utf-8", "replace") for value in values] for key, values in self.request.body_arguments.items()}
        values = form_values(form, controls)
        body = (form.get("__body") or [""])[-1].replace("\r\n", "\n")
        drop = tuple(form.get("__drop") or ())
        action = self.get_body_argument("__action", "save")
        if action.startswith("add:"):
            add_row(values, controls, action[4:].split("."))
            self.show_form(kind, rel, base_bytes, values, body, controls=controls, drop=drop)
            return
        if action in ("upload:body", "upload:image"):
            self.upload(kind, rel, base_bytes, values, body, controls, drop, action == "upload:image")
            return
        if any(chosen.body for chosen in self.request.files.get("__upload") or []):  # (saving without it would drop it unsaid)
            self.show_form(kind, rel, base_bytes, values, body, controls=controls, drop=drop, status=422,
                           upload=(self.t("A photo was chosen but not uploaded, so nothing was saved: choose it again and press "
                                          "Upload and add to the text or Upload as the lead photo, then save."), True),
                           upload_alt=" ".join(self.get_body_argument("__upload_alt", "").split()))
            return
        try:
            target, text, problems = editor.prepare(kind, rel or None, values, body, base, meta, drop, self.site.clock())
        except (EditRefused, DocumentError) as error:
            self.show_form(kind, rel, base_bytes, values, body, refusal=str(getattr(error, "message", error)), status=409, controls=controls, drop=drop)
            return
        taken = None if problems else self.site.slug_problem(target, text)
        problems = problems + [taken] if taken else problems
        if problems:
            self.show_form(kind, rel, base_bytes, values, body, problems, status=422, controls=controls, drop=drop, target=target)
            return
        generation = self.site.current().generation
        try:
            editor.save(target, text, base_bytes, self.site.clock())
        except EditRefused as error:
            self.show_form(kind, rel, base_bytes, values, body, refusal=str(error), diff=error.diff, status=409, controls=controls, drop=drop)
            return
        self.site.log(f"{target}: saved from the browser (Undo last save puts it back)")
        report_notes(self.site)
        await wait_for_rebuild(self.site, generation)
        self.redirect(self.site.page_of(target), status=303)

    def upload(self, kind: str, rel: str, base_bytes: bytes | None, values: dict, body: str, controls, drop, lead: bool) -> None:
        """Check the form's photo as the build would and write it next to the item under a free name, then show the
        form again with nothing else written: the photo in the body as ![alt](name) or as `image:`, for the next save."""
        files = self.request.files.get("__upload") or []
        alt = " ".join(self.get_body_argument("__upload_alt", "").split())
        if lead and not any(control.key == "image" for control in controls):
            raise web.HTTPError(400)

        def show(message: str, refused: bool) -> None:
            self.show_form(kind, rel, base_bytes, values, body, controls=controls, drop=drop, status=422 if refused else 200,
                           upload=(message, refused), upload_alt=alt if refused else "")

        if not files or not files[0].body:
            return show(self.t("Choose a photo file first; nothing was uploaded."), True)
        if not alt:
            return show(self.t("Say in a few words what the photo shows (it is read aloud to people who cannot see it); nothing was uploaded."), True)
        try:
            max_mb = self.site.editor.config().max_image_mb
        except BuildError:
            max_mb = DEFAULT_MAX_MB
        try:
            suffix, data = check_upload(files[0].filename, files[0].body, max_mb * 1_000_000)
            folder = rel.rsplit("/", 1)[0] if rel else f"content/{FOLDERS[kind]}"
            stem = photo_stem(files[0].filename, str(values.get("slug") or ""))
            saved = self.site.editor.add_photo(folder, stem, suffix, data)
        except EditRefused as error:
            return show(str(error), True)
        name = saved.rel.rsplit("/", 1)[1]
        if lead:
            values["image"] = {"src": name, "alt": alt}
        else:
            body = body.rstrip("\n") + ("\n\n" if body.strip() else "") + markdown_image(alt, name) + "\n"
        said = [self.t("Saved as %(file)s, without its metadata (camera, time, place).") % {"file": saved.rel}]
        if name != stem + suffix:
            said.append(self.t("The name %(name)s was taken, so the photo got another name.") % {"name": stem + suffix})
        said.append(self.t("It is the lead photo above: save to show it on the page.") if lead else self.t("It is at the end of the text below: save to show it on the page."))
        said.append(self.t("Like every file in content/, it is published with the site even if no page shows it: Undo last save removes it again."))
        self.site.log(f"{saved.rel}: photo uploaded from the browser, without its metadata (Undo last save removes it)")
        report_notes(self.site)
        show(" ".join(said), False)


def add_row(values: dict, controls, path: list[str]) -> None:
    """One more empty record at `path` (ties, or ties.0.sources): a new tie comes with its first source."""
    for index, key in enumerate(path):
        control = next((c for c in controls if c.key == key and c.widget == "records"), None)
        if control is None:
            return
        rows = values.setdefault(key, [])
        if index == len(path) - 1:
            rows.append(empty_record(control.records))
            return
        position = path[index + 1] if index + 1 < len(path) else ""
        if not position.isdigit() or int(position) >= len(rows):
            return
        values, controls, path = rows[int(position)], control.records, path[index + 2:]
        add_row(values, controls, path)
        return


def empty_record(controls) -> dict:
    """A record with no values (records inside it start with one empty row)."""
    return {c.key: ([empty_record(c.records)] if c.widget == "records" else [] if c.widget == "lines" else "") for c in controls}


def report_notes(site: EditorSite) -> None:
    """Say in the terminal what went wrong keeping history (a commit git refused)."""
    for note in site.editor.notes:
        site.log(note)
    site.editor.notes.clear()


async def wait_for_rebuild(site: EditorSite, generation: int) -> None:
    """Wait (bounded) until the preview rebuilt after a save, so the page shown is the new one: the whole
    rebuild, not the browsers' pages it showed first (an item's new page is not among them)."""
    deadline = time.monotonic() + site.rebuild_wait
    while (site.current().generation == generation or site.current().early) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


class UndoHandler(EditorHandler):
    """POST /__placard__/undo: put back the bytes the last save replaced."""

    async def post(self) -> None:
        generation = self.site.current().generation
        try:
            undone = self.site.editor.undo(self.site.clock())
        except EditRefused as error:
            self.set_status(409)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            esc = jinja2.utils.markupsafe.escape
            self.finish(f'<!DOCTYPE html><html lang="{self.lang()}"><head><meta charset="utf-8"><title>{esc(self.t("Not saved"))}</title>'
                        f'<link rel="stylesheet" href="{EDITOR_URL}/editor.css"></head><body><main><div class="refusal" role="alert">'
                        f"<h1>{esc(self.t('Nothing was undone'))}</h1><p>{esc(str(error))}</p>"
                        + (f'<pre class="diff">{esc(error.diff)}</pre>' if error.diff else "")
                        + f'</div><p><a href="/">{esc(self.t("Back to the preview"))}</a></p></main></body></html>')
            return
        self.site.log(f"{undone.rel}: last save undone from the browser")
        report_notes(self.site)
        await wait_for_rebuild(self.site, generation)
        self.redirect(self.site.page_of(undone.rel) if undone.before is not None else "/", status=303)


class DeleteHandler(EditorHandler):
    """POST /__placard__/delete: ask to confirm (after checking what it would break), then delete (undone like a save)."""

    async def post(self) -> None:
        rel = self.get_body_argument("__file", "")
        try:
            base = base64.b64decode(self.get_body_argument("__base", ""), validate=True)
        except (binascii.Error, ValueError):
            raise web.HTTPError(400) from None
        confirmed = self.get_body_argument("__confirm", "") == "yes"
        generation = self.site.current().generation
        try:
            if not confirmed:
                self.site.editor.check_delete(rel, base, self.site.clock())
                return self.show_delete(rel, base)
            deleted = self.site.editor.delete(rel, base, self.site.clock())
        except EditRefused as error:
            return self.show_delete(rel, base, error)
        self.site.log(f"{deleted.rel}: deleted from the browser (Undo last save puts it back)")
        report_notes(self.site)
        await wait_for_rebuild(self.site, generation)
        self.redirect("/" + (self.lang() + "/" if self.lang() != self.site.language() else ""), status=303)

    def show_delete(self, rel: str, base: bytes, refused: EditRefused | None = None) -> None:
        """The confirmation page, or why the file was not deleted (the files it would break, listed with their problems)."""
        self.set_status(409 if refused else 200)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.site.environment.get_template("delete.html").render(
            lang=self.lang(), t=self.t, file=rel, base=base64.b64encode(base).decode(), token=self.site.editor.token,
            refusal=str(refused) if refused and not isinstance(refused, WouldBreak) else "", diff=getattr(refused, "diff", ""),
            broken=refused.problems if isinstance(refused, WouldBreak) else [],
            photos=[] if refused else photos_left(self.site.editor.root, self.site.editor.config(), rel, self.site.clock()),
            back=self.site.page_of(rel), edit=f"{EDITOR_URL}/edit?" + urlencode({"file": rel, "lang": self.lang()})))


class RenderHandler(EditorHandler):
    """POST /__placard__/render: a body's HTML by the build's own Markdown pipeline, with its problems."""

    def post(self) -> None:
        html, problems = render_body(self.get_body_argument("__body", "").replace("\r\n", "\n"))
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"html": html, "problems": [f"{p.field + ': ' if p.field else ''}{p.message}" for p in problems]}))


class PhotoHandler(EditorHandler):
    """GET /__placard__/photo?file=content/...&token=...: a photo from content/ for the form's previews (the body's, the
    lead photo's). With the token, and for this origin only (CORP): another website cannot even learn a photo's size."""

    TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}

    def get(self) -> None:
        if not hmac.compare_digest(self.get_query_argument("token", "").encode(), self.site.editor.token.encode()):
            raise web.HTTPError(403)
        rel = self.get_query_argument("file", "")
        try:
            target = content_file(self.site.editor.content, rel, PHOTO_SUFFIXES + tuple(suffix.upper() for suffix in PHOTO_SUFFIXES))
        except EditRefused:
            raise web.HTTPError(404) from None
        if not target.is_file():
            raise web.HTTPError(404)
        self.set_header("Content-Type", self.TYPES[target.suffix.lower()])
        self.set_header("Cross-Origin-Resource-Policy", "same-origin")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(target.read_bytes())


class FileHandler(EditorHandler):
    """The form's stylesheet and script."""

    TYPES = {"editor.css": "text/css; charset=utf-8", "editor.js": "text/javascript; charset=utf-8"}

    def get(self, name: str) -> None:
        self.set_header("Content-Type", self.TYPES[name])
        self.finish((FILES / name).read_bytes())


def editor_routes(site: EditorSite) -> list:
    """The editor's routes, before the site's pages."""
    kinds = "|".join(SCHEMAS)
    return [
        (EDITOR_URL + r"/edit", EditHandler, {"site": site}),
        (EDITOR_URL + rf"/new/({kinds})", NewHandler, {"site": site}),
        (EDITOR_URL + r"/save", SaveHandler, {"site": site}),
        (EDITOR_URL + r"/undo", UndoHandler, {"site": site}),
        (EDITOR_URL + r"/delete", DeleteHandler, {"site": site}),
        (EDITOR_URL + r"/render", RenderHandler, {"site": site}),
        (EDITOR_URL + r"/photo", PhotoHandler, {"site": site}),
        (EDITOR_URL + r"/(editor\.css|editor\.js)", FileHandler, {"site": site}),
    ]
