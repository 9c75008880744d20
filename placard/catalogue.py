"""Interface text in every language: one gettext catalogue per language, `templates/translations/<lang>.po`.

The message ids are the English text written in the templates (`{{ _("Upcoming") }}`) and in the code
(marked `N_("owned by")` or translated with `tr(...)`). Each `.po` file gives every id its text in one
language; campaigners edit it in any text editor or in Poedit. It is read with Babel at build time
(no compiled .mo file to keep in step). A language listed in site.yml whose catalogue lacks a message
stops the build with the message to add; messages no template uses any more are reported, not fatal.
"""

from __future__ import annotations

import io
import re
from importlib import resources
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import PoFileError, read_po

from .theme import Layers
from .vocabulary import N_  # noqa: F401 (marks messages in the modules that import it from here)

CATALOGUE_DIR = "translations"  # under templates/
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}  # each in its own language, for the switcher
ENGLISH_NAMES = {"en": "English", "ru": "Russian", "kk": "Kazakh"}  # for messages to campaigners
TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")
SOURCE_LANGUAGE = "en"  # the language of the message ids: a message missing from en.po is shown as written


@dataclass(frozen=True)
class Catalogue:
    """One language's interface text: English message id -> text in that language."""

    lang: str
    messages: dict

    def gettext(self, msgid: str) -> str:
        """The text for `msgid` in this language (the id itself if the catalogue lacks it)."""
        return self.messages.get(msgid) or msgid

    def tr(self, msgid: str, **variables) -> str:
        """Translate and fill in %(name)s placeholders, for text made outside templates (.ics files)."""
        text = self.gettext(msgid)
        return text % variables if variables else text


@dataclass(frozen=True)
class Entry:
    """One message of a .po file as written: its line, its text, and whether it is marked fuzzy."""

    line: int
    text: str
    fuzzy: bool


class PoSyntaxError(ValueError):
    """Lines of a .po file Babel would read wrongly (e.g. a msgstr without its closing quote loses a letter)."""

    def __init__(self, faults: list[tuple[int, str]]):
        super().__init__("; ".join(f"line {line}: {message}" for line, message in faults))
        self.faults = faults


PO_LINE = re.compile(r'(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)[ \t]+)?"(?:[^"\\]|\\.)*"[ \t]*')
PO_KEYWORD = re.compile(r'(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\b')


def check_po_syntax(text: str) -> list[tuple[int, str]]:
    """(line, what is wrong) for each line that is not blank, a comment, or a keyword with one quoted
    string (PO format, GNU gettext manual 3.2); Babel itself reads a missing closing quote as text."""
    faults = []
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or PO_LINE.fullmatch(stripped):
            continue
        keyword = PO_KEYWORD.match(stripped)
        if re.sub(r"\\.", "", stripped).count('"') % 2:
            what = f"the text after {keyword.group(1)} " if keyword else "the text "
            faults.append((number, what + 'is not closed: end it with a double quote ", e.g. msgstr "Новости"'))
        else:
            faults.append((number, 'is not a gettext line: write msgid "..." or msgstr "..." (text in double quotes; '
                                   'a quote inside the text is written \\"), or start a comment with #'))
    return faults


def catalogue_name(lang: str) -> str:
    """A language's catalogue, relative to each templates/ layer."""
    return f"{CATALOGUE_DIR}/{lang}.po"


def read_entries(file: Path) -> dict[str, Entry]:
    """Every message of a .po file; raises PoFileError (with its line) on a broken file."""
    info = file.stat()
    return dict(read_entries_of(file, info.st_mtime_ns, info.st_size, info.st_ino))


@lru_cache(maxsize=16)  # each build reads every catalogue twice, the preview on every rebuild
def read_entries_of(file: Path, _mtime: int, _size: int, _inode: int) -> tuple:
    """(message id, Entry) pairs of one version of a .po file."""
    data = file.read_bytes()
    faults = check_po_syntax(data.decode("utf-8-sig"))
    if faults:
        raise PoSyntaxError(faults)
    catalog = read_po(io.BytesIO(data), abort_invalid=True)
    entries = {}
    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue  # the header, and plural forms (not used by our templates)
        entries[message.id] = Entry(message.lineno or 0, message.string or "", message.fuzzy)
    return tuple(entries.items())


def template_files(templates: Layers) -> tuple[Path, ...]:
    """The template files messages are extracted from: the site's, and the theme's it does not override."""
    return tuple(file for name, file in templates.files().items() if Path(name).suffix in TEMPLATE_SUFFIXES)


def template_signature(templates: Layers) -> tuple:
    """Paths, sizes and modification times of the template files: extraction is redone when any changes."""
    return tuple((file.as_posix(), file.stat().st_mtime_ns, file.stat().st_size, file.stat().st_ino)
                 for file in template_files(templates))


def template_messages(templates: Layers) -> dict[str, str]:
    """Message id -> 'templates/<file>:<line>' for every _() / gettext() call in the templates."""
    # Extraction parses every template (the slowest part of a warm build); the preview's rebuilds
    # reuse it while no template file has changed (and build.py keeps it in its cache).
    return dict(extract_template_messages(templates, template_files(templates), template_signature(templates)))


@lru_cache(maxsize=4)
def extract_template_messages(templates: Layers, files: tuple[Path, ...], _signature: tuple) -> tuple:
    """(message id, where) pairs of the given template files, in order."""
    from jinja2.ext import babel_extract

    found: dict[str, str] = {}
    for file in files:
        options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true", "silent": "true"}
        with open(file, "rb") as handle:
            for line, _func, message, _comments in babel_extract(handle, ("_", "gettext", "gettext_in"), [], options):
                if isinstance(message, tuple):  # _("... %(name)s", name=value), gettext_in("...", lang): the id first
                    message = message[0]
                if isinstance(message, str):
                    found.setdefault(message, f"{templates.display(file)}:{line}")
    return tuple(found.items())


CODE_POT = "messages.pot"  # in the package: the messages marked in the code, extracted by Babel (see below)
# Made, after changing a marked message, with Babel's own extractor (tests/test_languages.py checks it is current):
#   .venv/bin/pybabel extract --no-default-keywords -k N_ -k tr --omit-header --sort-by-file --no-wrap -o placard/messages.pot placard


@lru_cache(maxsize=1)
def code_messages() -> dict[str, str]:
    """Message id -> 'placard/<file>:<line>' for every N_() / tr() in the code, from the package's messages.pot
    (package data: read the same way from a source tree, a wheel or a zip, never from placard's .py files)."""
    with resources.files(__package__).joinpath(CODE_POT).open("rb") as handle:
        catalog = read_po(handle, abort_invalid=True)
    return {message.id: f"{message.locations[0][0]}:{message.locations[0][1]}" for message in catalog if message.id and message.locations}


def required_messages(templates: Layers) -> dict[str, str]:
    """Every message id the site can show, with where it is used."""
    return {**code_messages(), **template_messages(templates)}


@dataclass(frozen=True)
class CatalogueReport:
    """What is wrong with the catalogues: problems stop the build, unused messages are only reported."""

    catalogues: dict
    missing: tuple  # (path, line, field, message) for errors.Problem
    unused: tuple  # one line each, 'path:line: ...'


def check_catalogues(templates: Layers, languages: tuple[str, ...], strict: bool = False, required: dict[str, str] | None = None) -> CatalogueReport:
    """Read each language's catalogue; list messages missing (or fuzzy) and messages nothing uses.
    English needs no entry for a message (the id is English) unless `strict` (the tests of our catalogues).
    Each language's catalogue is the theme's with the site's own messages over it (a site's
    templates/translations/ru.po need hold only what it words differently); what is missing is to be
    added to the site's own file.
    `required` is required_messages(templates), if the caller kept it from an earlier build."""
    required = required_messages(templates) if required is None else required
    catalogues, missing, unused = {}, [], []
    for lang in languages:
        files = templates.all_of(catalogue_name(lang))
        display = f"templates/{catalogue_name(lang)}"
        name = ENGLISH_NAMES.get(lang, lang)
        optional = lang == SOURCE_LANGUAGE and not strict
        if not files:
            if optional:
                catalogues[lang] = Catalogue(lang, {})
                continue
            missing.append((display, None, "", f"the {name} catalogue is missing; copy templates/{CATALOGUE_DIR}/en.po to {lang}.po and translate each msgstr"))
            continue
        layered = read_layers(files, templates, missing)
        if layered is None:
            continue
        entries = {msgid: entry for msgid, (_file, entry) in layered.items()}
        for msgid, where in sorted(required.items()):
            entry = entries.get(msgid)
            display = layered[msgid][0] if msgid in layered else f"templates/{catalogue_name(lang)}"
            if optional and (entry is None or not entry.text.strip()):
                continue
            if entry is None:
                missing.append((display, None, "msgid", f'"{msgid}" (used in {where}) has no {name} translation; add two lines: msgid "{msgid}" and msgstr "..."'))
            elif not entry.text.strip():
                missing.append((display, entry.line, "msgstr", f'"{msgid}" has no {name} translation yet; write it between the quotes of the msgstr line'))
            elif entry.fuzzy:
                missing.append((display, entry.line, "msgstr", f'"{msgid}" is marked fuzzy (a guess); check the {name} text, then delete the "#, fuzzy" line above it'))
            else:
                fault = placeholder_fault(msgid, entry.text)
                if fault:
                    missing.append((display, entry.line, "msgstr", f'"{msgid}": {fault}'))
        for msgid, (display, entry) in sorted(layered.items(), key=lambda kv: (kv[1][0], kv[1][1].line)):
            if msgid not in required:
                unused.append(f'{display}:{entry.line}: msgid "{msgid}" is not used by any template or by placard (reworded? check en.po); delete it or fix the spelling')
        catalogues[lang] = Catalogue(lang, {msgid: entry.text for msgid, entry in entries.items() if entry.text and not entry.fuzzy})
    return CatalogueReport(catalogues, tuple(missing), tuple(unused))


def read_layers(files: tuple[Path, ...], templates: Layers, missing: list) -> dict[str, tuple[str, Entry]] | None:
    """msgid -> (file shown, entry): the theme's catalogue, then the site's over it; None (and the
    problems in `missing`) when one cannot be read."""
    layered: dict[str, tuple[str, Entry]] = {}
    for file in reversed(files):  # the theme's first: the site's own messages win
        display = templates.display(file)
        try:
            entries = read_entries(file)
        except PoSyntaxError as exc:
            missing.extend((display, line, "", message) for line, message in exc.faults)
            return None
        except UnicodeDecodeError as exc:
            missing.append((display, None, "", f"is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8 in your editor or Poedit"))
            return None
        except OSError as exc:
            missing.append((display, None, "", f"cannot be read: {exc.strerror or exc}; check the file's permissions"))
            return None
        except PoFileError as exc:
            missing.append((display, None, "", f"cannot be read as a gettext catalogue: {exc}; compare it with en.po (each msgid needs a msgstr line, text in double quotes)"))
            return None
        layered.update((msgid, (display, entry)) for msgid, entry in entries.items())
    return layered


PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?(?P<spec>[#0 +-]*\d*(?:\.\d+)?)(?P<conv>[diouxXeEfFgGcrsa%])")


def placeholders(text: str) -> list[str] | None:
    """The %(name)s placeholders of a text, in order ('%%' is a percent sign); None if a '%' starts none."""
    found, pos = [], 0
    for match in PLACEHOLDER.finditer(text):
        if "%" in text[pos:match.start()]:
            return None
        pos = match.end()
        if match["conv"] != "%":
            found.append(match.group(0))
    return None if "%" in text[pos:] else found


def placeholder_fault(msgid: str, text: str) -> str | None:
    """Why a translation's placeholders would fail or show wrongly where it is filled in, or None.
    (Only texts with %(name)s placeholders are filled in: see render.make_gettext and Catalogue.tr.)"""
    wanted = placeholders(msgid) if "%(" in msgid else []
    if not wanted and "%(" not in text:
        return None
    given = placeholders(text)
    if given is None or sorted(given) != sorted(wanted or []):
        keep = ", ".join(sorted(set(wanted or []))) or "none"
        if given is None:
            return f"a % in the translation starts no placeholder; write the placeholders exactly as in the msgid ({keep}), and %% for a percent sign"
        extra = sorted(set(given) - set(wanted or []))
        lost = sorted(set(wanted or []) - set(given))
        parts = ([f"{', '.join(extra)} is not in the msgid"] if extra else []) + ([f"{', '.join(lost)} is missing"] if lost else [])
        if not parts:
            parts = ["a placeholder is written more or fewer times than in the msgid"]
        return f"{'; '.join(parts)}; keep every placeholder exactly as in the msgid ({keep}): it is where a date, name or link goes"
    return None


def po_text(lang: str, messages: dict[str, str]) -> str:
    """A .po file for `messages` (used by tests and to start a new language)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(locale=lang)
    for msgid, text in messages.items():
        catalog.add(msgid, text)
    buffer = io.BytesIO()
    write_po(buffer, catalog, omit_header=True, width=0)
    return buffer.getvalue().decode("utf-8")
