"""Markdown stage: the quick safety check (bodies without raw HTML) finds exactly what a full parse finds;
our converter's shortcuts (heading ids without a table of contents, inline patterns skipped) give
exactly Python-Markdown's own output."""

import re
from pathlib import Path

import markdown
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown.extensions.toc import TocExtension

from placard.errors import Problems
from placard import internals, markup

PIECES = [
    "[a link](https://example.org/x)", "[js](javascript:alert(1))", "[js](jav&#x61;script:alert(1))", "[vb](vbscript:x)",
    "![](https://example.org/p.jpg)", "![a photo](photo.jpg)", "![](border.png){.decorative}", "![](local.png)",
    "# Heading {: onclick=\"alert(1)\" }", "para {: onmouseover=\"x\" }", "[t](https://e.org/ \"a > b & c\")",
    "*emphasis* and **strong**", "- a list\n- of items", "> a quote", "`code & more`", "    indented code",
    "Term\n: definition", "a footnote[^1]\n\n[^1]: the note", "| a | b |\n|---|---|\n| 1 | 2 |", "&amp; &copy; text",
    "[data](data:text/html,hi)", "![x](https://e.org/a.png \"title\")", "<https://example.org/auto>",
]


def findings(source: str, fast: bool) -> list:
    html = markup.convert_markdown(source)
    problems = Problems()
    checked = source if fast else source + "\n\n<!-- force the full parse -->"
    markup.check_body("content/news/x.md", checked, 5, html, problems)
    return [(p.line, p.message) for p in problems.items]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([p for p in PIECES if "<" not in p]), min_size=1, max_size=6))
def test_the_quick_check_finds_what_the_full_parse_finds(pieces):
    source = "\n\n".join(pieces)
    assert findings(source, fast=True) == findings(source, fast=False)


def test_the_quick_check_still_refuses_handlers_and_script_urls():
    found = [message for _line, message in findings('# Title {: onclick="alert(1)" }\n\n[x](jav&#x61;script:alert(1))', fast=True)]
    assert any("onclick=" in m for m in found) and any("'javascript:'" in m for m in found)


HEADINGS = [
    "## Plain heading", "## Same", "## Same", "# Heading_1", "## Heading", "## With *emphasis* and `code`",
    "## Fish & chips", "## Entity &amp; &copy; more", "## Escaped \\*star\\*", "## Custom {#custom-id}", "## custom-id",
    "## A note[^1]\n\n[^1]: the note", "## <b>raw</b> HTML", "## Label {: data-toc-label=\"Short\" }",
    "Setext\n======", "## Ünïcödé wörds", "## Три слова", "## 123", "##   spaced    out   ", "### [a link](https://e.org/)",
    "paragraph between", "## Trailing hashes ##", "###### Six",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(HEADINGS + PIECES), min_size=1, max_size=8))
def test_heading_ids_are_the_toc_extensions(pieces):
    """Our heading ids (no table of contents built) are exactly those of Python-Markdown's `toc`."""
    source = "\n\n".join(pieces)
    assert markup.convert_markdown(source) == stock_converter().convert(source)


def stock_converter() -> markdown.Markdown:
    """Python-Markdown as it comes, with our extensions and the whole `toc` (no shortcut of ours)."""
    return markdown.Markdown(extensions=[*markup.EXTENSIONS, TocExtension(permalink=False)], output_format="html")


INLINE_PIECES = ["`", "``", "\\", "\\`", "[", "]", "(", ")", "!", "<", ">", "&", "*", "**", "_", "__", "  \n", "\n", " ", "a", "word",
                 "https://e.org/x", "<https://e.org/>", "<me@e.org>", "@", "[^1]", "[^1]: note\n", ";", "#", "1", "&amp;", "&#65;",
                 "&copy", "[a](b)", "![a](b.png)", "[a][r]", "[r]: https://e.org/\n", "[r]", "<b>", "</b>", "<!-- c -->", "{: .x }",
                 "\n\n", "\n- ", "\n> ", "\n    ", "\n## ", "|", "\n|---|\n", ":", "~~~", "*a*", "_a_", "***a***", "==",
                 '\n\n<div markdown="1">\n*a* [b](c) `d`\n</div>\n\n', "\n\n*[HTML]: Hyper Text\n\nHTML *and* HTML\n\n",
                 "\n\n| `a` | *b* |\n|---|---|\n| [c](d) | &amp; |\n\n", "\n\nTerm *x*\n:   def `y`\n\n", "\n\n```\n*not* [em](x)\n```\n\n",
                 "\n\n[TOC]\n\n"]  # (a text with [TOC] goes through the converter with the whole `toc`)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(INLINE_PIECES + PIECES), min_size=1, max_size=30))
def test_skipping_inline_patterns_changes_no_output(pieces):
    source = "".join(pieces)
    assert markup.convert_markdown(source) == stock_converter().convert(source)


def test_the_campaigns_own_texts_convert_as_python_markdown_converts_them():
    texts = [path.read_text(encoding="utf-8") for path in sorted((Path(__file__).parent.parent / "content").rglob("*.md"))]
    assert len(texts) > 10
    for text in texts:
        assert markup.convert_markdown(text) == stock_converter().convert(text)


def test_every_inline_pattern_is_skipped_only_where_it_cannot_match():
    """Each pattern of our converter has its needles listed (a new Python-Markdown changing one is
    noticed here; it would only be tried everywhere, i.e. slower), and is in use."""
    md = markup.new_converter(toc=False)
    assert isinstance(md.treeprocessors["inline"], internals.SkippingInlineProcessor)
    def order(converter):  # the tree processors' names and priorities, in the order they run
        return sorted(((item.priority, item.name) for item in converter.treeprocessors._priority), reverse=True)
    assert order(md) == order(stock_converter())
    md.convert("text")
    assert [needs for _pattern, needs in md.treeprocessors["inline"].tries if needs is None] == []


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(internals.PATTERN_NEEDS)), st.text(alphabet=st.sampled_from(list("`\\[]()!<>&*_ \n;#@:/aZ19^-=\"'?")), max_size=40))
def test_a_pattern_never_matches_text_without_its_needles(expression, text):
    needs = internals.PATTERN_NEEDS[expression]
    if not any(needle in text for needle in needs):
        assert re.search(expression, text, re.DOTALL) is None


def test_a_toc_marker_still_gets_the_table_of_contents():
    html = markup.convert_markdown("[TOC]\n\n## First\n\n## Second")
    assert '<div class="toc">' in html and 'href="#first"' in html and '<h2 id="second">Second</h2>' in html


def test_a_worker_converts_each_prepared_body_once_and_keeps_it_only_until_sent(monkeypatch):
    from placard.incremental import bodies as bodies_module

    calls = []
    real = bodies_module.convert_checked
    monkeypatch.setattr(bodies_module, "convert_checked", lambda source: calls.append(source.text) or real(source))
    bodies = bodies_module.Bodies({key: markup.BodySource("content/news/x.md", f"Text *{key}*", 5) for key in ("a", "b")})
    bodies.for_worker()
    bodies.prepare(["a", "b", "a", "missing"])
    assert calls == ["Text *a*", "Text *b*"]
    assert bodies["a"] == "<p>Text <em>a</em></p>" and bodies["b"] == "<p>Text <em>b</em></p>"
    assert len(calls) == 2  # read back without converting again
    assert [key for key, _html, _problems in bodies.take_fresh()] == ["a", "b"]
    assert bodies.html == {} and bodies.take_fresh() == []


TAG_PIECES = ['<a href="https://e.org/">', '<a href="//e.org/x">', '<a href="../local/">', '<a rel="me" href="https://e.org/">',
              '<a class="x" href="http://e.org/a>b">', '<a data-href="//e.org">', '<abbr title="//x">', '<link href="https://e.org/">',
              '<a\nhref="https://e.org/">', "text", "</a>", ">", "<", '<a title="x<y" href="//e.org/">', '<a href="https://e.org/"/>',
              '<a data-rel="x" href="//e.org/">', '<a href="https://a.org/" data-href="//b.org/">', '<meta content="https://e.org/">']


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TAG_PIECES), max_size=10))
def test_outbound_links_are_marked_as_the_regex_marks_them(pieces):
    from placard.render import OUTBOUND_LINK, mark_outbound_links
    html = "".join(pieces)
    assert mark_outbound_links(html) == OUTBOUND_LINK.sub(r'<a\1 rel="noopener noreferrer">', html)


def test_each_refused_construct_is_reported_at_its_own_line():
    source = ("Intro.\n\n<details><summary>Fine</summary>ok</details>\n\n<script>one()</script>\n\n"
              "Text.\n\n<script>two()</script>\n\n<p>x</p>\n<img src=\"a.png\" alt=\"a\" onerror=\"x()\">\n\n[bad](javascript:x())\n")
    problems = Problems()
    html = markup.check_body("content/news/x.md", source, 10, markup.convert_markdown(source), problems)
    assert [(p.line, p.message.split(" is not allowed here")[0]) for p in problems.items] == [
        (14, "<script>"), (18, "<script>"), (21, "the event handler 'onerror=' on <img>"),
        (23, "a 'javascript:' address in href= on <a>")]
    assert all(re.fullmatch(r".+ is not allowed here \(.+\).*", p.message) for p in problems.items)
    assert "<script" not in html and "onerror" not in html and "javascript" not in html  # (never published: the build fails)


def test_clean_bodies_are_published_as_python_markdown_wrote_them():
    texts = [path.read_text(encoding="utf-8") for path in sorted((Path(__file__).parent.parent / "content").rglob("*.md"))]
    texts += ["| a | b |\n|:--|--:|\n| 1 | 2 |", "## Title {#custom}\n\n*[HTML]: Hyper Text\n\nHTML [x](post:slug#frag)",
              "![](border.png){.decorative} ![a](photo.jpg \"t\") [m](mailto:a@b.org) [t](tel:+1)",
              "<details><summary>More</summary>\n<p><abbr title=\"x\">X</abbr> <kbd>K</kbd></p>\n</details>"]
    for text in texts:
        html = markup.convert_markdown(text)
        problems = Problems()
        assert markup.check_body("content/x.md", text, 1, html, problems) == html and problems.items == [], text
