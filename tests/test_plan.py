"""Plan stage: the plan kept between builds is reused only while every input of planning is the same.

Each test counts the calls to pages.plan_site (is the kept plan used?) and compares the site with a build
of the same files without any cache (is what it gave still right?)."""

from __future__ import annotations

import re

import pytest
from conftest import NOW, editable, snapshot

import placard.incremental.plan_memo as plan
import placard.incremental.session as session
from placard.incremental.digest import PageContext, page_recipe
from placard.incremental.session import IncrementalSession
from placard.incremental.store import MemoryStore
from placard.markup import find_refs
from placard.pipeline import build, build_site


@pytest.fixture(params=["keyed by stat", "just written"])
def planned(request, project, monkeypatch):
    """The fixture site built once with the cache; `calls` counts plan_pages calls after that.

    "keyed by stat": files old enough to be cached by their stat (the kept item of an edited file is
    compared); "just written": files changed in the last seconds, parsed on every build (as in the preview)."""
    if request.param == "keyed by stat":
        monkeypatch.setattr(session, "RACY_SECONDS", -10**9)
    calls = []
    real = plan.plan_site
    monkeypatch.setattr(plan, "plan_site", lambda *args: calls.append(1) or real(*args))
    build(project, NOW)
    calls.clear()
    return project, calls


def edit(project, rel: str, old: str, new: str) -> None:
    file = editable(project, rel)
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_nothing_changed_reuses_the_plan(planned):
    project, calls = planned
    before = snapshot(project.output)
    build(project, NOW)
    assert calls == []
    assert snapshot(project.output) == before


def test_a_prose_edit_reuses_the_plan_and_matches_a_cold_build(planned):
    project, calls = planned
    edit(project, "content/news/second-post.md", "cites the", "quotes and cites the")
    build(project, NOW)
    assert calls == []
    out = snapshot(project.output)
    assert b"quotes and cites the" in out["news/second-post/index.html"]
    assert out == build_site(project, NOW)[1].files


def test_a_prose_edit_re_renders_the_pages_showing_the_text_not_the_lists_naming_the_post(planned, monkeypatch):
    """With the kept plan a page keeps the key the last build gave it (no page's variables are
    digested again), and only pages that read the edited text through body() render again."""
    project, calls = planned
    import placard.incremental.parallel as parallel
    from placard.incremental.page_keys import PageInputs
    keyed, rendered = [], []
    real_base, real_render = PageInputs.base, parallel.render_page

    def base(self, spec, before=None):
        key = real_base(self, spec, before)
        if before is not None and key is not before:  # digested again (not the last build's key, as it was)
            keyed.append(spec.path)
        return key

    monkeypatch.setattr(PageInputs, "base", base)
    monkeypatch.setattr(parallel, "render_page", lambda inputs, spec, *args: rendered.append(spec.path) or real_render(inputs, spec, *args))
    edit(project, "content/news/second-post.md", "cites the", "quotes and cites the")
    build(project, NOW)
    assert calls == [] and keyed == []
    assert "news/second-post/index.html" in rendered and "feed.xml" in rendered
    assert "news/index.html" not in rendered and not [path for path in rendered if path.startswith("tags/")]
    assert snapshot(project.output) == build_site(project, NOW)[1].files


def test_a_template_reading_markdown_itself_is_never_cached(planned):
    """A list that shows a post's raw Markdown (not through body()) must follow a prose edit too."""
    project, calls = planned
    edit(project, "templates/macros.html", "{{ post.title }}</a>", "{{ post.title }}</a><!-- {{ post.body | wordcount }} words -->")
    build(project, NOW)
    edit(project, "content/news/second-post.md", "cites the", "quotes and cites the")
    build(project, NOW)
    out = snapshot(project.output)
    assert out == build_site(project, NOW)[1].files
    assert re.search(rb"Second post</a><!-- \d+ words -->", out["news/index.html"])


def planning_inputs(project):
    """What plan_site takes, for the fixture site as it is now (no cache)."""
    from placard.catalogue import check_catalogues
    from placard.index import index_site
    site = build_site(project, NOW)[0]
    return site, check_catalogues(project.template_layers, site.config.languages).catalogues, index_site(site)


@pytest.mark.parametrize("old, new, why", [
    ("title: Second post", "title: Second post, retitled", "metadata"),
    ("  - trials\n", "  - trials\n  - appeals\n", "a new tag"),
    ("cites the", "names [Acme](entity:acme) and cites the", "a new link to an entity (the register lists the posts linking to it)"),
    ("    body: A reply with *emphasis*.", "    body: A reply naming [Acme](entity:acme).", "a link in a reply"),
])
def test_an_edit_planning_reads_plans_again(planned, old, new, why):
    project, calls = planned
    edit(project, "content/news/second-post.md", old, new)
    build(project, NOW)
    assert calls == [1], why
    assert snapshot(project.output) == build_site(project, NOW)[1].files


def test_a_removed_post_plans_again(planned):
    project, calls = planned
    (project.content / "news" / "second-post.md").unlink()
    build(project, NOW)
    assert calls == [1]
    assert snapshot(project.output) == build_site(project, NOW)[1].files


def test_the_plan_kept_is_the_one_the_items_were_edited_from(planned):
    """Two prose edits in a row: the second is compared with the item the plan was made from."""
    project, calls = planned
    edit(project, "content/news/second-post.md", "cites the", "first cites the")
    build(project, NOW)
    edit(project, "content/news/second-post.md", "first cites the", "then [Acme](entity:acme) cites the")
    build(project, NOW)
    assert calls == [1]
    assert snapshot(project.output) == build_site(project, NOW)[1].files


def test_the_preview_reuses_the_plan_after_a_prose_edit(project, monkeypatch):
    store, calls = MemoryStore(), []
    real = plan.plan_site
    monkeypatch.setattr(plan, "plan_site", lambda *args: calls.append(1) or real(*args))
    build_site(project, NOW, preview=True, session=IncrementalSession(store))
    edit(project, "content/news/first-post.md", "## A heading", "## Another heading")
    files = build_site(project, NOW, preview=True, session=IncrementalSession(store))[1].files
    assert calls == [1]  # the first build only
    assert files == build_site(project, NOW, preview=True)[1].files


def test_planning_reads_no_prose(project):
    """The invariant the kept plan rests on: rewrite every Markdown body, keeping only its links,
    and the plan (every page's path, template and variables) is byte for byte the same."""
    def planned_rows():
        site, catalogues, index = planning_inputs(project)
        return plan.plan_kept(site, catalogues, index, MemoryStore()), plan.items_by_path(site)

    before, items = planned_rows()
    for file in project.content.rglob("*.md"):
        head, body = re.match(r"(?s)(---\n.*?\n---\n)(.*)", file.read_text(encoding="utf-8")).groups()
        links = " ".join(f"[link]({ref})" for _line, ref in find_refs(body, 0))
        file.write_text(f"{head}\nOther words entirely. {links}\n", encoding="utf-8")
    after, _ = planned_rows()
    assert [(s.path, s.template, s.context.blob, s.context.refs) for s in before] == [(s.path, s.template, s.context.blob, s.context.refs) for s in after]
    assert len(before) > 20 and all(isinstance(spec.context, PageContext) for spec in before)


def test_page_recipe_names_items_by_reference_and_tells_values_apart(project):
    site = build_site(project, NOW)[0]
    post, other = site.posts[0], site.posts[1]
    paths = {id(post): "p", id(other): "q"}
    blob, named = page_recipe({"post": post, "list": (post, other)}, paths)
    assert named == (post, other)  # each item once, in order
    assert page_recipe({"post": other, "list": (other, post)}, paths)[0] != blob
    assert page_recipe({"a": 1, "b": 2})[0] != page_recipe({"b": 2, "a": 1})[0]  # order shows in the page
    assert page_recipe((1,))[0] != page_recipe((True,))[0] and page_recipe((0.0,))[0] != page_recipe((-0.0,))[0]


def test_page_recipe_leaves_no_cyclic_garbage(project):
    """Builds do not run the cyclic collector (pipeline.not_collecting): a recipe made for each of
    11,800 pages must be freed by reference counting alone (a pickler in a cycle held 40 MB)."""
    import gc
    site = build_site(project, NOW)[0]
    paths = {id(post): post.origin.path for post in site.posts}
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            page_recipe({"posts": site.posts, "post": site.posts[0]}, paths)
        assert gc.collect() == 0
    finally:
        gc.enable()
