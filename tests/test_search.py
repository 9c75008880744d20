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


# Shards: a large site's index in several bundles (placard/search.py), shown here on the fixture with a few
# posts more and shards of 3 pages a language (the site's default is search.SHARD_PAGES).
QUORUM = {f"content/news/quorum-{n}.md": f"---\ntitle: Quorum meeting number {n}\nslug: quorum-{n}\ndate: 2012-03-{n + 10:02d}\n"
          f"author: A. Writer\n---\n\nThe quorum met in Aktau{', where the aktau pension fund was discussed at length, the aktau pension fund again' if n else ''}.\n"
          for n in range(9)}
QUORUM["content/news/quorum-0.md"] = QUORUM["content/news/quorum-0.md"].replace("Quorum meeting number 0", "Aktau pension fund")
SHARDED = {**SEARCH_ON, **QUORUM}
SMALL_SHARDS = 3


def shard_runs():
    """An indexer that notes each shard it builds (Pagefind runs for real)."""
    from placard.search import build_search_index

    runs = []

    def indexer(pages, folder, reuse=None):
        runs.append(folder)
        return build_search_index(pages, folder, reuse)
    return runs, indexer


def test_shards_are_stable_and_every_page_is_in_exactly_one():
    from placard.search import SEARCH_DIR, plan_shards, shard_count

    assert [shard_count(n, 1000) for n in (0, 1, 1000, 1001, 2000, 2001, 10_000, 100_000)] == [1, 1, 1, 2, 2, 4, 16, 128]
    languages = {f"news/post-{n}/index.html": "en" for n in range(32)} | {f"ru/links/e-{n}/index.html": "ru" for n in range(5)}
    shards = plan_shards(languages, 10)
    assert shards[0].folder == SEARCH_DIR and all(s.folder.startswith(SEARCH_DIR + "/shard-") for s in shards[1:])
    assert sorted(p for s in shards for p in s.paths) == sorted(languages)  # each page once
    assert len(shards) == 4 and [s.languages for s in shards][1:] == [("en",)] * 3  # ru's 5 pages: one bucket, the first
    grown = plan_shards(languages | {f"news/post-{n}/index.html": "en" for n in range(32, 40)}, 10)  # 40 pages: still 4 buckets
    where = {p: s.folder for s in grown for p in s.paths}
    assert all(where[p] == s.folder for s in shards for p in s.paths)  # no page moved
    assert len(plan_shards(languages, 1000)) == 1


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """The fixture site with the quorum posts, its index in shards of 3 pages a language, built fresh; and the runs."""
    from placard.incremental.session import PlainSession

    runs, indexer = shard_runs()
    project = make_project(tmp_path_factory.mktemp("sharded"), SHARDED)
    return project, build_site(project, NOW, session=PlainSession(search_shard_pages=SMALL_SHARDS, search_indexer=indexer))[1].files, runs


def test_a_sharded_index_has_one_engine_and_names_its_shards_per_language(sharded):
    _project, files, runs = sharded
    folders = sorted({"/".join(path.split("/")[:2]) for path in files if path.startswith("pagefind/shard-")})
    assert len(runs) == len(set(runs)) > 2 and sorted(runs[1:]) == sorted(folders) and runs[0] == "pagefind"
    assert not any(name.endswith((".js", ".pagefind")) for name in files if name.startswith("pagefind/shard-"))  # the engine once
    script = files["pagefind/pagefind.js"].decode()
    named = json.loads(script[script.rindex("export const placardShards = ") + 29:].rstrip().rstrip(";"))
    assert sorted({folder for listed in named.values() for folder in listed}) == sorted(f[len("pagefind/"):] + "/" for f in folders)
    assert sorted(named) == ["en", "kk", "ru"]
    # every page in exactly one shard's fragments
    urls = [json.loads(gzip.decompress(d).decode()[gzip.decompress(d).decode().index("{"):])["url"]
            for p, d in files.items() if "/fragment/" in p]
    assert len(urls) == len(set(urls)) and {f"/news/quorum-{n}/" for n in range(9)} <= set(urls)


def test_an_edit_reindexes_one_shard_and_the_cache_gives_a_fresh_builds_bytes(tmp_path, sharded):
    from placard.incremental.session import IncrementalSession, PlainSession
    from placard.incremental.store import MemoryStore

    _fresh_project, fresh, _ = sharded
    project = make_project(tmp_path, SHARDED)
    runs, indexer = shard_runs()
    store = MemoryStore()
    first = build_site(project, NOW, session=IncrementalSession(store, search_shard_pages=SMALL_SHARDS, search_indexer=indexer))[1].files
    assert first == fresh  # (another folder, the same site)
    shards = len(runs)
    post = project.root / "content/news/quorum-4.md"
    post.write_text(post.read_text(encoding="utf-8").replace("The quorum met", "The quorum met twice"), encoding="utf-8")
    del runs[:]
    edited = build_site(project, NOW, session=IncrementalSession(store, search_shard_pages=SMALL_SHARDS, search_indexer=indexer))[1].files
    owner = next(path.split("/fragment/")[0] for path, data in edited.items()
                 if "/fragment/" in path and b"quorum-4" in gzip.decompress(data))
    assert runs == [owner] and shards > 2  # one Pagefind run, for the shard of the edited post
    plain = build_site(project, NOW, session=PlainSession(search_shard_pages=SMALL_SHARDS))[1].files
    assert edited == plain  # the cached shards' bytes equal a fresh build's, byte for byte
    assert edited["pagefind/pagefind.js"] == fresh["pagefind/pagefind.js"] and edited != fresh


def test_the_seed_has_one_bundle(served_seed):
    _seed, _fixture, folder = served_seed
    assert not (folder / "pagefind" / "shard-1").exists() and not list((folder / "pagefind").glob("shard-*"))
    assert b"placardShards" not in (folder / "pagefind" / "pagefind.js").read_bytes()


@pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
def test_a_search_in_chromium_finds_results_in_every_shard_and_an_exact_title_first(sharded, tmp_path):
    from playwright.sync_api import sync_playwright

    _project, files, _runs = sharded
    write_output(files, tmp_path / "site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shard_of = {}
    for path, data in files.items():
        if "/fragment/" in path:
            text = gzip.decompress(data).decode()
            shard_of[json.loads(text[text.index("{"):])["url"]] = path.split("/fragment/")[0]
    base = f"http://127.0.0.1:{server.server_port}/"
    try:
        with sync_playwright() as driver:
            chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = chromium.new_page()
            problems, fetched = [], []
            page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
            page.on("request", lambda request: fetched.append(request.url))
            found = search_in(page, base + "search/", "quorum")
            page.locator("#search-results li").nth(8).wait_for(timeout=15000)  # (the page's CSP allows no evaluated strings)
            found = page.eval_on_selector_all("#search-results a", "links => links.map(a => a.href)")
            assert sorted(found) == sorted(base + f"news/quorum-{n}/" for n in range(9))
            en_shards = {folder for url, folder in shard_of.items() if url.startswith("/news/")}
            assert {shard_of["/" + url[len(base):]] for url in found} == en_shards and len(en_shards) > 2  # every English shard
            assert sum("pagefind.js" in url for url in fetched) == 1 and sum(".pagefind" in url for url in fetched) == 1  # the engine once
            first = search_in(page, base + "search/", "Aktau pension fund")
            assert first[0] == base + "news/quorum-0/" and len(first) == 9  # the title before the bodies that repeat it
            assert shard_of["/news/quorum-0/"] != shard_of["/news/quorum-1/"] or shard_of["/news/quorum-0/"] != shard_of["/news/quorum-2/"]
            # Words in different shards only: no shard's page holds both (each shard alone would ignore the word it lacks).
            page.fill("#search-input", "pension demo")
            page.wait_for_selector("#search-status:has-text('Nothing found')", timeout=15000)
            assert page.eval_on_selector_all("#search-results li", "items => items.length") == 0
            assert problems == []
            chromium.close()
    finally:
        server.shutdown()
        server.server_close()


class KeptPages(dict):
    """Pages as build.py's session sees them: some are output/'s own from the last build (FileReader.is_kept); reads noted."""

    def __init__(self, pages: dict[str, bytes], kept: set[str]) -> None:
        super().__init__(pages)
        self.kept, self.reads = kept, []

    def __getitem__(self, path: str) -> bytes:
        self.reads.append(path)
        return super().__getitem__(path)

    def is_kept(self, path: str) -> bool:
        return path in self.kept


def test_pages_output_keeps_are_not_read_to_decide_which_shards_to_index_again():
    from placard.incremental.session import IncrementalSession
    from placard.incremental.store import MemoryStore

    runs = []

    def indexer(pages, folder, reuse=None):  # (no Pagefind: which shards run, from which pages, is the point)
        runs.append(folder)
        return {f"{folder}/pages.txt": b"\n".join(pages[path] for path in pages)}

    languages = {f"news/post-{n}/index.html": "en" for n in range(12)}
    session = IncrementalSession(MemoryStore(), search_shard_pages=4, search_indexer=indexer)
    pages = {path: f"<main>{path}</main>".encode() for path in languages}
    first = session.search_index(KeptPages(pages, set()), languages)
    assert len(runs) == 4  # 12 pages, 4 a shard: 4 buckets (shard_count rounds up to a power of two)
    edited = "news/post-5/index.html"
    changed = KeptPages({**pages, edited: b"<main>new words</main>"}, set(languages) - {edited})
    del runs[:]
    second = session.search_index(changed, languages)
    owner = next(folder for folder in {path.rsplit("/", 1)[0] for path in second} if b"new words" in second[f"{folder}/pages.txt"])
    assert runs == [owner]  # the edited page's shard alone
    assert set(changed.reads) - {edited} <= {path for path in languages if path != edited} and edited in changed.reads
    unchanged = {path for path in languages if path not in changed.reads}
    assert len(unchanged) >= 8  # the other shards' kept pages were not read at all
    assert {k: v for k, v in second.items() if b"new words" not in v} == {k: v for k, v in first.items() if k != f"{owner}/pages.txt"}
    # A page kept in output/ whose digest was never noted (a cache from before) is read, not trusted blindly.
    fresh = IncrementalSession(MemoryStore(), search_shard_pages=4, search_indexer=indexer)
    again = KeptPages(pages, set(languages))
    fresh.search_index(again, languages)
    assert all(again.reads.count(path) == 2 for path in languages)  # digested, then indexed


def test_build_py_keeps_unchanged_shards_in_output_and_indexes_an_edited_one_over_its_last_bundle(tmp_path, sharded, monkeypatch):
    """build.py's shards are files in output/ (IncrementalSession.files_in_output): an unchanged shard is left
    there unread; the edited post's shard is indexed again over its last bundle; the site equals a fresh build's."""
    import placard.pipeline as pipeline
    from placard.incremental.session import IncrementalSession

    _fresh_project, fresh, _ = sharded
    runs, indexer = shard_runs()
    reused = []

    def noting(pages, folder, reuse=None):
        reused.append(sorted(reuse or {}))
        return indexer(pages, folder, reuse)
    monkeypatch.setattr(pipeline, "IncrementalSession", functools.partial(IncrementalSession, search_shard_pages=SMALL_SHARDS, search_indexer=noting))
    project = make_project(tmp_path, SHARDED)

    def index_files() -> dict[str, bytes]:
        return {file.relative_to(project.output).as_posix(): file.read_bytes()
                for file in (project.output / "pagefind").rglob("*") if file.is_file()}

    pipeline.build(project, NOW)
    assert index_files() == {path: data for path, data in fresh.items() if path.startswith("pagefind/")}
    shards = len(runs)
    post = project.root / "content/news/quorum-4.md"
    post.write_text(post.read_text(encoding="utf-8").replace("The quorum met", "The quorum met twice"), encoding="utf-8")
    del runs[:], reused[:]
    pipeline.build(project, NOW)
    edited = index_files()
    owner = next(path.split("/fragment/")[0] for path, data in edited.items() if "/fragment/" in path and b"quorum-4" in gzip.decompress(data))
    assert runs == [owner] and shards > 2  # the other shards stayed in output/
    assert reused[0] and all(path.startswith(owner + "/") for path in reused[0])  # over its own last bundle
    from placard.incremental.session import PlainSession

    def from_nothing() -> dict[str, bytes]:
        files = build_site(project, NOW, session=PlainSession(search_shard_pages=SMALL_SHARDS))[1].files
        return {path: data for path, data in files.items() if path.startswith("pagefind/")}
    assert edited == from_nothing()  # byte for byte, and no file of the last bundle left over
    # A shard's file removed from output/ (by hand, a sync tool): that shard is made again, whole.
    other = next(folder for folder in sorted({path.split("/fragment/")[0] for path in edited if "/fragment/" in path}) if folder != owner)
    victim = next(project.output / path for path in edited if path.startswith(other + "/fragment/"))
    victim.unlink()
    post.write_text(post.read_text(encoding="utf-8").replace("met twice", "met thrice"), encoding="utf-8")
    del runs[:]
    pipeline.build(project, NOW)
    assert sorted(runs) == sorted([owner, other]) and victim.exists()
    assert index_files() == from_nothing()


def test_a_full_scratch_folder_is_a_problem_for_search_not_a_traceback(tmp_path, monkeypatch):
    import errno
    import pathlib

    from placard.search import SearchUnavailable, build_search_index

    real = pathlib.Path.write_bytes

    def full(self, data):
        if "placard-search-" in str(self):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)
    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    with pytest.raises(SearchUnavailable, match=r"could not be written in .*\(No space left on device\); free some space there, or set 'search: false'"):
        build_search_index({"news/a/index.html": b"<html lang=en><main>a</main></html>"})
