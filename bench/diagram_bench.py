"""Time the register diagram: its imports and its layout, for the seed site and a generated register.

    .venv/bin/python bench/diagram_bench.py [--root .] [--entities 40]

Prints the import time of placard.diagram (in a fresh process, median of 5), which heavy libraries
a layout loads, and the median layout time (cache cleared before each run).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from placard import diagram  # noqa: E402
from placard.models import Entity, Origin, Tie  # noqa: E402

NOW = datetime(2026, 11, 26, 12, tzinfo=timezone.utc)
PROBE = (
    "import sys, time; t = time.perf_counter(); import placard.diagram as d; ms = (time.perf_counter() - t) * 1000;"
    "print(ms, sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'networkx', 'scipy'}))"
)


def time_import() -> tuple[float, str]:
    """Median import time of placard.diagram in fresh processes, and the heavy libraries it loaded."""
    runs = [subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split(" ", 1) for _ in range(5)]
    return statistics.median(float(ms) for ms, _ in runs), runs[0][1].strip()


def time_layout(entities: tuple, ties: tuple, runs: int = 20) -> float:
    """Median milliseconds of one uncached layout."""
    times = []
    for _ in range(runs):
        diagram.layout_boxes.cache_clear()
        start = time.perf_counter()
        diagram.layout_boxes(entities, ties)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def seed_register(root: Path) -> tuple[tuple, tuple]:
    """The entities and ties of the site at root."""
    from placard.pipeline import Project, build_site
    from placard.register import collect_ties

    site, _ = build_site(Project(root), NOW)
    return tuple(site.entities), tuple(collect_ties(site))


def generated_register(count: int, star: bool = False) -> tuple[tuple, tuple]:
    """A register of `count` entities (fixed, no randomness): a tree with fan-out 3 and a cross tie
    from every fifth entity, or with star=True every entity tied to the first (the worst case)."""
    origin = Origin("content/links/generated.md")
    entities = tuple(Entity(f"e{i:03d}", f"Entity number {i}" + (" with a longer name" if i % 4 == 1 else ""), "person" if i % 3 == 0 else "company", "", origin, 1) for i in range(count))
    pairs = [(i, 0 if star else i // 3) for i in range(1, count)]
    pairs += [] if star else [(i, (i * 7) % count) for i in range(5, count, 5) if (i * 7) % count not in (i, i // 3)]
    ties = tuple(Tie(f"e{a:03d}", ("owns", "director-of", "invests-in")[a % 3], f"e{b:03d}", (), 1) for a, b in pairs)
    return entities, ties


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--entities", type=int, default=40)
    args = parser.parse_args()
    ms, heavy = time_import()
    print(f"import placard.diagram: {ms:.1f} ms (median of 5 fresh processes); heavy libraries loaded by the import: {heavy}")
    entities, ties = seed_register(args.root)
    before = {m.split(".")[0] for m in sys.modules}
    print(f"seed register ({len(entities)} entities, {len(ties)} ties): layout {time_layout(entities, ties):.2f} ms (median of 20)")
    entities, ties = generated_register(args.entities)
    print(f"generated register ({len(entities)} entities, {len(ties)} ties): layout {time_layout(entities, ties, 5):.2f} ms (median of 5)")
    entities, ties = generated_register(args.entities, star=True)
    print(f"generated star ({len(entities)} entities tied to one): layout {time_layout(entities, ties, 5):.2f} ms (median of 5)")
    print("numpy/networkx in this process:", sorted(({m.split(".")[0] for m in sys.modules} | before) & {"numpy", "networkx"}))


if __name__ == "__main__":
    main()
