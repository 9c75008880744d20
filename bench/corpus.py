#!/usr/bin/env python3
"""Write N realistic, valid news posts (about 600 words: headings, lists, links, quotes) in our format.

Deterministic: the same N and seed give byte-identical files. Also writes the same posts in
Pelican's Markdown format with --pelican, so both generators build the same corpus.

    python bench/corpus.py 1000 /tmp/corpus            # a placard project (site.yml, content/, templates/, static/)
    python bench/corpus.py 1000 /tmp/pelican --pelican # Pelican content/ + pelicanconf.py
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = (
    "oil workers strike wages conditions union solidarity field camp square police court trial sentence company "
    "shares investors city london exchange loans pension fund contract bonus shift drilling refinery pipeline region "
    "mangistau aktau zhanaozen shetpe families community protest demand release lawyer independent organise meeting "
    "statement report government officials holding state economy profit dividend crude export tanker trader office"
).split()
TAGS = ["strike", "trials", "solidarity", "london", "oil", "union", "courts", "repression", "investors", "pensions"]


def sentence(rng: random.Random, n: int) -> str:
    """A plain sentence of n words."""
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    """A paragraph, with the occasional emphasis and link."""
    parts = [sentence(rng, rng.randint(8, 18)) for _ in range(sentences)]
    if rng.random() < 0.5:
        parts.insert(1, f"See [the report](https://example.org/reports/{rng.randint(1, 9999)}) for *details*.")
    return " ".join(parts)


def post_body(rng: random.Random) -> str:
    """About 600 words of Markdown with headings, a list, a quote and links."""
    blocks = [paragraph(rng, 4), paragraph(rng, 3), f"## {sentence(rng, 4)[:-1]}", paragraph(rng, 4)]
    blocks.append("\n".join(f"- {sentence(rng, rng.randint(5, 10))}" for _ in range(5)))
    blocks.append("> " + sentence(rng, 20))
    blocks += [f"## {sentence(rng, 3)[:-1]}", paragraph(rng, 5), paragraph(rng, 4)]
    blocks.append("\n".join(f"{i}. {sentence(rng, 8)}" for i in range(1, 4)))
    blocks += [paragraph(rng, 5), f"### {sentence(rng, 4)[:-1]}", paragraph(rng, 4), paragraph(rng, 4)]
    return "\n\n".join(blocks) + "\n"


def generate(n: int, seed: int = 2011):
    """Yield (slug, title, date, tags, body) for n posts."""
    rng = random.Random(seed)
    start = date(2011, 12, 16)
    for i in range(n):
        title = f"{sentence(rng, 5)[:-1]} {i}"
        yield f"post-{i:05d}", title, start + timedelta(hours=6 * i), rng.sample(TAGS, 2), post_body(rng)


def write_placard(n: int, target: Path) -> None:
    """A complete placard project with n posts (templates and static from this repository)."""
    (target / "content" / "news").mkdir(parents=True, exist_ok=True)
    for folder in ("templates", "static"):
        shutil.rmtree(target / folder, ignore_errors=True)
        shutil.copytree(REPO / folder, target / folder)
    shutil.copy(REPO / "site.yml", target / "site.yml")
    for slug, title, day, tags, body in generate(n):
        tag_lines = "".join(f"  - {t}\n" for t in tags)
        (target / "content" / "news" / f"{slug}.md").write_text(
            f"---\ntitle: \"{title}\"\nslug: {slug}\ndate: {day:%Y-%m-%d}\nauthor: Bench Writer\ntags:\n{tag_lines}---\n\n{body}",
            encoding="utf-8",
        )


def write_pelican(n: int, target: Path) -> None:
    """The same posts for Pelican, with a minimal pelicanconf.py."""
    (target / "content").mkdir(parents=True, exist_ok=True)
    for slug, title, day, tags, body in generate(n):
        (target / "content" / f"{slug}.md").write_text(
            f"Title: {title}\nSlug: {slug}\nDate: {day:%Y-%m-%d}\nAuthor: Bench Writer\nTags: {', '.join(tags)}\n\n{body}",
            encoding="utf-8",
        )
    (target / "pelicanconf.py").write_text(
        'SITENAME = "bench"\nSITEURL = ""\nPATH = "content"\nTIMEZONE = "Europe/London"\nDEFAULT_LANG = "en"\n'
        "FEED_ALL_ATOM = None\nCATEGORY_FEED_ATOM = None\nAUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\n"
        "DEFAULT_PAGINATION = False\nMARKDOWN = {'extensions': ['markdown.extensions.extra', 'markdown.extensions.toc'], 'output_format': 'html5'}\n",
        encoding="utf-8",
    )


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("target", type=Path)
    parser.add_argument("--pelican", action="store_true")
    args = parser.parse_args()
    (write_pelican if args.pelican else write_placard)(args.n, args.target)


if __name__ == "__main__":
    main()
