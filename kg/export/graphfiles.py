"""GraphML and GEXF 1.3 files that Gephi, yEd, Cytoscape and JGraphT read whole.

Both writers take the exporter's networkx MultiDiGraph (node attributes ``label``, ``entity``,
``labels`` and the node's properties; edge attributes ``type``, ``label`` and the
relationship's properties) and write XML themselves, so that:

- **GraphML** is valid against the GraphML 1.0 schema: every edge has its own id (``e0``,
  ``e1``, ...), key ids are distinct per domain (``n0``.. for nodes, ``e0``.. for edges; the
  property name is the key's ``attr.name``); the title is the document's ``<desc>``. Every
  relationship is one ``<edge>``, parallel ones included (Gephi keeps them when "don't merge
  parallel edges" is picked at import; its default merges edges with the same ends).
- **GEXF 1.3** carries the relationship type as the edge ``kind`` (and ``label``); Gephi
  keeps edges of different kinds between the same two nodes. Relationships with the same
  start, type and end are written as one edge, because Gephi's default import would merge
  them anyway: its ``weight`` is the number of relationships, its ``relationships``
  attribute the same count, and a property whose values differ between them holds a JSON
  list with one item per relationship (``null`` where one has none), in the same order
  for every property of that edge, so the relationships can be told apart and rebuilt.

Text XML 1.0 cannot carry (C0 control characters other than tab, LF and CR; U+FFFE, U+FFFF
and unpaired surrogates) is written as the visible Unicode "control picture" of the
character: U+000C (form feed) becomes U+240C (␌), U+000B (vertical tab) U+240B (␋), and so
on (U+2400 + the code); U+FFFE/U+FFFF and surrogates become U+FFFD. The files stay readable
by every XML parser; ``xml_safe`` is the rule.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _picture(m: re.Match) -> str:
    c = ord(m.group())
    return chr(0x2400 + c) if c < 0x20 else "\ufffd"


def xml_safe(text: str) -> str:
    """The documented rule for characters XML 1.0 cannot carry (see the module docstring)."""
    return _NOT_XML.sub(_picture, text)


def _text(value: str) -> str:
    """Element content: escaped, CR as a character reference (parsers turn literal CR to LF)."""
    return (
        xml_safe(value)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def _attr(value: str) -> str:
    """Attribute value: escaped, and tab/LF/CR as references (parsers turn them into spaces)."""
    return _text(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")


def _iso(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    return v


def _kind(values: Iterable[Any]) -> str:
    """One type per attribute name (both formats need that): bool, int, float or str."""
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {bool}:
        return "bool"
    if kinds and kinds <= {int}:
        return "int"
    if kinds and kinds <= {int, float}:
        return "float"
    return "str"


def _flat(value: Any, kind: str) -> str:
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        f = float(value)
        return (
            "NaN" if math.isnan(f) else ("INF" if f > 0 else "-INF") if math.isinf(f) else repr(f)
        )
    if isinstance(value, list):
        return "; ".join(str(_iso(v)) for v in value)
    return str(_iso(value))


def _columns(items: list[dict[str, Any]], skip: tuple = ()) -> list[tuple[str, str]]:
    """(name, kind) for every attribute name, in first-seen order."""
    values: dict[str, list[Any]] = defaultdict(list)
    for attrs in items:
        for k, v in attrs.items():
            if k not in skip and v is not None:
                values[k].append(v)
    return [(k, _kind(v)) for k, v in values.items()]


# --- GraphML ------------------------------------------------------------------------------

_GRAPHML_TYPES = {"bool": "boolean", "int": "long", "float": "double", "str": "string"}


def write_graphml(G: nx.MultiDiGraph, out: Path, title: str) -> Path:
    nodes = list(G.nodes(data=True))
    edges = list(G.edges(keys=True, data=True))
    ncols = _columns([a for _, a in nodes])
    ecols = _columns([a for _, _, _, a in edges])
    nkey = {name: f"n{i}" for i, (name, _) in enumerate(ncols)}
    ekey = {name: f"e{i}" for i, (name, _) in enumerate(ecols)}
    nkind, ekind = dict(ncols), dict(ecols)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        w = f.write
        w(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
        )
        w(f"  <desc>{_text(title)}</desc>\n")
        for domain, cols, ids in (("node", ncols, nkey), ("edge", ecols, ekey)):
            for name, kind in cols:
                w(
                    f'  <key id="{ids[name]}" for="{domain}" attr.name="{_attr(name)}" '
                    f'attr.type="{_GRAPHML_TYPES[kind]}"/>\n'
                )
        w('  <graph id="G" edgedefault="directed">\n')
        for nid, attrs in nodes:
            w(f'    <node id="{_attr(str(nid))}">')
            _graphml_data(w, attrs, nkey, nkind)
            w("</node>\n")
        for i, (a, b, _, attrs) in enumerate(edges):
            w(f'    <edge id="e{i}" source="{_attr(str(a))}" target="{_attr(str(b))}">')
            _graphml_data(w, attrs, ekey, ekind)
            w("</edge>\n")
        w("  </graph>\n</graphml>\n")
    return out


def _graphml_data(
    w: Any, attrs: dict[str, Any], keys: dict[str, str], kinds: dict[str, str]
) -> None:
    for k, v in attrs.items():
        if v is not None and k in keys:
            w(f'<data key="{keys[k]}">{_text(_flat(v, kinds[k]))}</data>')


# --- GEXF 1.3 -----------------------------------------------------------------------------

_GEXF_TYPES = {"bool": "boolean", "int": "long", "float": "double", "str": "string"}


def _json_item(v: Any) -> Any:
    v = _iso(v)
    if isinstance(v, list):
        return [_json_item(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def merged_edges(G: nx.MultiDiGraph) -> list[tuple[str, str, str, int, dict[str, Any]]]:
    """(start, type, end, count, attributes) for each group of relationships with the same
    start, type and end, as the GEXF file carries them (see the module docstring)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for a, b, _, attrs in G.edges(keys=True, data=True):
        groups.setdefault((a, attrs.get("type", ""), b), []).append(attrs)
    out = []
    for (a, t, b), rels in groups.items():
        names: list[str] = []
        for r in rels:
            names.extend(k for k in r if k not in names and k not in ("type", "label"))
        merged: dict[str, Any] = {}
        for k in names:
            vals = [r.get(k) for r in rels]
            if len(rels) == 1 or all(v == vals[0] for v in vals):
                merged[k] = vals[0]
            else:
                merged[k] = json.dumps(
                    [_json_item(v) for v in vals], ensure_ascii=False, sort_keys=True
                )
        out.append((a, t, b, len(rels), {"relationships": len(rels), **merged}))
    return out


def write_gexf(G: nx.MultiDiGraph, out: Path, title: str) -> Path:
    nodes = list(G.nodes(data=True))
    edges = merged_edges(G)
    ncols = _columns([a for _, a in nodes], skip=("label",))
    ecols = _columns([a for *_, a in edges])
    nid_of = {name: str(i) for i, (name, _) in enumerate(ncols)}
    eid_of = {name: str(i) for i, (name, _) in enumerate(ecols)}
    nkind, ekind = dict(ncols), dict(ecols)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        w = f.write
        w(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n'
            f"  <meta>\n    <creator>kg</creator>\n    <description>{_text(title)}</description>\n"
            "  </meta>\n"
            '  <graph defaultedgetype="directed">\n'
        )
        for cls, cols, ids in (("node", ncols, nid_of), ("edge", ecols, eid_of)):
            w(f'    <attributes class="{cls}">\n')
            for name, kind in cols:
                w(
                    f'      <attribute id="{ids[name]}" title="{_attr(name)}" type="{_GEXF_TYPES[kind]}"/>\n'
                )
            w("    </attributes>\n")
        w(f'    <nodes count="{len(nodes)}">\n')
        for nid, attrs in nodes:
            label = attrs.get("label")
            w(
                f'      <node id="{_attr(str(nid))}" label="{_attr(str(nid if label is None else label))}">'
            )
            _gexf_values(w, attrs, nid_of, nkind)
            w("</node>\n")
        w("    </nodes>\n")
        w(f'    <edges count="{len(edges)}">\n')
        for i, (a, t, b, n, attrs) in enumerate(edges):
            w(
                f'      <edge id="{i}" source="{_attr(str(a))}" target="{_attr(str(b))}" '
                f'kind="{_attr(t)}" label="{_attr(t)}" weight="{n}">'
            )
            _gexf_values(w, attrs, eid_of, ekind)
            w("</edge>\n")
        w("    </edges>\n  </graph>\n</gexf>\n")
    return out


def _gexf_values(w: Any, attrs: dict[str, Any], ids: dict[str, str], kinds: dict[str, str]) -> None:
    items = [(ids[k], _flat(v, kinds[k])) for k, v in attrs.items() if v is not None and k in ids]
    if items:
        w(
            "<attvalues>"
            + "".join(f'<attvalue for="{i}" value="{_attr(v)}"/>' for i, v in items)
            + "</attvalues>"
        )
