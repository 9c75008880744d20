"""placard.internals, the one module using libraries' private APIs: with the pinned versions its
speed-ups change no byte of the site; with any other version they are not used."""

from __future__ import annotations

import re
import threading

import markdown
from conftest import NOW, REPO

from placard import internals, markup
from placard.incremental.session import IncrementalSession, PlainSession
from placard.incremental.store import MemoryStore
from placard.pipeline import Project, build_site


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def test_the_internals_are_pinned_to_the_versions_requirements_install():
    """Upgrading Markdown or Jinja2 in requirements.txt fails here until the internals are checked again."""
    pins = requirement_pins()
    assert {name: pins[name] for name in internals.TESTED_WITH} == internals.TESTED_WITH
    assert internals.MARKDOWN_FAST and internals.JINJA2_FAST  # so the comparison below compares something


def test_another_version_gets_the_libraries_own_code(monkeypatch):
    monkeypatch.setattr(internals, "TESTED_WITH", {"Markdown": "0.0", "Jinja2": "0.0"})
    assert not internals.tested("Markdown") and not internals.tested("Jinja2")


def stock_converter(toc: bool) -> markdown.Markdown:
    """Python-Markdown as it comes: our extensions, the whole `toc`, its own inline processor."""
    return markdown.Markdown(extensions=[*markup.EXTENSIONS, markdown.extensions.toc.TocExtension(permalink=False)], output_format="html")


def test_the_seed_site_is_the_same_with_stock_jinja2_and_stock_python_markdown(monkeypatch):
    """Every file of the seed site: the incremental session (TracingContext's fast call, the fast
    converter) against the plain one with stock Jinja2 and stock Python-Markdown, byte for byte."""
    ours = build_site(Project(REPO), NOW, session=IncrementalSession(MemoryStore()))[1].files
    monkeypatch.setattr(markup, "new_converter", stock_converter)
    monkeypatch.setattr(markup, "_local", threading.local())  # converters made from now on are stock
    stock = build_site(Project(REPO), NOW, session=PlainSession())[1].files
    assert len(ours) > 50 and ours.keys() == stock.keys()
    assert [path for path in ours if ours[path] != stock[path]] == []
