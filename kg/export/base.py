"""What every exporter shares: the Exporter interface, display names, value conversions,
and the networkx graph the Gephi/yEd/D3 formats are written from."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ..formats import EXPORT_FORMATS


class _LazyModule:
    """A module imported on first use (networkx costs 0.1 s at start-up; an html or csv export
    never needs it)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


nx = _LazyModule("networkx")

FORMATS = EXPORT_FORMATS  # declared once, in kg.formats
ARRAY_DELIMITER = "\x1f"  # unit separator: never in curated text; `--array-delimiter=U+001F`
NAME_KEYS = ("name", "title", "text")


def display_name(props: dict[str, Any], fallback: str) -> str:
    for k in NAME_KEYS:
        if props.get(k):
            return str(props[k])
    return fallback


def _iso(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return [_iso(x) for x in v]
    return v


class Exporter:
    suffix = ""

    def __init__(self, out: Path, *, title: str = "kg graph", **options: Any):
        self.out = Path(out)
        self.title = title
        self.options = options

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        raise NotImplementedError

    def write_edge(self, edge: dict[str, Any]) -> None:
        raise NotImplementedError

    def finalize(self) -> list[Path]:
        raise NotImplementedError


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def one_line(text: str) -> str:
    """Text with every line break and control character turned into a space."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


class _NetworkxExporter(Exporter):
    def __init__(self, out: Path, **kw: Any):
        super().__init__(out, **kw)
        self.G = nx.MultiDiGraph(name=self.title)
        self.keys: Counter = Counter()

    def write_node(self, nid: str, node: dict[str, Any]) -> None:
        attrs = {
            "label": display_name(node["props"], nid),
            "entity": node["kind"],
            "labels": ";".join(node["labels"]),
        }
        attrs.update({k: v for k, v in node["props"].items() if k not in ("id",)})
        self.G.add_node(nid, **attrs)

    def write_edge(self, edge: dict[str, Any]) -> None:
        key = f"{edge['type']}:{self.keys[(edge['start'], edge['end'], edge['type'])]}"
        self.keys[(edge["start"], edge["end"], edge["type"])] += 1
        self.G.add_edge(
            edge["start"],
            edge["end"],
            key=key,
            type=edge["type"],
            label=edge["type"],
            **edge["props"],
        )
