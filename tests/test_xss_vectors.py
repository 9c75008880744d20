"""Published HTML-injection and mutation-XSS vectors (tests/data/xss-vectors.txt), each the body of a
post: the build refuses it with a message, or nothing of it reaches the built site executable, as a
WHATWG HTML parser (html5lib) reads the pages."""

from __future__ import annotations

import re
from pathlib import Path

import html5lib
import pytest

from conftest import NOW, make_project
from placard.errors import BuildError
from placard.pipeline import build

VECTORS = [line.replace("\\n", "\n") for line in (Path(__file__).parent / "data" / "xss-vectors.txt").read_text(encoding="utf-8").splitlines()
           if line and not line.startswith("# ")]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "codebase", "cite", "dynsrc", "lowsrc"}
NEVER = {"iframe", "frame", "frameset", "object", "embed", "applet", "form", "base", "noscript", "template"}
OWN_SCRIPT = re.compile(r"(\.\./)*[a-z-]+\.js")
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")


def executable_parts(html: str) -> list[str]:
    """Everything in a page a browser could run or be redirected by (placard's own script files aside)."""
    found = []
    for element in html5lib.parse(html, namespaceHTMLElements=False).iter():
        if not isinstance(element.tag, str):
            continue  # a comment
        tag = element.tag.rsplit("}", 1)[-1].lower()
        attributes = {name.rsplit("}", 1)[-1].lower() if "}" in name else name.lower(): value for name, value in element.attrib.items()}
        if tag == "script" and not (OWN_SCRIPT.fullmatch(attributes.get("src", "")) or attributes.get("type") == "application/ld+json"):
            found.append(f"<script> {attributes}")
        if tag in NEVER:
            found.append(f"<{tag}>")
        if tag == "meta" and attributes.get("http-equiv", "").lower() in ("refresh", "link", "set-cookie"):
            found.append(f"<meta http-equiv={attributes['http-equiv']}>")
        if tag in ("set", "animate") and attributes.get("attributename"):
            found.append(f"<{tag} attributeName>")
        for name, value in attributes.items():
            squashed = re.sub(r"[\x00-\x20]", "", value).lower()
            if name.startswith("on") or name == "srcdoc":
                found.append(f"<{tag} {name}>")
            elif tag == "link" and attributes.get("rel") == "icon" and squashed.startswith("data:image/png;base64,"):
                continue  # the site's own icon, inlined in the 404 page (a PNG is only ever shown)
            elif (name in URL_ATTRIBUTES or name == "xlink:href") and squashed.startswith(DANGEROUS_SCHEMES):
                found.append(f"<{tag} {name}={value[:30]}>")
            elif name == "style" and re.search(r"expression|javascript:|url\(|binding|behavior", squashed):
                found.append(f"<{tag} style={value[:30]}>")
    return found


def post(number: int, body: str) -> str:
    return f"---\ntitle: Vector {number}\nslug: vector-{number:03d}\ndate: 2011-12-16\nauthor: Someone\n---\n\n{body}\n"


def test_the_checker_sees_the_vectors_as_executable_when_published_raw():
    """Without the sanitizer most vectors would reach the page executable (so the check below can fail)."""
    raw = [vector for vector in VECTORS if executable_parts(f"<!DOCTYPE html><html><body>{vector}</body></html>")]
    assert len(VECTORS) >= 150 and len(raw) >= 100


def test_no_published_vector_reaches_the_built_site_executable(tmp_path, capsys):
    files = {f"content/news/vector-{number:03d}.md": post(number, vector) for number, vector in enumerate(VECTORS)}
    project = make_project(tmp_path, files)
    with pytest.raises(BuildError) as failure:
        build(project, NOW)
    refused = {}
    for problem in failure.value.problems:
        assert re.fullmatch(r"content/news/vector-\d{3}\.md:\d+: body: .+", str(problem)), str(problem)
        refused.setdefault(problem.path, []).append(problem.message)
    for path in refused:  # build what is left: it must build, and hold nothing executable
        (project.root / path).unlink()
    build(project, NOW)
    kept = [number for number in range(len(VECTORS)) if f"content/news/vector-{number:03d}.md" not in refused]
    for number in kept:
        assert (project.output / "news" / f"vector-{number:03d}" / "index.html").exists()
    for page in sorted(project.output.rglob("*.html")):
        assert executable_parts(page.read_text(encoding="utf-8")) == [], page
    print(f"{len(VECTORS)} vectors: {len(refused)} refused with a message, {len(kept)} built with nothing executable")
    assert len(refused) >= 130  # nearly all are markup the allowlist refuses; the rest are text or plain links
