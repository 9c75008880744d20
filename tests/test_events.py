"""Event validation: every mistake is refused with a message naming file, line and the fix."""

from __future__ import annotations

import re

from conftest import build_errors, make_project
from test_calendar import UID_A, UID_B, event_md

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def errors_for(tmp_path, text: str, name: str = "e") -> list[str]:
    """The build's problem lines for a project holding one event file."""
    return build_errors(make_project(tmp_path, {f"content/events/{name}.md": text}, fixture="none"))


def test_spring_gap_time_is_rejected(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", UID_A, "2027-03-28 01:30"))
    assert error.startswith("content/events/e.md:5: starts: 2027-03-28 01:30 does not exist in Europe/London")
    assert "clocks go forward" in error


def test_autumn_ambiguous_time_needs_a_stated_choice(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", UID_A, "2027-10-31 01:30"))
    assert error.startswith("content/events/e.md:5: starts: 2027-10-31 01:30 happens twice in Europe/London")
    assert "ambiguous_time: earlier" in error and "ambiguous_time: later" in error


def test_end_before_start(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", UID_A, "2027-07-10 12:00", ends="2027-07-10 11:00"))
    assert "ends: ends before it starts (2027-07-10 11:00 is not after 2027-07-10 12:00)" in error


def test_unknown_time_zone_suggests_the_right_one(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", UID_A, "2027-07-10 12:00", "Europe/Londn"))
    assert "timezone: 'Europe/Londn' is not a known time zone" in error and "Did you mean 'Europe/London'?" in error


def test_unknown_status(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", UID_A, "2027-07-10 12:00", status="canceled"))
    assert "status: 'canceled' is not allowed" in error and "Did you mean 'cancelled'?" in error


def test_rescheduled_needs_previous_start(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", UID_A, "2027-07-10 12:00", status="rescheduled", sequence="1"))
    assert "previous_start: a rescheduled event needs 'previous_start: YYYY-MM-DD HH:MM'" in error


def test_status_change_needs_a_raised_sequence(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", UID_A, "2027-07-10 12:00", status="cancelled"))
    assert "sequence: the event is now cancelled, so its sequence must go up: write 'sequence: 1'" in error


def test_missing_uid_suggests_a_fresh_one_and_never_touches_the_file(tmp_path):
    text = "---\ntitle: No ID\nslug: e\nstarts: 2027-07-10 12:00\ntimezone: Europe/London\n---\n\nBody.\n"
    project = make_project(tmp_path, {"content/events/e.md": text}, fixture="none")
    (error,) = build_errors(project)
    assert re.fullmatch(rf"content/events/e\.md:2: uid: is missing; .* never change it: uid: {UUID}", error), error
    assert (project.content / "events/e.md").read_text(encoding="utf-8") == text


def test_invalid_uid_suggests_a_fresh_one(tmp_path):
    (error,) = errors_for(tmp_path, event_md("e", "not-a-uuid", "2027-07-10 12:00"))
    assert re.search(rf"uid: 'not-a-uuid' is not a valid ID; .*: uid: {UUID}$", error), error


def test_copied_event_with_the_same_uid_is_refused(tmp_path):
    project = make_project(tmp_path, {
        "content/events/a.md": event_md("a", UID_A, "2027-07-10 12:00"),
        "content/events/b.md": event_md("b", UID_A, "2027-07-17 12:00"),
    }, fixture="none")
    (error,) = build_errors(project)
    assert error.startswith("content/events/b.md: uid: is the same as in content/events/a.md (was the file copied?)")
    assert re.search(rf"uid: {UUID}$", error) and UID_B not in error


def test_every_event_problem_is_reported_at_once(tmp_path):
    project = make_project(tmp_path, {
        "content/events/a.md": event_md("a", UID_A, "2027-03-28 01:30"),
        "content/events/b.md": event_md("b", UID_B, "2027-07-10 12:00", status="moved-online"),
    }, fixture="none")
    errors = build_errors(project)
    assert [e.split(":")[0] for e in errors] == ["content/events/a.md", "content/events/b.md"]


def test_docs_describe_every_event_field():
    from conftest import REPO

    from placard.models import EVENT_SCHEMA

    docs = (REPO / "docs/events.md").read_text(encoding="utf-8")
    missing = [key for key in EVENT_SCHEMA if f"`{key}`" not in docs]
    assert not missing, f"docs/events.md does not describe: {missing}"
