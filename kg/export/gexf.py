"""GEXF 1.3 for Gephi: the relationship type as edge kind."""

from __future__ import annotations

from pathlib import Path

from .base import _NetworkxExporter


class GexfExporter(_NetworkxExporter):
    suffix = ".gexf"

    def finalize(self) -> list[Path]:
        from .graphfiles import write_gexf  # GEXF 1.3, the relationship type as edge kind

        return [write_gexf(self.G, self.out, self.title)]
