"""News archives by year (and month in a long year) and a page per author, in every language."""

from __future__ import annotations

import re

from conftest import NOW, make_project

from placard.pages import MONTHS_AFTER, authors_of
from placard.pipeline import build_site


def built_files(tmp_path, files=None):
    """The fixture site (plus `files`) built in memory: output path -> text of its HTML pages."""
    _, output = build_site(make_project(tmp_path, files), NOW)
    return {path: data.decode() for path, data in output.files.items() if path.endswith((".html", ".xml"))}


def linked_posts(html: str) -> list[str]:
    """The posts a list page links to, by slug, in order."""
    main = html[html.index("<main"):html.index("</main>")]
    return re.findall(r'<h2><a href="(?:\.\./)+(?:news/)?([a-z0-9-]+)/"', main)


def test_a_page_per_year_in_every_language_listed_on_the_news_page_and_in_the_sitemap(tmp_path):
    files = built_files(tmp_path)
    assert linked_posts(files["news/2011/index.html"]) == ["first-post"]
    assert linked_posts(files["news/2012/index.html"]) == ["second-post"]
    assert 'href="2012/">2012</a> (1)' in files["news/index.html"] and 'href="2011/">2011</a> (1)' in files["news/index.html"]
    for prefix in ("ru/", "kk/"):
        assert f"{prefix}news/2011/index.html" in files and f"{prefix}authors/index.html" in files
    assert "<h1>Новости за 2011</h1>" in files["ru/news/2011/index.html"]
    sitemap = files["sitemap.xml"]
    for path in ("news/2011/", "ru/news/2012/", "authors/", "kk/authors/a-writer/"):
        assert f"<loc>https://example.org/campaign/{path}</loc>" in sitemap, path
    assert '<link rel="alternate" hreflang="kk" href="https://example.org/campaign/kk/news/2011/">' in files["news/2011/index.html"]


def test_a_long_year_is_archived_month_by_month(tmp_path):
    """More than MONTHS_AFTER posts in one year: its page lists the months, each month has its page."""
    posts = {f"content/news/p{n:02d}.md": f"---\ntitle: Post {n}\nslug: p{n:02d}\ndate: 2010-{1 + n % 3:02d}-{1 + n % 28:02d}\nauthor: Many Hands\n---\n\nText {n}.\n"
             for n in range(MONTHS_AFTER + 1)}
    files = built_files(tmp_path, posts)
    year = files["news/2010/index.html"]
    assert linked_posts(year) == []
    assert re.findall(r'<li><a href="(\d\d)/">(\w+ 2010)</a> \((\d+)\)</li>', year) == [("03", "March 2010", "10"), ("02", "February 2010", "10"), ("01", "January 2010", "11")]
    assert sorted(linked_posts(files["news/2010/02/index.html"])) == sorted(f"p{n:02d}" for n in range(MONTHS_AFTER + 1) if n % 3 == 1)
    assert "<h1>News from February 2010</h1>" in files["news/2010/02/index.html"]
    assert "<h1>Новости за февраль 2010</h1>" in files["ru/news/2010/02/index.html"]
    assert "news/2011/01/index.html" not in files  # a short year has no month pages


def test_each_author_has_a_page_linked_from_their_posts(tmp_path):
    files = built_files(tmp_path)
    assert linked_posts(files["authors/a-writer/index.html"]) == ["first-post"]
    assert '<a href="b-writer/">B. Writer</a> (1)' in files["authors/index.html"]
    assert '<a class="p-author" href="../../authors/a-writer/">A. Writer</a>' in files["news/first-post/index.html"]
    assert "<h1>Записи автора A. Writer</h1>" in files["ru/authors/a-writer/index.html"]


def test_authors_whose_names_share_a_slug_keep_separate_pages():
    class Post:
        def __init__(self, author):
            self.author = author
    posts = [Post("A. Writer"), Post("A Writer"), Post("a writer"), Post("A. Writer")]
    authors = authors_of(posts)
    assert {name: (slug, len(items)) for name, (slug, items) in authors.items()} == {
        "A Writer": ("a-writer", 1), "a writer": ("a-writer-2", 1), "A. Writer": ("a-writer-3", 2)}


def test_a_post_whose_slug_is_a_year_is_refused_with_its_file(tmp_path):
    from placard.errors import BuildError
    import pytest
    project = make_project(tmp_path, {"content/news/y.md": "---\ntitle: Y\nslug: '2011'\ndate: 2011-01-02\nauthor: A. Writer\n---\n\nText.\n"})
    with pytest.raises(BuildError) as caught:
        build_site(project, NOW)
    assert "content/news/y.md" in str(caught.value) and "news/2011/index.html" in str(caught.value)
