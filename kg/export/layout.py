"""Where the exported page puts its nodes, and which it opens on: importance, the focus of a
large page, the spring and radial layouts (kg.export.html draws them)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..analyze import Projection

CITATION_TYPES = ("REPORTED_BY", "PUBLISHED_BY", "AUTHORED_BY")
PHYSICS_LIMIT = 300  # above this, positions are computed in Python and physics is off
SPRING_LIMIT = 20_000  # above this, a linear-time radial layout replaces the spring layout
FOCUS_NODES = 150  # at most this many nodes in the view a large page opens with


# --- sizes, focus, layout ----------------------------------------------------------------------


class Links:
    """The undirected simple graph of the page (as kg.analyze.Projection), its igraph built on
    first use: a small page needs neither igraph nor networkx."""

    def __init__(self, nodes: Any, links: Any):
        self.nodes = sorted(nodes)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        pairs = set()
        for start, end in links:
            a, b = self.index[start], self.index[end]
            if a != b:
                pairs.add((a, b) if a < b else (b, a))
        self.pairs = sorted(pairs)
        self._graph = None

    @property
    def graph(self) -> Any:
        if self._graph is None:
            import igraph as ig

            self._graph = ig.Graph(n=len(self.nodes), edges=self.pairs, directed=False)
        return self._graph

    def projection(self) -> Projection:
        from ..analyze import Projection

        p = Projection.__new__(Projection)
        p.nodes, p.index, p.pairs, p.graph = self.nodes, self.index, self.pairs, self.graph
        return p


def importance(nodes: list[str], edges: list[dict[str, Any]]) -> dict[str, float]:
    """Actors' importance: how many distinct entities a node is tied to by relationships other
    than citations (so a much-cited article is not the largest node; a speaker, an event
    many statements are about, an organization with many members are)."""
    nbrs: dict[str, set[str]] = {n: set() for n in nodes}
    for e in edges:
        if e["type"] in CITATION_TYPES or e["start"] == e["end"]:
            continue
        nbrs[e["start"]].add(e["end"])
        nbrs[e["end"]].add(e["start"])
    return {n: float(len(s)) for n, s in nbrs.items()}


def focus_set(
    seeds: list[str],
    adjacency: dict[str, list[str]],
    rank: dict[str, float],
    limit: int = FOCUS_NODES,
    per_seed: int | None = None,
) -> list[str]:
    """The seeds and their neighbours (most important first; at most ``per_seed`` each), then
    neighbours' neighbours, shared out so that no single hub fills the view, up to ``limit``
    nodes."""
    chosen: dict[str, None] = dict.fromkeys(seeds[:limit])
    frontier = list(chosen)
    per = per_seed
    while frontier and len(chosen) < limit:
        nxt: list[str] = []
        for s in frontier:
            around = sorted(
                (n for n in adjacency.get(s, ()) if n not in chosen),
                key=lambda n: (-rank.get(n, 0), n),
            )
            for n in around[:per] if per else around:
                if len(chosen) >= limit:
                    break
                if n not in chosen:
                    chosen[n] = None
                    nxt.append(n)
        frontier = nxt
        if per_seed and frontier:
            per = max(1, (limit - len(chosen)) // len(frontier))
    return sorted(chosen)


def radial_layout(p: Projection | Links) -> dict[Any, tuple[float, float]]:
    """Linear time: each component in BFS rings around its best-connected node, components
    placed on a grid. Deterministic (node ids are sorted, so index order is id order)."""
    import numpy as np

    pos: dict[Any, tuple[float, float]] = {}
    g = p.graph
    degree = g.degree()
    comps = sorted((sorted(c) for c in g.connected_components()), key=lambda c: (-len(c), c[0]))
    x0 = y0 = 0.0
    row_h = 0.0
    width = 0.0
    max_width = 40 * math.sqrt(max(len(p.nodes), 1)) * 12
    for comp in comps:
        if len(comp) == 1:
            rings = [comp]  # an isolated node: no search needed
        else:
            root = max(comp, key=lambda i: (degree[i], p.nodes[i]))
            order, starts, _ = g.bfs(root)
            rings = [sorted(order[starts[d] : starts[d + 1]]) for d in range(len(starts) - 1)]
        radius = 0.0
        local: list[tuple[list[int], Any, Any]] = []
        for d, ring in enumerate(rings):
            if d == 0:
                local.append((ring, np.zeros(1), np.zeros(1)))
                continue
            radius = max(radius + 90.0, len(ring) * 14.0 / (2 * math.pi))
            a = np.arange(len(ring)) * (2 * math.pi / len(ring)) + d * 0.37
            local.append((ring, radius * np.cos(a), radius * np.sin(a)))
        size = 2 * radius + 80
        if width + size > max_width and width > 0:
            x0, y0, width = 0.0, y0 + row_h, 0.0
            row_h = 0.0
        cx, cy = x0 + width + size / 2, y0 + size / 2
        for ring, xs, ys in local:
            for n, x, y in zip(ring, (xs + cx).tolist(), (ys + cy).tolist()):
                pos[p.nodes[n]] = (x, y)
        width += size
        row_h = max(row_h, size)
    return pos


def layout(p: Projection | Links, force: bool = False) -> dict[Any, tuple[float, float]] | None:
    """None (the page's physics places the nodes) up to PHYSICS_LIMIT nodes unless ``force``;
    a seeded spring layout up to SPRING_LIMIT; the radial layout above."""
    n = len(p.nodes)
    if n <= PHYSICS_LIMIT and not force:
        return None
    if n <= SPRING_LIMIT:
        return spring_layout(p)
    return radial_layout(p)


def focus_layout(p: Links) -> dict[Any, tuple[float, float]]:
    """The opening view's layout: Kamada-Kawai (igraph, deterministic: it starts from a circle)
    spreads a few hundred nodes more evenly than a spring layout, hubs' spokes apart."""
    import numpy as np

    if not p.nodes:
        return {}
    xy = np.array(p.graph.layout_kamada_kawai().coords, dtype=float)
    xy -= xy.mean(axis=0)
    span = float(np.abs(xy).max()) or 1.0
    xy *= 50 * math.sqrt(len(p.nodes)) / span
    return {k: (float(x), float(y)) for k, (x, y) in zip(p.nodes, xy.tolist())}


def spring_layout(p: Projection | Links, scale: float = 60.0) -> dict[Any, tuple[float, float]]:
    """Fruchterman-Reingold on igraph's C core (a grid above 1,000 nodes), seeded (the same page
    every time), scaled to about ``scale`` (60) px times the square root of the node count across."""
    import random

    import igraph as ig
    import numpy as np

    if not p.nodes:
        return {}
    n = len(p.nodes)
    # 500 iterations up to 1,500 nodes; fewer above (each costs more, the grid keeps it linear):
    # a whole large graph is for overview, its opening view gets a layout of its own.
    niter = 500 if n <= 1_500 else max(100, 750_000 // n)
    ig.set_random_number_generator(random.Random(7))
    try:
        xy = np.array(p.graph.layout_fruchterman_reingold(niter=niter).coords, dtype=float)
    finally:
        ig.set_random_number_generator(random)
    xy -= xy.mean(axis=0)
    span = float(np.abs(xy).max()) or 1.0
    xy *= scale * math.sqrt(len(p.nodes)) / span
    return {k: (float(x), float(y)) for k, (x, y) in zip(p.nodes, xy.tolist())}
