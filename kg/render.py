"""Query results as tables, JSON, JSON lines or CSV.

Nodes, relationships and paths become JSON objects with their labels or type and their
properties; temporal values become ISO 8601 strings.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

import neo4j.graph as g

from .contributions import public


def to_plain(value: Any) -> Any:
    if isinstance(value, g.Node):
        return {"labels": sorted(value.labels), "properties": to_plain(public(dict(value)))}
    if isinstance(value, g.Relationship):
        return {
            "type": value.type,
            "start": _end_id(value.start_node),
            "end": _end_id(value.end_node),
            "properties": to_plain(public(dict(value))),
        }
    if isinstance(value, g.Path):
        return {
            "nodes": [to_plain(n) for n in value.nodes],
            "relationships": [to_plain(r) for r in value.relationships],
        }
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _end_id(node: Any) -> Any:
    if node is None:
        return None
    try:
        return node["id"]
    except (KeyError, TypeError):
        return node.element_id


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "labels" in value and "properties" in value:
        props = value["properties"]
        return f"({props.get('id', '?')}:{':'.join(value['labels'])})"
    if isinstance(value, dict) and "type" in value and "start" in value:
        return f"({value['start']})-[:{value['type']}]->({value['end']})"
    if isinstance(value, dict) and "nodes" in value and "relationships" in value:
        ids = [n["properties"].get("id", "?") for n in value["nodes"]]
        parts = [f"({ids[0]})"] if ids else []
        for rel, nid in zip(value["relationships"], ids[1:]):
            arrow = f"-[:{rel['type']}]->" if rel["end"] == nid else f"<-[:{rel['type']}]-"
            parts.append(f"{arrow}({nid})")
        return "".join(parts)
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def rows_to_plain(keys: Sequence[str], records: Iterable[Any]) -> list[dict[str, Any]]:
    return [{k: to_plain(rec[k]) for k in keys} for rec in records]


def render(keys: Sequence[str], rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt == "csv":  # for spreadsheets: formula-like text cells are neutralized
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(keys)
        for r in rows:
            w.writerow(
                [
                    spreadsheet_safe(v)
                    if isinstance(v, str)
                    else ("" if v is None else _csv_value(v))
                    for v in (r[k] for k in keys)
                ]
            )
        return buf.getvalue()
    return table(keys, [[_cell(r[k]) for k in keys] for r in rows])


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (=HYPERLINK(...) can send data out when the sheet is opened).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`--format csv` results are read in spreadsheets: a text cell that a spreadsheet
    would take for a formula gets a leading apostrophe (shown as text, not evaluated).
    Export files for neo4j-admin import are not passed through this: they stay exact."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def _csv_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def table(headers: Sequence[str], rows: list[list[str]]) -> str:
    if not headers:
        return "(no columns)\n"
    cells = [[str(h) for h in headers]] + [[c.replace("\n", " ") for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"
