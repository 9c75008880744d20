"""build.py check: third-party fetches, broken internal links, headings and page weight."""

from __future__ import annotations

import pytest
from conftest import NOW

from placard.check import PAGE_BUDGET, check_files, check_site
from placard.cli import main
from placard.pipeline import build

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><title>t</title>{head}</head>
<body><h1 id="top">Title</h1>
{body}
</body></html>
"""


def findings_for(head: str = "", body: str = "", extra: dict[str, bytes] | None = None, offline: bool = False) -> list[str]:
    """Audit a tiny site whose news/post/index.html has the given head and body."""
    files = {
        "index.html": PAGE.format(head="", body="").encode(),
        "news/post/index.html": PAGE.format(head=head, body=body).encode(),
        "style.css": b"body { color: #111; }",
        "img/a.jpg": b"jpeg",
        **(extra or {}),
    }
    findings, _ = check_files(files, offline)
    return [str(f) for f in findings]


@pytest.mark.parametrize("head, body, what", [
    ('<script src="https://cdn.example.com/x.js"></script>', "", "<script src>"),
    ('<link rel="stylesheet" href="//fonts.example.com/css">', "", "<link rel=stylesheet>"),
    ('<link rel="preconnect" href="https://fonts.gstatic.com">', "", "<link rel=preconnect>"),
    ('<link rel="dns-prefetch" href="https://tracker.example">', "", "<link rel=dns-prefetch>"),
    ('<link rel="prefetch" href="https://tracker.example/next">', "", "<link rel=prefetch>"),
    ('<link rel="preload" as="font" href="https://fonts.example/f.woff2">', "", "<link rel=preload>"),
    ('<link rel="icon" href="https://example.com/favicon.ico">', "", "<link rel=icon>"),
    ("", '<img src="https://example.com/photo.jpg" alt="x">', "<img src>"),
    ("", '<img src="../../img/a.jpg" srcset="../../img/a.jpg 1x, https://cdn.example/b.jpg 2x" alt="x">', "<img srcset>"),
    ("", '<iframe src="https://www.youtube.com/embed/x" title="v"></iframe>', "<iframe src>"),
    ("", '<video src="https://example.com/v.mp4"></video>', "<video src>"),
    ("", '<video poster="https://example.com/p.jpg"></video>', "<video poster>"),
    ("", '<audio><source src="https://example.com/a.mp3"></audio>', "<source src>"),
    ("", '<object data="https://example.com/x.swf"></object>', "<object data>"),
    ("", '<embed src="https://example.com/x.swf">', "<embed src>"),
    ("<style>@import 'https://fonts.example/css';</style>", "", "<style> CSS @import"),
    ("<style>body { background: url(https://example.com/bg.png) }</style>", "", "<style> CSS url()"),
    ("", '<p style="background-image: url(\'//example.com/bg.png\')">x</p>', "<p style> CSS url()"),
    ('<meta http-equiv="refresh" content="0; url=https://elsewhere.example/">', "", "<meta http-equiv=refresh>"),
    ("", '<a href="https://example.org/" ping="https://tracker.example/">x</a>', "<a ping>"),
])
def test_every_kind_of_third_party_fetch_is_reported_with_file_and_line(head, body, what):
    findings = [f for f in findings_for(head, body) if "may run or redirect" not in f]  # (scripts, frames, refresh: also runnable, below)
    assert len(findings) == 1, findings
    line = 3 if head else 5
    assert findings[0].startswith(f"output/news/post/index.html:{line}: {what} loads ")
    assert "another host" in findings[0]


def test_plain_outbound_links_canonical_and_mailto_are_allowed():
    head = '<link rel="canonical" href="https://example.org/news/post/"><link rel="alternate" type="application/atom+xml" href="https://example.org/feed.xml"><link rel="stylesheet" href="../../style.css">'
    body = '<p><a href="https://example.org/report" rel="noopener noreferrer">report</a> <a href="mailto:a@example.org">mail</a> <a href="tel:+441234">call</a></p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">'
    assert findings_for(head, body) == []


def test_broken_internal_links_and_assets_are_reported():
    body = '<a href="../missing/">gone</a>\n<img src="../../img/b.jpg" alt="b">\n<a href="/news/">root</a>\n<a href="../../../up.html">up</a>'
    findings = findings_for(body=body)
    assert "output/news/post/index.html:5: <a href> '../missing/': no such file in the build (news/missing/index.html)" in findings
    assert "output/news/post/index.html:6: <img src> '../../img/b.jpg': no such file in the build (img/b.jpg)" in findings
    assert any(":7: <a href> '/news/': starts with '/'" in f for f in findings)
    assert any(":8: <a href> '../../../up.html': points outside the site" in f for f in findings)
    assert len(findings) == 4


def test_fragments_must_name_an_id_on_the_target_page():
    body = '<a href="#top">ok</a> <a href="#nowhere">bad</a> <a href="../../#top">ok</a> <a href="../../index.html#gone">bad</a>'
    findings = findings_for(body=body)
    assert findings == [
        "output/news/post/index.html:5: <a href> '#nowhere': no element with id 'nowhere' on news/post/index.html",
        "output/news/post/index.html:5: <a href> '../../index.html#gone': no element with id 'gone' on index.html",
    ]


def test_offline_mode_refuses_links_to_folders():
    body = '<a href="../../">home</a> <a href="../../index.html">home</a>'
    assert findings_for(body=body) == []
    assert findings_for(body=body, offline=True) == [
        "output/news/post/index.html:5: <a href> '../../': points to a folder; from file:// browsers show a folder listing, link to its index.html"
    ]


def test_headings_lang_and_alt():
    files = {"a.html": b'<html><body><h1>A</h1><h3>skipped</h3><h1>again</h1><img src="b.png"></body></html>', "b.png": b"x"}
    findings = [str(f) for f in check_files(files)[0]]
    assert "output/a.html:1: <html> has no lang attribute; screen readers need it to pick a voice" in findings
    assert "output/a.html:1: <h3> follows <h1>: a heading level is skipped (use <h2>)" in findings
    assert any("has 2 <h1> headings" in f for f in findings)
    assert "output/a.html:1: <img> without alt text" in findings


def test_stylesheets_may_not_import_or_load_from_other_hosts():
    files = {"style.css": b"@import url('https://fonts.example/a.css');\nbody { background: url(img/none.png); }\n@font-face { src: url(//fonts.example/f.woff2); }"}
    findings = [str(f) for f in check_files(files)[0]]
    assert findings == [
        "output/style.css:1: CSS url() loads https://fonts.example/a.css from another host (copy the file into the site)",
        "output/style.css:2: CSS url() 'img/none.png': no such file in the build (img/none.png)",
        "output/style.css:3: CSS url() loads //fonts.example/f.woff2 from another host (copy the file into the site)",
    ]


def test_pages_over_budget_count_their_css():
    css = b"/*" + b"x" * (PAGE_BUDGET - 20) + b"*/"
    head = '<link rel="stylesheet" href="../../style.css">'
    findings = findings_for(head=head, extra={"style.css": css})
    assert len(findings) == 1 and "output/news/post/index.html:1: a 390 px phone loads 150.1 KB for this page" in findings[0] and "style.css 150.0 KB" in findings[0]


def test_fixture_site_passes_the_check_and_reports_weights(project):
    build(project, NOW)
    findings, weights = check_site(project.output)
    assert findings == []
    assert set(weights.pages) >= {"index.html", "news/first-post/index.html", "404.html"}
    assert 0 < weights.median <= weights.largest[1] < PAGE_BUDGET


def test_check_command_exit_codes(project, capsys):
    build(project, NOW)
    assert main(["--root", str(project.root), "check"]) == 0
    assert "Check passed: 0 findings in output/." in capsys.readouterr().out
    page = project.output / "about/index.html"
    page.write_text(page.read_text().replace("</head>", '<script src="https://analytics.example/a.js"></script></head>'))
    assert main(["--root", str(project.root), "check"]) == 1
    out = capsys.readouterr().out
    assert "output/about/index.html:" in out and "https://analytics.example/a.js" in out
    assert "Check failed: 2 findings in output/." in out  # it loads from another host, and it is not our own script


@pytest.mark.parametrize("markup, what", [
    ("""<noscript><p title="</noscript><meta http-equiv=refresh content='0;url=https://evil.invalid/'>"></noscript>""", "<noscript>"),
    ('<meta http-equiv="refresh" content="0;url=page.html">', "<meta http-equiv=refresh>"),
    ("<script>alert(1)</script>", "a <script> that is not one of the site's own"),
    ('<img src="x.png" alt="x" onerror="alert(1)">', "the attribute onerror= on <img>"),
    ('<a href=" jav&#x61;script:alert(1)">x</a>', "a 'javascript:' address in href= on <a>"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "a 'data:' address in href= on <a>"),
    ('<base href="https://evil.invalid/">', "<base>"),
    ('<form action="https://evil.invalid/"><input name="e"></form>', "<form>"),
    ('<svg><a xlink:href="javascript:alert(1)">x</a></svg>', "a 'javascript:' address in xlink:href= on <a>"),
    ('<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>', "the attribute srcdoc= on <iframe>"),
    ('<meta http-equiv="Content-Security-Policy" content="script-src \'self\' \'unsafe-inline\'">', "a Content-Security-Policy that lets inline"),
])
def test_a_page_edited_after_the_build_is_caught_with_its_line(project, markup, what):
    build(project, NOW)
    page = project.output / "news" / "first-post" / "index.html"
    lines = page.read_text(encoding="utf-8").split("\n")
    at = next(number for number, line in enumerate(lines) if "<main" in line) + 1
    lines.insert(at, markup)
    page.write_text("\n".join(lines), encoding="utf-8")
    findings = [str(f) for f in check_site(project.output)[0]]
    assert any(f.startswith(f"output/news/first-post/index.html:{at + 1}: {what}") for f in findings), findings


def test_only_a_refresh_within_the_site_passes_the_check():
    """placard's redirect pages send visitors to a relative address; anything else is refused."""
    from placard.htmlrefs import refreshes_within_site, runnable_in_tag

    assert refreshes_within_site("0; url=../../adilet/index.html") and refreshes_within_site("0;URL='tags/x/'")
    for content in ("0; url=https://evil.invalid/", "0; url=//evil.invalid/", "0;url=data:text/html,x", "0; url=javascript:alert(1)",
                    "0; url=/elsewhere/", "5", "0; url="):
        assert not refreshes_within_site(content), content
        assert runnable_in_tag("meta", {"http-equiv": "refresh", "content": content}), content
    assert runnable_in_tag("link", {"rel": "icon", "href": "data:image/svg+xml,<svg/>"})  # only the inlined PNG icon passes
    assert not runnable_in_tag("link", {"rel": "icon", "href": "data:image/png;base64,iVBORw0K"})


PICTURE = ('<picture><source type="image/avif" srcset="../../img/a.480w.avif 480w, ../../img/a.960w.avif 960w" sizes="{sizes}">'
           '<img src="../../img/a.960w.jpg" srcset="../../img/a.480w.jpg 480w, ../../img/a.960w.jpg 960w" sizes="{sizes}" '
           'width="960" height="640" alt="A crowd" loading="lazy" decoding="async"></picture>')


def photo_files(**sizes: int) -> dict[str, bytes]:
    return {f"img/a.{name.replace('_', '.')}": b"x" * size for name, size in sizes.items()}


@pytest.mark.parametrize("sizes, picked", [
    ("(max-width: 46rem) calc(100vw - 2rem), 44rem", "img/a.960w.avif"),  # 358 px slot x 2 = 716: the 960 w one
    ("8rem", "img/a.480w.avif"),  # a 128 px thumbnail x 2 = 256: the 480 w one
    ("(min-width: 50rem) 10rem, 300vw", "img/a.960w.avif"),  # wider than every candidate: the widest
])
def test_the_budget_counts_the_image_a_phone_picks(sizes, picked):
    files = {"news/post/index.html": PAGE.format(head='<link rel="stylesheet" href="../../style.css">', body=PICTURE.format(sizes=sizes)).encode(),
             "style.css": b"body { background: url(img/bg.png); }", "img/bg.png": b"p" * 300,
             **photo_files(**{"480w_avif": 1000, "960w_avif": 3000, "480w_jpg": 5000, "960w_jpg": 9000})}
    _, weights = check_files(files)
    loaded = weights.files["news/post/index.html"]
    assert set(loaded) == {"news/post/index.html", "style.css", "img/bg.png", picked}
    assert weights.pages["news/post/index.html"] == sum(loaded.values())


def test_a_page_over_its_budget_fails_naming_its_heaviest_files():
    sizes = "(max-width: 46rem) calc(100vw - 2rem), 44rem"
    files = {"news/post/index.html": PAGE.format(head="", body=PICTURE.format(sizes=sizes)).encode(),
             **photo_files(**{"480w_avif": 1000, "960w_avif": 40_000, "480w_jpg": 5000, "960w_jpg": 9000})}
    assert check_files(files, budget=50 * 1024)[0] == []
    (finding,) = [str(f) for f in check_files(files, budget=30 * 1024)[0]]
    assert finding.startswith("output/news/post/index.html:1: a 390 px phone loads 39.") and "the budget is 30 KB (page_budget_kb in site.yml)" in finding
    assert "Heaviest: img/a.960w.avif 39.1 KB, news/post/index.html 0." in finding


def test_check_reads_the_budget_from_site_yml(project, capsys):
    build(project, NOW)
    (project.root / "site.yml").write_text((project.root / "site.yml").read_text(encoding="utf-8") + "page_budget_kb: 1\n", encoding="utf-8")
    assert main(["--root", str(project.root), "check"]) == 1
    assert "the budget is 1 KB (page_budget_kb in site.yml)" in capsys.readouterr().out
