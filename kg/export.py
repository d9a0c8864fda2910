"""Exports of a selection: one exporter class per format, each with write_node / write_edge /
finalize.

- ``html``    a self-contained interactive page (vis-network as bundled with pyvis, inlined)
- ``graphml`` / ``gexf``  for Gephi, yEd, Cytoscape, JGraphT (kg.graphfiles: schema-valid, typed)
- ``json``    networkx node-link JSON (D3 and others)
- ``csv``     nodes.csv + relationships.csv in the ``neo4j-admin database import`` format
- ``cypher``  a replayable script of labelled MERGE statements
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import math
import re
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from .analyze import Projection

import networkx as nx
import numpy as np
import orjson

from . import records as R
from .contributions import public
from .errors import UsageError
from .selection import Subgraph

FORMATS = ("html", "graphml", "gexf", "json", "csv", "cypher", "ftm")
ARRAY_DELIMITER = "\x1f"   # unit separator: never in curated text; `--array-delimiter=U+001F`
NAME_KEYS = ("name", "title", "text")


def display_name(props: dict[str, Any], fallback: str) -> str:
    for k in NAME_KEYS:
        if props.get(k):
            return str(props[k])
    return fallback


def _iso(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return [_iso(x) for x in v]
    return v


class Exporter:
    suffix = ""

    def __init__(self, out: Path, *, title: str = "kg graph", **options: Any):
        self.out = Path(out)
        self.title = title
        self.options = options

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        raise NotImplementedError

    def write_edge(self, edge: dict[str, Any]) -> None:
        raise NotImplementedError

    def finalize(self) -> list[Path]:
        raise NotImplementedError


# --- networkx-based formats ----------------------------------------------------------------

class _NetworkxExporter(Exporter):
    def __init__(self, out: Path, **kw: Any):
        super().__init__(out, **kw)
        self.G = nx.MultiDiGraph(name=self.title)
        self.keys: Counter = Counter()

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        attrs = {"label": display_name(node["props"], nid), "entity": node["kind"],
                 "labels": ";".join(node["labels"])}
        attrs.update({k: v for k, v in node["props"].items() if k not in ("id",)})
        self.G.add_node(nid, **attrs)

    def write_edge(self, edge: dict[str, Any]) -> None:
        key = f"{edge['type']}:{self.keys[(edge['start'], edge['end'], edge['type'])]}"
        self.keys[(edge["start"], edge["end"], edge["type"])] += 1
        self.G.add_edge(edge["start"], edge["end"], key=key, type=edge["type"], label=edge["type"],
                        **edge["props"])


class GraphmlExporter(_NetworkxExporter):
    suffix = ".graphml"

    def finalize(self) -> list[Path]:
        from .graphfiles import write_graphml   # schema-valid GraphML, every edge its own id

        return [write_graphml(self.G, self.out, self.title)]


class GexfExporter(_NetworkxExporter):
    suffix = ".gexf"

    def finalize(self) -> list[Path]:
        from .graphfiles import write_gexf   # GEXF 1.3, the relationship type as edge kind

        return [write_gexf(self.G, self.out, self.title)]


class JsonExporter(_NetworkxExporter):
    suffix = ".json"

    def finalize(self) -> list[Path]:
        data = nx.node_link_data(self.G, edges="links")
        text = json.dumps(data, default=_json_default, ensure_ascii=False, indent=1, sort_keys=True)
        self.out.write_text(text + "\n", encoding="utf-8")
        return [self.out]


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- neo4j-admin import CSV --------------------------------------------------------------------

def _csv_type(values: list[Any]) -> str:
    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, list) for v in vals):
        inner = [x for v in vals for x in v]
        base = _csv_type(inner) if inner else "string"
        return f"{base}[]"
    return _csv_kind({type(v) for v in vals})


def _column_types(rows: list[tuple[list[Any], dict[str, Any]]]) -> dict[str, str]:
    """{property: its CSV type} over all rows; what ``_csv_type`` says of each column, found
    in one pass over the rows instead of one pass per column."""
    seen: dict[str, set] = {}
    inner: dict[str, set] = {}
    for _, props in rows:
        for k, v in props.items():
            t = type(v)
            kinds = seen.get(k)
            if kinds is None:
                kinds = seen[k] = set()
            kinds.add(t)
            if t is list and v:
                into = inner.get(k)
                if into is None:
                    into = inner[k] = set()
                into.update(map(type, v))
    out: dict[str, str] = {}
    for k, kinds in seen.items():
        kinds = kinds - {type(None)}
        if kinds == {list}:
            items = inner.get(k, set())
            if list in items or type(None) in items:  # unusual: the column, the slow way
                out[k] = _csv_type([p.get(k) for _, p in rows])
            else:
                out[k] = (_csv_kind(items) if items else "string") + "[]"
        else:
            out[k] = _csv_kind(kinds)
    return out


def _csv_kind(kinds: set) -> str:
    if kinds <= {bool}:
        return "boolean"
    if kinds <= {int}:
        return "long"
    if kinds <= {int, float}:
        return "double"
    if kinds <= {dt.date}:
        return "date"
    return "string"


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind.endswith("[]"):
        return ARRAY_DELIMITER.join(_csv_value(v, kind[:-2]) for v in value)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "date":
        return value.isoformat()
    if kind == "double":
        return repr(float(value))
    return str(value)


class CsvExporter(Exporter):
    """nodes.csv and relationships.csv for `neo4j-admin database import full`."""

    def __init__(self, out: Path, *, part_rows: Optional[int] = None, **kw: Any):
        """With ``part_rows``, rows are written as they come, in numbered parts of that many
        rows (nodes-00001.csv, ...; each with its own header), so memory stays flat."""
        super().__init__(out, **kw)
        self.nodes: list[tuple[str, list[str], dict[str, Any]]] = []
        self.edges: list[dict[str, Any]] = []
        self.part_rows = part_rows
        self.parts = 0
        self.post: list[str] = []
        self.files: list[Path] = []

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        self.nodes.append((nid, node["labels"], node["props"]))
        if self.part_rows and len(self.nodes) + len(self.edges) >= self.part_rows:
            self._flush()

    def write_edge(self, edge: dict[str, Any]) -> None:
        self.edges.append(edge)
        if self.part_rows and len(self.nodes) + len(self.edges) >= self.part_rows:
            self._flush()

    def _flush(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.parts += 1
        suffix = f"-{self.parts:05d}" if self.part_rows else ""
        nodes_csv, rels_csv = self.out / f"nodes{suffix}.csv", self.out / f"relationships{suffix}.csv"
        self._write(nodes_csv, ["id:ID", ":LABEL"],
                    [([nid, ARRAY_DELIMITER.join(labels)], {k: v for k, v in props.items() if k != "id"})
                     for nid, labels, props in self.nodes])
        self._write(rels_csv, [":START_ID", ":END_ID", ":TYPE"],
                    [([e["start"], e["end"], e["type"]], e["props"]) for e in self.edges])
        # neo4j-admin cannot express an empty list (an empty field means "no property"):
        # these statements restore the empty lists after the import.
        for nid, _, props in self.nodes:
            if [] not in props.values():
                continue
            for k, v in sorted(props.items()):
                if isinstance(v, list) and not v:
                    self.post.append(f"MATCH (n:Entity {{id: {cypher_literal(nid)}}}) SET n.`{k}` = [];")
        for e in self.edges:
            if [] not in e["props"].values():
                continue
            empty = [k for k, v in sorted(e["props"].items()) if isinstance(v, list) and not v]
            if empty:
                match = {k: v for k, v in e["props"].items() if k not in empty}
                sets = ", ".join(f"r.`{k}` = []" for k in empty)
                self.post.append(f"MATCH (a:Entity {{id: {cypher_literal(e['start'])}}})"
                                 f"-[r:{e['type']} {_map(match)}]->(b:Entity {{id: {cypher_literal(e['end'])}}}) "
                                 f"WHERE {' AND '.join(f'r.`{k}` IS NULL' for k in empty)} SET {sets};")
        self.nodes, self.edges = [], []
        self.files += [nodes_csv, rels_csv]

    def _write(self, path: Path, fixed: list[str], rows: list[tuple[list[Any], dict[str, Any]]]) -> None:
        types = _column_types(rows)
        names = sorted(types)
        at = {k: i for i, k in enumerate(names)}
        kinds = [types[k] for k in names]
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(fixed + [f"{k}:{types[k]}" for k in names])
            lead_n = len(fixed)
            for lead, props in rows:
                out = list(lead) + [None] * len(names)
                for k, v in props.items():
                    if v is None:
                        continue
                    i = at[k]
                    if type(v) is list and not v:
                        out[lead_n + i] = ""  # an empty list: an empty value (see post-import)
                    elif type(v) is str and kinds[i] == "string":
                        out[lead_n + i] = v
                    else:
                        out[lead_n + i] = _csv_value(v, kinds[i])
                w.writerow(out)

    def finalize(self) -> list[Path]:
        if self.nodes or self.edges or not self.parts:
            self._flush()
        post = self.out / "post-import.cypher"
        lines = ["// Run after neo4j-admin import: restores empty list properties, which CSV "
                 "cannot express. One statement per line.", *self.post]
        post.write_text("\n".join(lines) + "\n", encoding="utf-8")
        readme = self.out / "IMPORT.txt"
        readme.write_text(
            "Import into an empty Neo4j 5 database (the server stopped):\n\n"
            "  neo4j-admin database import full neo4j --overwrite-destination \\\n"
            "    --nodes=nodes.csv --relationships=relationships.csv \\\n"
            "    --array-delimiter=U+001F --multiline-fields=true\n\n"
            "Array values are separated by U+001F (unit separator). Then start the server\n"
            "and run post-import.cypher (e.g. cypher-shell -f post-import.cypher): it\n"
            "restores empty lists, which CSV cannot express. kg applies its constraints\n"
            "and indexes on its next load.\n", encoding="utf-8")
        return [*self.files, post, readme]


def import_args(folder: Path) -> list[str]:
    """neo4j-admin arguments that import a CsvExporter folder into database `neo4j`."""
    # One argument per file: each part carries its own header.
    return ["database", "import", "full", "neo4j", "--overwrite-destination",
            *(f"--nodes={f}" for f in sorted(folder.glob("nodes*.csv"))),
            *(f"--relationships={f}" for f in sorted(folder.glob("relationships*.csv"))),
            "--array-delimiter=U+001F", "--multiline-fields=true"]


# --- Cypher script ---------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def cypher_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise UsageError("cannot write NaN or infinity to a Cypher script")
        return repr(value)
    if isinstance(value, dt.date):
        return f"date('{value.isoformat()}')"
    if isinstance(value, list):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    text = str(value)
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def _map(props: dict[str, Any]) -> str:
    items = []
    for k in sorted(props):
        if props[k] is None:
            continue
        key = k if _IDENT.match(k) else "`" + k.replace("`", "``") + "`"
        items.append(f"{key}: {cypher_literal(props[k])}")
    return "{" + ", ".join(items) + "}"


class CypherExporter(Exporter):
    suffix = ".cypher"

    def __init__(self, out: Path, **kw: Any):
        super().__init__(out, **kw)
        self.lines = [
            f"// {one_line(self.title)}: a kg export. Each line is one statement; replay them in order",
            "// (e.g. cypher-shell -f FILE) into an empty database to rebuild the selection.",
            "CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;",
        ]

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        labels = [lb for lb in node["labels"] if lb in R.KIND_OF_LABEL]
        label_set = "".join(f" SET n:{lb}" for lb in labels)  # labels come only from the schema
        self.lines.append(f"MERGE (n:Entity {{id: {cypher_literal(nid)}}}){label_set} "
                          f"SET n = {_map(node['props'])};")

    def write_edge(self, edge: dict[str, Any]) -> None:
        if edge["type"] not in R.ALL_REL_TYPES:
            raise UsageError(f"relationship type {edge['type']!r} is not in kg's schema")
        self.lines.append(f"MATCH (a:Entity {{id: {cypher_literal(edge['start'])}}}) "
                          f"MATCH (b:Entity {{id: {cypher_literal(edge['end'])}}}) "
                          f"MERGE (a)-[r:{edge['type']} {_map(edge['props'])}]->(b);")

    def finalize(self) -> list[Path]:
        self.out.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return [self.out]


def script_statements(text: str) -> list[str]:
    """The statements of a CypherExporter script (one per line, comments skipped)."""
    return [ln[:-1] for ln in text.splitlines() if ln.strip() and not ln.startswith("//")]


# --- HTML ------------------------------------------------------------------------------------

KIND_STYLE = {
    "person": ("#e07a5f", "dot"),
    "organization": ("#3d85c6", "square"),
    "location": ("#81b29a", "triangle"),
    "event": ("#f2cc8f", "diamond"),
    "statement": ("#9b72cf", "triangleDown"),
    "source": ("#9aa0a6", "hexagon"),
    "entity": ("#cccccc", "dot"),
}
CONTESTING = ("denies", "disputes")
SUPPORTING = ("asserts", "corroborates")
PHYSICS_LIMIT = 300        # above this, positions are computed in Python and physics is off
SPRING_LIMIT = 1_500       # above this, a linear-time radial layout replaces the spring layout
EDGE_LABEL_LIMIT = 2_000   # above this many edges, types show in the panel, not on the canvas


def _shown(key: str, value: Any, props: dict[str, Any]) -> Any:
    """A field as the panel shows it: dates at their precision (2017, 2017-04, 2017-04-01)."""
    if not isinstance(value, (dt.date, list)):
        return value
    precision = props.get(f"{key}_precision") or (
        props.get("date_precision") if key in ("date", "start", "end") else None)
    if isinstance(value, dt.date) and precision in ("year", "month"):
        return str(value.year) if precision == "year" else f"{value.year:04d}-{value.month:02d}"
    return _iso(value)


EDGE_STYLES: dict[str, dict[str, Any]] = {
    "denied": {"color": {"color": "#cf222e"}, "width": 3, "dashes": True},
    "contesting": {"color": {"color": "#fb8500"}, "width": 2, "dashes": True},
    "supporting": {"color": {"color": "#2da44e"}, "width": 2},
    "citation": {"color": {"color": "#c6cbd1"}, "width": 1},
    "plain": {"color": {"color": "#6e7781"}, "width": 1.5},
}


EDGE_LEGEND = {"denied": "DENIED", "contesting": "denies / disputes",
               "supporting": "asserts / corroborates"}  # the styles the legend explains


def _edge_style_name(edge: dict[str, Any]) -> str:
    t = edge["type"]
    if t == "DENIED":
        return "denied"
    if t == "ABOUT":
        stance = edge["props"].get("stance")
        if stance in CONTESTING:
            return "contesting"
        if stance in SUPPORTING:
            return "supporting"
    if t in ("REPORTED_BY", "PUBLISHED_BY", "AUTHORED_BY"):
        return "citation"
    return "plain"


def radial_layout(p: "Projection") -> dict[Any, tuple[float, float]]:
    """Linear time: each component in BFS rings around its best-connected node, components
    placed on a grid. Deterministic (node ids are sorted, so index order is id order)."""
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


def layout(p: "Projection") -> Optional[dict[Any, tuple[float, float]]]:
    n = len(p.nodes)
    if n <= PHYSICS_LIMIT:
        return None
    if n <= SPRING_LIMIT:
        return spring_layout(p)
    return radial_layout(p)


def spring_layout(p: "Projection") -> dict[Any, tuple[float, float]]:
    """Fruchterman-Reingold on igraph's C core, seeded (the same page every time), scaled
    to about 60 px times the square root of the node count across."""
    import random

    import igraph as ig

    ig.set_random_number_generator(random.Random(7))
    try:
        xy = np.array(p.graph.layout_fruchterman_reingold(niter=500).coords, dtype=float)
    finally:
        ig.set_random_number_generator(random)
    xy -= xy.mean(axis=0)
    span = float(np.abs(xy).max()) or 1.0
    xy *= 60 * math.sqrt(len(p.nodes)) / span
    return {k: (float(x), float(y)) for k, (x, y) in zip(p.nodes, xy.tolist())}


def _json_for_script(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>' or '&'."""
    text = orjson.dumps(data, default=_json_default).decode("utf-8")  # compact, UTF-8
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _vis_assets() -> tuple[str, str]:
    import pyvis

    lib = Path(pyvis.__file__).resolve().parent / "lib" / "vis-9.1.2"
    js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
    css = (lib / "vis-network.css").read_text(encoding="utf-8")
    # A literal "</script" inside the inlined library would end our <script> element early.
    return js.replace("</script", "<\\/script"), css.replace("</style", "<\\/style")


def _physics_options() -> dict[str, Any]:
    """vis-network physics through pyvis's own option model: settle, then stop."""
    from pyvis.network import Network

    net = Network(directed=True)
    net.barnes_hut(gravity=-8000, central_gravity=0.3, spring_length=130, spring_strength=0.04,
                   damping=0.35, overlap=0.1)
    physics = json.loads(net.options.to_json())["physics"]
    physics["stabilization"] = {"enabled": True, "iterations": 400, "fit": True}
    physics["enabled"] = True
    return physics


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

    def _sizes(self, p: "Projection") -> dict[Any, float]:
        from .analyze import measure

        by = self.options.get("size_by") or "degree"
        return measure(p, by) if self.nodes else {}

    def finalize(self) -> list[Path]:
        from .analyze import Projection

        p = Projection(self.nodes, ((e["start"], e["end"]) for e in self.edges))
        pos = layout(p)
        sizes = self._sizes(p)
        top = max(sizes.values(), default=1) or 1
        nodes_out = []
        kinds = Counter()
        for nid in sorted(self.nodes):
            node = self.nodes[nid]
            props, kind = node["props"], node["kind"]
            kinds[kind] += 1
            color, shape = KIND_STYLE.get(kind, KIND_STYLE["entity"])
            label = display_name(props, nid)
            short = label if len(label) <= 40 else label[:37] + "…"
            vis: dict[str, Any] = {"label": short, "shape": shape, "color": color,
                                   "value": round(1 + 9 * (sizes.get(nid, 0) / top), 4)}
            if pos is not None:
                x, y = pos[nid]
                vis["x"], vis["y"] = round(x, 2), round(y, 2)
            fields = {k: _shown(k, v, props) for k, v in sorted(props.items())
                      if k not in ("id",) + NAME_KEYS and v not in (None, [], "")}
            nodes_out.append({"id": nid, "label": label, "kind": kind, "vis": vis, "fields": fields,
                              "aliases": props.get("aliases") or [],
                              "sources": self.citations.get(nid, [])})
        show_labels = len(self.edges) <= EDGE_LABEL_LIMIT
        edges_out = []
        styles: list[dict[str, Any]] = []   # edge styles, shared: each edge names one by index
        style_index: dict[str, int] = {}
        etypes: dict[str, dict[str, Any]] = {}
        # Stable: edges between one pair keep the (deterministic) order they were written in.
        for e in sorted(self.edges, key=lambda e: (e["start"], e["type"], e["end"])):
            sname = _edge_style_name(e)
            style = EDGE_STYLES[sname]
            si = style_index.get(sname)
            if si is None:
                si = style_index[sname] = len(styles)
                styles.append({"arrows": "to", **style})
            out = {"from": e["start"], "to": e["end"], "type": e["type"], "s": si,
                   "fields": {k: _iso(v) for k, v in sorted(e["props"].items())} if e["props"] else {}}
            if show_labels:
                stance = e["props"].get("stance")
                out["label"] = e["type"] + (f": {stance}" if e["type"] == "ABOUT" and stance else "")
            edges_out.append(out)
            key = EDGE_LEGEND.get(sname)
            if key:
                etypes[key] = {"label": key, "color": style["color"]["color"],
                               "dashes": bool(style.get("dashes"))}
        options: dict[str, Any] = {
            "nodes": {"font": {"size": 12}, "borderWidth": 1,
                      "scaling": {"min": 8, "max": 36, "label": {"enabled": False}}},
            "edges": {"smooth": False if pos is not None else {"type": "continuous"},
                      "color": {"inherit": False}, "selectionWidth": 2},
            "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": len(p.nodes) > 1000,
                            "hideEdgesOnZoom": len(p.nodes) > 3000, "navigationButtons": False},
            "layout": {"improvedLayout": False, "randomSeed": 7},
            "physics": {"enabled": False} if pos is not None else _physics_options(),
        }
        conf = bool(self.options.get("confidential_included"))
        banner = ("CONTAINS CONFIDENTIAL RECORDS (people at risk): do not share" if conf
                  else "Confidential records redacted")
        data = {"title": self.title, "banner": banner, "confidential_included": conf,
                "nodes": nodes_out, "edges": edges_out, "edge_styles": styles,
                "edge_font": {"size": 9, "align": "middle", "color": "#57606a"}, "options": options,
                "legend": {"kinds": [{"label": k, "color": KIND_STYLE.get(k, KIND_STYLE["entity"])[0],
                                      "count": kinds[k]} for k in sorted(kinds)],
                           "edges": [etypes[k] for k in sorted(etypes)]}}
        js, css = _vis_assets()
        template = resources.files("kg").joinpath("resources/graph.html").read_text(encoding="utf-8")
        parts = {"TITLE": html.escape(self.title), "VIS_CSS": css, "VIS_JS": js,
                 "DATA": _json_for_script(data)}
        # One pass over the template: substituted text is never scanned again.
        page = re.sub(r"@@(TITLE|VIS_CSS|VIS_JS|DATA)@@", lambda m: parts[m.group(1)], template)
        self.out.write_text(page, encoding="utf-8")
        return [self.out]


class FtmExporter(Exporter):
    """FollowTheMoney entities as JSON lines (see kg.ftm), checked by followthemoney."""

    suffix = ".ftm.json"

    def __init__(self, out: Path, **kw: Any):
        super().__init__(out, **kw)
        from .selection import Subgraph

        self.sub = Subgraph()

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        self.sub.nodes[nid] = node

    def write_edge(self, edge: dict[str, Any]) -> None:
        self.sub.edges.append(edge)

    def finalize(self) -> list[Path]:
        from .ftm import write_ftm

        return [write_ftm(self.sub, self.out)]


EXPORTERS = {"ftm": FtmExporter, "html": HtmlExporter, "graphml": GraphmlExporter, "gexf": GexfExporter,
             "json": JsonExporter, "csv": CsvExporter, "cypher": CypherExporter}


def export(sub: Subgraph, fmt: str, out: Path, **options: Any) -> list[Path]:
    if fmt not in EXPORTERS:
        raise UsageError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    from .safeio import atomic_dir, atomic_path, require_free

    out = Path(out)
    if "title" in options and options["title"] is not None:
        # A title is one line: a line break in it could start a statement in a script export.
        options["title"] = one_line(str(options["title"]))
    # Written to a temporary file (folder for csv) beside the target and renamed when
    # complete: a failed export leaves the previous file as it was. 0600 when confidential
    # records are included.
    private = not sub.redacted
    folder = out if fmt == "csv" else out.parent
    require_free(folder, 2048 * len(sub.nodes) + 512 * len(sub.edges), f"the {fmt} export")
    # kg's own bookkeeping (per-case records, conflicts) goes only into the formats that
    # rebuild a kg database (redaction has removed it from confidential records).
    internal = fmt in ("csv", "cypher")
    with (atomic_dir(out, private=private) if fmt == "csv"
          else atomic_path(out, private=private)) as tmp:
        exporter = EXPORTERS[fmt](tmp, citations=sub.citations,
                                  confidential_included=not sub.redacted, **options)
        for nid, node in sub.sorted_nodes():
            exporter.write_node(nid, node if internal else {**node, "props": public(node["props"])})
        for edge in sub.sorted_edges():
            exporter.write_edge(edge if internal else {**edge, "props": public(edge["props"])})
        written = exporter.finalize()
    if fmt == "csv":
        return [out / Path(p).name for p in written]
    return [out if Path(p) == tmp else Path(p) for p in written]


def one_line(text: str) -> str:
    """Text with every line break and control character turned into a space."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())
