"""Search without a server: a Pagefind index per language built with the site, a search page in each
language, nothing from another host, and a notice with the archives where browsers cannot load the index."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import threading

import pytest
from conftest import NOW, REPO, make_project
from test_validators import CHROMIUM, CHROMIUM_ARGS, QuietHandler, browser_missing

from placard.output import write_output
from placard.pipeline import Project, build_site

SEARCH_ON = {"site.yml": (REPO / "tests/fixtures/site/site.yml").read_text().replace("search: false", "search: true")}


def indexed_urls(files: dict[str, bytes]) -> set[str]:
    """The address of every page in the built index (Pagefind's fragments are gzipped JSON after a signature)."""
    urls = set()
    for path, data in files.items():
        if path.startswith("pagefind/fragment/"):
            text = gzip.decompress(data).decode("utf-8")
            urls.add(json.loads(text[text.index("{"):])["url"])
    return urls


@pytest.fixture(scope="module")
def fixture_with_search(tmp_path_factory):
    return build_site(make_project(tmp_path_factory.mktemp("search"), SEARCH_ON), NOW)[1].files


def test_items_and_entities_are_indexed_in_every_language_but_never_drafts_or_held_back_items(fixture_with_search):
    urls = indexed_urls(fixture_with_search)
    assert {"/news/first-post/", "/links/acme/", "/ru/links/acme/", "/kk/links/jane-doe/", "/calendar/demo/", "/about/"} <= urls
    assert not any("draft" in url or "future" in url for url in urls), urls  # draft-post.md and future-post.md
    assert not any(url.endswith(("/news/", "/tags/", "/authors/")) for url in urls)  # lists would only repeat the items
    entry = json.loads(fixture_with_search["pagefind/pagefind-entry.json"])
    assert sorted(entry["languages"]) == ["en", "kk", "ru"]  # an index per language, picked by the page's <html lang>
    assert not any(path.startswith("pagefind/pagefind-ui") for path in fixture_with_search)  # the site's own page is the interface


def test_only_the_search_page_may_run_webassembly(fixture_with_search):
    for prefix in ("", "ru/", "kk/"):
        page = fixture_with_search[f"{prefix}search/index.html"].decode()
        assert "script-src &#39;self&#39; &#39;wasm-unsafe-eval&#39;;" in page
        assert '<script src="../' in page and "data-bundle=\"" in page and "<a href=\"../" in page  # relative: mirrors, sub-paths
    assert "wasm-unsafe-eval" not in fixture_with_search["news/first-post/index.html"].decode()
    assert 'href="search/">Search</a>' in fixture_with_search["index.html"].decode()


def test_without_search_there_is_no_index_page_or_link(tmp_path):
    files = build_site(make_project(tmp_path), NOW)[1].files
    assert not any(path.startswith(("pagefind/", "search/")) for path in files)
    assert "search/" not in files["index.html"].decode()


@pytest.fixture(scope="module")
def served_seed(tmp_path_factory):
    """The seed site at the root and the fixture site (search on) under /campaign/, over HTTP, and the seed's folder."""
    root = tmp_path_factory.mktemp("served-search")
    write_output(build_site(Project(REPO), NOW)[1].files, root / "seed")
    write_output(build_site(make_project(root, SEARCH_ON), NOW)[1].files, root / "fixture" / "campaign")
    servers = []
    for name in ("seed", "fixture"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root / name)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield f"http://127.0.0.1:{servers[0].server_port}/", f"http://127.0.0.1:{servers[1].server_port}/campaign/", root / "seed"
    for server in servers:
        server.shutdown()
        server.server_close()


def search_in(page, url: str, query: str) -> list[str]:
    """Open a search page, type the query and return the result links (absolute)."""
    page.goto(url)
    page.wait_for_selector("#search-input", state="visible", timeout=15000)
    page.fill("#search-input", query)
    page.wait_for_selector("#search-results li", timeout=15000)
    return page.eval_on_selector_all("#search-results a", "links => links.map(a => a.href)")


@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
def test_searching_samruk_in_chromium_finds_the_entity_and_the_appeal_in_each_language(served_seed):
    from playwright.sync_api import sync_playwright

    seed, fixture, folder = served_seed
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = chromium.new_page()
        problems, hosts = [], set()
        page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
        page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
        english = search_in(page, seed + "search/", "Samruk")
        assert seed + "links/samruk-kazyna/" in english
        assert seed + "news/demonstrate-support-oil-workers-in-kazakhstan/" in english  # the appeal (in English only)
        for prefix in ("ru/", "kk/"):  # the entity's page in that language; the appeal has no translation there
            assert seed + f"{prefix}links/samruk-kazyna/" in search_in(page, seed + f"{prefix}search/", "Samruk"), prefix
        # Under a sub-path the results lead into it.
        assert fixture + "links/acme/" in search_in(page, fixture + "search/", "Acme")
        assert problems == [] and hosts == {seed.split("/")[2], fixture.split("/")[2]}
        # From disk the engine cannot load: the notice with the archives stays, the search box never shows.
        page.goto((folder / "search/index.html").as_uri())
        page.wait_for_timeout(300)
        assert page.is_visible("#search-unavailable") and not page.is_visible("#search-form")
        assert page.locator("#search-unavailable a").first.get_attribute("href") == "../news/#archive-years"
        chromium.close()


def test_pagefinds_scratch_files_go_to_memory_only_where_there_is_room(tmp_path):
    from placard.search import scratch_folder

    room = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert scratch_folder(1000, (str(tmp_path / "absent"), str(tmp_path))) == str(tmp_path)
    assert scratch_folder(room, (str(tmp_path),)) is None  # (twice the room it needs: a full /dev/shm, as in a small container)
    assert scratch_folder(1000, (str(tmp_path / "absent"),)) is None  # no such folder: the system's temporary folder
