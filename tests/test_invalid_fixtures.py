"""Invalid fixtures (tests/fixtures/invalid/<case>/) overlay the valid fixture site; each must fail
with the message in its expected.txt, exit code 1, and leave the previous output/ untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, NOW, build_errors, make_project, snapshot

from placard.cli import main
from placard.pipeline import build

CASES = sorted(p.name for p in (FIXTURES / "invalid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_invalid_fixture_fails_with_its_message(tmp_path, case, capsys):
    project = make_project(tmp_path)
    build(project, NOW)
    before = snapshot(project.output)
    overlay = FIXTURES / "invalid" / case
    for file in overlay.rglob("*"):
        if file.is_file() and file.name != "expected.txt":
            target = project.root / file.relative_to(overlay)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)
    expected = (overlay / "expected.txt").read_text(encoding="utf-8").strip().splitlines()
    code = main(["--root", str(project.root), "--now", NOW.isoformat()])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    for line in expected:
        assert line in err, f"expected {line!r} in:\n{err}"
    assert snapshot(project.output) == before
