"""The record format (contract version 1.1) as pydantic models, declared once.

Everything else derives from these models: validation, the JSON Schema in ``schema/``,
the graph mapping. The contract itself is ``docs/record-format.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .dates import PartialDate

SLUG_PATTERN = r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$"
SLUG_RE = re.compile(SLUG_PATTERN)

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=128)]
Ref = Slug


NonBlank = Annotated[str, Field(min_length=1)]

DateValue = Annotated[
    PartialDate,
    PlainValidator(PartialDate.parse),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
                {"type": "integer", "minimum": 1, "maximum": 9999},
            ],
            "description": "ISO 8601 date with precision: 2017, 2017-04 or 2017-04-01",
        }
    ),
]

Scalar = str | int | float | bool | None

SOURCE_KINDS = (
    "article",
    "report",
    "petition",
    "interview",
    "statement",
    "broadcast",
    "social-media",
    "court-document",
    "dataset",
    "other",
)
ORGANIZATION_KINDS = (
    "government",
    "security-forces",
    "ngo",
    "media",
    "international-organization",
    "political-party",
    "company",
    "group",
    "collective",
    "other",
)
LOCATION_KINDS = ("country", "region", "city", "town", "facility", "other")
PARTICIPANT_ROLES = (
    "perpetrator",
    "victim",
    "organizer",
    "target",
    "witness",
    "responder",
    "participant",
)
EVENT_STATUSES = ("alleged", "corroborated", "confirmed", "disputed")
STANCES = ("asserts", "denies", "corroborates", "disputes", "calls-for", "mentions")
RELIABILITY = ("A", "B", "C", "D", "E", "F")
DATE_BOUNDS = ("on-or-before", "on-or-after")
# v1.1: statement fields that link a statement to another one -> relationship type.
STATEMENT_LINKS = {
    "revises": "REVISES",
    "retracts": "RETRACTS",
    "contradicts": "CONTRADICTS",
    "repeats": "REPEATS",
    "confirms": "CONFIRMS",
}
BCP47_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


MAX_TEXT = 1_000_000  # characters in one field: longer is a mistake, not a record


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", coerce_numbers_to_str=True, frozen=False, str_max_length=MAX_TEXT
    )


class SourceCitation(_Model):
    """A reference to a source, optionally with what exactly it says."""

    source: Ref
    quote: str | None = None
    page: str | None = None
    accessed: DateValue | None = None
    credibility: int | None = Field(
        default=None, ge=1, le=6, description="Admiralty credibility, 1-6"
    )


def _citation(value: Any) -> Any:
    return {"source": value} if isinstance(value, str) else value


# A citation is written either as a bare source id or as a SourceCitation mapping.
Citation = Annotated[SourceCitation, BeforeValidator(_citation)]


class _Entity(_Model):
    id: Slug
    description: str | None = None
    aliases: list[str] = Field(default_factory=list)
    tags: list[Slug] = Field(default_factory=list)
    reported_by: list[Citation] = Field(default_factory=list)
    confidential: bool = False
    extra: dict[str, Scalar] = Field(default_factory=dict)

    @field_validator("extra")
    @classmethod
    def _extra_keys(cls, value: dict[str, Scalar]) -> dict[str, Scalar]:
        for key in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise ValueError(
                    f"extra key {key!r} must be letters, digits and _ "
                    "(it becomes the property extra_{key})"
                )
        return value


class Source(_Entity):
    title: NonBlank
    kind: Literal[SOURCE_KINDS] | None = None  # type: ignore[valid-type]
    publisher: Ref | None = None
    authors: list[Ref] = Field(default_factory=list)
    url: str | None = None
    published: DateValue | None = None
    language: str | None = None
    reliability: Literal[RELIABILITY] | None = None  # type: ignore[valid-type]
    retrieved: DateValue | None = None
    archive_url: str | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    license: str | None = None
    published_bound: Literal[DATE_BOUNDS] | None = None  # type: ignore[valid-type]
    copy_of: Ref | None = None
    known_through: Ref | None = None

    _lang = field_validator("language")(lambda cls, v: _bcp47(v))

    @model_validator(mode="after")
    def _v11(self) -> Source:
        if self.published_bound is not None and self.published is None:
            raise ValueError("published_bound needs published (the date it bounds)")
        for name in ("copy_of", "known_through"):
            if getattr(self, name) == self.id:
                raise ValueError(f"{name} names the source itself")
        return self


def _bcp47(value: str | None) -> str | None:
    if value is not None and not BCP47_RE.match(value):
        raise ValueError(f"expected a BCP 47 language tag such as 'en' or 'ru-RU', got {value!r}")
    return value


class Affiliation(_Model):
    organization: Ref
    role: str | None = None
    start: DateValue | None = None
    end: DateValue | None = None


class Person(_Entity):
    name: NonBlank
    affiliations: list[Affiliation] = Field(default_factory=list)
    located_in: Ref | None = None
    nationality: str | None = None


class Organization(_Entity):
    name: NonBlank
    kind: Literal[ORGANIZATION_KINDS] | None = None  # type: ignore[valid-type]
    parent: Ref | None = None
    located_in: Ref | None = None


class Location(_Entity):
    name: NonBlank
    kind: Literal[LOCATION_KINDS] | None = None  # type: ignore[valid-type]
    located_in: Ref | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Participant(_Model):
    actor: Ref
    role: Literal[PARTICIPANT_ROLES]  # type: ignore[valid-type]


class Victims(_Model):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Victims:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Event(_Entity):
    title: NonBlank
    kind: Slug | None = None
    date: DateValue | None = None
    start: DateValue | None = None
    end: DateValue | None = None
    located_in: Ref | None = None
    participants: list[Participant] = Field(default_factory=list)
    victims: Victims | None = None
    status: Literal[EVENT_STATUSES] | None = None  # type: ignore[valid-type]
    date_bound: Literal[DATE_BOUNDS] | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _dates(self) -> Event:
        if self.date is not None and (self.start is not None or self.end is not None):
            raise ValueError("give either date, or start/end, not both")
        if self.date_bound is not None and self.date is None:
            raise ValueError("date_bound needs date (start/end are a span, not a bound)")
        if self.start is not None and self.end is not None and self.end.last < self.start.first:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class About(_Model):
    target: Ref
    stance: Literal[STANCES]  # type: ignore[valid-type]


class StatementLink(_Model):
    """v1.1: a link from a statement to an earlier one, with the sources that show it."""

    statement: Ref
    reported_by: list[Citation] = Field(default_factory=list)


def _link(value: Any) -> Any:
    return {"statement": value} if isinstance(value, str) else value


Link = Annotated[StatementLink, BeforeValidator(_link)]


def _listed(value: Any) -> Any:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


class Original(_Model):
    """v1.1: the words as spoken, when a statement's `text` is a translation."""

    text: NonBlank
    language: str | None = None

    _lang = field_validator("language")(lambda cls, v: _bcp47(v))


class Statement(_Entity):
    text: NonBlank
    speaker: Ref
    verbatim: bool = False
    date: DateValue | None = None
    date_bound: Literal[DATE_BOUNDS] | None = None  # type: ignore[valid-type]
    # v1: one organization ref; v1.1: also a list. Held as a list (the first is SAID.via).
    via: Annotated[list[Ref], BeforeValidator(_listed)] = Field(default_factory=list)
    about: list[About] = Field(default_factory=list)
    language: str | None = None
    original: Original | None = None
    revises: list[Link] = Field(default_factory=list)
    retracts: list[Link] = Field(default_factory=list)
    contradicts: list[Link] = Field(default_factory=list)
    repeats: list[Link] = Field(default_factory=list)
    confirms: list[Link] = Field(default_factory=list)

    _lang = field_validator("language")(lambda cls, v: _bcp47(v))

    @model_validator(mode="after")
    def _v11(self) -> Statement:
        if self.date_bound is not None and self.date is None:
            raise ValueError("date_bound needs date (the date it bounds)")
        for name in STATEMENT_LINKS:
            if any(link.statement == self.id for link in getattr(self, name)):
                raise ValueError(f"{name} names the statement itself")
        return self


class Relation(_Model):
    type: str
    from_: Ref = Field(alias="from")
    to: Ref
    role: str | None = None
    start: DateValue | None = None
    end: DateValue | None = None
    reported_by: list[Citation] = Field(default_factory=list)
    description: str | None = None

    model_config = ConfigDict(
        extra="forbid", coerce_numbers_to_str=True, populate_by_name=False, str_max_length=MAX_TEXT
    )


class Case(_Model):
    id: Slug
    title: str | None = None
    description: str | None = None


# kind name (JSONL `record` value) -> model, YAML top-level key, graph label
KINDS: dict[str, type[_Model]] = {
    "source": Source,
    "person": Person,
    "organization": Organization,
    "location": Location,
    "event": Event,
    "statement": Statement,
    "relation": Relation,
}
ENTITY_KINDS = ("source", "person", "organization", "location", "event", "statement")
YAML_KEYS = {
    "sources": "source",
    "people": "person",
    "organizations": "organization",
    "locations": "location",
    "events": "event",
    "statements": "statement",
    "relations": "relation",
}
LABELS = {
    "source": "Source",
    "person": "Person",
    "organization": "Organization",
    "location": "Location",
    "event": "Event",
    "statement": "Statement",
}
KIND_OF_LABEL = {v: k for k, v in LABELS.items()}
NAME_FIELD = {
    "source": "title",
    "person": "name",
    "organization": "name",
    "location": "name",
    "event": "title",
    "statement": "text",
}

ACTOR = ("person", "organization")
ANY = ENTITY_KINDS

# Which kinds each reference field may point to. Paths use '*' for list items.
REFERENCE_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "source": {
        "publisher": ("organization",),
        "authors.*": ("person",),
        "copy_of": ("source",),
        "known_through": ("source",),
    },
    "person": {"affiliations.*.organization": ("organization",), "located_in": ("location",)},
    "organization": {"parent": ("organization",), "located_in": ("location",)},
    "location": {"located_in": ("location",)},
    "event": {"located_in": ("location",), "participants.*.actor": ACTOR},
    "statement": {
        "speaker": ACTOR,
        "via.*": ("organization",),
        "about.*.target": ANY,
        **{f"{f}.*.statement": ("statement",) for f in STATEMENT_LINKS},
        **{f"{f}.*.reported_by.*.source": ("source",) for f in STATEMENT_LINKS},
    },
}
for _k in ENTITY_KINDS:
    REFERENCE_FIELDS[_k]["reported_by.*.source"] = ("source",)

# Relationship types a `relation` record may make, with the kinds allowed at each end.
RELATION_TYPES: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "PART_OF": ((("organization",), ("organization",)), (("event",), ("event",))),
    "TRIGGERED_BY": ((("event",), ("event",)),),
    "FOLLOWED": ((("event",), ("event",)),),
    "RESPONDED_TO": ((("statement", "event"), ("statement", "event")),),
    "ASSOCIATED_WITH": ((ACTOR, ACTOR),),
    # Structural types a relation may also state directly, with the same end kinds as the
    # fields that usually make them (contract: "allowed between the two kinds").
    "LOCATED_IN": ((("event", "person", "organization", "location"), ("location",)),),
    "AFFILIATED_WITH": ((("person",), ("organization",)),),
    "INVOLVED_IN": ((ACTOR, ("event",)),),
    "PUBLISHED_BY": ((("source",), ("organization",)),),
    "AUTHORED_BY": ((("source",), ("person",)),),
    "VIA": ((("statement",), ("organization",)),),
    # v1.1: a statement revises, retracts, contradicts, repeats or confirms another.
    **{t: ((("statement",), ("statement",)),) for t in STATEMENT_LINKS.values()},
}
# Made only by statement and citation fields: a relation record cannot make these.
FIELD_ONLY_TYPES = ("SAID", "DENIED", "ABOUT", "REPORTED_BY", "COPY_OF", "KNOWN_THROUGH")
# Made only by `kg resolve apply` from judgements (kg.resolve_store): merged entities.
RESOLUTION_TYPES = ("SAME_AS",)
ALL_REL_TYPES = tuple(sorted(set(RELATION_TYPES) | set(FIELD_ONLY_TYPES) | set(RESOLUTION_TYPES)))


def relation_allowed(rel_type: str, from_kind: str, to_kind: str) -> bool:
    return any(from_kind in a and to_kind in b for a, b in RELATION_TYPES.get(rel_type, ()))


def kinds_for_relation(rel_type: str) -> str:
    pairs = RELATION_TYPES.get(rel_type, ())
    return "; ".join(f"{'/'.join(a)} -> {'/'.join(b)}" for a, b in pairs)


class CaseFile(_Model):
    """One YAML record file: every top-level key is optional."""

    case: Case | None = None
    sources: list[Source] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    statements: list[Statement] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a YAML record file, with the JSONL line forms under $defs."""
    schema = CaseFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kg.invalid/schema/records.schema.json"
    schema["title"] = "kg record file (record format version 1.1)"
    defs = schema.setdefault("$defs", {})
    citation = {
        "anyOf": [{"type": "string", "pattern": SLUG_PATTERN}, {"$ref": "#/$defs/SourceCitation"}]
    }
    for definition in defs.values():
        prop = definition.get("properties", {}).get("reported_by")
        if prop is not None:
            prop["items"] = citation
    link = {
        "anyOf": [{"type": "string", "pattern": SLUG_PATTERN}, {"$ref": "#/$defs/StatementLink"}]
    }
    stmt = defs["Statement"]["properties"]
    for name in STATEMENT_LINKS:
        stmt[name]["items"] = link
    slug = {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 128}
    stmt["via"] = {
        "anyOf": [slug, {"type": "array", "items": slug}],
        "description": "The outlet or body it was said to: one organization id, "
        "or (v1.1) a list of them",
    }
    lines = []
    models: dict[str, type] = {**KINDS, "case": Case}
    for kind, model in models.items():
        name = model.__name__
        line_name = f"JsonlLine{name}"
        props = dict(defs[name]["properties"]) if name in defs else {}
        props["record"] = {"const": kind}
        defs[line_name] = {
            "type": "object",
            "description": f"A JSONL line holding one {kind} record.",
            "properties": props,
            "required": ["record", *defs.get(name, {}).get("required", [])],
            "additionalProperties": False,
        }
        lines.append({"$ref": f"#/$defs/{line_name}"})
    defs["JsonlLine"] = {"oneOf": lines, "description": "One line of a .jsonl record file."}
    return schema
