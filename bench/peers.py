#!/usr/bin/env python3
"""The peers of bench/build_bench.py: the same generated posts (bench/corpus.py) as a Hugo site, an
Eleventy site and a Pelican site, and the command that builds each. Each peer is optional: it is
benchmarked only when installed (see docs/performance.md, "Measuring"); none is a dependency of placard.

Every peer gets the same pages placard's corpus has in kind: one page per post, a paginated list of
posts (10 a page) and a page per tag, from minimal templates (placard's own templates do more per page).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate, write_pelican  # noqa: E402

HERE = Path(__file__).resolve().parent
PELICAN_PY = HERE / ".venv-pelican" / "bin" / "python"
ELEVENTY = HERE / ".peers" / "eleventy" / "node_modules" / ".bin" / "eleventy"

HUGO_CONFIG = """baseURL = "https://bench.example.org/"
title = "bench"
languageCode = "en"
disableKinds = ["RSS", "sitemap", "robotsTXT", "404"]
paginate = 10
[taxonomies]
tag = "tags"
"""
HUGO_SINGLE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body>
<main><article><h1>{{ .Title }}</h1><p>{{ .Date.Format "2 January 2006" }} · {{ .Params.author }}</p>
{{ .Content }}<p>{{ range .Params.tags }}<a href="/tags/{{ . | urlize }}/">{{ . }}</a> {{ end }}</p></article></main></body></html>
"""
HUGO_LIST = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body>
<main><h1>{{ .Title }}</h1><ul>{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
{{ .Date.Format "2 January 2006" }}<p>{{ .Summary }}</p></li>{{ end }}</ul>
{{ with .Paginator.Next }}<a href="{{ .URL }}">Older</a>{{ end }}</main></body></html>
"""

ELEVENTY_CONFIG = """export default function (config) {
  config.addFilter("day", (date) => date.toISOString().slice(0, 10));
  return { dir: { input: "src", output: "output" }, markdownTemplateEngine: false };
}
"""
ELEVENTY_POST = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<main><article><h1>{{ title }}</h1><p>{{ page.date | day }} · {{ author }}</p>
{{ content | safe }}<p>{% for tag in tags %}{% if tag != "posts" %}<a href="/tags/{{ tag }}/">{{ tag }}</a> {% endif %}{% endfor %}</p></article></main></body></html>
"""
ELEVENTY_INDEX = """---
pagination:
  data: collections.posts
  size: 10
  reverse: true
permalink: "/{% if pagination.pageNumber > 0 %}page/{{ pagination.pageNumber + 1 }}/{% endif %}"
---
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title></head><body>
<main><h1>News</h1><ul>{% for post in pagination.items %}<li><a href="{{ post.url }}">{{ post.data.title }}</a> {{ post.date | day }}</li>{% endfor %}</ul>
{% if pagination.href.next %}<a href="{{ pagination.href.next }}">Older</a>{% endif %}</main></body></html>
"""
ELEVENTY_TAGS = """---
pagination:
  data: collections
  size: 1
  alias: tag
  filter: ["all", "posts"]
permalink: "/tags/{{ tag }}/"
---
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ tag }}</title></head><body>
<main><h1>{{ tag }}</h1><ul>{% for post in collections[tag] | reverse %}<li><a href="{{ post.url }}">{{ post.data.title }}</a></li>{% endfor %}</ul></main></body></html>
"""

PELICAN_RUN = r"""
import logging, sys
from pelican import Pelican
from pelican.settings import read_settings
logging.disable(logging.WARNING)
work = sys.argv[1]
settings = read_settings(work + "/pelicanconf.py", override={"PATH": work + "/content", "OUTPUT_PATH": work + "/output",
                         "CACHE_PATH": work + "/cache", "LOAD_CONTENT_CACHE": True, "CACHE_CONTENT": True})
Pelican(settings).run()
"""


@dataclass(frozen=True)
class Peer:
    """A generator to compare with: its site folder, the command that builds it, the post to edit, its output folders."""

    name: str
    root: Path
    command: tuple[str, ...]
    edited: Path
    outputs: tuple[str, ...]


def front_matter(slug: str, title: str, day, tags: list[str]) -> str:
    """YAML front matter that Hugo and Eleventy both read."""
    return (f"---\ntitle: {json.dumps(title)}\nslug: {slug}\ndate: {day:%Y-%m-%d}\nauthor: Bench Writer\n"
            f"tags: {json.dumps(tags)}\n---\n\n")


def write_hugo(n: int, root: Path) -> None:
    """The corpus as a Hugo site (content/posts/, minimal layouts)."""
    (root / "content" / "posts").mkdir(parents=True, exist_ok=True)
    (root / "layouts" / "_default").mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    (root / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (root / "layouts" / "_default" / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    for slug, title, day, tags, body in generate(n):
        (root / "content" / "posts" / f"{slug}.md").write_text(front_matter(slug, title, day, tags) + body, encoding="utf-8")


def write_eleventy(n: int, root: Path) -> None:
    """The corpus as an Eleventy site (src/posts/, Nunjucks layouts)."""
    (root / "src" / "posts").mkdir(parents=True, exist_ok=True)
    (root / "src" / "_includes").mkdir(parents=True, exist_ok=True)
    (root / "eleventy.config.mjs").write_text(ELEVENTY_CONFIG, encoding="utf-8")
    (root / "src" / "_includes" / "post.njk").write_text(ELEVENTY_POST, encoding="utf-8")
    (root / "src" / "index.njk").write_text(ELEVENTY_INDEX, encoding="utf-8")
    (root / "src" / "tags.njk").write_text(ELEVENTY_TAGS, encoding="utf-8")
    (root / "src" / "posts" / "posts.json").write_text('{"layout": "post.njk", "tags": ["posts"]}', encoding="utf-8")
    for slug, title, day, tags, body in generate(n):
        (root / "src" / "posts" / f"{slug}.md").write_text(front_matter(slug, title, day, tags) + body, encoding="utf-8")


def installed_peers(n: int, work: Path) -> list[Peer]:
    """Every installed peer, with the corpus of n posts written for it under `work`."""
    peers = []
    hugo = shutil.which("hugo")
    if hugo:
        root = work / "hugo"
        write_hugo(n, root)
        peers.append(Peer("hugo", root, (hugo, "--quiet", "-s", str(root), "-d", str(root / "output")),
                          root / "content" / "posts" / "post-00007.md", ("output", "resources")))
    node = shutil.which("node")
    if node and ELEVENTY.exists():
        root = work / "eleventy"
        write_eleventy(n, root)
        peers.append(Peer("eleventy", root, (node, "--max-old-space-size=4096", str(ELEVENTY.resolve()), "--quiet"),
                          root / "src" / "posts" / "post-00007.md", ("output", ".cache")))
    if PELICAN_PY.exists():
        root = work / "pelican"
        write_pelican(n, root)
        peers.append(Peer("pelican", root, (str(PELICAN_PY), "-c", PELICAN_RUN, str(root)),
                          root / "content" / "post-00007.md", ("output", "cache")))
    return peers


def missing_peers() -> list[str]:
    """The peers not installed, with how to install them."""
    missing = []
    if not shutil.which("hugo"):
        missing.append("hugo (apt-get install hugo)")
    if not (shutil.which("node") and ELEVENTY.exists()):
        missing.append("eleventy (see docs/performance.md: npm install into bench/.peers/eleventy)")
    if not PELICAN_PY.exists():
        missing.append("pelican (see bench/requirements-pelican.txt)")
    return missing
