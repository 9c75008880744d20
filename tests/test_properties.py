"""Property-based tests: random front matter and Markdown never raise anything but our own errors."""

from __future__ import annotations

import dataclasses

import yaml
from markupsafe import escape
from conftest import NOW, make_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placard.content import LOADERS, load_config
from placard.models import ENTITY_SCHEMA, EVENT_SCHEMA, POST_SCHEMA
from placard.documents import DocumentError, parse_document
from placard.errors import BuildError, Problems
from placard.pipeline import build_site
from placard.catalogue import check_catalogues
from placard.index import index_site
from placard.markup import convert_bodies
from placard.pages import plan_pages
from placard.render import RenderInputs, render_page
from placard.templating import make_environment

TRICKY = ["no", "yes", "~", "null", "2011-12-21", "12:00", "2011-12-21 12:00", "2012-03-25 01:30", "Europe/London",
          "[a, b", "{x: 1}", "- a", "*ref", "&anchor", "'quoted", '"', "---", "\t", "Жаңаөзен", "<script>", "0x1F",
          "1e3", "2006-10", "https://example.org/", "javascript:alert(1)", ": colon", "#comment", "%", "@"]
scalar = st.one_of(st.text(max_size=20), st.sampled_from(TRICKY))
value = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.sampled_from(["post", "url", "title", "relation", "object", "sources"]), scalar, max_size=3))
KEYS = sorted(set(POST_SCHEMA) | set(EVENT_SCHEMA) | set(ENTITY_SCHEMA) | {"ties", "ends_at", "Title"})
front_matter = st.dictionaries(st.sampled_from(KEYS), value, max_size=8)
markdown_text = st.one_of(st.text(max_size=200), st.lists(st.sampled_from(
    ["# h", "- item", "> quote", "[x](post:first-post)", "[y](entity:nope)", "![a](b.png)", "<b>raw</b>", "<img src=x onerror=y>",
     "`code`", "```", "| a | b |", "|---|---|", "*", "[^1]", "[^1]: note", "<!-- c -->", "&amp;", "\n\n", "Жаңаөзен"]), max_size=12).map("\n".join))
CONFIG = None


def config():
    """The site settings of the fixture site, read once."""
    global CONFIG
    if CONFIG is None:
        import tempfile
        from pathlib import Path

        CONFIG = load_config(make_project(Path(tempfile.mkdtemp())).config_file)
    return CONFIG


@settings(max_examples=2000, deadline=None)
@given(meta=front_matter, body=markdown_text, kind=st.sampled_from(sorted(LOADERS)), raw=st.booleans(), junk=st.text(max_size=80))
def test_loader_raises_only_content_errors(meta, body, kind, raw, junk):
    text = f"---\n{junk if raw else yaml.safe_dump(meta, allow_unicode=True)}\n---\n{body}\n"
    try:
        doc = parse_document("content/x.md", text)
    except DocumentError:
        return
    problems = Problems()
    item = LOADERS[kind](doc, config(), problems)
    assert (item is None) == bool(problems.items)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(min_size=1, max_size=60).filter(str.strip), body=markdown_text)
def test_renderer_raises_only_content_errors(tmp_path, title, body):
    site, env, catalogues = _site_and_env(tmp_path)
    post = dataclasses.replace(site.posts[0], title=title.strip(), body=body)
    site = dataclasses.replace(site, posts=(post,) + site.posts[1:])
    try:
        index = index_site(site)
        bodies = convert_bodies(site, index.targets)
    except BuildError:
        return
    spec = next(s for s in plan_pages(site, {}, index) if s.origin == post.origin.path)
    html = render_page(RenderInputs(env, site, index, bodies, catalogues), spec)
    assert str(escape(title.strip())) in html


_CACHE: dict = {}


def _site_and_env(tmp_path):
    """The fixture site and templates, loaded once for all examples."""
    if not _CACHE:
        project = make_project(tmp_path)
        site, _ = build_site(project, NOW)
        _CACHE["site"], _CACHE["env"] = site, make_environment(project.template_layers)
        _CACHE["catalogues"] = check_catalogues(project.template_layers, site.config.languages).catalogues
    return _CACHE["site"], _CACHE["env"], _CACHE["catalogues"]
