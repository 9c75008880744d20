"""The house rules of docs/architecture.md, checked on the code: no stage imports the incremental
package or worker code, and build_site stays the table of contents."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from conftest import REPO

from placard import pipeline

PACKAGE = REPO / "placard"
ABOVE_THE_STAGES = {"pipeline.py", "serve.py", "cli.py", "archive.py", "__init__.py"}  # they wire sessions, or call pipeline


def imported_modules(file: Path) -> set[str]:
    """Every module a file imports, as an absolute dotted name."""
    names = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "placard" if node.level == 1 else ""
            module = f"{base}.{node.module}" if base and node.module else (node.module or base)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_no_stage_imports_the_incremental_package_or_worker_code():
    stages = [file for file in sorted(PACKAGE.glob("*.py")) if file.name not in ABOVE_THE_STAGES]
    assert len(stages) > 15
    found = {file.name: sorted(name for name in imported_modules(file)
                               if name.startswith("placard.incremental") or name.split(".")[0] in ("multiprocessing", "concurrent", "sqlite3"))
             for file in stages}
    assert {name: modules for name, modules in found.items() if modules} == {}


def test_build_site_reads_as_a_table_of_contents():
    lines = [line for line in inspect.getsource(pipeline.build_site).splitlines()[3:] if line.strip()]  # after the signature and docstring
    assert len(lines) <= 13, lines
