"""A replayable script of labelled MERGE statements (Cypher as output); its literals."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

from .. import records as R
from ..errors import UsageError
from .base import Exporter, one_line

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
        self.lines.append(
            f"MERGE (n:Entity {{id: {cypher_literal(nid)}}}){label_set} "
            f"SET n = {_map(node['props'])};"
        )

    def write_edge(self, edge: dict[str, Any]) -> None:
        if edge["type"] not in R.ALL_REL_TYPES:
            raise UsageError(f"relationship type {edge['type']!r} is not in kg's schema")
        self.lines.append(
            f"MATCH (a:Entity {{id: {cypher_literal(edge['start'])}}}) "
            f"MATCH (b:Entity {{id: {cypher_literal(edge['end'])}}}) "
            f"MERGE (a)-[r:{edge['type']} {_map(edge['props'])}]->(b);"
        )

    def finalize(self) -> list[Path]:
        self.out.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return [self.out]


def script_statements(text: str) -> list[str]:
    """The statements of a CypherExporter script (one per line, comments skipped)."""
    return [ln[:-1] for ln in text.splitlines() if ln.strip() and not ln.startswith("//")]
