"""Build cache and incremental rebuilds: cached, incremental and cold builds give the same bytes.

Every test compares a build that used the cache with a build of the same files that did not, so a
cache that served anything stale would fail here. No timing: speed figures live in bench/.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, REPO, editable, make_project, snapshot

from placard.incremental.session import IncrementalSession
from placard.incremental.store import CACHE_DIR, CACHE_FILE, MemoryStore
from placard.errors import BuildError
from placard.pipeline import Project, build, build_site
from placard.serve import make_builder

sys.path.insert(0, str(REPO / "bench"))
from corpus import write_placard  # noqa: E402  (the benchmark's corpus generator)


def cold_files(project: Project, now=NOW, preview: bool = False) -> dict[str, bytes]:
    """The site built from scratch (no cache), in memory."""
    return build_site(project, now, preview)[1].files


def cache_file(project: Project) -> Path:
    return project.root / CACHE_DIR / CACHE_FILE


def edit(project: Project, rel: str, old: str, new: str) -> None:
    file = editable(project, rel)
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_cold_cached_and_incremental_builds_are_byte_identical(project):
    build(project, NOW)
    assert cache_file(project).is_file()
    first = snapshot(project.output)
    assert first == cold_files(project)
    build(project, NOW)  # everything from the cache
    assert snapshot(project.output) == first
    edit(project, "content/news/second-post.md", "title: Second post", "title: Second post, corrected")
    build(project, NOW)  # one file changed
    assert snapshot(project.output) == cold_files(project)


def test_generated_corpus_cold_cached_incremental_identical(tmp_path):
    """Enough posts to convert on the process pool; one edited post, then one removed."""
    project = Project(tmp_path / "corpus")
    write_placard(120, project.root)
    build(project, NOW)
    assert snapshot(project.output) == cold_files(project)
    build(project, NOW)
    assert snapshot(project.output) == cold_files(project)
    edit(project, "content/news/post-00007.md", "\n\n", "\n\nAn edited paragraph.\n\n")
    build(project, NOW)
    after_edit = snapshot(project.output)
    assert after_edit == cold_files(project)
    assert b"An edited paragraph." in after_edit["news/post-00007/index.html"]
    (project.content / "news" / "post-00008.md").unlink()
    build(project, NOW)
    assert snapshot(project.output) == cold_files(project)
    assert "news/post-00008/index.html" not in snapshot(project.output)


def test_editing_a_post_updates_its_page_lists_feed_and_tags(project):
    build(project, NOW)
    edit(project, "content/news/second-post.md", "title: Second post", "title: Renamed second post")
    build(project, NOW)
    out = snapshot(project.output)
    assert out == cold_files(project)
    for path in ("news/second-post/index.html", "news/index.html", "index.html", "feed.xml"):
        assert b"Renamed second post" in out[path], path
    tag_pages = [p for p in out if p.startswith("tags/") and p != "tags/index.html" and b"second-post/" in out[p]]
    assert tag_pages and all(b"Renamed second post" in out[p] for p in tag_pages)


def test_changing_a_template_re_renders_every_page_that_uses_it(project):
    build(project, NOW)
    edit(project, "templates/base.html", "<a class=\"skip\"", "<!-- marker --><a class=\"skip\"")
    build(project, NOW)
    out = snapshot(project.output)
    assert out == cold_files(project)
    uses_base = [p for p in out if p.endswith(".html") and "/flyer/" not in p]
    assert len(uses_base) > 10 and all(b"<!-- marker -->" in out[p] for p in uses_base)


def test_changing_the_stylesheet_re_renders_the_page_that_inlines_it(project):
    build(project, NOW)
    with (project.static / "style.css").open("a", encoding="utf-8") as css:
        css.write("\n.marker-rule { color: red }\n")
    build(project, NOW)
    assert snapshot(project.output) == cold_files(project)
    assert b"marker-rule" in snapshot(project.output)["404.html"]


def test_moving_now_moves_an_event_to_past_even_with_a_warm_cache(project):
    build(project, NOW)
    calendar = snapshot(project.output)["calendar/index.html"]
    upcoming = calendar.split(b'id="past-events"')[0]
    assert b"Meeting in Almaty" in upcoming
    later = NOW + timedelta(days=200)  # after the Almaty meeting (2027-03-10)
    build(project, later)
    out = snapshot(project.output)
    assert out == cold_files(project, later)
    past = out["calendar/index.html"].split(b'id="past-events"')[1]
    assert b"Meeting in Almaty" in past


def test_a_scheduled_post_appears_when_now_passes_its_date(project):
    build(project, NOW)
    assert not any("scheduled-post" in p for p in snapshot(project.output))
    later = NOW.replace(year=2031)
    build(project, later)
    out = snapshot(project.output)
    assert out == cold_files(project, later)
    assert b"Scheduled post" in out["news/index.html"]


def test_a_cache_with_another_version_is_ignored(project):
    build(project, NOW)
    with sqlite3.connect(cache_file(project)) as db:  # poison it, as if written by other code
        db.execute("UPDATE bodies SET html = ?", ("STALE",))
        db.execute("UPDATE meta SET value = 'placard 0.0.0 (an older version)' WHERE key = 'version'")
    edit(project, "content/news/second-post.md", "title: Second post", "title: Second post again")
    build(project, NOW)
    out = snapshot(project.output)
    assert out == cold_files(project) and not any(b"STALE" in data for data in out.values())


def test_a_corrupt_cache_file_is_ignored_and_replaced(project):
    build(project, NOW)
    good = snapshot(project.output)
    cache_file(project).write_bytes(b"this is not a database" * 100)
    build(project, NOW)
    assert snapshot(project.output) == good
    with sqlite3.connect(cache_file(project)) as db:  # rebuilt and usable again
        assert db.execute("SELECT COUNT(*) FROM pages").fetchone()[0] > 10


def test_an_unreadable_bucket_of_items_is_parsed_again_and_rewritten(project):
    build(project, NOW)
    good = snapshot(project.output)
    with sqlite3.connect(cache_file(project)) as db:
        buckets = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        db.execute("UPDATE items SET data = ?", (b"not a pickle",))
    build(project, NOW)
    assert snapshot(project.output) == good
    with sqlite3.connect(cache_file(project)) as db:
        rows = db.execute("SELECT data FROM items").fetchall()
    assert len(rows) == buckets and b"not a pickle" not in {data for (data,) in rows}


def test_a_cache_of_another_format_is_deleted(project):
    stale = project.root / CACHE_DIR / "placard-v1.sqlite"
    stale.parent.mkdir()
    stale.write_bytes(b"an old cache, 100 MB at 10,000 posts")
    build(project, NOW)
    assert not stale.exists() and cache_file(project).is_file()


def test_deleting_the_cache_is_safe(project):
    build(project, NOW)
    first = snapshot(project.output)
    shutil.rmtree(project.root / CACHE_DIR)
    build(project, NOW)
    assert snapshot(project.output) == first


def test_a_new_cache_file_is_filled_without_a_log_then_left_in_wal_mode(project, monkeypatch):
    """The first build writes its 100 MB once (rollback journal), later ones keep WAL (readers never wait)."""
    import placard.incremental.store as cache_module
    modes = []
    real_commit = cache_module.SqliteStore.commit

    def commit(self):
        modes.append(self.db.execute("PRAGMA journal_mode").fetchone()[0])
        real_commit(self)

    monkeypatch.setattr(cache_module.SqliteStore, "commit", commit)
    build(project, NOW)
    first, modes[:] = list(modes), []
    edit(project, "content/news/second-post.md", "title: Second post", "title: Second post, corrected")
    build(project, NOW)
    assert set(first) == {"delete"} and set(modes) == {"wal"}, (first, modes)
    assert sqlite3.connect(cache_file(project)).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert snapshot(project.output) == cold_files(project)


def test_a_failed_build_does_not_poison_the_cache(project):
    build(project, NOW)
    good = (project.content / "news" / "second-post.md").read_text(encoding="utf-8")
    (project.content / "news" / "second-post.md").write_text(good.replace("slug: second-post", "slug: first-post"), encoding="utf-8")
    with pytest.raises(BuildError):
        build(project, NOW)
    (project.content / "news" / "second-post.md").write_text(good, encoding="utf-8")
    build(project, NOW)
    assert snapshot(project.output) == cold_files(project)


def test_the_memory_store_forgets_what_a_failed_build_added():
    """Like the SQLite store's transaction: after rollback() the store is as the last good build left it."""
    store = MemoryStore()
    store.put_items([("content/news/a.md", b"key a", "item a")])
    store.put_pages([("a/index.html", "entry a")])
    store.put_memo("plan", b"shape", "plan a")
    store.commit()
    store.put_items([("content/news/a.md", b"key b", "item b"), ("content/news/c.md", b"key c", "item c")])
    store.put_pages([("a/index.html", "entry b")])
    store.put_memo("plan", b"other shape", "plan b")
    store.rollback()
    assert store.get_items({"content/news/a.md": b"key a", "content/news/c.md": b"key c"}) == {"content/news/a.md": "item a"}
    assert store.get_pages() == {"a/index.html": "entry a"}
    assert store.get_memo("plan", b"shape") == "plan a" and store.get_memo("plan", b"other shape") is None


def test_a_failed_preview_rebuild_leaves_the_next_one_right(project, monkeypatch):
    """A rebuild that fails after rendering some pages (a template error on one) is rolled back."""
    import placard.incremental.parallel as parallel
    import placard.render as render
    builder = make_builder(project, lambda: NOW)
    builder()
    real = parallel.render_page

    def failing(inputs, spec, *args, **kwargs):
        if spec.path == "news/second-post/index.html":
            raise render.TemplateProblem(render.Problem("templates/post.html", 1, "", "made to fail"))
        return real(inputs, spec, *args, **kwargs)

    monkeypatch.setattr(parallel, "render_page", failing)
    edit(project, "content/news/second-post.md", "cites the", "now cites the")
    with pytest.raises(BuildError, match="made to fail"):
        builder()
    monkeypatch.setattr(parallel, "render_page", real)
    edit(project, "content/news/second-post.md", "now cites the", "cites the")
    assert builder().files == cold_files(project, preview=True)


def test_preview_rebuilds_reuse_memory_and_match_a_fresh_build(project):
    """The preview keeps its cache in memory between rebuilds; every rebuild equals a fresh build."""
    times = iter([NOW, NOW, NOW + timedelta(days=200)])
    builder = make_builder(project, lambda: next(times))
    assert builder().files == cold_files(project, preview=True)
    edit(project, "content/news/first-post.md", "\n\n", "\n\nA paragraph added in the preview.\n\n")
    second = builder().files
    assert second == cold_files(project, preview=True)
    assert b"A paragraph added in the preview." in second["news/first-post/index.html"]
    assert builder().files == cold_files(project, NOW + timedelta(days=200), preview=True)


def test_preview_rebuilds_after_title_and_tag_edits_match_a_fresh_build(project):
    """The preview reuses a page's key only while its variables are the very same objects: a new
    title or tag changes the lists and tag pages that show the post, in every language."""
    builder = make_builder(project, lambda: NOW)
    builder()
    edit(project, "content/news/second-post.md", "title: Second post", "title: Second post, retitled")
    assert builder().files == cold_files(project, preview=True)
    edit(project, "content/news/second-post.md", "tags:\n", "tags:\n  - retitled\n")
    files = builder().files
    assert files == cold_files(project, preview=True)
    assert "tags/retitled/index.html" in files


def test_memory_store_only_rerenders_what_changed(project):
    """One edited post re-renders its page and the pages listing it, not the others."""
    store = MemoryStore()
    build_site(project, NOW, session=IncrementalSession(store))
    before = dict(store.pages)
    edit(project, "content/news/second-post.md", "\n\n", "\n\nA new paragraph.\n\n")
    build_site(project, NOW, session=IncrementalSession(store))
    changed = {path for path, entry in store.pages.items() if before.get(path) is not entry}
    assert "news/second-post/index.html" in changed and "feed.xml" in changed
    assert "news/first-post/index.html" not in changed and "about/index.html" not in changed


def test_a_page_reading_an_untracked_variable_is_never_cached(project):
    """A template variable the cache knows nothing about (say one added to render_page later) makes
    the page uncacheable rather than stale; the same page reading only known inputs is cached."""
    from placard.incremental.page_keys import PageInputs, page_entry
    from placard.incremental.tracing import Trace
    from placard.pages import PageSpec

    inputs = PageInputs(render_inputs(project), cache=MemoryStore())
    spec = PageSpec("x/index.html", "page.html", {})
    assert page_entry(inputs, spec, Trace(names={"a_new_site_wide_lookup"}), b"data") is None
    assert page_entry(inputs, spec, Trace(names={"config", "now"}), b"data") is not None


def render_inputs(project):
    """What the fixture site's pages render from, for PageInputs."""
    from placard.catalogue import check_catalogues
    from placard.content import load_config, load_site
    from placard.index import index_site
    from placard.markup import convert_bodies
    from placard.render import RenderInputs
    from placard.templating import make_environment

    config = load_config(project.config_file)
    site = load_site(project.root, project.content, config, NOW)
    index = index_site(site)
    catalogues = check_catalogues(project.template_layers, config.languages).catalogues
    return RenderInputs(make_environment(project.template_layers, project.static_layers), site, index, convert_bodies(site, index.targets), catalogues)


# ---------------------------------------------------------------------------------------------
# Rendering on worker processes, pages kept in output/, files keyed by their stat


@pytest.fixture
def corpus(tmp_path, monkeypatch) -> Project:
    """120 generated posts, parsed and rendered on the worker processes (as 10,000 would be), bodies converted there too."""
    import placard.incremental.parallel as parallel
    import placard.incremental.session as session

    monkeypatch.setattr(session, "PARSE_POOL_MIN", 1)
    monkeypatch.setattr(parallel, "POOL_MIN_PAGES", 1)
    monkeypatch.setattr(session, "EAGER_BODIES", 0)
    project = Project(tmp_path / "corpus")
    write_placard(120, project.root)
    return project


def serial_files(project: Project, monkeypatch) -> dict[str, bytes]:
    """The same site rendered in this process only, without cache (the plain session)."""
    return cold_files(project)


def test_pages_rendered_by_workers_equal_pages_rendered_here(corpus, monkeypatch):
    build(corpus, NOW)  # workers write the pages straight into the folder swapped in as output/
    assert snapshot(corpus.output) == serial_files(corpus, monkeypatch)
    assert [p.name for p in corpus.root.iterdir() if p.name.startswith(".output")] == []
    edit(corpus, "content/news/post-00007.md", "\n\n", "\n\nAn edited paragraph.\n\n")
    build(corpus, NOW)
    assert snapshot(corpus.output) == serial_files(corpus, monkeypatch)


def test_unsafe_markup_found_by_a_worker_fails_the_build_and_keeps_the_site(corpus):
    build(corpus, NOW)
    before = snapshot(corpus.output)
    edit(corpus, "content/news/post-00042.md", "\n\n", "\n\n<script>alert(1)</script>\n\n")
    with pytest.raises(BuildError) as failure:
        build(corpus, NOW)
    assert "content/news/post-00042.md" in str(failure.value) and "<script>" in str(failure.value)
    assert snapshot(corpus.output) == before
    assert [p.name for p in corpus.root.iterdir() if p.name.startswith(".output")] == []


def test_problems_found_while_parsing_on_workers_name_file_and_line(corpus):
    build(corpus, NOW)
    before = snapshot(corpus.output)
    edit(corpus, "content/news/post-00013.md", "title:", "titel:")
    edit(corpus, "content/news/post-00099.md", "date:", "date: not a date\nold_date:")
    with pytest.raises(BuildError) as failure:
        build(corpus, NOW)
    lines = [str(problem) for problem in failure.value.problems]
    assert any(line.startswith("content/news/post-00013.md:2: titel:") for line in lines), lines
    assert any(line.startswith("content/news/post-00099.md:") and "date" in line for line in lines), lines
    assert snapshot(corpus.output) == before


def test_pages_read_by_a_forked_process_equal_pages_read_here(project):
    """open_store(root, output/) checks output/'s pages on a forked process while the site loads."""
    from placard.incremental.store import open_store
    build(project, NOW)
    (project.output / "news" / "index.html").write_text("changed by hand", encoding="utf-8")
    # The build's worker pool leaves its manager thread to end by itself; under load it can still be running,
    # and no process forks while another thread runs (workers.can_fork). Wait for it, as a later build would not.
    import threading
    import time
    deadline = time.monotonic() + 30
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    aside = open_store(project.root, project.output)
    assert aside.aside is not None, threading.enumerate()
    pages = aside.get_pages(project.output)
    aside.close()
    here = open_store(project.root)
    assert here.aside is None
    assert pages == here.get_pages(project.output)
    here.close()
    assert len(pages) > 20 and "news/index.html" not in pages and "news/first-post/index.html" in pages
    other = open_store(project.root, project.root / "elsewhere")
    pid = other.aside.pid
    assert other.get_pages(project.output) == pages  # read here, as the process checked another folder
    other.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # and that process was reaped


def test_a_page_changed_in_output_by_hand_is_rendered_again(project):
    build(project, NOW)
    good = snapshot(project.output)
    page = project.output / "news" / "first-post" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</main>", b"tampered</main>"))
    build(project, NOW)
    assert snapshot(project.output) == good


def test_unchanged_files_are_taken_from_the_cache_by_their_stat(project, monkeypatch):
    """Files older than the racy window are keyed by size, times and inode; an edit of the same size is seen."""
    import placard.incremental.session as session

    monkeypatch.setattr(session, "RACY_SECONDS", -10**9)  # every file counts as old enough to key by its stat
    build(project, NOW)
    with sqlite3.connect(cache_file(project)) as db:
        assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] > 0
    edit(project, "content/news/second-post.md", "title: Second post", "title: Second pots")  # same size
    build(project, NOW)
    assert snapshot(project.output) == cold_files(project)
    assert b"Second pots" in snapshot(project.output)["news/second-post/index.html"]


def test_a_second_edit_within_the_same_instant_is_not_missed(project):
    """Files changed in the last seconds are parsed, not cached: file times are too coarse to tell two edits apart."""
    build(project, NOW)
    edit(project, "content/news/second-post.md", "title: Second post", "title: Second pots")
    build(project, NOW)
    edit(project, "content/news/second-post.md", "title: Second pots", "title: Second stop")  # same size, same instant maybe
    build(project, NOW)
    assert b"Second stop" in snapshot(project.output)["news/second-post/index.html"]
    assert snapshot(project.output) == cold_files(project)


def test_the_tracing_context_calls_helpers_as_jinja2_does():
    """Plain functions are called directly (fast path); marked ones still get what they ask for."""
    import jinja2
    from placard.incremental.tracing import Trace, TracingContext, TracingEnvironment

    env = TracingEnvironment(undefined=jinja2.StrictUndefined)
    env.context_class = TracingContext

    def stops():
        raise StopIteration

    source = ("{% for x in [1, 2] %}{{ twice(x) }}{% endfor %}|{{ who() }}|{{ words(a='b') }}|"
              "{% set y %}{{ twice(5) }}{% endset %}{{ y }}|{{ stops() is undefined }}")
    trace = Trace()
    with trace.watching():
        text = env.from_string(source).render(twice=lambda x: x * 2, who=jinja2.pass_context(lambda ctx: ctx["name"]),
                                              name="Zhanaozen", words=lambda **kw: sorted(kw), stops=stops)
    assert text == "24|Zhanaozen|['a']|10|True"
    assert {"twice", "who", "name", "words", "stops"} <= trace.names


# ---------------------------------------------------------------------------------------------
# A damaged cache, a full disk: never a traceback, never a wrong page


DAMAGED = ".cache/placard-v8.sqlite: the build cache was damaged ("
DISK_FULL = ".cache/placard-v8.sqlite: the build cache could not be saved because the disk is full"


def cache_notes(report) -> list[str]:
    return [note for note in report.notes if note.startswith(".cache/")]


def damage(file: Path, seed: int, flips: int) -> None:
    """Flip `flips` random bits of a file (and drop SQLite's side files, as a copied cache would lack them)."""
    import random

    rng = random.Random(seed)
    data = bytearray(file.read_bytes())
    for _ in range(flips):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    for end in ("-wal", "-shm"):
        file.with_name(file.name + end).unlink(missing_ok=True)
    file.with_name("unchanged.json").unlink(missing_ok=True)  # so the build reads the store (nothing-changed skips it)
    file.write_bytes(bytes(data))


def test_random_bit_flips_in_the_cache_never_give_a_traceback_or_a_wrong_page(project):
    """12 seeds of 20 flipped bits each, with and without output/: every build equals a cold one,
    and a damaged file is named in one note, deleted and filled again (the build after has no note)."""
    build(project, NOW)
    build(project, NOW)  # WAL mode, every layer filled
    (project.root / CACHE_DIR / CACHE_FILE).with_name(CACHE_FILE + "-wal").unlink(missing_ok=True)
    good, cold = cache_file(project).read_bytes(), cold_files(project)
    noted = 0
    for seed in range(12):
        cache_file(project).write_bytes(good)
        damage(cache_file(project), seed, 20)
        if seed % 2:
            shutil.rmtree(project.output)
        first = build(project, NOW)
        assert snapshot(project.output) == cold, seed
        notes = cache_notes(first)
        assert len(notes) <= 1 and all(note.startswith(DAMAGED) for note in notes), notes
        noted += len(notes)
        assert cache_notes(build(project, NOW)) == [] and snapshot(project.output) == cold, seed
    assert noted >= 8, noted  # (most seeds hit a row or the file's structure; the others, free space)


def test_one_changed_byte_in_a_cached_body_is_never_published(project):
    build(project, NOW)
    page = "news/second-post/index.html"
    good = snapshot(project.output)
    with sqlite3.connect(cache_file(project)) as db:
        changed = 0
        for key, html in db.execute("SELECT key, html FROM bodies").fetchall():
            if b"second post" in html.lower() or b"cites" in html:
                db.execute("UPDATE bodies SET html = ? WHERE key = ?", (html.replace(b"e", b"E", 1), key))
                changed += 1
    assert changed
    shutil.rmtree(project.output)  # every page rendered again, from the cached bodies
    report = build(project, NOW)
    assert snapshot(project.output) == good and page in good
    assert [note.split(" (")[0] for note in cache_notes(report)] == [DAMAGED.split(" (")[0]]
    assert "(a row does not match its checksum)" in cache_notes(report)[0]
    assert cache_notes(build(project, NOW)) == []


def test_a_changed_byte_in_a_body_read_by_a_render_worker_is_caught(corpus, monkeypatch):
    build(corpus, NOW)
    with sqlite3.connect(cache_file(corpus)) as db:
        rows = db.execute("SELECT key, html FROM bodies").fetchall()
        for key, html in rows:
            db.execute("UPDATE bodies SET html = ? WHERE key = ?", (html.replace(b"<p>", b"<p>X", 1), key))
    shutil.rmtree(corpus.output)
    report = build(corpus, NOW)
    assert snapshot(corpus.output) == serial_files(corpus, monkeypatch)
    assert len(cache_notes(report)) == 1 and cache_notes(report)[0].startswith(DAMAGED)
    assert cache_notes(build(corpus, NOW)) == []


def test_a_row_changed_anywhere_discards_the_cache(project, monkeypatch):
    """A changed byte in an item bucket, a page entry or a memo (the plan) fails its checksum."""
    import placard.incremental.session as session

    monkeypatch.setattr(session, "RACY_SECONDS", -10**9)  # the fixture's files, just copied, are cached too
    build(project, NOW)
    good = snapshot(project.output)
    for table, column in (("items", "data"), ("pages", "deps"), ("memos", "data")):
        build(project, NOW)
        with sqlite3.connect(cache_file(project)) as db:
            key, data = db.execute(f"SELECT rowid, {column} FROM {table} ORDER BY length({column}) DESC").fetchone()
            middle = len(data) // 2
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (data[:middle] + bytes([data[middle] ^ 4]) + data[middle + 1:], key))
        (project.root / CACHE_DIR / "unchanged.json").unlink(missing_ok=True)  # so the build reads the store
        report = build(project, NOW)
        assert snapshot(project.output) == good, table
        assert len(cache_notes(report)) == 1 and "(a row does not match its checksum)" in cache_notes(report)[0], table


def test_a_full_disk_while_saving_the_cache_is_a_note_not_a_traceback(tmp_path, monkeypatch):
    """SQLite's own SQLITE_FULL ("database or disk is full"), from a file that may not grow."""
    import placard.incremental.store as cache_module

    project = Project(tmp_path / "corpus")
    write_placard(120, project.root)  # (bodies enough to need more pages than the tables' first)
    monkeypatch.setattr(cache_module, "SCHEMA", cache_module.SCHEMA + "PRAGMA max_page_count=1;")  # no page more than it has
    report = build(project, NOW)  # a first build: the cache cannot hold a single row
    assert snapshot(project.output) == cold_files(project)
    assert cache_notes(report) == [DISK_FULL + "; the site was built all the same. Free some space: until then every "
                                   "build takes as long as a first one"]
    monkeypatch.undo()
    assert cache_notes(build(project, NOW)) == [] and snapshot(project.output) == cold_files(project)


def test_a_full_disk_when_the_cache_is_opened_is_a_note(project, monkeypatch):
    import placard.incremental.store as cache_module

    def full(*args, **kwargs):
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13
        raise error

    monkeypatch.setattr(cache_module.sqlite3, "connect", full)
    report = build(project, NOW)
    assert cache_notes(report) and cache_notes(report)[0].startswith(DISK_FULL)
    assert snapshot(project.output) == cold_files(project)


def test_a_changed_byte_in_a_compiled_template_is_compiled_again(project):
    """Jinja2's own bytecode cache ran a damaged template: errors blaming the template, wrong pages,
    once a segmentation fault (30 seeds on the seed site)."""
    build(project, NOW)
    good = snapshot(project.output)
    compiled = sorted((project.root / CACHE_DIR / "templates").iterdir())
    assert len(compiled) > 5
    for number, file in enumerate(compiled):
        data = bytearray(file.read_bytes())
        data[len(data) // 2 + number] ^= 0x10
        file.write_bytes(bytes(data))
    shutil.rmtree(project.output)
    build(project, NOW)
    assert snapshot(project.output) == good


# ---------------------------------------------------------------------------------------------
# The clock and the code: what the cache keys on


def seed_site(tmp_path: Path) -> Project:
    """The repository's own site (content/, templates/, static/, site.yml), copied: never built in the repo."""
    root = tmp_path / "seed"
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "site.yml", root / "site.yml")
    return Project(root)


def clock_moves(start):
    """Builds' times one after another: a day, an hour, a second later, and back again."""
    return [start, start + timedelta(days=1), start + timedelta(days=1, hours=1), start + timedelta(days=1, hours=1, seconds=1),
            start + timedelta(days=30), start - timedelta(days=3), start]


def assert_each_build_equals_a_cold_one(project: Project, nows, monkeypatch) -> None:
    import placard.incremental.session as session

    monkeypatch.setattr(session, "RACY_SECONDS", -10**9)  # the copied files are cached too, as a day-old site's are
    for now in nows:
        build(project, now)
        out, cold = snapshot(project.output), cold_files(project, now)
        assert out == cold, (now, sorted(path for path in cold.keys() | out.keys() if out.get(path) != cold.get(path)))


def test_the_seed_site_built_as_the_clock_moves_equals_a_cold_build(tmp_path, monkeypatch):
    from datetime import datetime, timezone

    project = seed_site(tmp_path)
    start = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    assert_each_build_equals_a_cold_one(project, clock_moves(start) + [datetime(2012, 6, 9, tzinfo=timezone.utc), start], monkeypatch)
    for lang in ("", "ru/", "kk/"):
        assert start.date().isoformat().encode() in snapshot(project.output)[f"{lang}calendar/index.html"], lang  # "correct as of" today


def test_the_fixture_site_built_across_an_event_and_a_publication_equals_a_cold_build(project, monkeypatch):
    from datetime import datetime, timezone

    meeting = datetime(2027, 3, 10, 18, 0, tzinfo=timezone.utc)  # the future meeting starts (London is on UTC in March)
    published = datetime(2030, 1, 1, tzinfo=timezone.utc)  # the scheduled post's date
    nows = clock_moves(NOW) + [meeting - timedelta(minutes=1), meeting, meeting + timedelta(hours=3), meeting + timedelta(days=1),
                               published - timedelta(seconds=1), published, NOW]
    assert_each_build_equals_a_cold_one(project, nows, monkeypatch)


def test_every_library_placard_imports_is_in_the_cache_version():
    """Found by parsing placard's source, mapped to their distributions by importlib.metadata."""
    import ast
    from importlib import metadata

    from placard.incremental.digest import code_version, normal_name

    modules = set()
    for file in (REPO / "placard").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_bytes())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = {name for name in modules if name not in sys.stdlib_module_names and name not in ("placard", "__future__")}
    assert {"jinja2", "markdown", "yaml", "PIL"} <= third_party
    version, providers = code_version(), metadata.packages_distributions()
    for module in sorted(third_party):
        for dist in providers[module]:
            assert f" {normal_name(dist)}={metadata.version(dist)} " in version, (module, dist)
    for dist in ("text-unidecode", "python-dateutil"):  # what they require (slugs, calendar dates)
        assert f" {normal_name(dist)}={metadata.version(dist)} " in version, dist


def test_a_cache_held_by_another_build_is_left_alone(project):
    """SQLITE_BUSY is not damage: the file is kept (the other build is using it), this build does not save."""
    build(project, NOW)
    build(project, NOW)  # (WAL mode: readers are not blocked, writers are)
    holder = sqlite3.connect(cache_file(project))
    holder.execute("BEGIN IMMEDIATE")  # another build.py, in the middle of its commit
    try:
        edit(project, "content/news/second-post.md", "title: Second post", "title: Second post, corrected")
        report = build(project, NOW)
    finally:
        holder.rollback()
        holder.close()
    assert snapshot(project.output) == cold_files(project)
    assert [note.split(",")[0] for note in cache_notes(report)] == [".cache/placard-v8.sqlite: the build cache was in use by another build"]
    assert cache_file(project).is_file() and cache_notes(build(project, NOW)) == []
