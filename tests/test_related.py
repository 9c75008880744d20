"""Related posts under each post: by shared tags and register entities, nearest in date on a tie."""

from __future__ import annotations

from dataclasses import dataclass

from conftest import NOW, make_project

from placard.pipeline import build_site
from placard.related import RELATED, WINDOW, related_posts


@dataclass(frozen=True)
class Post:
    slug: str
    tags: tuple = ()


def test_shared_entities_count_twice_shared_tags_and_date_breaks_ties():
    posts = (Post("a", ("strike", "trials")), Post("b", ("strike",)), Post("c", ("strike", "trials")), Post("d", ()), Post("e", ("strike",)))
    related = related_posts(posts, {"samruk-kazyna": (posts[0], posts[4])})
    # for a: e shares a tag and an entity (3), c two tags (2), b one tag (1)
    assert [p.slug for p in related["a"]] == ["e", "c", "b"]
    assert related["d"] == ()  # nothing in common: nothing shown, never a guess
    assert [p.slug for p in related["b"]] == ["a", "c", "e"]  # one tag each: nearest in date first, then newer


def test_a_tag_on_every_post_looks_only_at_neighbours():
    posts = tuple(Post(f"p{n}", ("zhanaozen",)) for n in range(10 * WINDOW))
    related = related_posts(posts, {})
    assert [p.slug for p in related["p100"]] == ["p99", "p101", "p98"] and len(related["p0"]) == RELATED


def test_related_posts_are_listed_under_the_post_in_its_language(tmp_path):
    project = make_project(tmp_path)
    post = project.root / "content/news/second-post.md"
    post.write_text(post.read_text().replace("  - trials\n", "  - trials\n  - Zhanaozen\n"))
    files = build_site(project, NOW)[1].files
    page = files["news/second-post/index.html"].decode()
    assert '<h2 id="related">Related posts</h2>' in page and '<a href="../first-post/">First post: oil &amp; the City</a>' in page
    kk = files["kk/news/birinshi-zhazba/index.html"].decode()  # the first post's Kazakh translation lists the second (in English)
    assert '<h2 id="related">Ұқсас жазбалар</h2>' in kk and 'lang="en">Second post</a>' in kk
