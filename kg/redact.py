"""Redaction of confidential records in everything that leaves the database.

A record marked ``confidential: true`` identifies someone at risk. By default every output
path (query results, exports) replaces its id, name/title/text, aliases, description and
``extra_*`` text with a stable placeholder ("Confidential person 1") and removes the quotes
that cite it, while the structure (that a node exists and how it connects) stays. Any
occurrence of its text inside other values is replaced as well. ``--include-confidential``
turns this off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import records as R

SENSITIVE_PROPS = ("id", "name", "title", "text", "aliases", "description")
MIN_SUBSTRING = 3  # shorter strings are only replaced where they are the whole value


@dataclass
class Redactor:
    placeholders: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (id, label)
    _replacements: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern | None = None

    @classmethod
    def from_nodes(cls, nodes: list[tuple[str, list[str], dict[str, Any]]]) -> Redactor:
        """nodes: (id, labels, properties) of the confidential entities."""
        red = cls()
        counters: dict[str, int] = {}
        for nid, labels, props in sorted(nodes, key=lambda n: n[0]):
            kind = next((R.KIND_OF_LABEL[lb] for lb in labels if lb in R.KIND_OF_LABEL), "entity")
            counters[kind] = counters.get(kind, 0) + 1
            n = counters[kind]
            pid, label = f"confidential-{kind}-{n}", f"Confidential {kind} {n}"
            red.placeholders[nid] = (pid, label)
            red._replacements[nid] = pid
            for key, value in props.items():
                if key in SENSITIVE_PROPS[1:] or key.startswith("extra_"):
                    for text in value if isinstance(value, list) else [value]:
                        if isinstance(text, str) and text.strip():
                            red._replacements.setdefault(text, label)
        long = sorted(
            (t for t in red._replacements if len(t) >= MIN_SUBSTRING), key=len, reverse=True
        )
        red._pattern = re.compile("|".join(re.escape(t) for t in long)) if long else None
        return red

    @classmethod
    def from_store(cls, store: Any) -> Redactor:
        # Sealed records (kg.seal) hold nothing to redact; this is for databases loaded
        # before sealing existed, until `kg db reseal` rebuilds them, and for a public entity
        # merged (kg resolve) with a confidential one: confidential whole.
        from . import cypher as C

        res = store.read(C.TO_REDACT)
        return cls.from_nodes([(r["id"], list(r["labels"]), dict(r["props"])) for r in res.records])

    @property
    def active(self) -> bool:
        return bool(self.placeholders)

    def is_confidential(self, entity_id: Any) -> bool:
        return entity_id in self.placeholders

    def text(self, value: str) -> str:
        if value in self._replacements:
            return self._replacements[value]
        if self._pattern is None:
            return value
        return self._pattern.sub(lambda m: self._replacements[m.group(0)], value)

    def node_props(self, props: dict[str, Any]) -> dict[str, Any]:
        """A node's properties: a confidential node keeps its structure, loses its text."""
        nid = props.get("id")
        if nid not in self.placeholders:
            return {k: self.value(v) for k, v in props.items()}
        pid, label = self.placeholders[nid]
        out: dict[str, Any] = {}
        for k, v in props.items():
            if k == "id":
                out[k] = pid
            elif k in ("name", "title", "text"):
                out[k] = label
            elif k == "aliases":
                out[k] = []
            elif k == "description" or k.startswith("extra_") or k.startswith("kg_"):
                continue  # kg_records holds the record itself
            else:
                out[k] = self.value(v)
        return out

    def edge_props(self, start: Any, end: Any, props: dict[str, Any]) -> dict[str, Any]:
        out = {k: self.value(v) for k, v in props.items()}
        if start in self.placeholders or end in self.placeholders:
            out.pop("quote", None)  # a quote about someone at risk can identify them
            out.pop("description", None)
            out.pop("kg_records", None)
        return out

    def value(self, value: Any) -> Any:
        """Redact plain data (as kg.render.to_plain makes it), recursively."""
        if not self.active:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            if "labels" in value and "properties" in value:
                return {**value, "properties": self.node_props(value["properties"])}
            if "type" in value and "start" in value and "properties" in value:
                return {
                    **value,
                    "start": self.value(value["start"]),
                    "end": self.value(value["end"]),
                    "properties": self.edge_props(
                        value["start"], value["end"], value["properties"]
                    ),
                }
            return {k: self.value(v) for k, v in value.items()}
        return value
