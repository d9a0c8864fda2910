"""The entity graph as canonical lines and their digest: how tests and benchmarks compare
two graphs (a Store method through DigestMixin)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import cypher as C


class DigestMixin:
    """A part of kg.store.Store (``self`` is one: typed Any here)."""

    def digest(self: Any, *, cases: bool = False) -> str:
        """A digest of the entity graph: labels, properties, relationships with their ends
        (with ``cases``, also the :Case nodes, without their load times)."""
        h = hashlib.sha256()
        for line in self.canonical_lines(cases=cases):
            h.update(line.encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()

    def canonical_lines(self: Any, *, cases: bool = False) -> list[str]:
        """The entity graph as sorted canonical JSON lines (nodes, then relationships)."""
        # (:KgMeta holds the sealing key's fingerprint: the database's, not the graph's)
        nodes = sorted(
            _canon({"l": sorted(r["l"]), "p": r["p"]}) for r in self.read(C.CANONICAL_NODES).records
        )
        rels = sorted(
            _canon({"t": r["t"], "a": r["a"], "b": r["b"], "p": r["p"]})
            for r in self.read(C.CANONICAL_EDGES).records
        )
        extra = []
        if cases:
            extra = ["--"] + sorted(_canon(r["p"]) for r in self.read(C.CANONICAL_CASES).records)
        return nodes + ["--"] + rels + extra


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value


def _canon(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False)
