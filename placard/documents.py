"""Read a content file into front matter (with line numbers) and a Markdown body.

YAML is read with every scalar kept as text: the field parsers in `schema` decide what a
value means. That removes YAML 1.1's surprises (`no` read as false, `12:00` read as 720
minutes, `2011-12-21` read as a date where text was meant) at the root instead of patching them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler

from .errors import FieldError

MAX_FILE_BYTES = 2 * 1024 * 1024  # a campaign post is a few KB; this catches pasted binaries
MAX_DEPTH = 50  # lists and mappings inside each other; placard's deepest field (ties[].sources[].url) needs 5


class LinedDict(dict):
    """A YAML mapping that remembers the line of each key (1-based, in the file)."""

    line: int = 0
    lines: dict


class LinedList(list):
    """A YAML sequence that remembers the line of each item (1-based, in the file)."""

    line: int = 0
    lines: list


class DocumentError(Exception):
    """The file could not be read as front matter plus Markdown."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Document:
    """A content file split into its front matter and body."""

    path: str
    meta: LinedDict
    body: str
    body_line: int


@functools.lru_cache(maxsize=64)  # one class per first line (nearly always 2), not one per file
def _lined_loader(first_line: int, base: type = yaml.BaseLoader) -> type:
    """Make a YAML loader that keeps scalars as text, rejects duplicate keys and tracks lines."""

    class Loader(base):
        depth = 0  # how many mappings and sequences the constructor is inside

    def enter(loader, node) -> None:
        loader.depth += 1
        if loader.depth > MAX_DEPTH:  # deterministic, far below Python's recursion limit
            raise deep_error(node.start_mark.line + first_line)

    def construct_mapping(loader, node):
        enter(loader, node)
        mapping = LinedDict()
        mapping.line = node.start_mark.line + first_line
        mapping.lines = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise DocumentError(key_node.start_mark.line + first_line, "a key must be a plain word")
            key = key_node.value
            line = key_node.start_mark.line + first_line
            if key in mapping:
                raise DocumentError(
                    line,
                    f"'{key}' appears twice (first on line {mapping.lines[key]}); keep one of them",
                )
            mapping[key] = loader.construct_object(value_node, deep=True)
            mapping.lines[key] = line
        loader.depth -= 1
        return mapping

    def construct_sequence(loader, node):
        enter(loader, node)
        items = LinedList(loader.construct_object(child, deep=True) for child in node.value)
        items.line = node.start_mark.line + first_line
        items.lines = [child.start_mark.line + first_line for child in node.value]
        loader.depth -= 1
        return items

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def parse_yaml(text: str, first_line: int = 1) -> object:
    """Parse YAML text whose first line is `first_line` of its file; errors become DocumentError."""
    fast = getattr(yaml, "CBaseLoader", None)
    if fast is not None:
        # libyaml parses about ten times faster; on any error fall through to the pure-Python
        # parser, whose messages and positions the advice below is written for.
        try:
            return yaml.load(text, Loader=_lined_loader(first_line, fast))
        except DocumentError:
            raise
        except RecursionError:
            raise too_deep(text, first_line) from None
        except yaml.YAMLError:
            pass
    try:
        return yaml.load(text, Loader=_lined_loader(first_line))
    except DocumentError:
        raise
    except RecursionError:
        raise too_deep(text, first_line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and re.search("stream end|end of stream", (exc.problem or "") + (exc.context or "")):
            mark = exc.context_mark  # an unclosed bracket or quote: point at where it was opened
        line = mark.line + first_line if mark else None
        raise DocumentError(line, explain_yaml_error(exc, text)) from None
    except yaml.YAMLError as exc:
        raise DocumentError(None, f"the front matter is not valid YAML ({exc})") from None


def deep_error(line: int | None) -> DocumentError:
    """The error for YAML nested more than MAX_DEPTH levels deep, first at `line`."""
    return DocumentError(line, f"lists or key: value groups are nested more than {MAX_DEPTH} levels deep here, too deep to read; "
                               "a setting needs only a few levels: check for brackets '[' or '{' opened many times, "
                               "or lines indented further and further")


def too_deep(text: str, first_line: int) -> DocumentError:
    """The error for YAML nested too deeply for the parser's recursion, at the line where it passes
    MAX_DEPTH (a safety net: the constructors stop there first, unless the composer recursed too deep)."""
    depth = 0
    line = None
    try:  # the event parser keeps its own stack, so it reads any depth without recursing
        for event in yaml.parse(text, Loader=yaml.BaseLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + first_line
                    break
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return deep_error(line)


def explain_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> str:
    """Turn a PyYAML error into advice a campaigner can follow."""
    problem = exc.problem or str(exc)
    mark = exc.problem_mark
    line_text = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "\t" in line_text or "'\\t'" in problem:
        return "a tab character is used for indentation; YAML needs spaces (replace the tab with two spaces)"
    if "mapping values are not allowed" in problem:
        return (
            "a value contains ': ' (colon and space); put the whole value in double quotes, "
            'e.g. title: "Kazakhstan: oil and the City"'
        )
    if "could not find expected ':'" in problem:
        return "a line is not in the form 'key: value'; check for a missing colon or an unclosed quote"
    if "found undefined alias" in problem or "found character '*'" in problem:
        return "a value starts with '*'; put it in double quotes"
    if "end of stream" in problem or "stream end" in problem:
        return "a quote or bracket is opened but never closed"
    return f"the front matter is not valid YAML: {problem}; check quotes and indentation"


class _Handler(YAMLHandler):
    """python-frontmatter's YAML handler, loading with our line-tracking loader."""

    def __init__(self, first_line: int):
        super().__init__()
        self.first_line = first_line

    def load(self, fm: str, **kwargs: object) -> object:
        return parse_yaml(fm, self.first_line)


def decode_bytes(data: bytes) -> str:
    """Decode a content file: UTF-8 (a BOM is fine), any line endings; say where bad bytes are."""
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(
            None,
            f"the file is {len(data) // 1024} KB; the limit is {MAX_FILE_BYTES // 1024} KB "
            "(move large media into static/ or split the text)",
        )
    if b"\x00" in data[:8192]:
        raise DocumentError(None, "this is not a text file (it contains binary data); content/ holds Markdown files")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(
            line,
            f"the file is not UTF-8 text (bad byte 0x{data[exc.start]:02x} at byte offset {exc.start}); "
            "save it as UTF-8 in your editor",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_document(path: str, text: str) -> Document:
    """Split text into YAML front matter (between `---` lines) and a Markdown body."""
    if not text.strip():
        raise DocumentError(1, "the file is empty; copy an example from the README to start")
    if not text.startswith("---"):
        raise DocumentError(1, "the file must start with a '---' line, then the front matter, then another '---' line")
    handler = _Handler(first_line=1)  # the text split off starts on the opening --- line
    try:
        fm, body = handler.split(text)
    except ValueError:
        raise DocumentError(1, "the front matter is not closed: add a line with only '---' after the last field") from None
    meta = handler.load(fm)
    if meta is None:
        meta = LinedDict()
        meta.line, meta.lines = 2, {}
    if not isinstance(meta, LinedDict):
        raise DocumentError(2, "the front matter must be a list of 'key: value' lines, not a list or a single value")
    stripped = body.lstrip("\n")
    body_line = text[: len(text) - len(body)].count("\n") + 1 + (len(body) - len(stripped))
    return Document(path=path, meta=meta, body=stripped.rstrip() + "\n" if stripped.strip() else "", body_line=body_line)


def read_document(file: Path, display: str) -> Document:
    """Read and parse one content file; `display` is the path shown in messages."""
    return parse_document(display, decode_bytes(file.read_bytes()))


__all__ = ["Document", "DocumentError", "FieldError", "LinedDict", "LinedList", "parse_document", "parse_yaml", "read_document", "decode_bytes"]
