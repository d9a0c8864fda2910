"""The HTML page: a self-contained analysis tool (vis-network as bundled with pyvis, inlined).

Python prepares one JSON block (nodes with their display fields, dates and sources; edges
with their class and stance; layout positions where the page is large; the focus set) and
the page's own script (kg/export/page.html) does the rest offline: a relationship-aware
side panel, focus and expand, filters by kind, edge class, stance and dates, search, and the
``window.kg`` API documented in docs/exports.md.

Imports are lazy: igraph and numpy load only when a layout or a measure needs them.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .base import NAME_KEYS, Exporter, _iso, _json_default, display_name
from .layout import (  # noqa: F401
    CITATION_TYPES,
    FOCUS_NODES,
    PHYSICS_LIMIT,
    SPRING_LIMIT,
    Links,
    focus_layout,
    focus_set,
    importance,
    layout,
    radial_layout,
    spring_layout,
)

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
EDGE_LABEL_LIMIT = 2_000  # above this many edges, types show in the panel, not on the canvas
LARGE_PAGE = 500  # above this many nodes the page opens focused, citations off
FOCUS_SEEDS = 8  # a large page opens on this many most important nodes and their neighbours
SIZE_MEASURES = ("importance", "degree", "pagerank", "betweenness")

# Edge classes: each edge has one; the legend toggles them.
EDGE_CLASSES: dict[str, dict[str, Any]] = {
    "denied": {
        "label": "DENIED",
        "title": "a speaker denied an event or claim (DENIED)",
        "color": "#cf222e",
        "width": 3,
        "dashes": True,
    },
    "contesting": {
        "label": "denies / disputes",
        "title": "a statement about something, denying or disputing it (ABOUT)",
        "color": "#fb8500",
        "width": 2,
        "dashes": True,
    },
    "supporting": {
        "label": "asserts / corroborates",
        "title": "a statement about something, asserting or corroborating it (ABOUT)",
        "color": "#2da44e",
        "width": 2,
        "dashes": False,
    },
    "plain": {
        "label": "other",
        "title": "every other relationship: SAID, VIA, INVOLVED_IN, LOCATED_IN, ...",
        "color": "#6e7781",
        "width": 1.5,
        "dashes": False,
    },
    "citation": {
        "label": "citations",
        "title": "REPORTED_BY, PUBLISHED_BY, AUTHORED_BY",
        "color": "#c6cbd1",
        "width": 1,
        "dashes": False,
    },
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

MAIN_FIELDS = (
    "kind",
    "status",
    "date",
    "start",
    "end",
    "published",
    "description",
    "role",
    "reliability",
    "credibility",
    "url",
    "verbatim",
    "language",
    "page",
)


def _at_precision(value: dt.date, precision: str | None) -> str:
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def _precision(key: str, props: dict[str, Any]) -> str | None:
    return props.get(f"{key}_precision") or (
        props.get("date_precision") if key in ("date", "start", "end") else None
    )


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


def _last_day(d: dt.date, precision: str | None) -> dt.date:
    if precision == "year":
        return dt.date(d.year, 12, 31)
    if precision == "month":
        nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return d


def _span_of(d: dt.date, precision: str | None) -> tuple[dt.date, dt.date]:
    first = dt.date(
        d.year,
        1 if precision == "year" else d.month,
        1 if precision in ("year", "month") else d.day,
    )
    return first, _last_day(d, precision)


def date_span(props: dict[str, Any]) -> list[str] | None:
    """[first day, last day] an entity's dates cover, at their precision, or None (undated):
    events and relations by start/end (or date), statements by date, sources by published."""
    start: Any = props.get("start")
    end: Any = props.get("end")
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


# --- the page ----------------------------------------------------------------------------------


def _json_for_script(data: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>' or '&'."""
    import orjson

    text = orjson.dumps(data, default=_json_default).decode("utf-8")  # compact, UTF-8
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


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
    return {
        "enabled": True,
        "solver": "barnesHut",
        "barnesHut": {
            "gravitationalConstant": -12000,
            "centralGravity": 0.25,
            "springLength": 170,
            "springConstant": 0.04,
            "damping": 0.35,
            "avoidOverlap": 0.4,
        },
        "maxVelocity": 50,
        "minVelocity": 0.75,
        "timestep": 0.5,
        "stabilization": {"enabled": True, "iterations": 400, "fit": True},
    }


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
            raise UsageError(
                f"unknown size measure {by!r}; expected one of {', '.join(SIZE_MEASURES)}"
            )
        if by == "importance" or not self.nodes:
            return importance(list(self.nodes), self.edges)
        from ..analyze import measure  # (imports networkx: only for the measures it computes)

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

        focus: list[str] | None = None
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
                focus = focus_set(
                    seeds, adjacency, sizes, per_seed=FOCUS_NODES // (2 * FOCUS_SEEDS)
                )

        focus_pos: dict[str, tuple[float, float]] = {}
        if focus:  # the opening view gets a layout of its own: readable, not a slice of the whole
            inside = set(focus)
            focus_pos = focus_layout(
                Links(
                    focus,
                    (
                        (e["start"], e["end"])
                        for e in self.edges
                        if e["start"] in inside
                        and e["end"] in inside
                        and not (large and e["type"] in CITATION_TYPES)
                    ),
                )
            )

        nodes_out = []
        kinds: Counter = Counter()
        for nid in sorted(self.nodes):
            node = self.nodes[nid]
            props, kind = node["props"], node["kind"]
            kinds[kind] += 1
            shown, folded = panel_fields(props)
            out: dict[str, Any] = {
                "id": nid,
                "label": display_name(props, nid),
                "kind": kind,
                "size": round(1 + 9 * (sizes.get(nid, 0) / top), 3),
            }
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
            fields = {
                k: _shown(k, v, e["props"])
                for k, v in sorted(e["props"].items())
                if k != "stance" and not k.endswith("_precision") and v not in (None, [], "")
            }
            if fields:
                out["fields"] = fields
            edges_out.append(out)

        interaction = {
            "hover": True,
            "tooltipDelay": 150,
            "navigationButtons": False,
            "hideEdgesOnDrag": n_nodes > 1000,
            "hideEdgesOnZoom": n_nodes > 3000,
            "multiselect": False,
        }
        options: dict[str, Any] = {
            "nodes": {
                "font": {"size": 12},
                "borderWidth": 1,
                "scaling": {"min": 8, "max": 36, "label": {"enabled": False}},
            },
            "edges": {
                "smooth": False if pos is not None else {"type": "continuous"},
                "color": {"inherit": False},
                "selectionWidth": 2,
                "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}},
            },
            "interaction": interaction,
            "layout": {"improvedLayout": False, "randomSeed": 7},
            "physics": {"enabled": False} if pos is not None else _physics_options(),
        }
        conf = bool(self.options.get("confidential_included"))
        banner = (
            "CONTAINS CONFIDENTIAL RECORDS (people at risk): do not share"
            if conf
            else "Confidential records redacted"
        )
        present = [k for k in KIND_ORDER if kinds[k]] + sorted(
            k for k in kinds if k not in KIND_ORDER
        )
        data = {
            "title": self.title,
            "banner": banner,
            "confidential_included": conf,
            "nodes": nodes_out,
            "edges": edges_out,
            "kinds": [
                {
                    "kind": k,
                    "color": KIND_STYLE.get(k, KIND_STYLE["entity"])[0],
                    "shape": KIND_STYLE.get(k, KIND_STYLE["entity"])[1],
                    "count": kinds[k],
                }
                for k in present
            ],
            "classes": [
                {"class": c, **EDGE_CLASSES[c], "count": classes[c]}
                for c in EDGE_CLASSES
                if classes[c]
            ],
            "large": large,
            "focus": focus,
            "focus_id": focus_id,
            "hidden_classes": ["citation"] if large else [],
            "edge_labels": len(self.edges) <= EDGE_LABEL_LIMIT,
            "size_by": self.options.get("size_by") or "importance",
            "options": options,
        }
        js, css = _vis_assets()
        template = resources.files("kg.export").joinpath("page.html").read_text(encoding="utf-8")
        parts = {
            "TITLE": html.escape(self.title),
            "VIS_CSS": css,
            "VIS_JS": js,
            "DATA": _json_for_script(data),
        }
        # One pass over the template: substituted text is never scanned again.
        page = re.sub(r"@@(TITLE|VIS_CSS|VIS_JS|DATA)@@", lambda m: parts[m.group(1)], template)
        self.out.write_text(page, encoding="utf-8")
        return [self.out]

    def _cite(self, c: dict[str, Any]) -> dict[str, Any]:
        """A citation with the source's link, when the source is in the page and has one."""
        src = self.nodes.get(c.get("source", ""))
        url = src["props"].get("url") if src else None
        return {**c, "url": str(url)} if url else dict(c)
