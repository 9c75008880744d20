"""Load stage: read site.yml and content/, validate every file once, return a typed Site.

Every problem in every file is collected (BuildError lists them all); past this module nothing
re-checks the content.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import os
import re
import stat
import uuid
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from .identity import read_logo
from .colour import accent_problem
from .documents import Document, DocumentError, LinedDict, LinedList, decode_bytes, parse_document
from .errors import BuildError, FieldError, Problems
from .models import (
    ACTION_SCHEMA,
    CONFIG_SCHEMA,
    ENTITY_SCHEMA,
    EVENT_SCHEMA,
    PAGE_SCHEMA,
    POST_SCHEMA,
    REPLY_SCHEMA,
    SITE_TEXT_SCHEMA,
    SOURCE_SCHEMA,
    TIE_SCHEMA,
    TRANSLATION_SCHEMAS,
    Action,
    Entity,
    Event,
    HeldBack,
    Origin,
    Page,
    Post,
    Reply,
    Site,
    SiteConfig,
    SiteTexts,
    Source,
    Tie,
)
from .schema import parse_date, parse_local_datetime, partial_date_bounds, validate_fields

# Element ids the register page uses besides entity slugs (see templates/links.html; footnotes are source-1, source-2...).
RESERVED_ANCHORS = ("main", "entities", "sources", "diagram-title", "diagram-desc", "diagram-caption")

SECTIONS = {"news": "post", "events": "event", "pages": "page", "links": "entity"}


def load_config(file: Path, display: str = "site.yml") -> SiteConfig:
    """Read and validate site.yml."""
    problems = Problems()
    try:
        from .documents import decode_bytes, parse_yaml

        raw = parse_yaml(decode_bytes(file.read_bytes()))
    except FileNotFoundError:
        problems.add(display, None, "", "the site settings file is missing; copy site.yml from the README")
        problems.raise_if_any()
    except OSError as exc:
        problems.add(display, None, "", unreadable(exc))
        problems.raise_if_any()
    except DocumentError as exc:
        problems.add(display, exc.line, "", exc.message)
        problems.raise_if_any()
    if not isinstance(raw, LinedDict):
        problems.add(display, 1, "", "site.yml must be a list of 'key: value' lines")
        problems.raise_if_any()
    values = validate_fields(raw, CONFIG_SCHEMA, display, problems)
    problems.raise_if_any()
    values["base_url"] = values["base_url"].rstrip("/") + "/"
    values["languages"] = values["languages"] or (values["language"],)
    if values["language"] not in values["languages"]:
        problems.add(display, raw.lines.get("language"), "language", "must be one of the 'languages' listed")
    values["translations"] = load_site_texts(raw, values, display, problems)
    values["actions"] = load_actions(raw, values, display, problems)
    check_pgp_key(file.parent, raw, values, display, problems)
    values["logo"] = read_site_logo(file.parent, raw, values, display, problems)
    if values.get("accent_colour") and (problem := accent_problem(values["accent_colour"])):
        problems.add(display, raw.lines.get("accent_colour"), "accent_colour", problem)
    problems.raise_if_any()
    return SiteConfig(**values)


def check_pgp_key(root: Path, raw: LinedDict, values: dict, display: str, problems: Problems) -> None:
    """`pgp_key:` names a public key file in the site's static/ folder (it is published with the site)."""
    name = values.get("pgp_key")
    if name is None:
        return
    if "/" in name or "\\" in name or name.startswith(".") or not name.endswith((".asc", ".txt", ".pgp", ".gpg")):
        problems.add(display, raw.lines.get("pgp_key"), "pgp_key", f"'{name}' must be the name of a file in static/ ending in .asc (the armoured public key), e.g. campaign.asc")
    elif not (root / "static" / name).is_file():
        problems.add(display, raw.lines.get("pgp_key"), "pgp_key", f"there is no file static/{name}; export the public key into it (gpg --armor --export ADDRESS > static/{name})")
    if values.get("secure_email") is None:
        problems.add(display, raw.lines.get("pgp_key"), "pgp_key", "says which key encrypts mail, but no 'secure_email:' says to which address; add it")


def read_site_logo(root: Path, raw: LinedDict, values: dict, display: str, problems: Problems):
    """`logo:` names an SVG or PNG file in the site's static/ folder; it is checked and measured here, once."""
    if values.get("logo") is None:
        return None
    try:
        return read_logo(root / "static", values["logo"])
    except ValueError as exc:
        problems.add(display, raw.lines.get("logo"), "logo", str(exc))
        return None


ACTIONS_EXAMPLE = "actions:\n  - kind: petition\n    url: https://example.org/petition\n    label: Sign the petition\n    labels:\n      ru: Подпишите петицию"


def load_actions(raw: LinedDict, values: dict, display: str, problems: Problems) -> tuple[Action, ...]:
    """`actions:` in site.yml: what visitors can do, each with its label in every language of the site."""
    given = raw.get("actions")
    if given is None:
        return ()
    if not isinstance(given, LinedList):
        problems.add(display, raw.lines.get("actions"), "actions", f"must be a list of actions, like:\n{ACTIONS_EXAMPLE}")
        return ()
    others = [lang for lang in values["languages"] if lang != values["language"]]
    actions = []
    for number, entry in enumerate(given, 1):
        line, prefix = given.lines[number - 1], f"actions[{number}]."
        if not isinstance(entry, LinedDict):
            problems.add(display, line, f"actions[{number}]", f"must have 'kind:', 'url:' and 'label:', like:\n{ACTIONS_EXAMPLE}")
            continue
        parsed = validate_fields(entry, ACTION_SCHEMA, display, problems, prefix)
        if parsed is None:
            continue
        labels = entry.get("labels")
        if labels is None:
            labels = LinedDict()
            labels.lines = {}
        if not isinstance(labels, LinedDict):
            problems.add(display, entry.lines.get("labels"), prefix + "labels", "must give the label in each other language of the site, like:\n    labels:\n      ru: ...")
            continue
        texts = []
        for lang in labels:
            if lang not in others:
                problems.add(display, labels.lines.get(lang), f"{prefix}labels.{lang}", f"'{lang}' is not one of the other languages in 'languages' ({', '.join(others) or 'none'})")
        for lang in others:
            text = labels.get(lang)
            if not isinstance(text, str) or not text.strip():
                problems.add(display, labels.lines.get(lang) or entry.lines.get("labels") or entry.line, f"{prefix}labels.{lang}",
                             f"the label of '{parsed['label']}' in '{lang}' is needed because 'languages' lists it; add under 'labels:' a line '{lang}: ...'")
                continue
            texts.append((lang, text.strip()))
        actions.append(Action(parsed["kind"], parsed["url"], parsed["label"], tuple(texts)))
    return tuple(actions)


def load_site_texts(raw: LinedDict, values: dict, display: str, problems: Problems) -> tuple:
    """`translations:` in site.yml: the title, tagline and description in each language but the default."""
    given = raw.get("translations")
    others = [lang for lang in values["languages"] if lang != values["language"]]
    example = "translations:\n  ru:\n    title: ...\n    tagline: ...\n    description: ..."
    if given is not None and not isinstance(given, LinedDict):
        problems.add(display, raw.lines.get("translations"), "translations", f"must list each language with its title, tagline and description, like:\n{example}")
        return ()
    if given is None:  # no `translations:` at all: every other language's texts are missing
        given = LinedDict()
        given.lines = {}
    texts = []
    for lang in given:
        if lang not in others:
            problems.add(display, given.lines.get(lang), f"translations.{lang}", f"'{lang}' is not one of the other languages in 'languages' ({', '.join(others) or 'none'}); add it there or remove this part")
    for lang in others:
        entry = given.get(lang)
        if not isinstance(entry, LinedDict):
            problems.add(display, given.lines.get(lang) or raw.lines.get("languages"), f"translations.{lang}", f"the site's title, tagline and description in '{lang}' are needed because 'languages' lists it; add:\n{example.replace('ru', lang)}")
            continue
        parsed = validate_fields(entry, SITE_TEXT_SCHEMA, display, problems, f"translations.{lang}.")
        if parsed is not None:
            texts.append((lang, SiteTexts(**parsed)))
    return tuple(texts)


def iter_content_files(content_dir: Path, skip_suffix: str | None = None, faults: list[tuple[str, str]] | None = None) -> list[Path]:
    """Every file under content/, in a stable order, skipping editor backups and hidden files."""
    return [Path(path) for path in iter_content_paths(content_dir, skip_suffix, faults=faults)]


def entry_fault(entry: os.DirEntry) -> str | None:
    """Why a folder entry that is neither a folder nor a regular file is not published, or None."""
    try:
        mode = os.stat(entry.path).st_mode
    except OSError as exc:
        if exc.errno == errno.ENOENT and entry.is_symlink():
            return f"cannot be read: it is a symbolic link to {os.readlink(entry.path)!r}, which does not exist; replace it with the real file"
        return unreadable(exc)
    if stat.S_ISDIR(mode):
        return ("is a link to a folder; placard does not follow links to folders (they could pull in files from anywhere); "
                "copy the folder here instead of linking to it")
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        return f"is {what}, not a file; this folder holds only files and folders, so remove it"
    return None


def is_regular(entry: os.DirEntry) -> bool:
    """Whether a folder entry is a file (or a link to one); a link loop is not."""
    try:
        return entry.is_file()
    except OSError:
        return False


def iter_content_paths(content_dir: Path, skip_suffix: str | None = None, links: set[str] | None = None,
                       faults: list[tuple[str, str]] | None = None) -> list[str]:
    """iter_content_files as strings (10,000 Path objects cost a tenth of a warm build); the files
    that are symbolic links are added to `links` (the listing says so: no lstat each).

    (os.scandir, not Path.rglob: a file's type comes with its folder's listing, no stat per file;
    links to folders are not followed, links to files are listed, as os.walk and rglob do.)
    Whatever is not listed (an unreadable folder, a link to a folder, a link loop, a named pipe) is
    added to `faults` as (path, why), so nothing under content/ or static/ is skipped silently."""
    found: list[tuple[tuple[str, ...], str]] = []
    folders: list[tuple[tuple[str, ...], str]] = [((), str(content_dir))]
    while folders:
        parts, folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if faults is not None:
                faults.append((folder, f"this folder cannot be read: {exc.strerror or exc}; make it readable (check its permissions) or move it out"))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append((parts + (name,), entry.path))
            elif not (name.endswith(("~", ".swp", ".tmp")) or (skip_suffix and name.lower().endswith(skip_suffix))):
                if is_regular(entry):
                    found.append((parts + (name,), entry.path))
                    if links is not None and entry.is_symlink():
                        links.add(entry.path)
                elif faults is not None:
                    why = entry_fault(entry)
                    if why:
                        faults.append((entry.path, why))
    found.sort()
    return [path for _parts, path in found]


def check_inside(file: Path, root: Path) -> str | None:
    """Why a file may not be read (a link pointing outside the project), or None."""
    try:
        file.resolve().relative_to(root.resolve())
    except ValueError:
        return f"is a link to {file.resolve()}, outside the project; copy the file into the project instead"
    return None


def make_inside_check(root: Path) -> Callable[[Path], str | None]:
    """check_inside, resolving each folder once and a file only when it is a link itself."""
    folders: dict[str, str | None] = {}

    def check(file: Path | str, is_link: bool | None = None) -> str | None:
        if os.path.islink(file) if is_link is None else is_link:
            return check_inside(Path(file), root)
        parent = os.path.dirname(file)
        if parent not in folders:
            folders[parent] = check_inside(Path(parent), root)
        return folders[parent] and check_inside(Path(file), root)

    return check


def load_site(root: Path, content_dir: Path, config: SiteConfig, now: datetime, preview: bool = False,
              read_items: "ReadItems | None" = None, overlay: "Mapping[str, bytes | None] | None" = None) -> Site:
    """Read every content file, validate it, and decide what this build publishes.

    `read_items` reads and validates the files found (parse_files by default; placard.incremental
    takes unchanged files' items from its cache and parses the rest on every core). `overlay` (display
    path -> bytes, or None for a file taken away) is read instead of those files, or added to them: the
    preview's editor checks a file with the rest of the site before writing it, in memory."""
    problems = Problems()
    loaded: dict[str, list] = {kind: [] for kind in SECTIONS.values()}
    stubs: list[TranslationStub] = []
    if not content_dir.is_dir():
        problems.add(display_path(content_dir, root), None, "", "the content folder is missing; create it with news/, events/, links/ and pages/ inside")
        problems.raise_if_any()
    inside = make_inside_check(root)
    wanted: list[tuple[str, str, Path]] = []  # (display path, kind, file)
    content_prefix, content_display = len(str(content_dir)) + 1, display_path(content_dir, root)
    links: set[str] = set()
    broken: set[str] = set()  # 'kind:slug' of files with problems: links to them are not reported as links to nothing
    faults: list[tuple[str, str]] = []
    unread: dict[str, list[str]] = {}  # kind -> files (or folders) whose slugs could not be read
    for file in iter_content_paths(content_dir, links=links, faults=faults):  # each under content_dir
        rel = file[content_prefix:].split(os.sep)
        display = content_display + "/" + "/".join(rel)
        outside = inside(file, file in links)
        if outside:
            problems.add(display, None, "", outside)
            continue
        section = rel[0] if len(rel) > 1 else ""
        if not file.lower().endswith(".md"):
            continue  # assets next to content are copied by the output stage
        if section not in SECTIONS:
            problems.add(display, None, "", f"Markdown files belong in one of content/{'/, content/'.join(SECTIONS)}/; move this file")
            continue
        wanted.append((display, SECTIONS[section], file))
    for file, why in faults:
        shown = display_path(Path(file), root)
        problems.add(shown, None, "", why)
        section = shown.removeprefix(content_display + "/").split("/")[0]
        if section in SECTIONS:
            unread.setdefault(SECTIONS[section], []).append(shown)
    overlay = overlay or {}
    wanted = overlay_files(wanted, overlay, content_display)
    parsed = (read_items or parse_files)([want for want in wanted if want[0] not in overlay], config)
    parsed.update(read_overlay(wanted, overlay, config))
    for display, _kind, _file in wanted:
        item, found = parsed[display]
        problems.items.extend(found)
        if isinstance(item, TranslationStub):
            stubs.append(item)
            continue
        if isinstance(item, Broken):
            broken.add(item.ref)
            if item.ref.endswith(":"):  # its slug is not known: links to that kind may be links to it
                unread.setdefault(item.ref[:-1], []).append(display)
        elif item is not None:
            loaded[item.kind].append(item)
    # Past a file's own problems the checks go on with the files that loaded, so one run reports
    # every problem of every file (ties, sources and links between files too).
    for item in link_translations(loaded, stubs, config, problems):
        loaded[item.kind].append(item)
    published, held = select_published(loaded, now, preview)
    hints = {kind: f" (unless it is in {', '.join(paths)}, whose slug could not be read)" for kind, paths in unread.items()}
    check_references(published, problems, broken, hints)
    originals = {kind: [item for item in items if getattr(item, "original", None) is None] for kind, items in published.items()}
    translations = [item for items in published.values() for item in items if getattr(item, "original", None) is not None]
    site = Site(
        config=config,
        now=now,
        posts=tuple(sorted(originals["post"], key=lambda p: (p.date, p.slug), reverse=True)),
        events=tuple(sorted(originals["event"], key=lambda e: (e.starts, e.slug))),
        pages=tuple(sorted(originals["page"], key=lambda p: (p.menu if p.menu is not None else 999, p.slug))),
        entities=tuple(sorted(originals["entity"], key=lambda e: e.name.lower())),
        held_back=tuple(held),
        preview=preview,
        translations=tuple(sorted(translations, key=lambda t: (t.kind, t.lang, t.slug))),
    )
    if problems.items:
        raise ContentProblems(problems.items, site, frozenset(broken), hints)
    return site


def overlay_files(wanted: list[tuple[str, str, str]], overlay: "Mapping[str, bytes | None]", content_display: str) -> list[tuple[str, str, str]]:
    """The files to read with `overlay` applied: its None paths taken away, its new .md paths added."""
    if not overlay:
        return wanted
    kept = [want for want in wanted if want[0] not in overlay or overlay[want[0]] is not None]
    known = {want[0] for want in kept}
    for display, data in overlay.items():
        section = display.removeprefix(content_display + "/").split("/")[0]
        if data is not None and display not in known and display.lower().endswith(".md") and section in SECTIONS:
            kept.append((display, SECTIONS[section], ""))
    return kept


def read_overlay(wanted: list[tuple[str, str, str]], overlay: "Mapping[str, bytes | None]", config: SiteConfig) -> dict[str, tuple[Any, list]]:
    """Display path -> (item or None, its problems) for the overlay's files among `wanted`, from their given bytes."""
    read = {}
    for display, kind, _file in wanted:
        data = overlay.get(display)
        if data is not None:
            problems = Problems()
            read[display] = (load_item(display, data, kind, config, problems), problems.items)
    return read


class ContentProblems(BuildError):
    """The load stage's problems, with the site as far as it loaded, so the build can still check
    the links in the files that did load (see pipeline.build_site) and report everything at once."""

    def __init__(self, problems: list, site: Site, broken: frozenset[str], hints: dict[str, str]):
        super().__init__(problems)
        self.site = site
        self.broken = broken  # 'kind:slug' of the files that did not load
        self.hints = hints  # kind -> words for a link to nothing of that kind: the files that could not be read


@dataclasses.dataclass(frozen=True)
class Broken:
    """A content file with problems: only what links to it need (its 'kind:slug', or 'kind:' if the slug
    could not be read), so they are not reported too."""

    ref: str


# What reads a site's files: (display path, kind, file) each -> display path -> (item or None, its problems).
ReadItems = Callable[[list[tuple[str, str, str]], SiteConfig], dict[str, tuple[Any, list]]]


def parse_files(files: list[tuple[str, str, str]], config: SiteConfig) -> dict[str, tuple[Any, list]]:
    """Display path -> (item or None, its problems) for each (display path, kind, file), read here, one after another."""
    return dict(parse_chunk((files, config)))


def parse_chunk(task: tuple[list[tuple[str, str, str]], SiteConfig]) -> list[tuple[str, tuple[Any, list]]]:
    """Read and validate some files, one at a time (each file's bytes are dropped once parsed)."""
    files, config = task
    results = []
    for display, kind, file in files:
        problems = Problems()
        try:
            with open(file, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            problems.add(display, None, "", unreadable(exc))
            results.append((display, (Broken(f"{kind}:"), problems.items)))
            continue
        item = load_item(display, data, kind, config, problems)
        results.append((display, (item, problems.items)))
    return results


def unreadable(exc: OSError) -> str:
    """A read that failed, in words a campaigner can act on."""
    if exc.errno == errno.ELOOP:
        return "cannot be read: it is a symbolic link that leads back to itself (a loop); replace it with the real file"
    if isinstance(exc, PermissionError):
        return f"cannot be read: {exc.strerror}; make the file readable (check its permissions and owner)"
    return f"cannot be read: {exc.strerror or exc}"


def load_item(display: str, data: bytes, kind: str, config: SiteConfig, problems: Problems) -> Any:
    """One content file's bytes as a validated item (or a translation stub), or None with its problems recorded."""
    try:
        doc = parse_document(display, decode_bytes(data))
    except DocumentError as exc:
        problems.add(display, exc.line, "", exc.message)
        return Broken(f"{kind}:")
    if is_translation(doc, config):
        return load_translation(doc, kind, problems)  # completed from its original, so never cached alone
    item = LOADERS[kind](doc, config, problems)
    if item is None:
        slug = doc.meta.get("slug")
        return Broken(f"{kind}:{slug.strip() if isinstance(slug, str) else ''}")
    if item is not None and kind != "entity" and item.lang == config.language and not item.translation_key:
        item = dataclasses.replace(item, translation_key=item.slug)  # an original's key is its slug unless it names one
    if kind != "entity" and item.aliases:  # for messages about an old address (placard.redirects)
        item = dataclasses.replace(item, aliases_line=doc.meta.lines.get("aliases") or 1)
    return item


@dataclasses.dataclass(frozen=True)
class TranslationStub:
    """A translation file as read: its text fields, waiting for the original it translates."""

    kind: str
    values: dict
    doc: Document


def is_translation(doc: Document, config: SiteConfig) -> bool:
    """A file in another language than the default that names a translation_key translates an item."""
    lang = str(doc.meta.get("lang") or "").strip()
    return bool(lang) and lang != config.language and bool(str(doc.meta.get("translation_key") or "").strip())


def load_translation(doc: Document, kind: str, problems: Problems) -> TranslationStub | None:
    """Validate a translation file: text fields only (the rest comes from the original)."""
    if kind == "entity":
        problems.add(doc.path, doc.meta.lines.get("translation_key"), "translation_key", "the register is written in the site's default language only for now; remove 'lang:' and 'translation_key:' (the register page shows every entry in every language)")
        return None
    schema = TRANSLATION_SCHEMAS[kind]
    inherited = [key for key in doc.meta if key not in schema]
    for key in inherited:
        problems.add(doc.path, doc.meta.lines.get(key), key, f"a translation takes '{key}' from the original (the {kind} whose slug or translation_key is '{doc.meta.get('translation_key')}'); remove this line and change it there. A translation has only: {', '.join(schema)}")
    if inherited:
        return None
    values = validate_fields(doc.meta, schema, doc.path, problems)
    if values is None:
        return None
    if not doc.body.strip():
        problems.add(doc.path, doc.body_line, "body", "the translation has no text; write the translated text below the closing '---'")
        return None
    return TranslationStub(kind, values, doc)


def link_translations(loaded: dict[str, list], stubs: list[TranslationStub], config: SiteConfig, problems: Problems) -> list:
    """Give each default-language item its key (translation_key, else slug), and make each translation a
    full item: its original with the translated text. Refuses keys that point nowhere or are used twice."""
    originals: dict[tuple[str, str], Any] = {}
    for kind, items in loaded.items():
        for index, item in enumerate(items):
            if kind == "entity" or item.lang != config.language:
                continue
            key = item.translation_key or item.slug  # load_item gave it the slug already, unless it named a key
            if (kind, key) in originals and key == item.slug and originals[kind, key].slug == key:
                continue  # two items with the same slug: check_references reports that (among published items)
            if (kind, key) in originals:
                problems.add(item.origin.path, None, "translation_key", f"'{key}' is also the key of {originals[kind, key].origin.path}; two {kind}s in the same language cannot share a key (a key without translation_key is the slug); change one translation_key")
                continue
            if item.translation_key != key:
                items[index] = item = dataclasses.replace(item, translation_key=key)
            originals[kind, key] = item
    translated: list = []
    seen: dict[tuple[str, str, str], str] = {}
    for stub in stubs:
        values, doc = stub.values, stub.doc
        key, lang, line = values["translation_key"], values["lang"], doc.meta.lines.get("translation_key")
        original = originals.get((stub.kind, key))
        if original is None:
            known = {k for (kind, k) in originals if kind == stub.kind}
            problems.add(doc.path, line, "translation_key", f"no {stub.kind} in the default language ({config.language}) has the slug or translation_key '{key}'{did_you_mean(key, known)}; use the slug of the {stub.kind} this file translates")
            continue
        if (stub.kind, lang, key) in seen:
            problems.add(doc.path, line, "translation_key", f"'{key}' already has a '{lang}' translation in {seen[stub.kind, lang, key]}; two {stub.kind}s in the same language cannot share a key; merge them or change one translation_key")
            continue
        seen[stub.kind, lang, key] = doc.path
        fields = [name for name in TRANSLATION_SCHEMAS[stub.kind] if name not in ("draft", "translation_key")]
        text = {name: values[name] for name in fields if values[name] is not None}
        untranslated = tuple(name for name in fields if values[name] is None and getattr(original, name, None) is not None)
        text["aliases_line"] = doc.meta.lines.get("aliases") or 1 if values["aliases"] else 0  # its own old addresses, never the original's
        translated.append(dataclasses.replace(original, **text, draft=values["draft"] or original.draft, body=doc.body, origin=Origin(doc.path),
                                              body_line=doc.body_line, original=original.origin.path, untranslated=untranslated))
    return translated


def display_path(file: Path, root: Path) -> str:
    """The path campaigners see in messages: relative to the project, with forward slashes."""
    text, base = str(file), str(root).rstrip(os.sep) + os.sep
    if text.startswith(base) and os.sep == "/":
        return text[len(base):]
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def as_datetime(value: datetime | date, config: SiteConfig) -> datetime:
    """A date alone means midnight in the site's time zone."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0, 0), tzinfo=config.timezone)


def load_post(doc: Document, config: SiteConfig, problems: Problems) -> Post | None:
    """Validate a news post."""
    values = validate_fields(doc.meta, POST_SCHEMA, doc.path, problems)
    if values is None:
        return None
    replies = load_replies(doc, values.pop("replies"), config, problems)
    if replies is None:
        return None
    values["date"] = as_datetime(values["date"], config)
    if values["updated"] is not None:
        values["updated"] = as_datetime(values["updated"], config)
    values["lang"] = values["lang"] or config.language
    if not doc.body.strip():
        problems.add(doc.path, doc.body_line, "body", "the post has no text; write it below the closing '---'")
        return None
    return Post(**values, replies=replies, body=doc.body, origin=Origin(doc.path), body_line=doc.body_line)


def load_replies(doc: Document, raw: Any, config: SiteConfig, problems: Problems) -> tuple[Reply, ...] | None:
    """Validate the replies kept under a post."""
    if not raw:
        return ()
    if not isinstance(raw, LinedList):
        problems.add(doc.path, doc.meta.lines.get("replies"), "replies", "must be a list of replies, each starting with '- author: ...'")
        return None
    replies = []
    for index, (item, line) in enumerate(zip(raw, raw.lines), 1):
        prefix = f"replies[{index}]."
        if not isinstance(item, LinedDict):
            problems.add(doc.path, line, prefix[:-1], "each reply needs author:, date: and body: lines")
            continue
        values = validate_fields(item, REPLY_SCHEMA, doc.path, problems, prefix)
        if values is not None:
            replies.append(Reply(author=values["author"], date=as_datetime(values["date"], config), body=values["body"], line=line))
    return tuple(replies) if len(replies) == len(raw) else None


def load_page(doc: Document, config: SiteConfig, problems: Problems) -> Page | None:
    """Validate a standalone page."""
    values = validate_fields(doc.meta, PAGE_SCHEMA, doc.path, problems)
    if values is None:
        return None
    if values["publish"] is not None:
        values["publish"] = as_datetime(values["publish"], config)
    values["lang"] = values["lang"] or config.language
    return Page(**values, body=doc.body, origin=Origin(doc.path), body_line=doc.body_line)


def resolve_local(value: datetime, zone, ambiguous: str | None, field: str) -> datetime:
    """Attach a zone to a wall-clock time, refusing times that do not exist or happen twice."""
    first = value.replace(tzinfo=zone, fold=0)
    second = value.replace(tzinfo=zone, fold=1)
    # A wall time in a spring-forward gap does not survive a round trip through UTC.
    # (Via UTC: astimezone() to the datetime's own tzinfo object is a no-op.)
    def roundtrip(aware: datetime) -> datetime:
        return aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)

    if roundtrip(first) != value and roundtrip(second) != value:
        raise FieldError(
            f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks go forward then; "
            "pick a time an hour later or earlier"
        )
    if first.utcoffset() != second.utcoffset():
        if ambiguous is None:
            raise FieldError(
                f"{value:%Y-%m-%d %H:%M} happens twice in {zone.key} (the clocks go back); add "
                "'ambiguous_time: earlier' (summer time) or 'ambiguous_time: later' (winter time)"
            )
        return second if ambiguous == "later" else first
    return first


def parse_event_time(text: str, zone, ambiguous: str | None, field: str) -> tuple[datetime, bool]:
    """Read `starts`/`ends`: a local date and time, or a date alone for an all-day event."""
    try:
        day = parse_date(text)
        return datetime.combine(day, time(0, 0), tzinfo=zone), True
    except FieldError:
        pass
    return resolve_local(parse_local_datetime(text), zone, ambiguous, field), False


def load_event(doc: Document, config: SiteConfig, problems: Problems) -> Event | None:
    """Validate an event, its times in its own zone, and its status."""
    values = validate_fields(doc.meta, EVENT_SCHEMA, doc.path, problems)
    if not str(doc.meta.get("uid") or "").strip():
        # The UID identifies the event in everyone's calendar forever, so it is never derived from
        # the title or the site. We suggest a fresh random one rather than rewrite the campaigner's file.
        problems.add(doc.path, doc.meta.line or 2, "uid", f"is missing; every event needs its own permanent ID. Add this line to the front matter and never change it: uid: {uuid.uuid4()}")
        return None
    if values is None:
        return None
    zone, ambiguous = values["timezone"], values.pop("ambiguous_time")
    lines = doc.meta.lines
    ok = True
    try:
        values["starts"], all_day = parse_event_time(values["starts"], zone, ambiguous, "starts")
    except FieldError as exc:
        problems.add(doc.path, lines.get("starts"), "starts", str(exc))
        return None
    if values["ends"] is not None:
        try:
            ends, ends_all_day = parse_event_time(values["ends"], zone, ambiguous, "ends")
            if ends_all_day != all_day:
                raise FieldError("write both starts and ends as dates (all-day) or both as date and time")
            if ends < values["starts"] or (ends == values["starts"] and not all_day):
                raise FieldError(
                    f"ends before it starts ({values['ends']} is not after {doc.meta['starts']}); check the date and time"
                )
            values["ends"] = ends
        except FieldError as exc:
            problems.add(doc.path, lines.get("ends"), "ends", str(exc))
            ok = False
    if values["status"] == "rescheduled" and values["previous_start"] is None:
        problems.add(doc.path, lines.get("status"), "previous_start", "a rescheduled event needs 'previous_start: YYYY-MM-DD HH:MM' (the old start) so people who saw it know it moved")
        ok = False
    if values["previous_start"] is not None:
        try:
            values["previous_start"] = resolve_local(values["previous_start"], zone, ambiguous, "previous_start")
        except FieldError as exc:
            problems.add(doc.path, lines.get("previous_start"), "previous_start", str(exc))
            ok = False
    if values["status"] != "scheduled" and values["sequence"] == 0:
        # RFC 5545 3.8.7.4: calendars that already hold the event only take the change if SEQUENCE rose.
        problems.add(doc.path, lines.get("sequence") or lines.get("status"), "sequence", f"the event is now {values['status']}, so its sequence must go up: write 'sequence: 1' (one more than before) so calendars that already have it update their copy")
        ok = False
    for key in ("updated", "publish"):
        if values[key] is not None:
            values[key] = as_datetime(values[key], config)
    if not ok:
        return None
    values["lang"] = values["lang"] or config.language
    values["kind_of_event"] = values.pop("kind")
    return Event(**values, all_day=all_day, body=doc.body, origin=Origin(doc.path), body_line=doc.body_line)


def load_source(raw: Any, path: str, line: int, prefix: str, problems: Problems) -> Source | None:
    """Validate one source: a post on this site, or an external publication with url and title."""
    if not isinstance(raw, LinedDict):
        problems.add(path, line, prefix, "a source needs keys: 'post: <slug of a news post>', or 'url: https://...' with 'title:' (and ideally 'publisher:', 'published:', 'accessed:')")
        return None
    values = validate_fields(raw, SOURCE_SCHEMA, path, problems, prefix + ".")
    if values is None:
        return None
    if values["post"] and values["url"]:
        problems.add(path, line, prefix, "give either 'post:' or 'url:', not both (make two sources, each starting with '- ')")
        return None
    if not values["post"] and not values["url"]:
        problems.add(path, line, prefix, "says neither where it was published ('url: https://...') nor which post on this site ('post: <slug>'); add one of them")
        return None
    if values["url"] and not values["title"]:
        problems.add(path, line, prefix + ".title", "an external source needs the title of the article or document; add a line 'title: ...'")
        return None
    if values["post"]:
        extra = [key for key in ("title", "publisher", "published", "accessed", "archived") if values[key]]
        if extra:
            problems.add(path, raw.lines.get(extra[0]), prefix + "." + extra[0], "a post on this site already has its title and date; remove this line (it is for 'url:' sources)")
            return None
    return Source(**values, line=line)


def load_tie(doc: Document, subject: str, item: LinedDict, line: int, prefix: str, problems: Problems) -> Tie | None:
    """Validate one tie: fields, at least one source, and `until` not before `since`."""
    values = validate_fields(item, TIE_SCHEMA, doc.path, problems, prefix + ".")
    if values is None:
        return None
    raw_sources = values.pop("sources")
    sources_line = item.lines.get("sources", line)
    if isinstance(raw_sources, LinedDict):
        problems.add(doc.path, sources_line, prefix + ".sources", "write each source as a list item: start its first line with '- ', e.g. '- post: <slug>'")
        return None
    if not isinstance(raw_sources, LinedList) or not raw_sources:
        problems.add(doc.path, sources_line, prefix + ".sources", "needs at least one source: add a list item '- post: <slug of a news post>' or '- url: https://...' with 'title:'; a tie without a source is never published")
        return None
    sources = [
        load_source(raw, doc.path, source_line, f"{prefix}.sources[{n}]", problems)
        for n, (raw, source_line) in enumerate(zip(raw_sources, raw_sources.lines), 1)
    ]
    if any(source is None for source in sources):
        return None
    since, until = values["since"], values["until"]
    if since and until and partial_date_bounds(until)[1] < partial_date_bounds(since)[0]:
        problems.add(doc.path, item.lines.get("until"), prefix + ".until", f"{until} is before since ({since}); swap them or fix the date")
        return None
    if values["relation"] == "other" and not (values["role"] or values["note"]):
        problems.add(doc.path, item.lines.get("relation"), prefix + ".relation", "'other' needs a 'role:' or 'note:' line saying what the link is")
        return None
    return Tie(subject=subject, sources=tuple(sources), line=line, object_line=item.lines.get("object", line), **values)


def load_ties(doc: Document, subject: str, raw: Any, problems: Problems) -> tuple[Tie, ...] | None:
    """Validate the ties listed in an entity file: every one needs a source."""
    if not raw:
        return ()
    if not isinstance(raw, LinedList):
        problems.add(doc.path, doc.meta.lines.get("ties"), "ties", "must be a list of ties, each starting with '- relation: ...'")
        return None
    ties = []
    for index, (item, line) in enumerate(zip(raw, raw.lines), 1):
        prefix = f"ties[{index}]"
        if not isinstance(item, LinedDict):
            problems.add(doc.path, line, prefix, "each tie needs 'relation:', 'object:' and 'sources:' lines")
            continue
        tie = load_tie(doc, subject, item, line, prefix, problems)
        if tie is not None:
            ties.append(tie)
    return tuple(ties) if len(ties) == len(raw) else None


def load_entity(doc: Document, config: SiteConfig, problems: Problems) -> Entity | None:
    """Validate an entity of the corporate-links register and its ties."""
    values = validate_fields(doc.meta, ENTITY_SCHEMA, doc.path, problems)
    if values is None:
        return None
    if values["slug"] in RESERVED_ANCHORS or re.fullmatch(r"source-\d+", values["slug"]):
        problems.add(doc.path, doc.meta.lines.get("slug"), "slug", f"'{values['slug']}' is used by the register page itself; choose another slug, e.g. {values['slug']}-{values['type']}")
        return None
    ties = load_ties(doc, values["slug"], values.pop("ties"), problems)
    if ties is None:
        return None
    values["lang"] = values["lang"] or config.language
    values["entity_kind"] = values.pop("type")
    return Entity(**values, ties=ties, body=doc.body, origin=Origin(doc.path), body_line=doc.body_line)


LOADERS: dict[str, Callable[[Document, SiteConfig, Problems], Any]] = {
    "post": load_post,
    "event": load_event,
    "page": load_page,
    "entity": load_entity,
}


def select_published(loaded: dict[str, list], now: datetime, preview: bool) -> tuple[dict[str, list], list[HeldBack]]:
    """Split items into those this build publishes and those held back, with the reason."""
    published: dict[str, list] = {kind: [] for kind in loaded}
    held: list[HeldBack] = []
    for kind, items in loaded.items():
        for item in items:
            when = item.date if kind == "post" else getattr(item, "publish", None)
            ref = f"{kind}:{item.slug}" if getattr(item, "original", None) is None else ""  # a translation is linked as its original
            if item.draft and not preview:
                held.append(HeldBack(item.origin.path, "draft: true (shown only in the preview)", ref))
            elif when is not None and when > now:
                held.append(HeldBack(item.origin.path, f"scheduled for {when.isoformat(timespec='minutes')}; a build after then publishes it", ref, when))
            else:
                published[kind].append(item)
    return published, held


def check_references(published: dict[str, list], problems: Problems, broken: set[str] | frozenset[str] = frozenset(),
                     hints: dict[str, str] | None = None) -> None:
    """Site-wide checks: unique slugs per section, and references to items that exist (or to files
    in `broken`, whose own problems are reported; `hints` adds, per kind, which files could not be read)."""
    hints = hints or {}
    for kind, items in published.items():
        seen: dict[str, str] = {}
        for item in items:
            key = (item.lang, item.slug)
            if key in seen:
                problems.add(item.origin.path, None, "slug", f"'{item.slug}' is also used by {seen[key]}; every {kind} needs its own slug")
            seen[key] = item.origin.path
    uids: dict[str, str] = {}
    for event in published["event"]:
        if event.original is not None:
            continue  # a translation is the same event, with the same uid (RFC 5545 3.8.4.7)
        if event.uid in uids:
            problems.add(event.origin.path, None, "uid", f"is the same as in {uids[event.uid]} (was the file copied?); give this event a new one: uid: {uuid.uuid4()}")
        uids.setdefault(event.uid, event.origin.path)
    posts = {p.slug for p in published["post"]} | {ref[5:] for ref in broken if ref.startswith("post:")}
    entities = {e.slug for e in published["entity"]} | {ref[7:] for ref in broken if ref.startswith("entity:")}
    for event in published["event"]:
        for slug in event.posts:
            if slug not in posts:
                problems.add(event.origin.path, None, "posts", f"no published post has slug '{slug}'{hints.get('post', '')}")
    for entity in published["entity"]:
        for n, tie in enumerate(entity.ties, 1):
            if tie.object == entity.slug:
                problems.add(entity.origin.path, tie.object_line, f"ties[{n}].object", "an entity cannot be tied to itself; set 'object:' to the other entity's slug")
            elif tie.object not in entities:
                problems.add(entity.origin.path, tie.object_line, f"ties[{n}].object", f"no published entity has slug '{tie.object}'{did_you_mean(tie.object, entities)}{hints.get('entity', '')}; fix the slug, or add content/links/{tie.object}.md with 'name:', 'slug: {tie.object}' and 'type:'")
            for m, source in enumerate(tie.sources, 1):
                if source.post and source.post not in posts:
                    problems.add(entity.origin.path, source.line, f"ties[{n}].sources[{m}].post", f"no published post has slug '{source.post}'{did_you_mean(source.post, posts)}{hints.get('post', '')}; use the slug from the post's front matter (drafts and scheduled posts cannot be cited)")


def did_you_mean(word: str, known: set[str]) -> str:
    """' (did you mean 'x'?)' for the closest known slug, or ''."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
