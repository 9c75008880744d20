"""Field parsers: each accepts the documented forms and explains everything else."""

from datetime import date, datetime, timedelta, timezone

import pytest

from placard.documents import parse_yaml
from placard.errors import FieldError, Problems
from placard.schema import (
    Field, choice, list_of, parse_bool, parse_datetime_tz, parse_local_datetime, parse_partial_date,
    parse_slug, parse_text, parse_timezone, parse_url, validate_fields,
)


def test_text_and_slug():
    assert parse_text("  hello ") == "hello"
    with pytest.raises(FieldError, match="is empty"):
        parse_text("  ")
    assert parse_slug("london-demo-2011") == "london-demo-2011"
    for bad in ["London", "a/b", "..", "c:", "a--b", "ещё"]:
        with pytest.raises(FieldError, match="not a valid slug"):
            parse_slug(bad)


def test_dates():
    assert parse_datetime_tz("2011-12-16") == date(2011, 12, 16)
    assert parse_datetime_tz("2012-06-08 09:30 +01:00") == datetime(2012, 6, 8, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert parse_datetime_tz("2012-06-08T09:30Z").tzinfo == timezone.utc
    with pytest.raises(FieldError, match="no time zone"):
        parse_datetime_tz("2012-06-08 09:30")
    assert parse_local_datetime("2011-12-21 12:00") == datetime(2011, 12, 21, 12, 0)
    with pytest.raises(FieldError, match="does not exist"):
        parse_local_datetime("2011-12-21 25:00")


def test_partial_dates_bools_urls_zones_choices():
    assert [parse_partial_date(v) for v in ("2006", "2006-10", "2006-10-01")] == ["2006", "2006-10", "2006-10-01"]
    for bad in ("2006-13", "06", "2006-02-30"):
        with pytest.raises(FieldError):
            parse_partial_date(bad)
    assert parse_bool("no") is False and parse_bool("true") is True
    with pytest.raises(FieldError):
        parse_bool("maybe")
    assert parse_url("https://example.org/x") == "https://example.org/x"
    with pytest.raises(FieldError, match="https://"):
        parse_url("example.org")
    assert parse_timezone("Asia/Almaty").key == "Asia/Almaty"
    with pytest.raises(FieldError, match="Did you mean 'Asia/Almaty'"):
        parse_timezone("Asia/Almati")
    with pytest.raises(FieldError, match="Did you mean 'march'"):
        choice("march", "meeting")("marhc")


def test_validate_fields_collects_every_problem_with_lines():
    raw = parse_yaml("title: ''\nends_at: x\ncount: [1]\n")
    problems = Problems()
    schema = {"title": Field(parse_text, required=True), "ends": Field(parse_text), "count": Field(list_of(parse_text))}
    assert validate_fields(raw, schema, "f.md", problems) is None
    messages = [str(p) for p in problems.items]
    assert "f.md:2: ends_at: unknown field; did you mean 'ends'? allowed fields are: count, ends, title" in messages
    assert "f.md:1: title: is empty; write something or remove the line" in messages
