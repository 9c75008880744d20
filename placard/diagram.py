"""Diagram stage: the register's ties as one inline SVG string, laid out in plain Python at build time.

No script and no external file: the picture is plain SVG text in the page. Each group of linked
entities (a connected component, found with a small union-find) is drawn in rows: a tie points down
from the entity that states it to its counterpart (longest-path layering; a tie that would close a
loop points up instead), the entities of a row are ordered by the mean position of their neighbours
over a fixed number of sweeps, and a row too wide for the drawing wraps onto the next one. A tie
that skips rows runs straight down through a free slot in each row it passes (ties into or out of
the same entity share that line), so no line crosses a box. Groups are stacked top to bottom, and
entities tied to nothing share rows at the end, so the drawing stays narrow enough to read on a
390 px phone; the viewBox scales it up on wider screens. Relations are written on the ties and
arrows show their direction, and kinds of entity differ by shape and line with a legend, so nothing depends on colour. Its styles live in static/style.css
(`.diagram ...`): the pages' Content-Security-Policy allows only first-party stylesheets.

The output is byte-identical on every machine and in every process: only sorted lists and dicts
filled in sorted order are iterated (never a set, whose order follows the string hash seed), and the
arithmetic is +, -, * and / on floats in a fixed order, which IEEE 754 rounds the same everywhere
(no libm functions, no linear-algebra library).
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass
from html import escape

from .models import Entity, Tie

WIDTH = 400  # viewBox units; the page scales it to the screen
MARGIN = 12
FONT = 15  # node names, in viewBox units (about 13.5 px on a 390 px phone)
LABEL_FONT = 13.5  # relation labels on ties (about 12 px on a 390 px phone)
LINE = 18  # line height of node names
CHAR = 0.56  # average glyph width in em, to size boxes without a font engine
LABEL_CHAR = 0.55  # the same for the italic labels
WRAP = 20  # characters per line of a node name
GAP = 36  # vertical space between groups
SPAN_X = WIDTH - 2 * MARGIN
H_GAP = 18  # horizontal space between neighbours in a row
SLOT = 6  # width a tie passing through a row takes in it
PASS_GAP = 8  # horizontal space beside a tie passing through a row
ROW_GAP = 54  # least vertical gap between rows: room for one label between two arrow ends
LABEL_STEP = LABEL_FONT + 4  # the gap grows by this much for each label that does not fit
LABEL_HALF_H = (LABEL_FONT + 2) / 2
END_ROOM = 16  # keeps labels (and their halo) off the arrowheads at either end of a gap
AIR = 3  # between a box and the end of a tie
PORT = 14  # horizontal space between ties leaving the same side of a box
SWEEPS = 4  # ordering and placement passes; fixed so the result never depends on convergence
BUNDLE = 3  # this many ties skipping rows into or out of one entity share one line
PASSING = "\x00"  # marks the id of a tie's passage through a row (slugs never contain it)


@dataclass(frozen=True)
class Box:
    """An entity's box: its centre, half sizes and wrapped name."""

    slug: str
    x: float
    y: float
    half_w: float
    half_h: float
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Route:
    """A tie as drawn: its points from subject to object and the centre of its label."""

    points: tuple[tuple[float, float], ...]
    label_at: tuple[float, float]


@dataclass(frozen=True)
class Layout:
    """Every box, one route per tie (in the ties' order) and the drawing's extent."""

    boxes: tuple[Box, ...]
    routes: tuple[Route, ...]
    left: float
    width: float
    height: float


@dataclass(frozen=True)
class Rows:
    """One group laid out in rows: each row's ids in order, every id's row and centre x, each tie's ids top to bottom."""

    order: tuple[tuple[str, ...], ...]
    row_of: dict[str, int]
    x: dict[str, float]
    chains: dict[tuple[str, str], tuple[str, ...]]


def wrap_name(name: str) -> tuple[str, ...]:
    """A name broken into short lines for a narrow box."""
    return tuple(textwrap.wrap(name, WRAP, break_long_words=True)) or (name,)


def box_size(lines: tuple[str, ...]) -> tuple[float, float]:
    """Half width and half height of a box holding these lines."""
    width = max(len(line) for line in lines) * FONT * CHAR + 16
    return round(width / 2, 1), round((len(lines) * LINE + 10) / 2, 1)


def label_half_width(text: str) -> float:
    """Half the width a relation label takes, with a little air."""
    return (len(text) * LABEL_FONT * LABEL_CHAR + 6) / 2


def find_components(slugs: list[str], pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Groups of linked entities (union-find, each root the group's first slug), largest first."""
    parent = {slug: slug for slug in slugs}

    def root(slug: str) -> str:
        while parent[slug] != slug:
            parent[slug] = parent[parent[slug]]
            slug = parent[slug]
        return slug

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for slug in slugs:  # sorted, so each group's list is sorted too
        groups.setdefault(root(slug), []).append(slug)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))


def orient_edges(nodes: list[str], pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The ties as (upper, lower) pairs without a loop: depth-first in sorted order, a tie closing a loop turned round."""
    successors: dict[str, list[str]] = {node: [] for node in nodes}
    for subject, obj in pairs:  # sorted, so each list is sorted
        successors[subject].append(obj)
    state: dict[str, int] = {}  # 1 while on the path, 2 when finished
    down: list[tuple[str, str]] = []
    for start in nodes:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(successors[start]))]
        while stack:
            node, following = stack[-1]
            child = next(following, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                down.append((child, node))
            else:
                down.append((node, child))
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(successors[child])))
    return sorted(dict.fromkeys(down))


def chain_ties(down: list[tuple[str, str]], layer: dict[str, int]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Each tie's ids row by row: its two ends, with a passage through every row between them.

    Three or more ties that skip rows into (or out of) the same entity share their passages, so a
    hub gets one line down the rows instead of one per tie; fewer keep lines of their own, which
    are easier to follow.
    """
    skipping: dict[str, int] = {}
    for upper, lower in down:
        if layer[lower] - layer[upper] > 1:
            skipping[upper] = skipping.get(upper, 0) + 1
            skipping[lower] = skipping.get(lower, 0) + 1
    chains = {}
    for upper, lower in down:
        if skipping.get(lower, 0) >= BUNDLE:
            key = f"to:{lower}"
        elif skipping.get(upper, 0) >= BUNDLE:
            key = f"from:{upper}"
        else:
            key = f"tie:{upper}:{lower}"
        passages = tuple(f"{PASSING}{key}:{row}" for row in range(layer[upper] + 1, layer[lower]))
        chains[(upper, lower)] = (upper, *passages, lower)
    return chains


def space_between(a: str, b: str, widths: dict[str, float]) -> float:
    """Least distance between the centres of two neighbours in a row: passages may sit closer than boxes."""
    gap = H_GAP if a in widths and b in widths else PASS_GAP
    return (widths.get(a, SLOT) + widths.get(b, SLOT)) / 2 + gap


def group_rows(chains: dict[tuple[str, str], tuple[str, ...]], nodes: list[str], layer: dict[str, int]) -> list[list[str]]:
    """The ids of each row: its entities (sorted) and then the passages through it."""
    rows: list[list[str]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in nodes:
        rows[layer[node]].append(node)
    for chain in chains.values():
        for row, passage in enumerate(chain[1:-1], start=layer[chain[0]] + 1):
            if passage not in rows[row]:
                rows[row].append(passage)
    return rows


def assign_layers(nodes: list[str], down: list[tuple[str, str]], widths: dict[str, float]) -> dict[str, int]:
    """Each node's row, filled from the bottom: just above the highest of its counterparts, or higher while that row is full.

    Nodes are taken once all their counterparts below are placed, the one that can sit lowest
    first; the room a row has left counts the ties passing through it.
    """
    if not down:  # entities tied to nothing: rows filled in order of their slugs
        layer, row, used = {}, 0, -H_GAP
        for node in nodes:
            if used + H_GAP + widths[node] > SPAN_X and used > 0:
                row, used = row + 1, -H_GAP
            layer[node], used = row, used + H_GAP + widths[node]
        return layer
    above: dict[str, list[str]] = {node: [] for node in nodes}
    below: dict[str, list[str]] = {node: [] for node in nodes}
    for upper, lower in down:
        above[lower].append(upper)
        below[upper].append(lower)
    waiting = {node: len(below[node]) for node in nodes}
    ready = [node for node in nodes if not waiting[node]]
    level: dict[str, int] = {}
    used: list[float] = []
    while ready:
        # The ready node that can sit lowest goes first (the first slug among equals), so the rows fill bottom up.
        lowest, node = min((max((level[b] + 1 for b in below[n]), default=0), n) for n in ready)
        ready.remove(node)
        row = lowest
        while row < len(used) and used[row] + H_GAP + widths[node] > SPAN_X and used[row] > -H_GAP:
            row += 1
        used += [-H_GAP] * (row + 1 - len(used))
        used[row] += H_GAP + widths[node]
        level[node] = row
        for b in below[node]:
            for passed in range(level[b] + 1, row):
                used[passed] += PASS_GAP + SLOT
        for upper in above[node]:
            waiting[upper] -= 1
            if not waiting[upper]:
                ready.append(upper)
    top = max(level.values())
    return {node: top - level[node] for node in nodes}


def neighbours_of(chains: dict[tuple[str, str], tuple[str, ...]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For every id, the ids it is joined to in the row above and in the row below (in the ties' order)."""
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for chain in chains.values():
        for upper, lower in zip(chain, chain[1:]):
            if upper not in up.setdefault(lower, []):
                up[lower].append(upper)
            if lower not in down.setdefault(upper, []):
                down[upper].append(lower)
    return up, down


def order_rows(rows: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> list[list[str]]:
    """Rows reordered by the mean position of each id's neighbours, sweeping down and up a fixed number of times."""
    rows = [list(row) for row in rows]

    def sweep(indices: range, side: dict[str, list[str]], ref: int) -> None:
        for k in indices:
            place = {i: n for n, i in enumerate(rows[k + ref])}
            current = {i: n for n, i in enumerate(rows[k])}

            def key(i: str) -> tuple[float, int, str]:
                near = [place[j] for j in side.get(i, []) if j in place]
                return (sum(near) / len(near) if near else float(current[i]), current[i], i)

            rows[k].sort(key=key)

    for _ in range(SWEEPS):
        sweep(range(1, len(rows)), up, -1)
        sweep(range(len(rows) - 2, -1, -1), down, 1)
    return rows


def spread_row(ids: list[str], wanted: list[float], widths: dict[str, float]) -> list[float]:
    """Centres for a row's ids in order, closest to the wanted ones (least squares) without overlapping, inside the drawing.

    With offset o_i the least distance of id i from the first, x_i = z_i + o_i for a
    non-decreasing z: pool-adjacent-violators gives the best z, clamped to the drawing's edges.
    """
    halves = [(widths.get(a, SLOT) + widths.get(b, SLOT)) / 2 for a, b in zip(ids, ids[1:])]
    gaps = [space_between(a, b, widths) - half for a, b, half in zip(ids, ids[1:], halves)]
    room = SPAN_X - (widths.get(ids[0], SLOT) + widths.get(ids[-1], SLOT)) / 2
    if sum(halves) + sum(gaps) > room:  # many ties pass through this row: narrow the gaps (never the boxes) to fit
        scale = max(0.0, (room - sum(halves)) / sum(gaps))
        gaps = [gap * scale for gap in gaps]
    spaces = [half + gap for half, gap in zip(halves, gaps)]
    offsets = [0.0]
    for space in spaces:
        offsets.append(offsets[-1] + space)
    blocks: list[list[float]] = []  # [sum, count]
    for target in (w - o for w, o in zip(wanted, offsets)):
        blocks.append([target, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    z = [total / count for total, count in blocks for _ in range(int(count))]
    low = MARGIN + widths.get(ids[0], SLOT) / 2
    high = WIDTH - MARGIN - widths.get(ids[-1], SLOT) / 2 - offsets[-1]
    if low > high:  # too wide even wrapped (one entity with many passages): spill evenly on both sides
        low = high = (low + high) / 2
    return [min(max(v, low), high) + o for v, o in zip(z, offsets)]


def place_rows(rows: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]], widths: dict[str, float]) -> dict[str, float]:
    """Centre x of every id: each row pulled toward its neighbours above, then below, a fixed number of times."""
    x: dict[str, float] = {}
    for row in rows:
        x.update(zip(row, spread_row(row, [WIDTH / 2] * len(row), widths)))

    def settle(indices: list[int], sides: tuple[dict[str, list[str]], ...]) -> None:
        for k in indices:
            wanted = []
            for i in rows[k]:
                near = [x[j] for side in sides for j in side.get(i, [])]
                wanted.append(sum(near) / len(near) if near else x[i])
            x.update(zip(rows[k], spread_row(rows[k], wanted, widths)))

    for _ in range(SWEEPS):
        settle(list(range(1, len(rows))), (up,))
        settle(list(range(len(rows) - 2, -1, -1)), (down,))
    settle(list(range(len(rows))), (up, down))
    return x


def layout_rows(nodes: list[str], down: list[tuple[str, str]], widths: dict[str, float]) -> Rows:
    """A group's rows: layers, passages, order and centres."""
    layer = assign_layers(nodes, down, widths)
    chains = chain_ties(down, layer)
    up, below = neighbours_of(chains)
    rows = order_rows(group_rows(chains, nodes, layer), up, below)
    row_of = {i: k for k, row in enumerate(rows) for i in row}
    return Rows(tuple(tuple(row) for row in rows), row_of, place_rows(rows, up, below, widths), chains)


def label_segment(chain: tuple[str, ...]) -> int:
    """Which of a tie's segments carries its label: one it has to itself (not a shared passage), the first if it can."""
    if len(chain) > 2 and chain[1].startswith(f"{PASSING}from:"):
        return len(chain) - 2
    return 0


def place_ports(rows: Rows, pairs: list[tuple[str, str]], sizes: dict[str, tuple[float, float]]) -> dict[tuple[int, str], float]:
    """Where each tie (by index) leaves or enters each of its boxes: spread along the side, ordered by where the tie goes."""
    sides: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for index, pair in enumerate(pairs):
        chain = rows.chains[pair]
        sides.setdefault((chain[0], "bottom"), []).append((rows.x[chain[1]], index))
        sides.setdefault((chain[-1], "top"), []).append((rows.x[chain[-2]], index))
    ports = {}
    for (node, _), ends in sides.items():
        ends.sort()
        step = min(PORT, (2 * sizes[node][0] - 16) / (len(ends) - 1)) if len(ends) > 1 else 0.0
        for n, (_, index) in enumerate(ends):
            ports[(index, node)] = rows.x[node] + (n - (len(ends) - 1) / 2) * step
    return ports


def fit_labels(items: list[tuple[float, float, float, int]]) -> tuple[float, dict[int, tuple[float, float]]]:
    """A gap's height and its labels' centres (x, y from the gap's top) so that no two labels overlap.

    Each item is (x at the gap's top, x at its bottom, label half width, tie index); a label sits on
    its tie, at the middle of the gap if it is free, else a line above or below; the gap grows a
    line at a time until all fit.
    """
    height = float(ROW_GAP)
    while True:
        low, high, middle = END_ROOM + LABEL_HALF_H, height - END_ROOM - LABEL_HALF_H, height / 2
        tries = [middle] + [middle + sign * n * LABEL_STEP for n in range(1, len(items) + 2) for sign in (-1, 1)]
        tries = [y for y in tries if low <= y <= high]
        placed: dict[int, tuple[float, float]] = {}
        spans: list[tuple[float, float, float]] = []
        for top_x, bottom_x, half, index in sorted(items, key=lambda item: ((item[0] + item[1]) / 2, item[3])):
            for y in tries:
                x = min(max(top_x + (bottom_x - top_x) * y / height, half + 2), WIDTH - half - 2)
                if all(abs(x - ox) >= half + oh + 2 or abs(y - oy) >= 2 * LABEL_HALF_H + 1 for ox, oy, oh in spans):
                    placed[index] = (x, y)
                    spans.append((x, y, half))
                    break
        if len(placed) == len(items) or height > ROW_GAP + LABEL_STEP * (len(items) + 1):
            for top_x, bottom_x, half, index in items:  # only if it could never fit: at the middle
                placed.setdefault(index, ((top_x + bottom_x) / 2, middle))
            return height, placed
        height += LABEL_STEP


def route_group(rows: Rows, group_ties: list[tuple[int, Tie]], pairs: list[tuple[str, str]], sizes: dict[str, tuple[float, float]]) -> tuple[dict[str, float], dict[int, Route], float]:
    """Centre y of each box, each tie's route (keyed by the tie's index) and the group's height, from y = 0."""
    half = [max((sizes[i][1] for i in row if i in sizes), default=LABEL_HALF_H) for row in rows.order]
    ports = place_ports(rows, pairs, sizes)
    segments: list[list[tuple[float, float, float, int]]] = [[] for _ in rows.order[1:]]
    for index, pair in enumerate(pairs):
        chain = rows.chains[pair]
        s = label_segment(chain)
        top_x = ports[(index, chain[0])] if s == 0 else rows.x[chain[s]]
        bottom_x = ports[(index, chain[-1])] if s + 1 == len(chain) - 1 else rows.x[chain[s + 1]]
        segments[rows.row_of[chain[0]] + s].append((top_x, bottom_x, label_half_width(group_ties[index][1].label), index))
    centre = [half[0]]
    labels: dict[int, tuple[float, float]] = {}
    for k, items in enumerate(segments):
        gap, placed = fit_labels(items)
        labels.update({index: (x, centre[k] + half[k] + y) for index, (x, y) in placed.items()})
        centre.append(centre[k] + half[k] + gap + half[k + 1])
    routes = {}
    for index, pair in enumerate(pairs):
        chain = rows.chains[pair]
        upper, lower = chain[0], chain[-1]
        r_up, r_low = rows.row_of[upper], rows.row_of[lower]
        px, qx = ports[(index, upper)], ports[(index, lower)]
        middle = [(rows.x[p], centre[row] + side * half[row]) for row, p in enumerate(chain[1:-1], start=r_up + 1) for side in (-1, 1)]
        start, end = (px, centre[r_up] + sizes[upper][1] + AIR), (qx, centre[r_low] - sizes[lower][1] - AIR)
        first = middle[0] if middle else end
        last = middle[-1] if middle else start
        # A box shorter than its row: straight on unless that would cut a neighbour, else down to the row's edge first.
        lead = [(px, centre[r_up] + half[r_up])] if cuts_row(start, first, rows.order[r_up], upper, rows.x, centre[r_up], sizes) else []
        tail = [(qx, centre[r_low] - half[r_low])] if cuts_row(last, end, rows.order[r_low], lower, rows.x, centre[r_low], sizes) else []
        points = [start, *lead, *middle, *tail, end]
        tie = group_ties[index][1]
        if (tie.subject, tie.object) != pair:  # drawn upward: the tie closes a loop
            points.reverse()
        routes[group_ties[index][0]] = Route(tuple(points), labels[index])
    y = {i: centre[k] for i, k in rows.row_of.items() if i in sizes}
    return y, routes, centre[-1] + half[-1]


def cuts_row(a: tuple[float, float], b: tuple[float, float], row: tuple[str, ...], own: str, x: dict[str, float], centre: float, sizes: dict[str, tuple[float, float]]) -> bool:
    """Whether the segment a-b passes through a box of the row other than its own (Liang-Barsky clipping)."""
    for other in row:
        if other == own or other not in sizes:
            continue
        half_w, half_h = sizes[other][0] + AIR, sizes[other][1] + AIR
        t0, t1 = 0.0, 1.0
        dx, dy = b[0] - a[0], b[1] - a[1]
        for p, q in ((-dx, a[0] - (x[other] - half_w)), (dx, x[other] + half_w - a[0]), (-dy, a[1] - (centre - half_h)), (dy, centre + half_h - a[1])):
            if p == 0:
                if q < 0:
                    t0, t1 = 1.0, 0.0
            elif p < 0:
                t0 = max(t0, q / p)
            else:
                t1 = min(t1, q / p)
        if t0 < t1:
            return True
    return False


def shift_route(route: Route, dy: float) -> Route:
    """A route moved down by dy, rounded to the tenths the SVG is written in."""
    return Route(tuple((num(x), num(y + dy)) for x, y in route.points), (num(route.label_at[0]), num(route.label_at[1] + dy)))


def num(value: float) -> float:
    """A coordinate rounded to a tenth, never -0.0."""
    return round(value, 1) + 0.0


@functools.lru_cache(maxsize=8)  # pure (entities and ties are frozen); the preview rebuilds often
def layout_boxes(entities: tuple[Entity, ...], ties: tuple[Tie, ...]) -> Layout:
    """Lay out every group and stack the groups, entities tied to nothing last."""
    slugs = sorted(e.slug for e in entities)
    names = {e.slug: wrap_name(e.name) for e in entities}
    sizes = {slug: box_size(names[slug]) for slug in slugs}
    widths = {slug: 2 * sizes[slug][0] for slug in slugs}
    groups = find_components(slugs, sorted((t.subject, t.object) for t in ties))
    alone = sorted(slug for group in groups if len(group) == 1 for slug in group)
    groups = [group for group in groups if len(group) > 1] + ([alone] if alone else [])
    group_of = {slug: n for n, group in enumerate(groups) for slug in group}
    boxes: list[Box] = []
    routes: dict[int, Route] = {}
    top = float(MARGIN)
    for n, group in enumerate(groups):
        group_ties = [(i, tie) for i, tie in enumerate(ties) if group_of[tie.subject] == n]
        down = orient_edges(group, sorted(dict.fromkeys((t.subject, t.object) for _, t in group_ties)))
        pairs = [(t.subject, t.object) if (t.subject, t.object) in down else (t.object, t.subject) for _, t in group_ties]
        rows = layout_rows(group, down, widths)
        y, group_routes, height = route_group(rows, group_ties, pairs, sizes)
        boxes += [Box(slug, num(rows.x[slug]), num(y[slug] + top), *sizes[slug], names[slug]) for slug in group]
        routes.update({i: shift_route(route, top) for i, route in group_routes.items()})
        top += height + GAP
    extents = [(b.x - b.half_w, b.x + b.half_w) for b in boxes] + [(x, x) for r in routes.values() for x, _ in r.points]
    left = min([0.0] + [a - MARGIN for a, _ in extents])
    right = max([float(WIDTH)] + [b + MARGIN for _, b in extents])
    return Layout(tuple(boxes), tuple(routes[i] for i in range(len(ties))), num(left), num(right - left), num(top - GAP + MARGIN))


def format_number(value: float) -> str:
    """A coordinate as written in the SVG: 200 rather than 200.0."""
    return str(int(value)) if value == int(value) else str(value)


def render_edge(tie: Tie, route: Route) -> tuple[str, str]:
    """One tie: a line with an arrow into the object, and the relation written on it."""
    points = " ".join(f"{format_number(x)},{format_number(y)}" for x, y in route.points)
    x, y = (format_number(v) for v in route.label_at)
    return f'<polyline points="{points}" marker-end="url(#arrow)"/>', f'<text x="{x}" y="{y}">{escape(tie.label)}</text>'


# How each kind of entity is drawn: by shape and line, never by colour alone (WCAG 1.4.1), with a legend.
KIND_STYLES = {
    "person": 'rx="14"',  # rounded corners
    "company": 'rx="2"',  # a plain box
    "public-body": 'rx="2" stroke-dasharray="7 3"',  # dashed
    "government": 'rx="2" stroke-width="3.5"',  # a heavy line
    "organisation": 'rx="2" stroke-dasharray="2 2.5"',  # dotted
}
KIND_NAMES = {"person": "person", "company": "company", "public-body": "public body", "government": "government", "organisation": "organisation"}
LEGEND_LINE = 24  # height of one line of the legend
LEGEND_SWATCH = 30  # width of a legend's sample box


def render_box(box: Box, entity: Entity, href: str | None = None) -> str:
    """One entity: its box (shaped by its kind) and its name, one line per tspan, as a link to its page when `href` is given."""
    first_y = box.y - (len(box.lines) - 1) * LINE / 2
    x = format_number(box.x)
    spans = "".join(
        f'<tspan x="{x}" y="{format_number(num(first_y + i * LINE))}">{escape(line)}</tspan>' for i, line in enumerate(box.lines)
    )
    rect = (
        f'<rect x="{format_number(num(box.x - box.half_w))}" y="{format_number(num(box.y - box.half_h))}" '
        f'width="{format_number(num(2 * box.half_w))}" height="{format_number(num(2 * box.half_h))}" {KIND_STYLES[entity.entity_kind]}/>'
    )
    opening = f'<a href="{escape(href)}">' if href is not None else "<g>"
    return f'{opening}{rect}<text fill="#1b1b1b" stroke="none">{spans}</text>{"</a>" if href is not None else "</g>"}'


def render_legend(kinds: list[str], top: float) -> tuple[str, float]:
    """A key to the kinds of entity drawn (two to a line), below the drawing, and the height it takes."""
    entries = []
    for n, kind in enumerate(kinds):
        x, y = MARGIN + (n % 2) * (SPAN_X / 2), top + (n // 2) * LEGEND_LINE
        entries.append(
            f'<rect x="{format_number(num(x))}" y="{format_number(num(y))}" width="{LEGEND_SWATCH}" height="16" {KIND_STYLES[kind]}/>'
            f'<text x="{format_number(num(x + LEGEND_SWATCH + 8))}" y="{format_number(num(y + 8))}" fill="#1b1b1b" stroke="none">{escape(KIND_NAMES[kind])}</text>'
        )
    height = ((len(kinds) + 1) // 2) * LEGEND_LINE
    return (f'<g class="legend" font-size="{LABEL_FONT}" dominant-baseline="middle" fill="#fff" stroke="#1b1b1b" stroke-width="1.5">'
            f'{"".join(entries)}</g>'), height


def render_diagram(entities: list[Entity], ties: list[Tie], title: str, description: str, href=None) -> str:
    """The whole diagram as an SVG element to put inline in the page; `href(slug)`, if given, links each box to the entity's page.

    Styling is by presentation attributes on the groups (ties, entities with their names, labels,
    legend), drawn in that order so labels sit on top: no <style> or style="" that the pages'
    Content-Security-Policy would block, and the drawing looks the same if the stylesheet does not load.
    The kinds of entity differ by shape and line (KIND_STYLES), explained by the legend in words.
    """
    layout = layout_boxes(tuple(entities), tuple(ties))
    named = {e.slug: e for e in entities}
    edges = [render_edge(tie, route) for tie, route in zip(ties, layout.routes)]
    drawn = [render_box(box, named[box.slug], href(box.slug) if href else None) for box in layout.boxes]
    kinds = [kind for kind in KIND_STYLES if any(e.entity_kind == kind for e in entities)]
    legend, legend_height = render_legend(kinds, layout.height) if kinds else ("", 0)
    view = " ".join(format_number(v) for v in (layout.left, 0.0, layout.width, num(layout.height + legend_height)))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view}" class="diagram" '
        f'role="group" aria-labelledby="diagram-title" aria-describedby="diagram-desc" font-family="system-ui, sans-serif">'
        f'<title id="diagram-title">{escape(title)}</title>'
        f'<desc id="diagram-desc">{escape(description)}</desc>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#1b1b1b"/></marker></defs>'
        f'<g class="ties" fill="none" stroke="#4a4a4a" stroke-width="1.4">{"".join(line for line, _ in edges)}</g>'
        f'<g class="entities" fill="#fff" stroke="#1b1b1b" stroke-width="1.5" font-size="{FONT}" text-anchor="middle" dominant-baseline="middle">'
        f'{"".join(drawn)}</g>'
        f'<g class="relations" font-size="{LABEL_FONT}" font-style="italic" text-anchor="middle" dominant-baseline="middle" '
        f'fill="#1b1b1b" stroke="#fffdf8" stroke-width="5" stroke-linejoin="round" paint-order="stroke">{"".join(label for _, label in edges)}</g>'
        f"{legend}</svg>"
    )
