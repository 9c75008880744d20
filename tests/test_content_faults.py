"""Faults a hostile run found in reading and validating content (issue 17): each is a message, never a traceback."""

from __future__ import annotations

import shutil

from conftest import FIXTURES, NOW, build_errors, make_project


def overlay(project, case: str) -> None:
    """Copy an invalid fixture's files over a project."""
    source = FIXTURES / "invalid" / case
    for file in source.rglob("*"):
        if file.is_file() and file.name != "expected.txt":
            target = project.root / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)


def test_one_run_reports_every_problem_of_every_file(tmp_path):
    """Cross-references (ties, sources, links in the text), markup and catalogue problems are reported
    in the same run as files that do not load; links to a file that did not load are not reported twice."""
    project = make_project(tmp_path)
    overlay(project, "every-problem-in-one-run")
    (project.content / "news" / "script.md").write_text(
        "---\ntitle: S\nslug: script\ndate: 2011-12-16\nauthor: A\n---\n\n<script>alert(1)</script>\n", encoding="utf-8")
    catalogue = project.templates / "translations" / "ru.po"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace('msgstr "Новости"', 'msgstr ""'), encoding="utf-8")
    errors = build_errors(project)
    expected = (FIXTURES / "invalid" / "every-problem-in-one-run" / "expected.txt").read_text(encoding="utf-8").splitlines()[:-1]
    assert len(errors) == len(expected) + 2, "\n".join(errors)
    for line, error in zip(expected, [e for e in errors if not e.startswith(("templates/", "content/news/script.md"))]):
        assert error.startswith(line), (line, error)
    assert any(e.startswith("content/news/script.md:8: body: ") for e in errors), errors
    assert any(e.startswith('templates/translations/ru.po:') and '"News" has no Russian translation yet' in e for e in errors), errors
