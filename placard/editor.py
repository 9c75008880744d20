"""The preview's editor: forms generated from the content schemas (models.py), checked by the build's own
loader (content.load_item) before anything is written, saved in the format a person writes.

Preview only (placard.editor_http serves it; nothing here reaches output/). A form is built from the
*_SCHEMA of the item's kind, so a field added to a schema appears in the form by itself. Saving keeps
the file's field order and comments (ruamel.yaml's round trip), writes atomically, refuses a file that
changed on disk since the form was opened, and keeps the previous bytes for "Undo last save".
"""

from __future__ import annotations

import difflib
import io
import os
import posixpath
import re
import secrets
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, SingleQuotedScalarString

from .content import SECTIONS, ContentProblems, is_translation, load_config, load_item, load_site
from .documents import Document, DocumentError, LinedDict, decode_bytes, parse_document
from .derivatives import LEAD_NOT_LOCAL, RASTER_SUFFIXES, ImageProblem, check_size, read_size, site_image_refs
from .errors import BuildError, Problem, Problems
from .images import PNG_SIGNATURE, ImageError, strip_metadata
from .index import index_site
from .markup import BodySource, check_refs, convert_checked, pending_refs
from .models import (
    ENTITY_SCHEMA,
    EVENT_SCHEMA,
    PAGE_SCHEMA,
    POST_SCHEMA,
    REPLY_SCHEMA,
    SOURCE_SCHEMA,
    TIE_SCHEMA,
    TRANSLATION_SCHEMAS,
    parse_lead_image,
)
from .schema import Field, parse_bool, parse_date, parse_int, parse_local_datetime, parse_relation, parse_timezone, parse_url, parse_uuid
from .slugs import make_slug
from .vocabulary import FIELD_LABELS, N_

SCHEMAS = {"post": POST_SCHEMA, "event": EVENT_SCHEMA, "page": PAGE_SCHEMA, "entity": ENTITY_SCHEMA}
FOLDERS = {kind: folder for folder, kind in SECTIONS.items()}
# Fields whose value is a list of records, each read by its own schema (the loaders' load_replies,
# load_ties, load_source): the form shows one fieldset per record.
RECORDS = {"replies": REPLY_SCHEMA, "ties": TIE_SCHEMA, "sources": SOURCE_SCHEMA}
# RFC 5545 3.8.7.4: a change to when, where or whether an event happens must raise SEQUENCE, or
# calendars that already hold it keep their old copy.
SEQUENCE_FIELDS = ("starts", "ends", "timezone", "ambiguous_time", "venue", "address", "city", "country", "status")
HISTORY_FOLDER = ".placard-history"
# An item's lead photo (`image:` with `src:` and `alt:`, models.parse_lead_image): edited as its two parts.
LEAD_IMAGE_PARTS = (
    Field(str, help=" (the photo's file name, next to this file, e.g. square.jpg)"),
    Field(str, help=" (a few words saying what the photo shows, read aloud to people who cannot see it)"),
)
LEAD_IMAGE_LABELS = {"src": N_("Photo file"), "alt": N_("What the photo shows")}
# The help under each field (the schema's `help`, else its parser's docstring), marked here so that every
# language's catalogue has it; tests/test_editor.py fails when a field's help is not among them.
HELP_TEXTS = (
    N_("A single line or paragraph of text."),
    N_("lowercase-words-with-hyphens; it fixes the page's address"),
    N_("A date (YYYY-MM-DD) or a date and time with its UTC offset (YYYY-MM-DD HH:MM +00:00)."),
    N_("addresses this page had before, from the site's root, e.g. news/old-slug/; each keeps leading here"),
    N_("the photo at the top of the page, with src: and alt:"),
    N_("the photo's file name, next to this file, e.g. square.jpg"),
    N_("a few words saying what the photo shows, read aloud to people who cannot see it"),
    N_("true/false (yes/no accepted)."),
    N_("A URL slug: lowercase ASCII letters, digits and single hyphens."),
    N_("A UUID, as written by `build.py new event`."),
    N_("A whole number, zero or more."),
    N_("YYYY-MM-DD HH:MM, or YYYY-MM-DD for an all-day event"),
    N_("e.g. Europe/London"),
    N_("A wall-clock date and time without zone, 'YYYY-MM-DD HH:MM' (the zone comes from `timezone`)."),
    N_("`image:` with `src:` (a photo next to the file) and `alt:` (what it shows, for people who cannot see it)."),
    N_("An absolute http(s) web address."),
    N_("the slug of the other entity"),
    N_("A year, a year and month, or a full date: 2006, 2006-10 or 2006-10-01."),
    N_("with at least one source below it: '- post: <slug of a news post>' or '- url: https://...' with 'title:'; a tie without a source is never published"),
    N_("A calendar date written YYYY-MM-DD."),
    N_("ASCII, e.g. transliterated from the title: build.py new --lang ru ..."),
)
ONE_OF = N_("one of: %(values)s")  # a choice()'s docstring: its values are the file's own words, never translated


def translated_help(text: str, gettext: Callable[[str], str]) -> str:
    """A field's help in the form's language (`gettext`): the catalogue's words, the values of a choice kept as written."""
    if text.startswith("one of: "):
        return gettext(ONE_OF) % {"values": text.removeprefix("one of: ")}
    return gettext(text)


# The photos an upload may add: those the build publishes in several widths (derivatives.RASTER_SUFFIXES),
# named by what their bytes are, not by what the uploaded name says.
UPLOAD_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
PHOTO_SUFFIXES = tuple(RASTER_SUFFIXES)


# ---------------------------------------------------------------------------------------------
# What a form shows for each field: decided by the field's parser (and Field.widget)


@dataclass(frozen=True)
class Control:
    """One field of a form: its key, how it is edited, its choices and its help."""

    key: str
    widget: str  # text, select, checkbox, number, url, date, local-time, timezone, uid, lines, records, lead-image
    required: bool = False
    options: tuple[str, ...] = ()
    help: str = ""
    default: str = ""
    records: tuple["Control", ...] = ()  # for widget == "records": the fields of one record
    label: str = ""  # what the form calls it, in English (vocabulary.FIELD_LABELS; translated where shown), else the key


def controls_for(schema: Mapping[str, Field]) -> tuple[Control, ...]:
    """The form's controls for a schema, in the schema's order."""
    return tuple(control_for(key, spec) for key, spec in schema.items())


def control_for(key: str, spec: Field) -> Control:
    """How one field is edited, read from its parser."""
    parse = spec.parse
    help_text = spec.help.strip().removeprefix("(").removesuffix(")").strip() or (parse.__doc__ or "").strip()
    default = "" if spec.default in (None, (), False) else str(spec.default)
    common = {"key": key, "required": spec.required, "help": help_text, "default": default, "label": FIELD_LABELS.get(key, "")}
    if key in RECORDS:
        return Control(widget="records", records=controls_for(RECORDS[key]), **common)
    if parse is parse_lead_image:
        parts = tuple(Control(part, "text", help=part_spec.help.strip(" ()"), label=LEAD_IMAGE_LABELS[part])
                      for part, part_spec in zip(("src", "alt"), LEAD_IMAGE_PARTS))
        return Control(widget="lead-image", records=parts, **common)
    if spec.widget:
        return Control(widget=spec.widget, **common)
    if getattr(parse, "options", None):
        return Control(widget="select", options=tuple(parse.options), **common)
    if parse is parse_relation:
        from .vocabulary import RELATIONS
        return Control(widget="select", options=tuple(RELATIONS), **common)
    if getattr(parse, "item", None):
        return Control(widget="lines", **common)
    widgets = {parse_bool: "checkbox", parse_int: "number", parse_url: "url", parse_date: "date",
               parse_local_datetime: "local-time", parse_timezone: "timezone", parse_uuid: "uid"}
    return Control(widget=widgets.get(parse, "text"), **common)


# ---------------------------------------------------------------------------------------------
# Values: what the file says (as the build reads it: text) <-> what the form sends


def text_values(meta: Any, controls: tuple[Control, ...]) -> dict[str, Any]:
    """The form's values from a file's front matter as the build reads it (every value text)."""
    values: dict[str, Any] = {}
    meta = meta if isinstance(meta, dict) else {}
    for control in controls:
        raw = meta.get(control.key)
        if control.widget == "records":
            items = raw if isinstance(raw, list) else []
            values[control.key] = [text_values(item, control.records) for item in items]
        elif control.widget == "lead-image":  # (a bare `image: a.jpg` comes back as its src, so saving never drops it)
            parts = text_values(raw if isinstance(raw, dict) else {"src": raw} if isinstance(raw, str) else {}, control.records)
            values[control.key] = parts if any(parts.values()) else ""
        elif control.widget == "lines":
            values[control.key] = [str(v) for v in raw] if isinstance(raw, list) else ([str(raw)] if raw not in (None, "") else [])
        else:
            values[control.key] = "" if raw is None or isinstance(raw, (dict, list)) else str(raw)
    return values


def form_values(form: Mapping[str, list[str]], controls: tuple[Control, ...], prefix: str = "") -> dict[str, Any]:
    """The values a submitted form gives, by the same controls (rows marked for removal and empty rows left out)."""
    def one(name: str) -> str:
        return (form.get(name) or [""])[-1].replace("\r\n", "\n")

    values: dict[str, Any] = {}
    for control in controls:
        name = prefix + control.key
        if control.widget == "records":
            rows = []
            count = int(one(name + ".count") or 0) if one(name + ".count").isdigit() else 0
            for index in range(min(count, 500)):
                if one(f"{name}.{index}.remove"):
                    continue
                row = form_values(form, control.records, f"{name}.{index}.")
                if any(row.values()):
                    rows.append(row)
            values[control.key] = rows
        elif control.widget == "lines":
            values[control.key] = [line.strip() for line in one(name).split("\n") if line.strip()]
        elif control.widget == "lead-image":
            parts = form_values(form, control.records, name + ".")
            values[control.key] = parts if any(parts.values()) else ""
        elif control.widget == "checkbox":
            values[control.key] = "true" if one(name) else ("false" if control.default == "True" else "")
        elif control.widget == "local-time":
            day, clock = one(name + ".date").strip(), one(name + ".time").strip()
            values[control.key] = f"{day} {clock}".strip() if day else clock
        else:
            values[control.key] = one(name).strip()
    return values


# ---------------------------------------------------------------------------------------------
# Writing: the file's own YAML, changed only where the form changed it


def make_yaml() -> YAML:
    """ruamel.yaml's round trip: keeps comments, key order and quotes; never folds long lines."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1_000_000
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def dump_yaml(data: Any) -> str:
    """YAML text of a round-trip value."""
    stream = io.StringIO()
    make_yaml().dump(data, stream)
    return stream.getvalue()


def as_scalar(text: str, old: Any = None) -> Any:
    """A value to write: in the old value's quotes if it had some, plain when YAML reads it back unchanged."""
    if "\n" in text:
        return LiteralScalarString(text if text.endswith("\n") else text + "\n")
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(text)
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    try:
        loaded = make_yaml().load(text)
    except Exception:  # not a plain scalar: ruamel quotes the text itself
        return text
    if isinstance(loaded, (dict, list)) or loaded is None:
        return text
    return loaded if dump_yaml(loaded).removesuffix("\n...\n").rstrip("\n") == text else text


def scalar_text(value: Any) -> str:
    """A round-trip scalar as the build reads it (text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def apply_values(data: CommentedMap, values: Mapping[str, Any], controls: tuple[Control, ...]) -> CommentedMap:
    """Change `data` (in place) to the form's values: unchanged values keep their text, quotes and comments;
    emptied fields are removed; new fields go where the schema orders them."""
    order = [control.key for control in controls]
    for control in controls:
        key, new = control.key, values.get(control.key)
        if new in (None, "", []) or (isinstance(new, dict) and not any(new.values())):
            if key in data:
                del data[key]
            continue
        old = data.get(key)
        if control.widget == "lead-image":
            value = apply_values(old if isinstance(old, CommentedMap) else CommentedMap(), new, control.records)
        elif control.widget == "records":
            seq = old if isinstance(old, CommentedSeq) else CommentedSeq()
            for index, row in enumerate(new):
                if index < len(seq) and isinstance(seq[index], CommentedMap):
                    apply_values(seq[index], row, control.records)
                else:
                    seq.append(apply_values(CommentedMap(), row, control.records))
            del seq[len(new):]
            value = seq
        elif control.widget == "lines":
            seq = old if isinstance(old, CommentedSeq) else CommentedSeq()
            for index, line in enumerate(new):
                if index >= len(seq):
                    seq.append(as_scalar(line))
                elif isinstance(seq[index], (dict, list)) or scalar_text(seq[index]) != line:
                    seq[index] = as_scalar(line, seq[index])
            del seq[len(new):]
            value = seq
        elif old is not None and not isinstance(old, (dict, list)) and scalar_text(old) == new:
            continue
        else:
            value = as_scalar(new, old)
        if key in data:
            data[key] = value
        else:
            data.insert(insert_position(data, key, order), key, value)
    return data


def insert_position(data: CommentedMap, key: str, order: list[str]) -> int:
    """Where a new key goes: after the last key the schema puts before it."""
    before = set(order[:order.index(key)])
    position = 0
    for index, existing in enumerate(data):
        if existing in before:
            position = index + 1
    return position


@dataclass(frozen=True)
class Source:
    """A content file split the way the build splits it: its front matter (round trip) and its body."""

    data: CommentedMap
    body: str
    lead: str = "\n"  # blank line(s) between the closing '---' and the body, kept as they were
    opening: str = "---\n"
    closing: str = "---\n"


BOUNDARY = re.compile(r"-{3,}[ \t]*\r?\n?")  # a '---' line, as python-frontmatter's FM_BOUNDARY finds them


def split_source(text: str) -> Source:
    """Split a file's text at the same '---' lines as python-frontmatter (the build's reader), keeping comments
    and exactly the lines around the front matter (its splitter would drop blank lines before the body)."""
    lines = text.splitlines(keepends=True)
    closing = next((index for index, line in enumerate(lines[1:], 1) if BOUNDARY.fullmatch(line)), None)
    if not lines or not BOUNDARY.fullmatch(lines[0]) or closing is None:
        raise DocumentError(1, "the front matter is not between two '---' lines; fix it in a text editor first")
    front = "".join(lines[1:closing])
    data = make_yaml().load(front) if front.strip() else CommentedMap()
    if not isinstance(data, CommentedMap):
        raise DocumentError(1, "the front matter is not a set of 'key: value' lines; fix it in a text editor first")
    rest = "".join(lines[closing + 1:])
    body = rest.lstrip("\n")
    return Source(data, body, rest[:len(rest) - len(body)], lines[0], lines[closing] if lines[closing].endswith("\n") else lines[closing] + "\n")


def join_source(source: Source) -> str:
    """A file's text from its front matter and body (the format the README documents)."""
    return source.opening + dump_yaml(source.data) + source.closing + source.lead + source.body


# ---------------------------------------------------------------------------------------------
# Checking: the build's own loader, on the exact text that would be written


def check_text(display: str, text: str, kind: str, project_config) -> list[Problem]:
    """Every problem the build would report for this file's text (its front matter and its body)."""
    problems = Problems()
    data = text.encode("utf-8")
    item = load_item(display, data, kind, project_config, problems)
    if not problems.items and getattr(item, "body", None) is not None:
        _, body_problems = convert_checked(BodySource(display, item.body, item.body_line))
        problems.items.extend(body_problems)
    return sorted(set(problems.items), key=lambda p: (p.line or 0, p.field, p.message))


def check_in_site(root: Path, config, rel: str, data: bytes | None, now: datetime) -> list[Problem]:
    """The problems the build's load stage and link checks would find with `data` in place of `rel` (None: the
    file removed) and the rest of content/ as it is on disk, read in memory (nothing is written): the file's own
    (a tie to an entity that does not exist, a slug or uid another file has, a link to nothing), and those it
    would cause in other files (a slug they cite taken away); other files' problems of before are left out."""
    problems = site_problems(root, config, {rel: data}, now)
    elsewhere = [problem for problem in problems if problem.path != rel]
    if elsewhere:
        before = {(p.path, p.field, p.message) for p in site_problems(root, config, {}, now)}
        problems = [p for p in problems if p.path == rel or (p.path, p.field, p.message) not in before]
    return sorted(set(problems), key=lambda p: (p.path != rel, p.path, p.line or 0, p.field, p.message))


def site_problems(root: Path, config, overlay: Mapping[str, bytes | None], now: datetime) -> list[Problem]:
    """Every problem of the load stage (content.load_site, as the preview builds: drafts shown) and of the links
    between items (markup.check_refs), with `overlay` in place of those files."""
    try:
        site = load_site(root, root / "content", config, now, preview=True, overlay=overlay)
        problems, broken, hints = [], frozenset(), {}
    except ContentProblems as failed:
        site, problems, broken, hints = failed.site, list(failed.problems), failed.broken, failed.hints
    targets = {**index_site(site).targets, **{ref: "" for ref in broken}}
    found = Problems()
    for item in site.items():
        check_refs(item, targets, found, hints, pending_refs(site))
    return problems + found.items


def photos_left(root: Path, config, rel: str, now: datetime) -> list[str]:
    """The photos in content/ that `rel` shows (its body, replies, `image:`) and no other file does: deleting `rel`
    leaves them in content/, where the build still copies them (derivatives.site_image_refs, with and without it)."""
    def shown(overlay: Mapping[str, bytes | None]) -> list:
        try:
            site = load_site(root, root / "content", config, now, preview=True, overlay=overlay)
        except ContentProblems as failed:
            site = failed.site
        return site_image_refs(site)

    others = {ref.target for ref in shown({rel: None})}
    return sorted({f"content/{ref.target}" for ref in shown({}) if ref.path == rel and ref.target not in others
                   and (root / "content" / ref.target).is_file()})


FIELD_INDEX = re.compile(r"\[(\d+)\]")


def field_name(problem_field: str) -> str:
    """A problem's field (ties[1].sources[2].url) as the form names it (ties.0.sources.1.url)."""
    return FIELD_INDEX.sub(lambda m: f".{int(m.group(1)) - 1}", problem_field)


def render_body(text: str) -> tuple[str, list[Problem]]:
    """A body's HTML as the build converts and checks it (for the form's live preview)."""
    return convert_checked(BodySource("body", text, 1))


# ---------------------------------------------------------------------------------------------
# Files: confined to content/, written atomically, the previous bytes kept


class EditRefused(Exception):
    """A save the editor will not do, with what to tell the campaigner (and a difference to show)."""

    def __init__(self, message: str, diff: str = ""):
        super().__init__(message)
        self.diff = diff


class WouldBreak(EditRefused):
    """A deletion refused because other files rely on the file: the problems the build would then report in them."""

    def __init__(self, rel: str, problems: list[Problem]):
        files = sorted({problem.path for problem in problems})
        super().__init__(f"{rel} was not deleted: {', '.join(files)} would break (they link to it); change or remove those links first")
        self.problems = problems


def content_file(content: Path, rel: str, suffixes: tuple[str, ...] = (".md",)) -> Path:
    """The file `rel` (content/...) names, refused unless it is a .md file (or one of `suffixes`) inside content/ reached without symlinks."""
    rel = rel.replace("\\", "/")
    parts = rel.split("/")
    if (not rel.startswith("content/") or rel.startswith("/") or any(part in ("", ".", "..") for part in parts)
            or not rel.endswith(suffixes) or any(part.startswith(".") for part in parts) or "\x00" in rel):
        raise EditRefused(f"'{rel}' is not a content file; the editor only changes .md files inside content/")
    target = content.parent.joinpath(*parts)
    node = content.parent
    for part in parts:
        node = node / part
        if node.is_symlink():
            raise EditRefused(f"'{rel}' goes through a symbolic link; the editor only changes files that really are inside content/")
    try:
        target.resolve().relative_to(content.resolve())
    except ValueError:
        raise EditRefused(f"'{rel}' is outside content/; the editor only changes files inside content/") from None
    return target


def write_temporary(target: Path, data: bytes, mode: int) -> str:
    """`data` written and flushed to disk in a new temporary file beside `target` (created with its folder), with `mode`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=".placard-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return temp


def write_atomically(target: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `target`, then rename it over: readers see the old or the new file, never half."""
    temp = write_temporary(target, data, target.stat().st_mode & 0o777 if target.exists() else 0o644)
    try:
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_new(target: Path, data: bytes) -> None:
    """Write `data` as the new file `target`, whole or not at all; FileExistsError if a file is there (never replaced)."""
    temp = write_temporary(target, data, 0o644)
    try:
        os.link(temp, target)  # (unlike a rename, a link fails if the name is taken)
    finally:
        Path(temp).unlink(missing_ok=True)


def sniff_photo(data: bytes) -> str | None:
    """The format (as Pillow names it) of a JPEG, PNG or WebP file by its first bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == PNG_SIGNATURE:
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_upload(name: str, data: bytes, max_bytes: int) -> tuple[str, bytes]:
    """(suffix, bytes without metadata) of an uploaded photo, after the build's own checks (size limit, format,
    damage, Pillow's pixel limit: derivatives.read_size; images.strip_metadata); EditRefused in the build's words."""
    shown = posixpath.basename(name.replace("\\", "/")) or "the file"
    claimed = posixpath.splitext(shown.lower())[1]
    try:
        if not data:
            raise ImageProblem("is empty (0 bytes); choose the photo's file again")
        check_size(data, max_bytes)
        suffix = UPLOAD_SUFFIXES.get(sniff_photo(data) or "") or (claimed if claimed in RASTER_SUFFIXES else None)
        if suffix is None:
            raise ImageProblem(LEAD_NOT_LOCAL)
        read_size(data, "upload" + suffix, max_bytes)
        cleaned = strip_metadata(data)
        read_size(cleaned, "upload" + suffix, max_bytes)  # what is written is what the build will read
    except ImageProblem as problem:
        raise EditRefused(f"'{shown}' {problem}; nothing was uploaded") from None
    except ImageError as problem:
        raise EditRefused(f"'{shown}': {problem}; nothing was uploaded") from None
    return suffix, cleaned


def photo_stem(upload_name: str, fallback: str) -> str:
    """The name (without suffix) an uploaded photo gets: its own file name as a slug (фото-1.JPG: foto-1), else `fallback`."""
    stem = posixpath.splitext(posixpath.basename(upload_name.replace("\\", "/")))[0]
    return make_slug(stem, 60, fallback="") or make_slug(fallback, 60, fallback="photo")


def markdown_image(alt: str, src: str) -> str:
    """`![alt](src)` with the alt text on one line and its brackets escaped (CommonMark 6.4)."""
    alt = " ".join(alt.split()).replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{alt}]({src})"


def keep_copy(root: Path, rel: str, data: bytes, now: datetime) -> Path:
    """A dated copy of a file's previous bytes in .placard-history/ (ignored by git: it holds its own .gitignore)."""
    folder = root / HISTORY_FOLDER
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# copies kept by the preview's editor before each save; safe to delete\n*\n", encoding="utf-8")
    name = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}-" + rel.removeprefix("content/").replace("/", "__")
    copy = folder / name
    copy.write_bytes(data)
    return copy


def in_git(root: Path) -> bool:
    """Whether the project is (inside) a git work tree, so saves can be kept as commits."""
    try:
        found = subprocess.run(["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and found.stdout.strip() == "true"


def commit_file(root: Path, rel: str, message: str) -> str | None:
    """Commit the file `rel` as it is now (only it: the campaigner's other staged changes stay staged);
    None when done or nothing to commit, else what git said."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)

    try:
        if not git("status", "--porcelain", "--", rel).stdout.strip():
            return None  # already committed as it is
        added = git("add", "--", rel)
        if added.returncode != 0:
            return added.stderr.strip()
        done = git("commit", "--quiet", "--no-verify", "--only", "-m", message, "--", rel)
        return None if done.returncode == 0 else (done.stderr.strip() or done.stdout.strip())
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)


def describe_difference(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff (difflib) of two texts, for the refusal message."""
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), before_name, after_name))


@dataclass(frozen=True)
class Save:
    """One save the editor made: what the file held before (None: it did not exist) and what it wrote (None: it deleted it)."""

    rel: str
    before: bytes | None
    after: bytes | None


@dataclass
class Editor:
    """The preview's editor for one project: its token, its saves (for undo), its lock for two tabs at once."""

    root: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    git: bool | None = None  # keep each save as a commit (None: find out, when the project is a git work tree)
    notes: list[str] = field(default_factory=list)  # what went wrong keeping history (said in the terminal)
    saves: list[Save] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # which items are published, for the site-wide checks

    @property
    def content(self) -> Path:
        return self.root / "content"

    def config(self):
        """site.yml as the build reads it (raises BuildError when it is wrong)."""
        return load_config(self.root / "site.yml")

    def open_file(self, rel: str) -> tuple[str, str, Source, dict]:
        """(kind, text, split source, form values) of an existing content file."""
        target = content_file(self.content, rel)
        kind = kind_of(rel)
        if not target.is_file():
            raise EditRefused(f"'{rel}' does not exist (any more); it may have been renamed or deleted")
        text = decode_bytes(target.read_bytes())
        source = split_source(text)
        meta = parse_document(rel, text).meta
        return kind, text, source, text_values(meta, self.controls(kind, meta))

    def controls(self, kind: str, meta: Any = None) -> tuple[Control, ...]:
        """The controls for a kind, or for a translation when the file is one."""
        if meta is not None and isinstance(meta, LinedDict) and kind in TRANSLATION_SCHEMAS:
            try:
                config = self.config()
            except BuildError:
                config = None
            if config is not None and is_translation(as_document(meta), config):
                return controls_for(TRANSLATION_SCHEMAS[kind])
        return controls_for(SCHEMAS[kind])

    def new_values(self, kind: str) -> dict:
        """A new item's values: empty, but the schema's default chosen in each list, a fresh uid for an event, the site's time zone."""
        values = {control.key: [] if control.widget in ("records", "lines") else control.default if control.widget == "select" else ""
                  for control in controls_for(SCHEMAS[kind])}
        if kind == "event":
            values["uid"] = str(uuid.uuid4())
            try:
                values["timezone"] = self.config().timezone.key
            except BuildError:
                pass
        return values

    def prepare(self, kind: str, rel: str | None, values: dict, body: str, base: str | None, meta: Any = None,
                drop: tuple[str, ...] = (), now: datetime | None = None) -> tuple[str, str, list[Problem]]:
        """(file to write, its new text, the build's problems with it, alone and with the rest of the site at `now`);
        `drop`: lines the schema does not know, to remove."""
        controls = self.controls(kind, meta)
        if rel:
            current = split_source(base if base is not None else "")
            for key in drop:
                if key in current.data and key not in {control.key for control in controls}:
                    del current.data[key]
            if any(control.key == "sequence" for control in controls):
                values = raise_sequence(text_values(parse_document(rel, base).meta, controls), values)
            source = Source(apply_values(current.data, values, controls), body, current.lead or ("\n" if body else ""), current.opening, current.closing)
        else:
            source = Source(apply_values(CommentedMap(), values, controls), body, "\n")
            rel = new_file_name(kind, values)
        text = join_source(source)
        try:
            config = self.config()
        except BuildError as error:
            return rel, text, list(error.problems)
        problems = check_text(rel, text, kind, config)
        if base is None and not problems and (self.root / rel).exists():
            problems.append(Problem(rel, None, "slug", f"a file {rel} already exists; choose another slug (or edit that file)"))
        # ... and with the other files (its references, its slug among theirs), all at once
        problems = sorted(set(problems) | set(check_in_site(self.root, config, rel, text.encode("utf-8"), now or self.clock())),
                          key=lambda p: (p.path != rel, p.path, p.line or 0, p.field, p.message))
        return rel, text, problems

    def save(self, rel: str, text: str, base: bytes | str | None, now: datetime) -> Save:
        """Write `text` to `rel` if the file still holds `base`, its bytes when the form was opened (None: a new
        file that must not exist yet). A file written with CRLF line ends keeps them."""
        target = content_file(self.content, rel)
        base = base.encode("utf-8") if isinstance(base, str) else base
        crlf = base is not None and b"\r\n" in base and "\r" not in text
        data = (text.replace("\n", "\r\n") if crlf else text).encode("utf-8")
        with self.lock:
            current = target.read_bytes() if target.exists() else None
            if base is None and current is not None:
                raise EditRefused(f"{rel} was created meanwhile (in another tab or program); nothing was written. "
                                  "Open it from its page to edit it.")
            if base is not None and current is None:
                raise EditRefused(f"{rel} was deleted or renamed since this form was opened; nothing was written.")
            if base is not None and current != base:
                raise EditRefused(f"{rel} was changed since this form was opened (in another tab or a text editor); "
                                  "nothing was written, so neither version is lost. The changes made meanwhile are below: "
                                  "open the file again from its page to edit the newer version.",
                                  describe_difference(decode_bytes(base), decode_bytes(current), f"{rel} (when you opened the form)", f"{rel} (now)"))
            if current == data:
                raise EditRefused("nothing changed; nothing was written")
            if current is not None:
                keep_copy(self.root, rel, current, now)
                self.keep_in_git(rel, f"{rel}: as it was before the preview's editor saved it")
            write_atomically(target, data)
            self.keep_in_git(rel, f"{rel}: saved in the preview's editor")
            save = Save(rel, current, data)
            self.saves.append(save)
            return save

    def add_photo(self, folder: str, stem: str, suffix: str, data: bytes) -> Save:
        """Write an uploaded photo (checked already: check_upload) into `folder` (content/news) as `stem` + `suffix`,
        or stem-2, stem-3 ... when that name is taken: never over an existing file. Undo removes it."""
        with self.lock:
            for number in range(1, 1000):
                rel = f"{folder}/{stem}{'' if number == 1 else f'-{number}'}{suffix}"
                try:
                    write_new(content_file(self.content, rel, PHOTO_SUFFIXES), data)
                except FileExistsError:
                    continue
                self.keep_in_git(rel, f"{rel}: photo added in the preview's editor")
                save = Save(rel, None, data)
                self.saves.append(save)
                return save
        raise EditRefused(f"every name from {stem}{suffix} to {stem}-999{suffix} is taken in {folder}; rename the photo's file and upload it again")

    def check_delete(self, rel: str, base: bytes, now: datetime) -> None:
        """Refuse (EditRefused) to delete `rel` unless it still holds `base`, its bytes when the form was opened, and no
        other file would break without it: the build's load stage and link checks with the file gone (overlay None)."""
        target = content_file(self.content, rel)
        current = target.read_bytes() if target.is_file() else None
        if current is None:
            raise EditRefused(f"{rel} was deleted or renamed meanwhile; nothing was done.")
        if current != base:
            raise EditRefused(f"{rel} was changed since this form was opened (in another tab or a text editor); nothing was deleted. "
                              "The changes made meanwhile are below.",
                              describe_difference(decode_bytes(base), decode_bytes(current), f"{rel} (when you opened the form)", f"{rel} (now)"))
        try:
            config = self.config()
        except BuildError as error:
            raise EditRefused(f"site.yml has problems ({error.problems[0].message}); fix them first, then delete {rel}") from None
        broken = [problem for problem in check_in_site(self.root, config, rel, None, now) if problem.path != rel]
        if broken:
            raise WouldBreak(rel, broken)

    def delete(self, rel: str, base: bytes, now: datetime) -> Save:
        """Remove the content file `rel` after check_delete; its bytes are kept (history, git) and "Undo last save" puts them back."""
        with self.lock:
            self.check_delete(rel, base, now)
            target = content_file(self.content, rel)
            keep_copy(self.root, rel, base, now)
            self.keep_in_git(rel, f"{rel}: as it was before the preview's editor deleted it")
            target.unlink()
            self.keep_in_git(rel, f"{rel}: deleted in the preview's editor")
            save = Save(rel, base, None)
            self.saves.append(save)
            return save

    def keep_in_git(self, rel: str, message: str) -> None:
        """In a git work tree, commit the file as it is now (the previous version is then one commit back)."""
        if self.git is None:
            self.git = in_git(self.root)
        if self.git:
            failed = commit_file(self.root, rel, message)
            if failed:
                self.notes.append(f"{rel}: could not be committed ({failed}); the previous version is in {HISTORY_FOLDER}/")

    def undo(self, now: datetime) -> Save:
        """Put back the bytes the last save replaced (or remove the file it created), if the file is still as saved."""
        with self.lock:
            if not self.saves:
                raise EditRefused("there is no save to undo (since the preview started)")
            last = self.saves[-1]
            target = content_file(self.content, last.rel, (".md", *PHOTO_SUFFIXES))
            current = target.read_bytes() if target.exists() else None
            if current != last.after:
                text = last.rel.endswith(".md")  # (a photo's bytes have no difference to show)
                raise EditRefused(f"{last.rel} was changed after the last save; undo would lose that change, so nothing was done.",
                                  describe_difference(decode_bytes(last.after or b""), decode_bytes(current or b""), f"{last.rel} (as saved)", f"{last.rel} (now)") if text else "")
            if current is not None:
                keep_copy(self.root, last.rel, current, now)
            if last.before is None:
                target.unlink()
            else:
                write_atomically(target, last.before)
            self.keep_in_git(last.rel, f"{last.rel}: last save undone in the preview's editor")
            self.saves.pop()
            return last


def unknown_fields(meta: Any, controls: tuple[Control, ...]) -> list[tuple[str, str]]:
    """(key, value as written) of each front-matter line the schema does not know (the build refuses them)."""
    known = {control.key for control in controls}
    meta = meta if isinstance(meta, dict) else {}
    return [(key, str(value) if not isinstance(value, (dict, list)) else "...") for key, value in meta.items() if key not in known]


def as_document(meta: LinedDict) -> Document:
    """A Document of front matter alone, for is_translation (which reads only that)."""
    return Document("", meta, "", 1)


def kind_of(rel: str) -> str:
    """The kind of item a content file holds, from its folder (content/news/... is a post)."""
    parts = rel.split("/")
    if len(parts) < 3 or parts[1] not in SECTIONS:
        raise EditRefused(f"'{rel}' is not in one of content/{', content/'.join(SECTIONS)}")
    return SECTIONS[parts[1]]


def new_file_name(kind: str, values: Mapping[str, Any]) -> str:
    """Where a new item goes, named as `build.py new` names it: date-slug.md (posts, events) or slug.md."""
    slug = str(values.get("slug") or "").strip() or "untitled"
    slug = slug if re.fullmatch(r"[a-z0-9-]{1,100}", slug) else "untitled"
    day = str(values.get("date") or values.get("starts") or "")[:10]
    dated = kind in ("post", "event") and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)
    return f"content/{FOLDERS[kind]}/{day + '-' if dated else ''}{slug}.md"


def raise_sequence(old: Mapping[str, Any], new: dict) -> dict:
    """An event whose time, place or status changed gets sequence + 1 (unless the form raised it already);
    a move to 'rescheduled' keeps the old start as previous_start."""
    changed = [key for key in SEQUENCE_FIELDS if key in new and (old.get(key) or "") != (new.get(key) or "")]
    if not changed:
        return new
    new = dict(new)
    before = int(old.get("sequence") or 0) if str(old.get("sequence") or "0").isdigit() else 0
    now = int(new.get("sequence") or 0) if str(new.get("sequence") or "0").isdigit() else 0
    if now <= before:
        new["sequence"] = str(before + 1)
    if new.get("status") == "rescheduled" and not new.get("previous_start") and "starts" in changed and " " in (old.get("starts") or ""):
        new["previous_start"] = old["starts"]
    return new
