"""Exports of a selection: one exporter class per format, one module each, each with
write_node / write_edge / finalize; ``export`` is the one path every command takes.

- ``html``    a self-contained interactive page (html.py, its page template page.html)
- ``graphml`` / ``gexf``  for Gephi, yEd, Cytoscape, JGraphT (graphfiles.py: schema-valid, typed)
- ``json``    networkx node-link JSON (D3 and others)
- ``csv``     nodes.csv + relationships.csv in the ``neo4j-admin database import`` format
- ``cypher``  a replayable script of labelled MERGE statements
- ``ftm``     FollowTheMoney entities (kg.ftm)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..contributions import public
from ..errors import UsageError
from ..selection import Subgraph
from .base import ARRAY_DELIMITER, FORMATS, NAME_KEYS, Exporter, display_name, one_line
from .csv import CsvExporter, import_args
from .cypher import CypherExporter, cypher_literal, script_statements
from .ftm import FtmExporter
from .gexf import GexfExporter
from .graphml import GraphmlExporter
from .json import JsonExporter

__all__ = [
    "ARRAY_DELIMITER",
    "EXPORTERS",
    "FORMATS",
    "NAME_KEYS",
    "CsvExporter",
    "CypherExporter",
    "Exporter",
    "FtmExporter",
    "GexfExporter",
    "GraphmlExporter",
    "JsonExporter",
    "cypher_literal",
    "display_name",
    "export",
    "import_args",
    "one_line",
    "script_statements",
]

EXPORTERS = {
    "ftm": FtmExporter,
    "graphml": GraphmlExporter,
    "gexf": GexfExporter,
    "json": JsonExporter,
    "csv": CsvExporter,
    "cypher": CypherExporter,
}


def export(sub: Subgraph, fmt: str, out: Path, **options: Any) -> list[Path]:
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    from ..safeio import atomic_dir, atomic_path, require_free

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
    with (
        atomic_dir(out, private=private) if fmt == "csv" else atomic_path(out, private=private)
    ) as tmp:
        cls: Any
        if fmt == "html":
            from .html import HtmlExporter

            cls = HtmlExporter
        else:
            cls = EXPORTERS[fmt]
        exporter = cls(
            tmp, citations=sub.citations, confidential_included=not sub.redacted, **options
        )
        for nid, node in sub.sorted_nodes():
            exporter.write_node(nid, node if internal else {**node, "props": public(node["props"])})
        for edge in sub.sorted_edges():
            exporter.write_edge(edge if internal else {**edge, "props": public(edge["props"])})
        written = exporter.finalize()
    if fmt == "csv":
        return [out / Path(p).name for p in written]
    return [out if Path(p) == tmp else Path(p) for p in written]
