"""The validated input as data: entities and relations with each case's definition of them,
and the Collection that holds them (what kg.mapping maps and kg.loader loads).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import records as R
from .contributions import Definition, merge
from .readers import RawRecord

RelKey = tuple[str, str, str, str | None]


def name_words(text: str) -> list[str]:
    """The words of a name as kg.seal compares them (fast for ASCII names)."""
    if text.isascii():
        return [w.lower() for w in _NAME_WORD.findall(text)]
    from .seal import words

    return words(text)


_NAME_WORD = re.compile(r"[^\W\d_]+|\d+")  # kg.seal.scrub._WORD, for ASCII text

ExistingLookup = Callable[[set[str]], dict[str, str]]  # ids -> {id: kind} found in the database


@dataclass
class Entity:
    """An entity of the input with each case's definition of it (see kg.contributions)."""

    kind: str
    id: str
    defs: dict[str, Definition]  # case -> that case's record
    raw: RawRecord | None  # where it was (first) defined, for messages

    @property
    def cases(self) -> list[str]:
        return sorted(self.defs)

    @property
    def model(self) -> Any:
        """The union of the definitions, as the graph shows it."""
        return merge([self.defs[c] for c in self.cases])[0]


@dataclass
class RelationRecord:
    """A relation of the input: its key and each case's record of it (the later of two
    identical relations in one case wins)."""

    key: RelKey
    defs: dict[str, Definition]
    raw: RawRecord | None

    @property
    def model(self) -> R.Relation:
        return self.defs[sorted(self.defs)[0]].model

    @property
    def case(self) -> str:
        return sorted(self.defs)[0]


@dataclass
class Collection:
    entities: dict[str, Entity] = field(default_factory=dict)
    relations: list[RelationRecord] = field(default_factory=list)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    files: int = 0
    records: int = 0
    external_refs: dict[str, str] = field(default_factory=dict)  # id -> kind, already in the DB
    invalid: dict[str, str] = field(default_factory=dict)  # id -> kind of records that failed

    def kind_of(self, ref: str) -> str | None:
        ent = self.entities.get(ref)
        if ent is not None:
            return ent.kind
        return self.external_refs.get(ref) or self.invalid.get(ref)


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:128] or "case"
