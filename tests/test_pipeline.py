"""End-to-end: the fixture site builds, failed builds leave output/ alone, the seed site builds."""

from __future__ import annotations

from pathlib import Path

from conftest import NOW, REPO, build_errors, make_project, snapshot

from placard.pipeline import Project, build, build_site


def test_fixture_site_builds_every_page_type(project):
    report = build(project, NOW)
    out = project.output
    for rel in ["index.html", "news/index.html", "news/first-post/index.html", "calendar/index.html",
                "calendar/demo/index.html", "links/index.html", "about/index.html", "tags/zhanaozen/index.html",
                "feed.xml", "sitemap.xml", "robots.txt", "404.html", "style.css", "contact/index.html", "accent.css", "campaign.asc"]:
        assert (out / rel).is_file(), rel
    # 14 pages + a printable flyer per event (2) in English; in ru and kk each: home, news, calendar,
    # register, tags and 3 tag pages (8), plus the ru event with its flyer (2) and the kk post (1); the
    # contact page in each language (3)
    for rel in ["ru/index.html", "ru/calendar/demonstratsiya-u-palaty/index.html", "ru/calendar/demonstratsiya-u-palaty/flyer/index.html",
                "kk/news/birinshi-zhazba/index.html", "ru/feed.xml", "kk/feed.xml", "ru/calendar.ics", "kk/calendar.ics"]:
        assert (out / rel).is_file(), rel
    # and in each language: a page per entity (3), per year (2), per author (2), the authors' index, and the contact page
    assert report.pages == 16 + 8 + 8 + 2 + 1 + 3 * (3 + 2 + 2 + 1 + 1)


def test_drafts_and_future_posts_are_held_back_with_reasons(project):
    report = build(project, NOW)
    reasons = dict(report.summary.held_back)
    assert reasons["content/news/draft-post.md"].startswith("draft: true")
    assert reasons["content/news/future-post.md"].startswith("scheduled for 2030-01-01")
    assert not (project.output / "news/not-ready").exists()
    assert not (project.output / "news/scheduled-post").exists()


def test_drafts_appear_in_preview_marked(project):
    _, output = build_site(project, NOW, preview=True)
    page = output.files["news/not-ready/index.html"].decode()
    assert "Draft: not published" in page


def test_failed_build_leaves_previous_output_untouched(project):
    build(project, NOW)
    before = snapshot(project.output)
    (project.content / "news/broken.md").write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
    errors = build_errors(project)
    assert errors and errors[0].startswith("content/news/broken.md:2:")
    assert snapshot(project.output) == before


def test_links_are_relative(project):
    build(project, NOW)
    html = (project.output / "news/second-post/index.html").read_text()
    assert 'href="../first-post/"' in html
    assert 'href="../../style.css"' in html
    assert "https://example.org/campaign/news/second-post/" in html  # canonical only


def test_seed_site_builds(tmp_path):
    project = Project(REPO)
    site, output = build_site(project, NOW)
    assert len(site.posts) == 3 and len(site.events) == 1
    assert sum(len(e.ties) for e in site.entities) >= 5
    assert "calendar/london-demonstration-2011-12-21/index.html" in output.files


def test_long_lists_are_paginated_and_linked(tmp_path):
    posts = {f"content/news/p{n:03}.md": f"---\ntitle: Post {n}\nslug: p{n:03}\ndate: 2011-12-{1 + n % 28:02} 10:{n % 60:02} +00:00\nauthor: A\ntags:\n  - many\n---\n\nText {n}.\n"
             for n in range(120)}
    project = make_project(tmp_path, posts)
    _, output = build_site(project, NOW)
    pages = ["news/index.html", "news/page/2/index.html", "news/page/3/index.html"]
    assert all(p in output.files for p in pages) and "news/page/4/index.html" not in output.files
    first, middle, last = (output.files[p].decode() for p in pages)
    assert "Page 1 of 3" in first and 'href="page/2/" rel="next"' in first and 'rel="prev"' not in first
    assert 'href="../../" rel="prev"' in middle and 'href="../3/" rel="next"' in middle
    assert "Page 3 of 3" in last and 'rel="next"' not in last
    assert first.count("<h2><a href=") == 50  # PAGE_SIZE posts per page
    assert "tags/many/page/3/index.html" in output.files


def test_a_build_says_while_base_url_is_an_example_address(tmp_path):
    project = make_project(tmp_path)
    report = build(project, NOW)
    assert [note for note in report.notes if "base_url" in note] == [
        "site.yml:4: base_url: 'https://example.org/campaign/' is an example address, not a real site; the feeds, the calendar "
        "subscription, the sitemap, the mirrors page and every page's canonical link point there. Set it to the site's public "
        "address before publishing (see docs/deploy.md)"]
    config = project.config_file.read_text(encoding="utf-8")
    project.config_file.write_text(config.replace("https://example.org/campaign/", "https://zhanaozen-solidarity.org/"), encoding="utf-8")
    assert not any("base_url" in note for note in build(project, NOW).notes)


def test_a_full_disk_during_a_first_build_is_one_message_and_no_output(tmp_path, monkeypatch, capsys):
    """The cache cannot grow (SQLite's own "database or disk is full") and the pages cannot be written
    (ENOSPC): the message says so, without a traceback, and no output/ or staging folder is left."""
    import sys

    import placard.incremental.store as cache_module
    from placard.cli import main

    sys.path.insert(0, str(REPO / "bench"))
    from corpus import write_placard  # (the benchmark's corpus: bodies enough to need more of the cache's pages)

    project = Project(tmp_path / "corpus")
    write_placard(120, project.root)
    settings = project.root / "site.yml"  # (the search index's scratch files would fail first: tests/test_search.py)
    settings.write_text(settings.read_text(encoding="utf-8") + "search: false\n", encoding="utf-8")
    monkeypatch.setattr(cache_module, "SCHEMA", cache_module.SCHEMA + "PRAGMA max_page_count=1;")

    def disk_full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    assert main(["--root", str(project.root), "--now", NOW.isoformat()]) == 1
    err = capsys.readouterr().err
    assert "could not write the site: No space left on device. output/ was not changed" in err
    assert "Traceback" not in err and "sqlite3" not in err
    assert not project.output.exists() and not [p for p in project.root.iterdir() if p.name.startswith(".output")]
