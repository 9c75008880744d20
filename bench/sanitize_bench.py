#!/usr/bin/env python3
"""The body check's cost (placard.markup.check_body: the nh3 allowlist, the scan naming what it
refuses, embeds and alt text) per body and for 10,000 posts of bench/corpus.py.

Two corpora: the posts as written (no raw HTML: Markdown only), and the same posts each with a
block of allowed raw HTML (<details>, <figure>, <abbr>), which takes the full parse. To compare
with another version of placard (say the deny-list scanner before nh3), point --placard at a
checkout of it: the same check_body(path, source, line, html, problems) is timed.

    python bench/sanitize_bench.py                       # this checkout
    git worktree add /tmp/old 3c59cde && python bench/sanitize_bench.py --placard /tmp/old
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402

RAW_HTML = ('\n\n<details><summary>Background</summary>\n<p>The <abbr title="Trade union">TU</abbr> statement, '
            '<a href="https://example.org/statement">in full</a>.</p>\n</details>\n\n'
            '<figure><img src="photo.jpg" alt="The square" width="640" height="480">'
            "<figcaption>The square, 16 December</figcaption></figure>\n")


def time_checks(markup, errors, bodies: list[tuple[str, str]], runs: int) -> list[float]:
    """Seconds to check every (source, html) body, once per run."""
    totals = []
    for _ in range(runs):
        started = time.perf_counter()
        for source, html in bodies:
            markup.check_body("content/news/post.md", source, 7, html, errors.Problems())
        totals.append(time.perf_counter() - started)
    return totals


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--placard", type=Path, default=Path(__file__).resolve().parent.parent, help="the checkout whose placard/ to time")
    args = parser.parse_args()
    sys.path.insert(0, str(args.placard))
    from placard import errors, markup

    texts = [body for *_rest, body in generate(args.posts)]
    for label, corpus in (("Markdown only", texts), ("with raw HTML", [text + RAW_HTML for text in texts])):
        bodies = [(text, markup.convert_markdown(text)) for text in corpus]
        converting = time.perf_counter()
        for text in corpus[:1000]:
            markup.convert_markdown(text)
        per_conversion = (time.perf_counter() - converting) / min(1000, len(corpus))
        best = min(time_checks(markup, errors, bodies, args.runs))
        print(f"{args.placard.name}: {label}: {args.posts} bodies checked in {best:.2f} s (best of {args.runs}), "
              f"{best / len(bodies) * 1e6:.0f} us per body; converting one takes {per_conversion * 1e6:.0f} us; "
              f"median body {statistics.median(len(h) for _s, h in bodies)} bytes of HTML")


if __name__ == "__main__":
    main()
