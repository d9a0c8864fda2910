"""The HTML page: a self-contained analysis tool (vis-network as bundled with pyvis, inlined).

Python prepares one JSON block (nodes with their display fields, dates and sources; edges
with their class and stance; layout positions where the page is large; the focus set) and
the page's own script (kg/resources/graph.html) does the rest offline: a relationship-aware
side panel, focus and expand, filters by kind, edge class, stance and dates, search, and the
``window.kg`` API documented in docs/exports.md.

Imports are lazy: igraph and numpy load only when a layout or a measure needs them.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .errors import UsageError
from .export import NAME_KEYS, Exporter, _iso, _json_default, display_name

if TYPE_CHECKING:
    from .analyze import Projection

KIND_STYLE = {
    "person": ("#e07a5f", "dot"),
    "organization": ("#3d85c6", "square"),
    "location": ("#81b29a", "triangle"),
    "event": ("#f2cc8f", "diamond"),
    "statement": ("#9b72cf", "triangleDown"),
    "source": ("#9aa0a6", "hexagon"),
    "entity": ("#cccccc", "dot"),
}
KIND_ORDER = ("person", "organization", "event", "statement", "location", "source", "entity")
CONTESTING = ("denies", "disputes")
SUPPORTING = ("asserts", "corroborates")
CITATION_TYPES = ("REPORTED_BY", "PUBLISHED_BY", "AUTHORED_BY")
PHYSICS_LIMIT = 300        # above this, positions are computed in Python and physics is off
SPRING_LIMIT = 20_000      # above this, a linear-time radial layout replaces the spring layout
EDGE_LABEL_LIMIT = 2_000   # above this many edges, types show in the panel, not on the canvas
LARGE_PAGE = 500           # above this many nodes the page opens focused, citations off
FOCUS_NODES = 150          # at most this many nodes in the view a large page opens with
FOCUS_SEEDS = 8            # a large page opens on this many most important nodes and their neighbours
SIZE_MEASURES = ("importance", "degree", "pagerank", "betweenness")

# Edge classes: each edge has one; the legend toggles them.
EDGE_CLASSES: dict[str, dict[str, Any]] = {
    "denied": {"label": "DENIED", "title": "a speaker denied an event or claim (DENIED)", "color": "#cf222e", "width": 3, "dashes": True},
    "contesting": {"label": "denies / disputes", "title": "a statement about something, denying or disputing it (ABOUT)", "color": "#fb8500", "width": 2, "dashes": True},
    "supporting": {"label": "asserts / corroborates", "title": "a statement about something, asserting or corroborating it (ABOUT)", "color": "#2da44e", "width": 2, "dashes": False},
    "plain": {"label": "other", "title": "every other relationship: SAID, VIA, INVOLVED_IN, LOCATED_IN, ...", "color": "#6e7781", "width": 1.5, "dashes": False},
    "citation": {"label": "citations", "title": "REPORTED_BY, PUBLISHED_BY, AUTHORED_BY", "color": "#c6cbd1",
                 "width": 1, "dashes": False},
}


def edge_class(edge: dict[str, Any]) -> str:
    t = edge["type"]
    if t == "DENIED":
        return "denied"
    if t == "ABOUT":
        stance = edge["props"].get("stance")
        if stance in CONTESTING:
            return "contesting"
        if stance in SUPPORTING:
            return "supporting"
    if t in CITATION_TYPES:
        return "citation"
    return "plain"


# --- what the panel shows --------------------------------------------------------------------

MAIN_FIELDS = ("kind", "status", "date", "start", "end", "published", "description", "role",
               "reliability", "credibility", "url", "verbatim", "language", "page")


def _at_precision(value: dt.date, precision: Optional[str]) -> str:
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def _precision(key: str, props: dict[str, Any]) -> Optional[str]:
    return props.get(f"{key}_precision") or (
        props.get("date_precision") if key in ("date", "start", "end") else None)


def _shown(key: str, value: Any, props: dict[str, Any]) -> Any:
    """A field as the panel shows it: dates at their precision (2017, 2017-04, 2017-04-01)."""
    if isinstance(value, dt.date):
        return _at_precision(value, _precision(key, props))
    return _iso(value)


def panel_fields(props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields shown, fields folded): names, ids, `confidential: false` and precision fields are
    left out; an event's start and end are left out when its date already says them."""
    shown: dict[str, Any] = {}
    folded: dict[str, Any] = {}
    date = props.get("date")
    span_of_date = None
    if isinstance(date, dt.date):
        span_of_date = _span_of(date, _precision("date", props))
    for k in sorted(props):
        v = props[k]
        if k == "id" or k in NAME_KEYS or k == "aliases" or v in (None, [], ""):
            continue
        if k.endswith("_precision") or (k == "confidential" and v is False):
            continue
        if k in ("start", "end") and span_of_date is not None and isinstance(v, dt.date):
            if (k == "start" and v == span_of_date[0]) or (k == "end" and v == span_of_date[1]):
                continue
        (shown if k in MAIN_FIELDS or k == "confidential" else folded)[k] = _shown(k, v, props)
    order = {k: i for i, k in enumerate(MAIN_FIELDS)}
    return dict(sorted(shown.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))), folded


def _last_day(d: dt.date, precision: Optional[str]) -> dt.date:
    if precision == "year":
        return dt.date(d.year, 12, 31)
    if precision == "month":
        nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return d


def _span_of(d: dt.date, precision: Optional[str]) -> tuple[dt.date, dt.date]:
    first = dt.date(d.year, 1 if precision == "year" else d.month, 1 if precision in ("year", "month") else d.day)
    return first, _last_day(d, precision)


def date_span(props: dict[str, Any]) -> Optional[list[str]]:
    """[first day, last day] an entity's dates cover, at their precision, or None (undated):
    events and relations by start/end (or date), statements by date, sources by published."""
    start, end = props.get("start"), props.get("end")
    for key in ("date", "published"):
        v = props.get(key)
        if isinstance(v, dt.date):
            first, last = _span_of(v, _precision(key, props))
            start = start if isinstance(start, dt.date) else first
            end = end if isinstance(end, dt.date) else last
            break
    if not isinstance(start, dt.date) and not isinstance(end, dt.date):
        return None
    if isinstance(end, dt.date):
        end = _last_day(end, props.get("end_precision"))
    first = start if isinstance(start, dt.date) else end
    last = end if isinstance(end, dt.date) else _last_day(start, _precision("start", props))
    return [first.isoformat(), last.isoformat()]


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

    def projection(self) -> "Projection":
        from .analyze import Projection

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


def focus_set(seeds: list[str], adjacency: dict[str, list[str]], rank: dict[str, float],
              limit: int = FOCUS_NODES, per_seed: Optional[int] = None) -> list[str]:
    """The seeds and their neighbours (most important first; at most ``per_seed`` each), then
    neighbours' neighbours, shared out so that no single hub fills the view, up to ``limit``
    nodes."""
    chosen: dict[str, None] = dict.fromkeys(seeds[:limit])
    frontier = list(chosen)
    per = per_seed
    while frontier and len(chosen) < limit:
        nxt: list[str] = []
        for s in frontier:
            around = sorted((n for n in adjacency.get(s, ()) if n not in chosen),
                            key=lambda n: (-rank.get(n, 0), n))
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


def radial_layout(p: "Projection") -> dict[Any, tuple[float, float]]:
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
            rings = [sorted(order[starts[d]:starts[d + 1]]) for d in range(len(starts) - 1)]
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


def layout(p: "Projection", force: bool = False) -> Optional[dict[Any, tuple[float, float]]]:
    """None (the page's physics places the nodes) up to PHYSICS_LIMIT nodes unless ``force``;
    a seeded spring layout up to SPRING_LIMIT; the radial layout above."""
    n = len(p.nodes)
    if n <= PHYSICS_LIMIT and not force:
        return None
    if n <= SPRING_LIMIT:
        return spring_layout(p)
    return radial_layout(p)


def focus_layout(p: "Links") -> dict[Any, tuple[float, float]]:
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


def spring_layout(p: "Projection", scale: float = 60.0) -> dict[Any, tuple[float, float]]:
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


# --- the page ----------------------------------------------------------------------------------

def _json_for_script(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>' or '&'."""
    import orjson

    text = orjson.dumps(data, default=_json_default).decode("utf-8")  # compact, UTF-8
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _vis_assets() -> tuple[str, str]:
    """vis-network's script and style as pyvis bundles them (found without importing pyvis,
    whose import pulls in jinja2 and IPython helpers)."""
    from importlib.util import find_spec

    spec = find_spec("pyvis")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("the html export needs pyvis (pip install pyvis)")
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib" / "vis-9.1.2"
    js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
    css = (lib / "vis-network.css").read_text(encoding="utf-8")
    # A literal "</script" inside the inlined library would end our <script> element early.
    return js.replace("</script", "<\\/script"), css.replace("</style", "<\\/style")


def _physics_options() -> dict[str, Any]:
    """vis-network physics: settle (Barnes-Hut, as pyvis's ``barnes_hut`` would set it), then stop."""
    return {"enabled": True, "solver": "barnesHut",
            "barnesHut": {"gravitationalConstant": -12000, "centralGravity": 0.25,
                          "springLength": 170, "springConstant": 0.04, "damping": 0.35,
                          "avoidOverlap": 0.4},
            "maxVelocity": 50, "minVelocity": 0.75, "timestep": 0.5,
            "stabilization": {"enabled": True, "iterations": 400, "fit": True}}


class HtmlExporter(Exporter):
    suffix = ".html"

    def __init__(self, out: Path, **kw: Any):
        super().__init__(out, **kw)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: list[dict[str, Any]] = []
        self.citations: dict[str, list[dict]] = kw.get("citations") or {}

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        self.nodes[nid] = node

    def write_edge(self, edge: dict[str, Any]) -> None:
        self.edges.append(edge)

    def _sizes(self, p: Links) -> dict[Any, float]:
        by = self.options.get("size_by") or "importance"
        if by not in SIZE_MEASURES:
            raise UsageError(f"unknown size measure {by!r}; expected one of {', '.join(SIZE_MEASURES)}")
        if by == "importance" or not self.nodes:
            return importance(list(self.nodes), self.edges)
        from .analyze import measure  # (imports networkx: only for the measures it computes)

        return measure(p.projection(), by)

    def finalize(self) -> list[Path]:
        focus_id = self.options.get("focus")
        if focus_id is not None and focus_id not in self.nodes:
            raise UsageError(f"--focus: no entity with id {focus_id!r} in the exported selection")
        n_nodes = len(self.nodes)
        large = n_nodes > LARGE_PAGE
        p = Links(self.nodes, ((e["start"], e["end"]) for e in self.edges))
        pos = layout(p, force=large or focus_id is not None)
        sizes = self._sizes(p)
        top = max(sizes.values(), default=1) or 1

        focus: Optional[list[str]] = None
        if large or focus_id is not None:
            adjacency: dict[str, list[str]] = {}
            for e in self.edges:
                if large and e["type"] in CITATION_TYPES:
                    continue  # citations are off on a large page: focus on what they cite
                adjacency.setdefault(e["start"], []).append(e["end"])
                adjacency.setdefault(e["end"], []).append(e["start"])
            if focus_id is not None:
                focus = focus_set([focus_id], adjacency, sizes)
            else:
                seeds = sorted(self.nodes, key=lambda n: (-sizes.get(n, 0), n))[:FOCUS_SEEDS]
                focus = focus_set(seeds, adjacency, sizes, per_seed=FOCUS_NODES // (2 * FOCUS_SEEDS))

        focus_pos: dict[str, tuple[float, float]] = {}
        if focus:  # the opening view gets a layout of its own: readable, not a slice of the whole
            inside = set(focus)
            focus_pos = focus_layout(Links(focus, (
                (e["start"], e["end"]) for e in self.edges if e["start"] in inside and e["end"] in inside
                and not (large and e["type"] in CITATION_TYPES))))

        nodes_out = []
        kinds: Counter = Counter()
        for nid in sorted(self.nodes):
            node = self.nodes[nid]
            props, kind = node["props"], node["kind"]
            kinds[kind] += 1
            shown, folded = panel_fields(props)
            out: dict[str, Any] = {"id": nid, "label": display_name(props, nid), "kind": kind,
                                   "size": round(1 + 9 * (sizes.get(nid, 0) / top), 3)}
            if pos is not None:
                x, y = pos[nid]
                out["x"], out["y"] = round(x, 1), round(y, 1)
            if nid in focus_pos:
                fx, fy = focus_pos[nid]
                out["fx"], out["fy"] = round(fx, 1), round(fy, 1)
            if shown:
                out["fields"] = shown
            if folded:
                out["more"] = folded
            if props.get("aliases"):
                out["aliases"] = [str(a) for a in props["aliases"]]
            span = date_span(props)
            if span:
                out["span"] = span
            cites = self.citations.get(nid)
            if cites:
                out["sources"] = [self._cite(c) for c in cites]
            nodes_out.append(out)

        classes: Counter = Counter()
        edges_out = []
        # Stable: edges between one pair keep the (deterministic) order they were written in.
        for e in sorted(self.edges, key=lambda e: (e["start"], e["type"], e["end"])):
            cls = edge_class(e)
            classes[cls] += 1
            out = {"from": e["start"], "to": e["end"], "type": e["type"], "c": cls}
            stance = e["props"].get("stance")
            if stance:
                out["stance"] = str(stance)
            elif e["type"] == "DENIED":
                out["stance"] = "denies"
            fields = {k: _shown(k, v, e["props"]) for k, v in sorted(e["props"].items())
                      if k != "stance" and not k.endswith("_precision") and v not in (None, [], "")}
            if fields:
                out["fields"] = fields
            edges_out.append(out)

        interaction = {"hover": True, "tooltipDelay": 150, "navigationButtons": False,
                       "hideEdgesOnDrag": n_nodes > 1000, "hideEdgesOnZoom": n_nodes > 3000,
                       "multiselect": False}
        options: dict[str, Any] = {
            "nodes": {"font": {"size": 12}, "borderWidth": 1,
                      "scaling": {"min": 8, "max": 36, "label": {"enabled": False}}},
            "edges": {"smooth": False if pos is not None else {"type": "continuous"},
                      "color": {"inherit": False}, "selectionWidth": 2,
                      "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}}},
            "interaction": interaction,
            "layout": {"improvedLayout": False, "randomSeed": 7},
            "physics": {"enabled": False} if pos is not None else _physics_options(),
        }
        conf = bool(self.options.get("confidential_included"))
        banner = ("CONTAINS CONFIDENTIAL RECORDS (people at risk): do not share" if conf
                  else "Confidential records redacted")
        present = [k for k in KIND_ORDER if kinds[k]] + sorted(k for k in kinds if k not in KIND_ORDER)
        data = {
            "title": self.title, "banner": banner, "confidential_included": conf,
            "nodes": nodes_out, "edges": edges_out,
            "kinds": [{"kind": k, "color": KIND_STYLE.get(k, KIND_STYLE["entity"])[0],
                       "shape": KIND_STYLE.get(k, KIND_STYLE["entity"])[1], "count": kinds[k]}
                      for k in present],
            "classes": [{"class": c, **EDGE_CLASSES[c], "count": classes[c]}
                        for c in EDGE_CLASSES if classes[c]],
            "large": large, "focus": focus, "focus_id": focus_id,
            "hidden_classes": ["citation"] if large else [],
            "edge_labels": len(self.edges) <= EDGE_LABEL_LIMIT,
            "size_by": self.options.get("size_by") or "importance",
            "options": options,
        }
        js, css = _vis_assets()
        template = resources.files("kg").joinpath("resources/graph.html").read_text(encoding="utf-8")
        parts = {"TITLE": html.escape(self.title), "VIS_CSS": css, "VIS_JS": js,
                 "DATA": _json_for_script(data)}
        # One pass over the template: substituted text is never scanned again.
        page = re.sub(r"@@(TITLE|VIS_CSS|VIS_JS|DATA)@@", lambda m: parts[m.group(1)], template)
        self.out.write_text(page, encoding="utf-8")
        return [self.out]

    def _cite(self, c: dict[str, Any]) -> dict[str, Any]:
        """A citation with the source's link, when the source is in the page and has one."""
        src = self.nodes.get(c.get("source", ""))
        url = src["props"].get("url") if src else None
        return {**c, "url": str(url)} if url else dict(c)
