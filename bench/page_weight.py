#!/usr/bin/env python3
"""Page weight of the seed site: median and largest page (HTML plus its CSS), against the 50 KB budget.

`python bench/page_weight.py` builds in memory (nothing written) and prints the figures;
`python build.py check` prints the same summary for an already built output/.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from placard.check import PAGE_BUDGET, check_files  # noqa: E402
from placard.pipeline import Project, build_site  # noqa: E402

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)  # fixed, so figures compare across runs


def main() -> None:
    _, output = build_site(Project(ROOT), NOW)
    _, weights = check_files(output.files)
    for path, size in sorted(weights.pages.items(), key=lambda kv: -kv[1]):
        print(f"{size / 1024:6.1f} KB  {path}")
    path, largest = weights.largest
    print(weights.summary())
    print(f"largest/budget = {largest / PAGE_BUDGET:.2f}; median/budget = {weights.median / PAGE_BUDGET:.2f}")


if __name__ == "__main__":
    main()
