"""Old addresses keep working: `aliases:`, a slug changed since the last build (addresses.json), tags' earlier
slugs; each gets a small redirect page (meta refresh, canonical, a plain relative link) and a line in _redirects."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from conftest import NOW, build_errors, make_project
from test_validators import CHROMIUM_ARGS, CHROMIUM, QuietHandler, browser_missing

from placard.pipeline import build, build_site
from placard.redirects import parse_addresses, render_redirects_file, Redirect
from placard.schema import parse_old_address
from placard.errors import FieldError

ALIASED = """---
title: Second post
slug: second-post
date: 2012-06-08 09:30 +01:00
author: B. Writer
aliases:
  - news/2012/06/second.html
  - /old-news/second
---

The second post.
"""


def rename(project, old: str, new: str) -> None:
    """Change the slug of the fixture's post `old` (nothing links to second-post by its slug)."""
    file = project.root / "content/news/second-post.md"
    file.write_text(file.read_text().replace(f"slug: {old}\n", f"slug: {new}\n"))


@pytest.mark.parametrize("written, path", [("news/old-slug/", "news/old-slug/index.html"), ("/news/old-slug", "news/old-slug/index.html"),
                                           ("2011/12/appeal.html", "2011/12/appeal.html"), ("ru/news/old/", "ru/news/old/index.html")])
def test_old_addresses_are_read_as_output_paths(written, path):
    assert parse_old_address(written) == path


@pytest.mark.parametrize("written", ["https://example.org/news/x/", "news/../secret/", "news/x/?page=2", "news/x/#top", "news//x/", "news/a b/"])
def test_an_old_address_that_is_not_a_path_of_this_site_is_refused(written):
    with pytest.raises(FieldError, match="from the site's root"):
        parse_old_address(written)


def test_aliases_make_relative_redirect_pages_and_a_redirects_file(tmp_path):
    _, output = build_site(make_project(tmp_path, {"content/news/second-post.md": ALIASED}), NOW)
    page = output.files["news/2012/06/second.html"].decode()
    assert '<meta http-equiv="refresh" content="0; url=../../second-post/">' in page
    assert '<link rel="canonical" href="https://example.org/campaign/news/second-post/">' in page
    assert '<a href="../../second-post/">Second post</a>' in page and '<meta name="robots" content="noindex">' in page
    assert '<meta http-equiv="refresh" content="0; url=../../news/second-post/">' in output.files["old-news/second/index.html"].decode()
    # _redirects: paths from the host's root, base_url's path (/campaign/) included.
    assert output.files["_redirects"].decode().splitlines()[1:] == [
        "/campaign/news/2012/06/second.html /campaign/news/second-post/ 301",
        "/campaign/old-news/second/ /campaign/news/second-post/ 301"]
    assert "news/2012/06/second.html" not in output.files["sitemap.xml"].decode()


def test_redirects_for_file_urls_name_index_html(tmp_path):
    """The offline copy (build.py zip) opens from disk, where a folder is not its index.html."""
    from placard.render import RenderOptions
    _, output = build_site(make_project(tmp_path, {"content/news/second-post.md": ALIASED}), NOW, options=RenderOptions(index_html=True))
    assert '<a href="../../second-post/index.html">' in output.files["news/2012/06/second.html"].decode()


def test_an_alias_claimed_by_two_files_is_refused_with_both(tmp_path):
    other = ALIASED.replace("slug: second-post", "slug: third-post").replace("  - /old-news/second\n", "")
    project = make_project(tmp_path, {"content/news/second-post.md": ALIASED, "content/news/third-post.md": other})
    errors = build_errors(project)
    assert any(e.startswith("content/news/third-post.md:6: aliases: 'news/2012/06/second.html' is also an old address in content/news/second-post.md")
               or e.startswith("content/news/second-post.md:6: aliases: 'news/2012/06/second.html' is also an old address in content/news/third-post.md")
               for e in errors), errors


def test_a_changed_slug_keeps_its_old_address_working_across_builds(tmp_path):
    """The last build's addresses.json knows where the page was: the next build leaves a redirect there,
    and keeps it in every later build (also after a second rename), in every language's folder."""
    project = make_project(tmp_path)
    build(project, NOW)
    rename(project, "second-post", "second-post-renamed")
    build(project, NOW)
    out = project.output
    assert 'url=../second-post-renamed/"' in (out / "news/second-post/index.html").read_text()
    rename(project, "second-post-renamed", "second-post-final")
    build(project, NOW)
    build(project, NOW)  # nothing changed: the redirects stay
    for old in ("second-post", "second-post-renamed"):
        assert 'url=../second-post-final/"' in (out / f"news/{old}/index.html").read_text(), old
    lines = (out / "_redirects").read_text().splitlines()
    assert "/campaign/news/second-post/ /campaign/news/second-post-final/ 301" in lines
    assert "/campaign/news/second-post-renamed/ /campaign/news/second-post-final/ 301" in lines
    recorded = parse_addresses((out / "addresses.json").read_bytes())["content/news/second-post.md"]
    assert recorded == ("news/second-post-final/index.html", "news/second-post-renamed/index.html", "news/second-post/index.html")


def test_an_old_address_now_used_by_another_page_is_left_to_that_page(tmp_path):
    project = make_project(tmp_path)
    build(project, NOW)
    rename(project, "second-post", "second-post-renamed")
    (project.root / "content/news/new.md").write_text(ALIASED.replace("slug: second-post", "slug: second-post").replace("aliases:\n  - news/2012/06/second.html\n  - /old-news/second\n", ""))
    build(project, NOW)
    assert "<h1 class=\"p-name\">Second post</h1>" in (project.output / "news/second-post/index.html").read_text()


def test_a_damaged_addresses_file_is_a_first_build():
    assert parse_addresses(b"{not json") == {} and parse_addresses(None) == {} and parse_addresses(b"[1]") == {}


def test_redirects_file_at_the_root():
    lines = render_redirects_file([Redirect("news/a/index.html", "news/b/index.html", "B", "en")], "https://example.org/").splitlines()
    assert lines[1:] == ["/news/a/ /news/b/ 301"]


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    """One site, renamed slug and aliases, served at a root and under /campaign/ (mirrors and sub-paths)."""
    root = tmp_path_factory.mktemp("redirects")
    project = make_project(root, {"content/news/second-post.md": ALIASED})
    build(project, NOW)
    rename(project, "second-post", "second-post-renamed")
    build(project, NOW)
    (root / "sub").mkdir()
    (root / "sub" / "campaign").symlink_to(project.output, target_is_directory=True)
    servers = []
    for folder in (project.output, root / "sub"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield [f"http://127.0.0.1:{servers[0].server_port}/", f"http://127.0.0.1:{servers[1].server_port}/campaign/"]
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
def test_old_addresses_lead_to_the_page_in_chromium_at_a_root_and_under_a_sub_path(two_servers):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = chromium.new_page()
        for base in two_servers:
            for old in ("news/second-post/", "news/2012/06/second.html", "old-news/second/"):
                page.goto(base + old)
                page.wait_for_url(base + "news/second-post-renamed/", timeout=5000)
                assert page.locator("h1").first.inner_text() == "Second post", (base, old)
        chromium.close()
