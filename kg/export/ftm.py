"""FollowTheMoney entities as JSON lines (see kg.ftm), checked by followthemoney."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Exporter

class FtmExporter(Exporter):
    """FollowTheMoney entities as JSON lines (see kg.ftm), checked by followthemoney."""

    suffix = ".ftm.json"

    def __init__(self, out: Path, **kw: Any):
        super().__init__(out, **kw)
        from ..selection import Subgraph

        self.sub = Subgraph()

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        self.sub.nodes[nid] = node

    def write_edge(self, edge: dict[str, Any]) -> None:
        self.sub.edges.append(edge)

    def finalize(self) -> list[Path]:
        from ..ftm import write_ftm

        return [write_ftm(self.sub, self.out)]
