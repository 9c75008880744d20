"""The corporate-links register: model, validation messages, page, diagram and open data.

Golden files live in tests/golden/register/. After an intended change, regenerate them with
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_register.py
and review the diff before committing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import FIXTURES, NOW, REPO, build_errors, make_project

from placard.diagram import label_half_width, render_diagram
from placard.errors import FieldError
from placard.models import RELATIONS, Entity, Origin, Source, Tie
from placard.pipeline import Project, build_site
from placard.register import CSV_COLUMNS, build_register, render_ties_csv, render_ties_json, tie_records
from placard.schema import parse_partial_date, partial_date_bounds
from placard.schema import parse_relation

GOLDEN = Path(__file__).resolve().parent / "golden" / "register"
SVG = "{http://www.w3.org/2000/svg}"


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/register/<name>; UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, f"{name} differs from the golden file; if intended, regenerate with UPDATE_GOLDEN=1"


def main_of(html: str) -> str:
    """The page's <main> element: the register itself, without the site chrome and build date."""
    return html[html.index("<main"): html.index("</main>") + len("</main>")] + "\n"


@pytest.fixture
def built(tmp_path):
    """The fixture site built in memory: (site, output files)."""
    site, output = build_site(make_project(tmp_path), NOW)
    return site, output.files


# --- model -------------------------------------------------------------------------------------


def test_every_relation_has_a_label_for_each_direction():
    for key, (forward, reverse) in RELATIONS.items():
        assert forward.strip() and reverse.strip(), key
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", key), key
    assert RELATIONS["chairman-of"] == ("chairman of", "chaired by")


def test_tie_reads_its_label_from_both_sides():
    tie = Tie(subject="a", relation="owns", object="b", sources=(Source(post="p"),), line=1)
    assert (tie.label, tie.reverse_label) == ("owns", "owned by")


@pytest.mark.parametrize("text, first, last", [
    ("2006", "2006-01-01", "2006-12-31"),
    ("2006-02", "2006-02-01", "2006-02-28"),
    ("2008-02", "2008-02-01", "2008-02-29"),
    ("2006-12", "2006-12-01", "2006-12-31"),
    ("2006-10-05", "2006-10-05", "2006-10-05"),
])
def test_partial_date_bounds(text, first, last):
    assert parse_partial_date(text) == text
    assert [d.isoformat() for d in partial_date_bounds(text)] == [first, last]


@pytest.mark.parametrize("text, message", [
    ("2006-13", "'2006-13' has a month that does not exist (01 to 12); write 2006, 2006-10 or 2006-10-01"),
    ("2006-02-30", "'2006-02-30' is not a real date (check the month and day)"),
    ("Oct 2006", "'Oct 2006' is not a date; write 2006, 2006-10 or 2006-10-01"),
])
def test_bad_partial_dates_are_explained(text, message):
    with pytest.raises(FieldError) as info:
        parse_partial_date(text)
    assert str(info.value) == message


def test_relation_did_you_mean_and_other_direction():
    assert parse_relation("listed-on") == "listed-on"
    with pytest.raises(FieldError, match="write 'relation: listed-on'"):
        parse_relation("listed on")
    with pytest.raises(FieldError, match="other direction of 'chairman-of'"):
        parse_relation("chaired-by")
    with pytest.raises(FieldError, match="Did you mean 'lends-to'"):
        parse_relation("lend-to")


# --- validation messages, one invalid fixture each -----------------------------------------------

TIE_CASES = sorted(p.name for p in (FIXTURES / "invalid").iterdir() if (p / "content" / "links").is_dir())


def test_there_is_an_invalid_fixture_for_each_register_message():
    assert {"tie-without-source", "tie-empty-sources", "tie-source-not-a-list", "unknown-entity-in-tie", "tie-unknown-post",
            "tie-bad-partial-date", "until-before-since", "tie-unknown-relation", "tie-reverse-relation",
            "tie-source-without-title", "unsourced-external", "tie-to-itself", "tie-other-without-note"} <= set(TIE_CASES)


@pytest.mark.parametrize("case", TIE_CASES)
def test_invalid_tie_fails_with_exactly_its_messages(tmp_path, case):
    """Stricter than test_invalid_fixtures: the build reports these lines and nothing else."""
    folder = FIXTURES / "invalid" / case
    files = {f.relative_to(folder).as_posix(): f.read_text(encoding="utf-8") for f in folder.rglob("*.md")}
    expected = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert build_errors(make_project(tmp_path, files)) == expected


def test_unknown_relation_lists_the_whole_vocabulary():
    expected = (FIXTURES / "invalid" / "tie-unknown-relation" / "expected.txt").read_text(encoding="utf-8")
    assert "use one of: " + ", ".join(RELATIONS) + ". Did you mean 'owns'?" in expected


def test_entity_slug_may_not_clash_with_the_page_anchors(tmp_path):
    project = make_project(tmp_path, {"content/links/sources.md": "---\nname: Sources\nslug: sources\ntype: organisation\n---\n"})
    assert build_errors(project) == [
        "content/links/sources.md:3: slug: 'sources' is used by the register page itself; choose another slug, e.g. sources-organisation",
    ]


def test_entity_slug_may_not_be_a_footnote_anchor(tmp_path):
    project = make_project(tmp_path, {"content/links/source-2.md": "---\nname: Two\nslug: source-2\ntype: company\n---\n"})
    assert build_errors(project) == [
        "content/links/source-2.md:3: slug: 'source-2' is used by the register page itself; choose another slug, e.g. source-2-company",
    ]


def test_citing_a_draft_post_fails(tmp_path):
    project = make_project(tmp_path, {"content/links/cites-draft.md": """\
        ---
        name: Cites Draft Ltd
        slug: cites-draft
        type: company
        ties:
          - relation: owns
            object: acme
            sources:
              - post: not-ready
        ---
        """})
    assert build_errors(project) == [
        "content/links/cites-draft.md:9: ties[1].sources[1].post: no published post has slug 'not-ready'; use the slug from the post's front matter (drafts and scheduled posts cannot be cited)",
    ]


def test_partial_dates_of_different_precision_compare_by_overlap(tmp_path):
    project = make_project(tmp_path, {"content/links/overlap.md": """\
        ---
        name: Overlap Ltd
        slug: overlap
        type: company
        ties:
          - relation: owns
            object: acme
            since: 2006-10
            until: 2006
            sources:
              - post: first-post
        ---
        """})
    site, _ = build_site(project, NOW)
    assert [(t.since, t.until) for e in site.entities for t in e.ties if e.slug == "overlap"] == [("2006-10", "2006")]


# --- the page ------------------------------------------------------------------------------------


def test_register_page_golden(built):
    _, files = built
    check_golden("links-main.html", main_of(files["links/index.html"].decode()))


def test_ties_json_golden(built):
    _, files = built
    check_golden("ties.json", files["links/ties.json"].decode())


def test_ties_csv_golden(built):
    _, files = built
    check_golden("ties.csv", files["links/ties.csv"].decode())


def test_ties_are_shown_from_both_sides(built):
    site, _ = built
    register = build_register(site)
    acme = [(r.label, r.counterpart.slug, r.outgoing) for r in register.rows["acme"]]
    assert acme == [("listed on", "exchange", True), ("directed by", "jane-doe", False)]
    assert [(r.label, r.counterpart.slug) for r in register.rows["exchange"]] == [("lists", "acme")]


def test_identical_sources_share_one_footnote_number(built):
    site, _ = built
    register = build_register(site)
    assert [(f.number, f.source.post or f.source.url) for f in register.footnotes] == [
        (1, "first-post"),
        (2, "https://example.org/report"),
        (3, "https://example.org/annual-report-2009"),
    ]
    jane = register.rows["jane-doe"][0]
    assert [f.number for f in jane.footnotes] == [2, 3]


def test_mentions_list_linking_and_cited_posts(built):
    site, files = built
    register = build_register(site)
    assert [p.slug for p in register.mentions["acme"]] == ["first-post"]  # links entity:acme and is cited
    assert register.mentions["jane-doe"] == ()
    html = files["links/index.html"].decode()
    assert 'Mentioned in: <a href="../news/first-post/">' in html


def test_post_link_to_entity_resolves_to_its_page(built):
    _, files = built
    assert 'href="../../links/acme/"' in files["news/first-post/index.html"].decode()


def test_every_entity_has_a_page_in_every_language(built):
    """links/<slug>/ per entity and language: its ties both ways with their sources, the posts that mention it,
    linked from the register's index, its headings and its diagram, and listed in the sitemap with hreflang."""
    site, files = built
    sitemap = files["sitemap.xml"].decode()
    for prefix in ("", "ru/", "kk/"):
        register = files[f"{prefix}links/index.html"].decode()
        for entity in site.entities:
            page = files[f"{prefix}links/{entity.slug}/index.html"].decode()
            assert f"<h1>{entity.name}</h1>" in page or f'<h1 lang="en">{entity.name}</h1>' in page
            assert register.count(f'href="{entity.slug}/"') == 3  # the index, the section's heading, the diagram's box
            assert f"<loc>https://example.org/campaign/{prefix}links/{entity.slug}/</loc>" in sitemap
            assert f'hreflang="ru" href="https://example.org/campaign/ru/links/{entity.slug}/"' in page
    acme = main_of(files["links/acme/index.html"].decode())
    # Both directions, counterparts linked to their own pages, each source numbered as on the register.
    assert "listed on" in acme and "directed by" in acme
    assert '<a href="../exchange/">' in acme and '<a href="../jane-doe/">' in acme
    assert re.findall(r'<li id="source-(\d+)">', acme) == ["1", "2", "3"]  # its own tie's source, and Jane Doe's two
    assert '<h2 id="mentions">Mentioned in</h2>' in acme and 'href="../../news/first-post/"' in acme
    jane = main_of(files["links/jane-doe/index.html"].decode())
    assert re.findall(r'<li id="source-(\d+)">', jane) == ["2", "3"] and 'id="mentions"' not in jane


def test_a_tag_naming_an_entity_counts_as_a_mention(tmp_path):
    """A post tagged with an entity's name or alias (any letter case) is listed on its page."""
    project = make_project(tmp_path)
    post = project.root / "content/news/second-post.md"
    post.write_text(post.read_text().replace("  - trials\n", "  - trials\n  - jane DOE\n"))
    site, output = build_site(project, NOW)
    assert [p.slug for p in build_register(site).mentions["jane-doe"]] == ["second-post"]
    assert 'href="../../news/second-post/"' in output.files["links/jane-doe/index.html"].decode()


def test_diagram_legend_tells_kinds_apart_without_colour():
    """Every kind drawn is named in the legend, and each is drawn with its own shape or line (never colour alone)."""
    origin = Origin("content/links/x.md")
    kinds = ("person", "company", "public-body", "government", "organisation")
    entities = [Entity(f"e{n}", f"Entity {n}", kind, "", origin, 1) for n, kind in enumerate(kinds)]
    root = ET.fromstring(render_diagram(entities, [], "t", "d"))
    legend = next(g for g in root.iter(SVG + "g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(SVG + "text")] == ["person", "company", "public body", "government", "organisation"]
    looks = {(r.get("rx"), r.get("stroke-dasharray"), r.get("stroke-width")) for r in legend.iter(SVG + "rect")}
    assert len(looks) == 5 and not any(r.get("fill") or r.get("stroke") for r in root.iter(SVG + "rect"))
    boxes = [float(r.get("y")) + float(r.get("height")) for g in root.iter(SVG + "g") if g.get("class") == "entities" for r in g.iter(SVG + "rect")]
    assert max(boxes) <= min(float(r.get("y")) for r in legend.iter(SVG + "rect"))  # under the drawing
    assert float(root.get("viewBox").split()[3]) >= max(float(r.get("y")) + 16 for r in legend.iter(SVG + "rect"))
    only_people = ET.fromstring(render_diagram(entities[:1], [], "t", "d"))
    assert [t.text for g in only_people.iter(SVG + "g") if g.get("class") == "legend" for t in g.iter(SVG + "text")] == ["person"]


def test_post_sources_are_attributed_with_the_post_date(built):
    _, files = built
    html = files["links/index.html"].decode()
    assert 'as stated in the post of <time datetime="2011-12-16T00:00:00+00:00">16 December 2011</time>' in html
    assert '<a href="https://archive.example.org/2011/annual-report-2009" rel="noopener noreferrer">Archived copy</a>' in html


# --- the diagram ---------------------------------------------------------------------------------


def test_diagram_is_well_formed_svg_with_title_and_description(built):
    site, files = built
    html = files["links/index.html"].decode()
    svg_text = html[html.index("<svg"): html.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg_text)
    assert root.tag == SVG + "svg"
    assert root.find(SVG + "title").text == "Diagram of the ties between the entities in the register"
    assert "The tables below list every tie" in root.find(SVG + "desc").text
    # A group, not an img: its boxes are links, which role="img" would hide from screen readers.
    assert root.get("role") == "group" and root.get("aria-labelledby") == "diagram-title" and root.get("aria-describedby") == "diagram-desc"
    boxes = next(g for g in root.iter(SVG + "g") if g.get("class") == "entities")
    assert len(boxes.findall(f".//{SVG}rect")) == len(site.entities)
    # Each box links to its entity's page, relative to the register page.
    assert sorted(a.get("href") for a in boxes.findall(f"{SVG}a")) == sorted(f"{e.slug}/" for e in site.entities)
    assert len(root.findall(f".//{SVG}polyline")) == sum(len(e.ties) for e in site.entities)
    relations = next(g for g in root.iter(SVG + "g") if g.get("class") == "relations")
    labels = [t.text for t in relations.iter(SVG + "text")]
    assert sorted(labels) == ["director of", "listed on"]
    assert re.fullmatch(r"0 0 400 [0-9.]+", root.get("viewBox"))
    assert root.get("width") is None  # scales to the screen
    # The pages' Content-Security-Policy allows no inline CSS: presentation attributes only.
    assert root.find(f".//{SVG}style") is None and not any(e.get("style") for e in root.iter())


def test_builds_are_byte_identical(tmp_path):
    first = build_site(make_project(tmp_path / "a"), NOW)[1].files
    second = build_site(make_project(tmp_path / "b"), NOW)[1].files
    for name in ("links/index.html", "links/ties.json", "links/ties.csv"):
        assert first[name] == second[name], name


def test_diagram_does_not_depend_on_hash_randomisation():
    """String hashing differs per process; set order must never reach the layout (seed site, built in memory)."""
    script = (
        "import sys; from datetime import datetime, timezone; from pathlib import Path;"
        "from placard.pipeline import Project, build_site;"
        "files = build_site(Project(Path(sys.argv[1])), datetime(2026, 11, 26, 12, tzinfo=timezone.utc))[1].files;"
        "sys.stdout.write(files['links/index.html'].decode())"
    )
    pages = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        result = subprocess.run([sys.executable, "-c", script, str(REPO)], env=env, capture_output=True, text=True, check=True)
        pages.append(result.stdout)
    assert pages[0] == pages[1] == pages[2]


def generated_register(count: int, star: bool = False) -> tuple[list[Entity], list[Tie]]:
    """`count` entities: a tree with fan-out 3 plus a cross tie from every fifth, or all tied to the first (star)."""
    origin = Origin("content/links/generated.md")
    entities = [Entity(f"e{i:03d}", f"Entity number {i}" + (" with a longer name" if i % 4 == 1 else ""), "person" if i % 3 == 0 else "company", "", origin, 1) for i in range(count)]
    pairs = [(i, 0 if star else i // 3) for i in range(1, count)]
    pairs += [] if star else [(i, (i * 7) % count) for i in range(5, count, 5) if (i * 7) % count not in (i, i // 3)]
    pairs += [] if star else [(0, 2), (0, 1)]  # a tie each way between two entities, and a loop
    return entities, [Tie(f"e{a:03d}", ("owns", "director-of", "invests-in")[a % 3], f"e{b:03d}", (), 1) for a, b in pairs]


def seed_register() -> tuple[list[Entity], list[Tie]]:
    """The seed site's entities and ties."""
    site, _ = build_site(Project(REPO), NOW)
    return list(site.entities), [tie for entity in site.entities for tie in entity.ties]


def drawn(svg: str) -> tuple[dict[str, tuple[float, float, float, float]], list[list[tuple[float, float]]], list[tuple[str, float, float]], list[str]]:
    """An SVG diagram read back: boxes (left, top, right, bottom) by name without spaces, ties' points, labels (text, x, y), viewBox."""
    root = ET.fromstring(svg)
    boxes = list(next(g for g in root.iter(SVG + "g") if g.get("class") == "entities"))  # one link (or group) per entity: its box and name
    names = ["".join("".join(b.find(SVG + "text").itertext()).split()) for b in boxes]  # lines joined, no spaces
    rects = [(float(r.get("x")), float(r.get("y")), float(r.get("x")) + float(r.get("width")), float(r.get("y")) + float(r.get("height"))) for r in (b.find(SVG + "rect") for b in boxes)]
    lines = [[tuple(float(v) for v in point.split(",")) for point in p.get("points").split()] for p in root.iter(SVG + "polyline")]
    relations = next(g for g in root.iter(SVG + "g") if g.get("class") == "relations")
    labels = [(t.text, float(t.get("x")), float(t.get("y"))) for t in relations]
    return dict(zip(names, rects)), lines, labels, root.get("viewBox").split()


def crosses(a: tuple[float, float], b: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    """Whether the segment a-b enters the box (sampled every half unit: plain, and independent of the code under test)."""
    steps = int(max(abs(b[0] - a[0]), abs(b[1] - a[1])) * 2) + 1
    return any(box[0] < a[0] + (b[0] - a[0]) * n / steps < box[2] and box[1] < a[1] + (b[1] - a[1]) * n / steps < box[3] for n in range(steps + 1))


@pytest.mark.parametrize("case", ["seed", "generated", "star"])
def test_diagram_draws_everything_without_overlaps(case):
    """Every entity and tie drawn once; no two boxes or labels overlap; no tie runs through a box; all inside 400 units."""
    entities, ties = seed_register() if case == "seed" else generated_register(40, star=case == "star")
    boxes, lines, labels, view = drawn(render_diagram(entities, ties, "t", "d"))
    names = {"".join(e.name.split()): e for e in entities}
    assert sorted(boxes) == sorted(names) and len(boxes) == len(entities)
    assert [text for text, _, _ in labels] == [tie.label for tie in ties] and len(lines) == len(ties)
    assert view[0] == "0" and view[2] == "400"
    assert all(0 <= left and right <= 400 for left, _, right, _ in boxes.values())
    rects = list(boxes.values())
    for n, a in enumerate(rects):
        for b in rects[n + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    spans = [(x - label_half_width(text), y - 7, x + label_half_width(text), y + 7) for text, x, y in labels]
    for n, a in enumerate(spans):
        assert 0 <= a[0] and a[2] <= 400
        assert not any(crosses((a[0], a[1]), (a[2], a[3]), box) or crosses((a[0], a[3]), (a[2], a[1]), box) for box in rects)
        for b in spans[n + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (labels[n], b)
    by_slug = {e.slug: boxes["".join(e.name.split())] for e in entities}
    for tie, points in zip(ties, lines):
        start, end = by_slug[tie.subject], by_slug[tie.object]
        assert start[0] <= points[0][0] <= start[2] and abs(points[0][1] - start[1]) <= 4 or abs(points[0][1] - start[3]) <= 4
        assert end[0] <= points[-1][0] <= end[2] and (abs(points[-1][1] - end[1]) <= 4 or abs(points[-1][1] - end[3]) <= 4)
        for a, b in zip(points, points[1:]):
            assert not any(crosses(a, b, box) for box in rects), (tie, a, b)
        # The arrowhead (about 10 units back from the tip) is never under a label's text or halo.
        (ax, ay), (bx, by) = points[-2], points[-1]
        length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
        back = (bx - (bx - ax) * 10 / length, by - (by - ay) * 10 / length)
        halo = [(left - 2.5, top - 2.5, right + 2.5, bottom + 2.5) for left, top, right, bottom in spans]
        assert not any(crosses(back, (bx, by), span) for span in halo), (tie, back)


def test_diagram_is_byte_identical_under_any_hash_seed():
    """The layout of a 40-entity register, in processes with different string hash seeds, gives the same bytes."""
    script = (
        "import sys; sys.path.insert(0, 'tests'); from test_register import generated_register;"
        "from placard.diagram import render_diagram;"
        "sys.stdout.write(render_diagram(*generated_register(40), 't', 'd'))"
    )
    outputs = []
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        outputs.append(subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, check=True).stdout)
    assert outputs[0] == outputs[1] == outputs[2] and outputs[0].startswith(b"<svg")


def test_drawing_the_diagram_needs_neither_numpy_nor_networkx():
    """Start-up and the seed's diagram load no numerical library (issue 22: import only what the build needs)."""
    script = (
        "import sys; sys.path.insert(0, 'tests'); import placard.diagram as d; from test_register import generated_register;"
        "d.render_diagram(*generated_register(40), 't', 'd');"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'networkx', 'scipy'}))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- open data -----------------------------------------------------------------------------------


def test_csv_round_trips_through_the_csv_module(built):
    site, files = built
    text = files["links/ties.csv"].decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    expected = [(r["id"], r["note"] or "", s["title"]) for r in tie_records(site) for s in r["sources"]]
    assert [(row["tie_id"], row["note"], row["source_title"]) for row in rows] == expected
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    assert buffer.getvalue() == text


def test_csv_cells_that_look_like_formulas_stay_text_in_spreadsheets(tmp_path):
    """CSV injection: a name or note starting with =, +, -, @ must not run as a formula where allies open the file."""
    project = make_project(tmp_path)
    entity = project.content / "links" / "jane-doe.md"
    text = entity.read_text(encoding="utf-8")
    text = text.replace("name: Jane Doe", "name: '=HYPERLINK(\"https://evil.example/\",\"Jane\")'")
    entity.write_text(text.replace('note: "named in the report"', 'note: "+1 more, -2 less, @home"'), encoding="utf-8")
    site, output = build_site(project, NOW)
    rows = list(csv.DictReader(io.StringIO(output.files["links/ties.csv"].decode(), newline="")))
    row = next(row for row in rows if row["subject"] == "jane-doe")
    assert row["subject_name"] == "'=HYPERLINK(\"https://evil.example/\",\"Jane\")"
    assert row["note"] == "'+1 more, -2 less, @home"
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    data = json.loads(output.files["links/ties.json"])
    assert data["entities"][[e["slug"] for e in data["entities"]].index("jane-doe")]["name"].startswith("=HYPERLINK(")


def test_json_lists_every_tie_with_its_sources(built):
    site, files = built
    data = json.loads(files["links/ties.json"])
    assert len(data["ties"]) == sum(len(e.ties) for e in site.entities)
    assert all(tie["sources"] for tie in data["ties"])
    assert data["ties"][0]["sources"][0]["url"] == "https://example.org/campaign/news/first-post/"
    assert render_ties_json(site) == files["links/ties.json"].decode()
    assert render_ties_csv(site) == files["links/ties.csv"].decode()


def test_open_data_is_linked_from_the_page(built):
    _, files = built
    html = files["links/index.html"].decode()
    assert '<a href="ties.csv" download>ties.csv</a>' in html
    assert '<a href="ties.json" download>ties.json</a>' in html


# --- the seed campaign -----------------------------------------------------------------------------


def test_seed_ties_appear_as_table_diagram_and_data():
    site, output = build_site(Project(REPO), NOW)
    ties = sum(len(e.ties) for e in site.entities)
    html = output.files["links/index.html"].decode()
    assert html.count("as stated in the appeal of <time") == 2 * ties  # each tie in both entities' tables
    assert '<li id="source-1">As stated in <a href="../news/demonstrate-support-oil-workers-in-kazakhstan/">' in html
    assert "<td data-label=\"Relation\">chaired by" in html
    assert html.count("<polyline ") == ties
    assert len(json.loads(output.files["links/ties.json"])["ties"]) == ties


def test_documented_example_builds(tmp_path):
    """The complete example in docs/register.md is valid, field for field."""
    doc = (REPO / "docs" / "register.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, re.S).group(1)
    project = make_project(tmp_path, {
        "content/links/jane-doe.md": example,
        "content/links/example-oil.md": "---\nname: Example Oil\nslug: example-oil\ntype: company\n---\n",
        "content/news/example-news-post.md": "---\ntitle: Example\nslug: example-news-post\ndate: 2011-12-18\nauthor: A. Writer\n---\nText.\n",
    })
    site, output = build_site(project, NOW)
    jane = next(e for e in site.entities if e.slug == "jane-doe")
    tie = jane.ties[0]
    assert (tie.relation, tie.object, tie.role, tie.since, tie.until) == ("director-of", "example-oil", "non-executive director", "2006", "2010-03")
    assert [s.post or s.url for s in tie.sources] == ["example-news-post", "https://example.org/annual-report-2009"]
    assert tie.sources[1].archived == "https://archive.example.org/annual-report-2009"
    assert "directed by" in output.files["links/index.html"].decode()
