"""Diagram stage: the register's ties as one inline SVG string, laid out by networkx at build time.

No script and no external file: the picture is plain SVG text in the page. Each group of linked
entities (a connected component) is laid out on its own by networkx's spring layout with a fixed
seed, then the groups are stacked top to bottom, so the drawing stays narrow enough to read on a
390 px phone; the viewBox scales it up on wider screens. Relations are written on the edges and
arrows show their direction, so nothing depends on colour. Its styles live in static/style.css
(`.diagram ...`): the pages' Content-Security-Policy allows only first-party stylesheets.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass
from html import escape


from .models import Entity, Tie

SEED = 4  # fixed, so every build of the same content is byte-identical
WIDTH = 400  # viewBox units; the page scales it to the screen
MARGIN = 12
FONT = 14  # node names, in viewBox units (about 12.5 px on a 390 px phone)
LABEL_FONT = 12.5  # relation labels on edges
LINE = 17  # line height of node names
CHAR = 0.56  # average glyph width in em, to size boxes without a font engine
WRAP = 20  # characters per line of a node name
GAP = 36  # vertical space between groups
SPAN_X = WIDTH - 2 * MARGIN
STEP = 80  # vertical room per entity in a group, before overlaps are pushed apart
LABEL_ROOM = 90  # horizontal gap two boxes side by side need for a label between them
LABEL_GAP = 54  # vertical gap between boxes, room for an edge label


@dataclass(frozen=True)
class Box:
    """An entity's box: its centre, half sizes and wrapped name."""

    slug: str
    x: float
    y: float
    half_w: float
    half_h: float
    lines: tuple[str, ...]


def wrap_name(name: str) -> tuple[str, ...]:
    """A name broken into short lines for a narrow box."""
    return tuple(textwrap.wrap(name, WRAP, break_long_words=True)) or (name,)


def box_size(lines: tuple[str, ...]) -> tuple[float, float]:
    """Half width and half height of a box holding these lines."""
    width = max(len(line) for line in lines) * FONT * CHAR + 16
    return round(width / 2, 1), round((len(lines) * LINE + 10) / 2, 1)


def layout_component(graph: nx.Graph, sizes: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Positions for one group of linked entities: networkx's spring layout, turned upright to fit a phone."""
    nodes = sorted(graph.nodes)
    if len(nodes) == 1:
        return {nodes[0]: (WIDTH / 2, 0.0)}
    import networkx as nx  # imported where used: a site without ties never needs networkx or numpy
    import numpy

    raw = nx.spring_layout(graph, seed=SEED, iterations=200)
    points = numpy.array([raw[n] for n in nodes], dtype=float)
    points -= points.mean(axis=0)
    # Turn the group so its longest extent runs down the page (principal axis of the points).
    _, vectors = numpy.linalg.eigh(points.T @ points)
    upright = points @ vectors[:, ::-1]
    xs, ys = upright[:, 1], upright[:, 0]
    half_w = max(sizes[n][0] for n in nodes)
    span_y = STEP * (len(nodes) - 1)
    positions = {}
    for node, x, y in zip(nodes, xs, ys):
        fx = (x - xs.min()) / (xs.max() - xs.min()) if xs.max() - xs.min() > 1e-9 else 0.5
        fy = (y - ys.min()) / (ys.max() - ys.min()) if ys.max() - ys.min() > 1e-9 else 0.5
        positions[node] = (MARGIN + half_w + fx * (SPAN_X - 2 * half_w), fy * span_y)
    return separate(positions, sizes)


def separate(positions: dict[str, tuple[float, float]], sizes: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Push boxes down until none overlaps another or the room an edge label needs between them."""
    order = sorted(positions, key=lambda n: (positions[n][1], n))
    placed: dict[str, tuple[float, float]] = {}
    for node in order:
        x, y = positions[node]
        for other in list(placed):
            ox, oy = placed[other]
            side_by_side = abs(x - ox) >= sizes[node][0] + sizes[other][0] + LABEL_ROOM
            needed = sizes[node][1] + sizes[other][1] + LABEL_GAP
            if not side_by_side and y - oy < needed:
                y = oy + needed
        placed[node] = (x, y)
    return {node: (round(float(x), 1), round(float(y), 1)) for node, (x, y) in placed.items()}


def sorted_subgraph(graph: nx.Graph, nodes: list[str]) -> nx.Graph:
    """A copy of part of the graph with nodes and edges in sorted order.

    networkx's subgraph views iterate a set of nodes, whose order changes with Python's string
    hash seed from one process to the next; the spring layout depends on node order, so it must
    only ever see sorted input for builds to be byte-identical.
    """
    import networkx as nx

    sub = nx.Graph()
    sub.add_nodes_from(sorted(nodes))
    sub.add_edges_from(sorted(tuple(sorted(edge)) for edge in graph.subgraph(nodes).edges))
    return sub


def place_boxes(entities: list[Entity], ties: list[Tie]) -> tuple[list[Box], float]:
    """Lay out every group and stack the groups; returns the boxes and the drawing's height."""
    boxes, height = layout_boxes(tuple(entities), tuple(ties))
    return list(boxes), height


@functools.lru_cache(maxsize=8)  # pure (entities and ties are frozen); the preview rebuilds often
def layout_boxes(entities: tuple[Entity, ...], ties: tuple[Tie, ...]) -> tuple[tuple[Box, ...], float]:
    """place_boxes, for hashable arguments."""
    if not entities:  # nothing to draw (and no need to import networkx for it)
        return (), round(MARGIN - GAP + MARGIN, 1)
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(sorted(e.slug for e in entities))
    graph.add_edges_from(sorted((t.subject, t.object) for t in ties))
    names = {e.slug: wrap_name(e.name) for e in entities}
    sizes = {slug: box_size(lines) for slug, lines in names.items()}
    components = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    boxes: list[Box] = []
    top = MARGIN
    for component in components:
        positions = layout_component(sorted_subgraph(graph, component), sizes)
        highest = min(y - sizes[n][1] for n, (_, y) in positions.items())  # groups start at `top`
        lowest = max(y + sizes[n][1] for n, (_, y) in positions.items())
        for slug in component:
            x, y = positions[slug]
            boxes.append(Box(slug, x, round(y - highest + top, 1), *sizes[slug], names[slug]))
        top += lowest - highest + GAP
    return tuple(boxes), round(top - GAP + MARGIN, 1)


def clip(box: Box, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a box's centre toward a point leaves the box (plus a little air)."""
    dx, dy = toward[0] - box.x, toward[1] - box.y
    if dx == 0 and dy == 0:
        return box.x, box.y
    scale = min((box.half_w + 3) / abs(dx) if dx else float("inf"), (box.half_h + 3) / abs(dy) if dy else float("inf"))
    return round(box.x + dx * scale, 1), round(box.y + dy * scale, 1)


def render_edge(tie: Tie, boxes: dict[str, Box], bend: int) -> tuple[str, str]:
    """One tie: a line with an arrow into the object, and the relation written at its middle."""
    start, end = boxes[tie.subject], boxes[tie.object]
    x1, y1 = clip(start, (end.x, end.y))
    x2, y2 = clip(end, (start.x, start.y))
    mx, my = round((x1 + x2) / 2, 1), round((y1 + y2) / 2 + bend * (LABEL_FONT + 2), 1)
    line = f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" marker-end="url(#arrow)"/>'
    return line, f'<text x="{mx}" y="{my}">{escape(tie.label)}</text>'


def render_box(box: Box, entity: Entity) -> tuple[str, str]:
    """One entity: a box (rounded for people) and its name, one line per tspan."""
    first_y = box.y - (len(box.lines) - 1) * LINE / 2
    spans = "".join(
        f'<tspan x="{box.x}" y="{round(first_y + i * LINE, 1)}">{escape(line)}</tspan>' for i, line in enumerate(box.lines)
    )
    rx = 14 if entity.entity_kind == "person" else 2
    rect = (
        f'<rect x="{round(box.x - box.half_w, 1)}" y="{round(box.y - box.half_h, 1)}" '
        f'width="{round(2 * box.half_w, 1)}" height="{round(2 * box.half_h, 1)}" rx="{rx}"/>'
    )
    return rect, f"<text>{spans}</text>"


def render_diagram(entities: list[Entity], ties: list[Tie], title: str, description: str) -> str:
    """The whole diagram as an SVG element to put inline in the page.

    Styling is by presentation attributes on four groups (lines, boxes, names, labels), drawn in
    that order so labels sit on top: no <style> or style="" that the pages' Content-Security-Policy
    would block, and the drawing looks the same if the stylesheet does not load.
    """
    boxes, height = place_boxes(entities, ties)
    by_slug = {box.slug: box for box in boxes}
    named = {e.slug: e for e in entities}
    seen: dict[frozenset, int] = {}
    lines, labels = [], []
    for tie in ties:
        pair = frozenset((tie.subject, tie.object))
        bend = seen.get(pair, 0)  # a second tie between the same two entities gets its label lower
        seen[pair] = bend + 1
        line, label = render_edge(tie, by_slug, bend)
        lines.append(line)
        labels.append(label)
    drawn = [render_box(box, named[box.slug]) for box in boxes]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="diagram" '
        f'role="img" aria-labelledby="diagram-title diagram-desc" font-family="system-ui, sans-serif">'
        f'<title id="diagram-title">{escape(title)}</title>'
        f'<desc id="diagram-desc">{escape(description)}</desc>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#1b1b1b"/></marker></defs>'
        f'<g class="ties" stroke="#4a4a4a" stroke-width="1.4">{"".join(lines)}</g>'
        f'<g class="entities" fill="#fff" stroke="#1b1b1b" stroke-width="1.5">{"".join(r for r, _ in drawn)}</g>'
        f'<g class="names" font-size="{FONT}" text-anchor="middle" dominant-baseline="middle" fill="#1b1b1b">'
        f'{"".join(t for _, t in drawn)}</g>'
        f'<g class="relations" font-size="{LABEL_FONT}" font-style="italic" text-anchor="middle" dominant-baseline="middle" '
        f'fill="#1b1b1b" stroke="#fffdf8" stroke-width="5" stroke-linejoin="round" paint-order="stroke">{"".join(labels)}</g>'
        "</svg>"
    )
