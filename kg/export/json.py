"""networkx node-link JSON (D3 and others)."""

from __future__ import annotations

import json
from pathlib import Path

from .base import _json_default, _NetworkxExporter, nx


class JsonExporter(_NetworkxExporter):
    suffix = ".json"

    def finalize(self) -> list[Path]:
        data = nx.node_link_data(self.G, edges="links")
        text = json.dumps(data, default=_json_default, ensure_ascii=False, indent=1, sort_keys=True)
        self.out.write_text(text + "\n", encoding="utf-8")
        return [self.out]
