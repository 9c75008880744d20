"""Golden test: the fixture site's whole output matches tests/golden/site/ byte for byte.

After an intended change to templates or rendering, regenerate and review the diff:
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import NOW, make_project, snapshot

from placard.pipeline import build

GOLDEN = Path(__file__).resolve().parent / "golden" / "site"


def test_fixture_site_matches_golden(tmp_path):
    project = make_project(tmp_path)
    build(project, NOW)
    actual = snapshot(project.output)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(project.output, GOLDEN)
    expected = snapshot(GOLDEN)
    assert sorted(actual) == sorted(expected), "files differ; see the docstring to regenerate"
    for path in expected:
        assert actual[path] == expected[path], f"{path} differs from tests/golden/site/{path}"
