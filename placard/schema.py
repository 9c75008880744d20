"""Field parsers and the one validation routine that turns front matter into typed values.

Each parser takes the raw YAML value (text, LinedList or LinedDict) and returns a typed value
or raises FieldError with advice. `validate_fields` runs a schema over a mapping, collecting
every problem with its line instead of stopping at the first.
"""

from __future__ import annotations

import difflib
import re
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .documents import LinedDict, LinedList
from .errors import FieldError, Problems
from .vocabulary import RELATIONS

Parser = Callable[[Any], Any]
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Field:
    """How to read one front-matter key."""

    parse: Parser
    required: bool = False
    default: Any = None
    help: str = ""
    widget: str = ""  # how the preview's form edits it when the parser alone does not say (placard.editor), e.g. "local-time"


def parse_text(value: Any) -> str:
    """A single line or paragraph of text."""
    if isinstance(value, (LinedDict, LinedList)):
        raise FieldError("expected text, found a " + ("list" if isinstance(value, list) else "set of keys"))
    text = str(value).strip()
    if not text:
        raise FieldError("is empty; write something or remove the line")
    return text


def parse_slug(value: Any) -> str:
    """A URL slug: lowercase ASCII letters, digits and single hyphens."""
    text = parse_text(value)
    if not SLUG_RE.match(text):
        raise FieldError(
            f"'{text}' is not a valid slug; use lowercase letters a-z, digits and hyphens only "
            "(no spaces, '/', '..' or accents), e.g. london-demonstration"
        )
    if len(text) > 100:
        raise FieldError("is longer than 100 characters; shorten it")
    return text


def parse_bool(value: Any) -> bool:
    """true/false (yes/no accepted)."""
    text = parse_text(value).lower()
    if text in ("true", "yes"):
        return True
    if text in ("false", "no"):
        return False
    raise FieldError(f"'{text}' is not true or false")


def parse_int(value: Any) -> int:
    """A whole number, zero or more."""
    text = parse_text(value)
    if not re.fullmatch("[0-9]+", text):
        raise FieldError(f"'{text}' is not a whole number (0, 1, 2, ...)")
    return int(text)


def parse_date(value: Any) -> date:
    """A calendar date written YYYY-MM-DD."""
    text = parse_text(value)
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise FieldError(f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2011-12-21")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"'{text}' is not a real date (check the month and day)") from None


def parse_local_datetime(value: Any) -> datetime:
    """A wall-clock date and time without zone, 'YYYY-MM-DD HH:MM' (the zone comes from `timezone`)."""
    text = parse_text(value)
    match = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?", text)
    if not match:
        raise FieldError(f"'{text}' is not a date and time; write it as YYYY-MM-DD HH:MM (24-hour), e.g. 2011-12-21 12:00")
    day = parse_date(match.group(1))
    try:
        clock = time(int(match.group(2)), int(match.group(3)), int(match.group(4) or 0))
    except ValueError:
        raise FieldError(f"'{text}' has a time that does not exist (hours 0-23, minutes 0-59)") from None
    return datetime.combine(day, clock)


def parse_datetime_tz(value: Any) -> datetime | date:
    """A date (YYYY-MM-DD) or a date and time with its UTC offset (YYYY-MM-DD HH:MM +00:00)."""
    text = parse_text(value)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return parse_date(text)
    match = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)\s*(Z|[+-][0-9]{2}:?[0-9]{2})?", text)
    if not match:
        raise FieldError(f"'{text}' is not a date; write YYYY-MM-DD, or YYYY-MM-DD HH:MM +00:00 with the UTC offset")
    local = parse_local_datetime(match.group(1))
    if not match.group(2):
        raise FieldError(f"'{text}' has a time but no time zone; add the UTC offset, e.g. {match.group(1)} +00:00")
    offset = match.group(2)
    if offset == "Z":
        return local.replace(tzinfo=timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    hours, minutes = int(offset[1:3]), int(offset[-2:])
    return local.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))


def parse_timezone(value: Any) -> ZoneInfo:
    """An IANA time zone name such as Europe/London or Asia/Almaty."""
    text = parse_text(value)
    try:
        if "/" not in text and text != "UTC":
            raise ZoneInfoNotFoundError(text)
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(text, sorted(available_timezones()), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise FieldError(f"'{text}' is not a known time zone; use a name like Europe/London or Asia/Almaty.{hint}") from None


def parse_url(value: Any) -> str:
    """An absolute http(s) web address."""
    text = parse_text(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise FieldError(f"'{text}' is not a full web address; it must start with https:// (or http://)")
    return text


DURATION_FORMS = (
    (re.compile(r"([0-9]{1,2}):([0-5][0-9])"), lambda m: timedelta(hours=int(m[1]), minutes=int(m[2]))),
    (re.compile(r"([0-9]{1,2}) ?(?:h|hours?)"), lambda m: timedelta(hours=int(m[1]))),
    (re.compile(r"([0-9]{1,4}) ?(?:min|minutes?)"), lambda m: timedelta(minutes=int(m[1]))),
)


def parse_duration(value: Any) -> timedelta:
    """A length of time from 15 minutes to 24 hours: 2:00, 1:30, 2 hours or 90 minutes."""
    text = parse_text(value)
    for pattern, make in DURATION_FORMS:
        match = pattern.fullmatch(text)
        if match:
            duration = make(match)
            if not timedelta(minutes=15) <= duration <= timedelta(hours=24):
                raise FieldError(f"'{text}' is not between 15 minutes and 24 hours")
            return duration
    raise FieldError(f"'{text}' is not a length of time; write hours and minutes like 2:00 or 1:30, or '2 hours' or '90 minutes'")


def parse_colour(value: Any) -> str:
    """A colour written as #rrggbb (or #rgb), given back as lowercase #rrggbb."""
    text = parse_text(value).lower()
    if re.fullmatch(r"#[0-9a-f]{3}", text):
        text = "#" + "".join(c * 2 for c in text[1:])
    if not re.fullmatch(r"#[0-9a-f]{6}", text):
        raise FieldError(f"'{text}' is not a colour; write it as # and six hexadecimal digits, in quotes, e.g. \"#a4161a\"")
    return text


def parse_uuid(value: Any) -> str:
    """A UUID, as written by `build.py new event`."""
    text = parse_text(value)
    try:
        return str(uuidlib.UUID(text))
    except ValueError:
        raise FieldError(f"'{text}' is not a valid ID; replace the whole line with this new one and never change it again: uid: {uuidlib.uuid4()}") from None


def parse_partial_date(value: Any) -> str:
    """A year, a year and month, or a full date: 2006, 2006-10 or 2006-10-01."""
    text = parse_text(value)
    if re.fullmatch(r"[0-9]{4}", text):
        return text
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
        if not 1 <= int(text[5:]) <= 12:
            raise FieldError(f"'{text}' has a month that does not exist (01 to 12); write 2006, 2006-10 or 2006-10-01")
        return text
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        parse_date(text)
        return text
    raise FieldError(f"'{text}' is not a date; write 2006, 2006-10 or 2006-10-01")


def partial_date_bounds(text: str) -> tuple[date, date]:
    """The first and last day a partial date can mean: '2006' spans 2006-01-01 to 2006-12-31."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return date(parts[0], 1, 1), date(parts[0], 12, 31)
    if len(parts) == 2:
        first = date(parts[0], parts[1], 1)
        following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return first, following - timedelta(days=1)
    day = date(*parts)
    return day, day


def choice(*options: str) -> Parser:
    """One of a fixed list of words."""

    def parse_choice(value: Any) -> str:
        text = parse_text(value)
        if text not in options:
            close = difflib.get_close_matches(text, options, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise FieldError(f"'{text}' is not allowed; use one of: {', '.join(options)}.{hint}")
        return text

    parse_choice.__doc__ = "one of: " + ", ".join(options)
    parse_choice.options = options  # the preview's form offers exactly these (placard.editor)
    return parse_choice


OLD_ADDRESS_RE = re.compile(r"^[A-Za-z0-9._~%!$&'()*+,;=@/-]+$")


def parse_old_address(value: Any) -> str:
    """An address this site published before, relative to its root (`news/old-slug/`, `/2011/12/appeal.html`),
    as the output file a redirect page goes to: a folder's index.html."""
    text = parse_text(value).lstrip("/")
    if urlsplit(text).scheme or text.startswith("/") or "?" in text or "#" in text or not OLD_ADDRESS_RE.match(text):
        raise FieldError(f"'{text}' is not an address on this site; write the old path from the site's root, "
                         "e.g. news/old-slug/ (no https://, '?' or '#')")
    parts = text.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise FieldError(f"'{text}' has an empty, '.' or '..' part; write the old path from the site's root, e.g. news/old-slug/")
    last = parts[-1]
    return text + "index.html" if text.endswith("/") else text if "." in last else text + "/index.html"


def list_of(item: Parser) -> Parser:
    """A YAML list whose items each pass `item` (a single value is taken as a list of one)."""

    def parse_list(value: Any) -> tuple:
        if isinstance(value, LinedDict):
            raise FieldError("expected a list (lines starting with '- '), found a set of keys")
        values = value if isinstance(value, LinedList) else [value]
        result = []
        for index, raw in enumerate(values, 1):
            try:
                result.append(item(raw))
            except FieldError as exc:
                raise FieldError(f"item {index}: {exc}") from None
        return tuple(result)

    parse_list.item = item  # the preview's form edits one item per line (placard.editor)
    return parse_list


def unknown_key_message(key: str, allowed: list[str]) -> str:
    """Explain an unknown key, suggesting the closest allowed one."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown field; {hint}allowed fields are: {', '.join(sorted(allowed))}"


def validate_fields(
    raw: LinedDict, schema: dict[str, Field], path: str, problems: Problems, prefix: str = ""
) -> dict[str, Any] | None:
    """Parse every field of `raw` by `schema`; record problems; return the values or None."""
    values: dict[str, Any] = {}
    ok = True
    for key in raw:
        if key not in schema:
            problems.add(path, raw.lines.get(key), prefix + key, unknown_key_message(key, list(schema)))
            ok = False
    for key, field in schema.items():
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip() and not field.required):
            if field.required:
                problems.add(path, raw.line or None, prefix + key, f"is required but missing; add a line '{key}: ...'{field.help}")
                ok = False
            values[key] = field.default
            continue
        try:
            values[key] = field.parse(value)
        except FieldError as exc:
            problems.add(path, raw.lines.get(key), prefix + key, str(exc))
            ok = False
    return values if ok else None


def parse_relation(value: Any) -> str:
    """A relation key from the vocabulary in placard.vocabulary.RELATIONS, read from the subject's side."""
    text = parse_text(value)
    if text in RELATIONS:
        return text
    wanted = text.lower().replace(" ", "-").replace("_", "-")
    if wanted in RELATIONS:
        raise FieldError(f"'{text}' is written differently from the list; write 'relation: {wanted}'")
    for key, (_, reverse) in RELATIONS.items():
        if key != "other" and wanted == reverse.replace(" ", "-"):
            raise FieldError(
                f"'{text}' is the other direction of '{key}'; move this tie to the other entity's file as "
                f"'relation: {key}' with 'object:' set to this entity's slug (the register shows both directions)"
            )
    close = difflib.get_close_matches(wanted, list(RELATIONS), n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise FieldError(f"'{text}' is not a relation the register knows; use one of: {', '.join(RELATIONS)}.{hint}")
