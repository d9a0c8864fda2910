"""GraphML for Gephi, yEd, Cytoscape, JGraphT (kg.export.graphfiles: schema-valid, typed)."""

from __future__ import annotations

from pathlib import Path

from .base import _NetworkxExporter


class GraphmlExporter(_NetworkxExporter):
    suffix = ".graphml"

    def finalize(self) -> list[Path]:
        from .graphfiles import write_graphml  # schema-valid GraphML, every edge its own id

        return [write_graphml(self.G, self.out, self.title)]
