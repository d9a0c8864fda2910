"""nodes.csv + relationships.csv in the `neo4j-admin database import` format, with the
post-import statements that restore empty lists (Cypher as output)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from .base import ARRAY_DELIMITER, Exporter
from .cypher import _map, cypher_literal


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

    def __init__(self, out: Path, *, part_rows: int | None = None, **kw: Any):
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
        nodes_csv, rels_csv = (
            self.out / f"nodes{suffix}.csv",
            self.out / f"relationships{suffix}.csv",
        )
        self._write(
            nodes_csv,
            ["id:ID", ":LABEL"],
            [
                ([nid, ARRAY_DELIMITER.join(labels)], {k: v for k, v in props.items() if k != "id"})
                for nid, labels, props in self.nodes
            ],
        )
        self._write(
            rels_csv,
            [":START_ID", ":END_ID", ":TYPE"],
            [([e["start"], e["end"], e["type"]], e["props"]) for e in self.edges],
        )
        # neo4j-admin cannot express an empty list (an empty field means "no property"):
        # these statements restore the empty lists after the import.
        for nid, _, props in self.nodes:
            if [] not in props.values():
                continue
            for k, v in sorted(props.items()):
                if isinstance(v, list) and not v:
                    self.post.append(
                        f"MATCH (n:Entity {{id: {cypher_literal(nid)}}}) SET n.`{k}` = [];"
                    )
        for e in self.edges:
            if [] not in e["props"].values():
                continue
            empty = [k for k, v in sorted(e["props"].items()) if isinstance(v, list) and not v]
            if empty:
                match = {k: v for k, v in e["props"].items() if k not in empty}
                sets = ", ".join(f"r.`{k}` = []" for k in empty)
                self.post.append(
                    f"MATCH (a:Entity {{id: {cypher_literal(e['start'])}}})"
                    f"-[r:{e['type']} {_map(match)}]->(b:Entity {{id: {cypher_literal(e['end'])}}}) "
                    f"WHERE {' AND '.join(f'r.`{k}` IS NULL' for k in empty)} SET {sets};"
                )
        self.nodes, self.edges = [], []
        self.files += [nodes_csv, rels_csv]

    def _write(
        self, path: Path, fixed: list[str], rows: list[tuple[list[Any], dict[str, Any]]]
    ) -> None:
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
        lines = [
            "// Run after neo4j-admin import: restores empty list properties, which CSV "
            "cannot express. One statement per line.",
            *self.post,
        ]
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
            "and indexes on its next load.\n",
            encoding="utf-8",
        )
        return [*self.files, post, readme]


def import_args(folder: Path) -> list[str]:
    """neo4j-admin arguments that import a CsvExporter folder into database `neo4j`."""
    # One argument per file: each part carries its own header.
    return [
        "database",
        "import",
        "full",
        "neo4j",
        "--overwrite-destination",
        *(f"--nodes={f}" for f in sorted(folder.glob("nodes*.csv"))),
        *(f"--relationships={f}" for f in sorted(folder.glob("relationships*.csv"))),
        "--array-delimiter=U+001F",
        "--multiline-fields=true",
    ]
