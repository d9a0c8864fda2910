"""Validate record files as a whole: every problem found, located, before anything is written.

``collect(paths)`` reads the files, checks each record against the models, resolves every
reference (with the kinds the contract allows), merges entities that several cases share,
and returns a :class:`Collection`; or raises :class:`InputError` listing every problem.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from . import records as R
from .case_ids import _case_ids, _case_of
from .collection import (  # noqa: F401
    Collection,
    Entity,
    ExistingLookup,
    RelationRecord,
    RelKey,
    name_words,
    slugify,
)
from .contributions import Definition, merge
from .errors import InputError, Problem
from .inputs import RecordInput
from .model_errors import _as_written, _field, _get_path, _short, _validate_model
from .readers import RawRecord, display_path


class _Def(NamedTuple):
    """What validation keeps of an entity record: enough for references and messages."""

    kind: str
    case: str
    file: str
    line: int
    id_line: int
    seq: int  # position among the input's entities
    if_missing: bool = False  # made by a sheet "if missing": an existing entity is left alone


def _definition(raw: RawRecord, case: str, model: Any) -> Definition:
    return Definition(case, raw.kind, raw.data, raw.if_missing, _model=model)


def relation_key(m: R.Relation) -> RelKey:
    return (m.type, m.from_, m.to, m.role)


def _a(word: str) -> str:
    """'a person', 'an organization', 'an event'."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _wrong_kind(ref: str, kind: str, kinds: tuple[str, ...]) -> str:
    return f"{ref!r} is {_a(kind)}; expected {_a(kinds[0])}" + "".join(
        f" or {k}" for k in kinds[1:]
    )


class Checker:
    """Validates records one at a time, keeping only what checks across records need (ids,
    kinds, unresolved references), so memory grows by ~200 bytes a record. With ``keep``,
    the validated models are also kept (and merged) in ``coll``: that is :func:`collect`."""

    def __init__(
        self,
        declared: dict[str, tuple[str, dict]],
        problems: list[Problem],
        coll: Collection,
        keep: bool,
        remember: bool = False,
    ):
        self.declared = declared
        self.problems = problems
        self.coll = coll
        self.keep = keep
        # remember: each valid record with its model, in input order, for iter_valid
        self.validated: list[tuple[RawRecord, Any]] | None = [] if remember else None
        self.defs: dict[str, _Def] = {}
        self.multi: dict[str, list[tuple[str, str, int]]] = {}  # id -> (case, file, id line)
        self.pending: list[tuple[str, int, str, str, str, tuple[str, ...]]] = []
        self.rel_checks: list[tuple[str, int, int, int, str, str, str, str]] = []
        self.rel_keys: dict[RelKey, int] = {}
        self.case_records: Counter = Counter()  # case -> records it holds in the input
        self.parents: dict[str, dict[str, tuple[str, int]]] = {"located_in": {}, "parent": {}}
        self._cases: dict[tuple[str, str, str], tuple[str, dict]] = {}  # one lookup per file
        # id -> (kind, names and aliases) of records marked confidential (kg.seal hides them)
        self.confidential: dict[str, tuple[str, list[str]]] = {}
        # words of public people's names and aliases: not hidden alone by a confidential
        # person's name that shares them ("Ramzan" of a public Ramzan Kadyrov)
        self.public_words: set[str] = set()
        # ids marked confidential somewhere (the input's, found before validation, and the
        # database's): their public records add no words to public_words
        self.watch: set[str] = set()

    # --- what later steps ask -------------------------------------------------------------
    def kind_of(self, ref: str) -> str | None:
        d = self.defs.get(ref)
        if d is not None:
            return d.kind
        return self.coll.external_refs.get(ref) or self.coll.invalid.get(ref)

    def case_of(self, raw: RawRecord) -> tuple[str, dict]:
        where = (raw.case, raw.case_dir, raw.file)
        hit = self._cases.get(where)
        if hit is None:
            hit = self._cases[where] = _case_of(raw, self.declared)
        return hit

    def case_rows(self) -> list[dict[str, Any]]:
        """The :Case nodes of the input's cases: title, description, how many records."""
        return [
            {
                "id": cid,
                "props": {
                    "title": fields.get("title"),
                    "description": fields.get("description"),
                    "records": self.case_records.get(cid, 0),
                },
            }
            for cid, fields in sorted(self.coll.cases.items())
        ]

    @property
    def duplicate_relations(self) -> set[RelKey]:
        return {k for k, n in self.rel_keys.items() if n > 1}

    # --- one record -------------------------------------------------------------------------
    def add(self, raw: RawRecord) -> None:
        if raw.kind == "case":
            return
        coll = self.coll
        coll.records += 1
        case_id, case_fields = self.case_of(raw)
        coll.cases.setdefault(case_id, case_fields)
        model = _validate_model(raw, R.KINDS[raw.kind], self.problems)
        if model is None:
            # Already reported; count it as defined so references to it do not cascade.
            rid = raw.data.get("id")
            if raw.kind != "relation" and isinstance(rid, str):
                coll.invalid.setdefault(rid, raw.kind)
            return
        if self.validated is not None:
            self.validated.append((raw, model))
        if raw.kind == "relation":
            key = relation_key(model)
            self.rel_keys[key] = self.rel_keys.get(key, 0) + 1
            self.case_records[case_id] += 1
            self.rel_checks.append(
                (
                    raw.file,
                    raw.line_of(("type",)),
                    raw.line_of(("from",)),
                    raw.line_of(("to",)),
                    raw.label,
                    model.type,
                    model.from_,
                    model.to,
                )
            )
            for loc, ref in _get_path(model, "reported_by.*.source"):
                self._ref(raw, loc, ref, ("source",), raw.label)
            if self.keep:
                coll.relations.append(
                    RelationRecord(
                        key, {case_id: Definition(case_id, "relation", raw.data, _model=model)}, raw
                    )
                )
            return
        self.case_records[case_id] += 1
        first = self.defs.get(model.id)
        if first is None:
            self.defs[model.id] = _Def(
                raw.kind,
                case_id,
                raw.file,
                raw.line,
                raw.line_of(("id",)),
                len(self.defs),
                raw.if_missing,
            )
            if self.keep:
                coll.entities[model.id] = Entity(
                    raw.kind, model.id, {case_id: _definition(raw, case_id, model)}, raw
                )
        else:
            earlier = [(first.case, first.file, first.id_line), *self.multi.get(model.id, ())]
            same = next((e for e in earlier if e[0] == case_id), None)
            if same is not None:
                self.problems.append(
                    Problem(
                        raw.file,
                        raw.line_of(("id",)),
                        model.id,
                        "id",
                        f"duplicate id: already defined at {same[1]}:{same[2]} in the same case "
                        f"'{case_id}'",
                    )
                )
                return
            if first.kind != raw.kind:
                self.problems.append(
                    Problem(
                        raw.file,
                        raw.line_of(("id",)),
                        model.id,
                        "id",
                        f"id is {_a(raw.kind)} here but {_a(first.kind)} at {first.file}:{first.line}; "
                        "one id is one entity",
                    )
                )
                return
            self.multi.setdefault(model.id, []).append((case_id, raw.file, raw.line_of(("id",))))
            if self.keep:
                coll.entities[model.id].defs[case_id] = _definition(raw, case_id, model)
        if model.confidential:
            names = self.confidential.setdefault(model.id, (raw.kind, []))[1]
            for name in (getattr(model, R.NAME_FIELD[raw.kind]), *model.aliases):
                if name not in names:
                    names.append(name)
        elif raw.kind == "person" and model.id not in self.watch:
            # (a public record of an id another case marks confidential names no public
            # person: its words stay hidden)
            for name in (model.name, *model.aliases):
                self.public_words.update(name_words(name))
        for path, kinds in R.REFERENCE_FIELDS[raw.kind].items():
            for loc, ref in _get_path(model, path):
                self._ref(raw, loc, ref, kinds, model.id)
        attr = {"location": "located_in", "organization": "parent"}.get(raw.kind)
        if attr and getattr(model, attr, None):
            self.parents[attr][model.id] = (getattr(model, attr), raw.line_of((attr,)))

    def _ref(
        self, raw: RawRecord, loc: tuple[Any, ...], ref: str, kinds: tuple[str, ...], label: str
    ) -> None:
        loc = _as_written(raw, loc)
        kind = self.kind_of(ref)
        if kind is None:
            self.pending.append((raw.file, raw.line_of(loc), label, _field(raw, loc), ref, kinds))
        elif kind not in kinds:
            self.problems.append(
                Problem(
                    raw.file,
                    raw.line_of(loc),
                    label,
                    _field(raw, loc),
                    _wrong_kind(ref, kind, kinds),
                )
            )

    # --- after the last record ----------------------------------------------------------------
    def finish(self, existing: ExistingLookup | None) -> None:
        problems, coll = self.problems, self.coll
        skip_missing = any(p.record == "-" for p in problems)
        missing = {p[4] for p in self.pending if self.kind_of(p[4]) is None}
        missing |= {r for c in self.rel_checks for r in (c[6], c[7]) if self.kind_of(r) is None}
        if missing and existing is not None:
            coll.external_refs = existing(missing)
        allow_existing = existing is not None
        for file, line, label, fld, ref, kinds in self.pending:
            kind = self.kind_of(ref)
            if kind is None:
                if not skip_missing:
                    problems.append(
                        Problem(file, line, label, fld, self._not_found(ref, allow_existing))
                    )
            elif kind not in kinds:
                problems.append(Problem(file, line, label, fld, _wrong_kind(ref, kind, kinds)))
        for file, l_type, l_from, l_to, label, rtype, a, b in self.rel_checks:
            if rtype not in R.RELATION_TYPES:
                if rtype in R.FIELD_ONLY_TYPES:
                    msg = (
                        f"{rtype} is made by statement and reported_by fields, not by a "
                        "relation record"
                    )
                    if rtype in ("COPY_OF", "KNOWN_THROUGH"):
                        msg = (
                            f"{rtype} is made by the source field {rtype.lower()}, not by a "
                            "relation record"
                        )
                else:
                    hint = difflib.get_close_matches(rtype.upper(), list(R.RELATION_TYPES), n=1)
                    msg = (
                        f"unknown relationship type {rtype!r}"
                        + (f" (did you mean {hint[0]!r}?)" if hint else "")
                        + f"; expected one of: {', '.join(sorted(R.RELATION_TYPES))}"
                    )
                problems.append(Problem(file, l_type, label, "type", msg))
                continue
            ends: list[Any] = []
            for name, ref, line in (("from", a, l_from), ("to", b, l_to)):
                kind = self.kind_of(ref)
                if kind is None and not skip_missing:
                    problems.append(
                        Problem(file, line, label, name, self._not_found(ref, allow_existing))
                    )
                ends.append(kind)
            if None not in ends and not R.relation_allowed(rtype, ends[0], ends[1]):
                problems.append(
                    Problem(
                        file,
                        l_type,
                        label,
                        "type",
                        f"{rtype} cannot go from {_a(ends[0])} to {_a(ends[1])}; "
                        f"allowed: {R.kinds_for_relation(rtype)}",
                    )
                )
        self._check_cycles()
        if problems:
            note = None
            unreadable = sorted({p.file for p in problems if p.record == "-"})
            if unreadable:
                note = (
                    "note: references were not checked for existence, because "
                    f"{', '.join(unreadable)} could not be read"
                )
            raise InputError(sorted(problems, key=_order), hint=note)

    def _not_found(self, ref: str, allow_existing: bool) -> str:
        # "Did you mean" over every id is slow for very large inputs: offered up to 50,000 ids.
        ids = list(self.defs) if len(self.defs) <= 50_000 else []
        hint = difflib.get_close_matches(ref, ids, n=1)
        msg = f"reference {ref!r} not found"
        if hint:
            msg += f" (did you mean {hint[0]!r}?)"
        if not allow_existing:
            msg += "; define it in the input, or load with --allow-existing to use the database's"
        else:
            msg += " in the input or the database"
        return msg

    def _check_cycles(self) -> None:
        for attr, links in self.parents.items():
            graph = {k: v[0] for k, v in links.items()}
            reported: set[str] = set()
            for start in sorted(graph):
                seen: list[str] = []
                node: str | None = start
                while node in graph and node not in seen:
                    seen.append(node)
                    node = graph[node]
                if node == start and start not in reported:
                    reported.update(seen)
                    d = self.defs[start]
                    chain = " -> ".join(seen + [start])
                    self.problems.append(
                        Problem(
                            d.file,
                            links[start][1],
                            start,
                            attr,
                            f"{attr} goes round in a circle: {chain}",
                        )
                    )


def check(
    inp: RecordInput,
    *,
    existing: ExistingLookup | None = None,
    keep: bool = True,
    remember: bool = False,
    hidden: Iterable[str] = (),
) -> Checker:
    """Validate a whole input; raise InputError with every problem. With ``keep`` the models
    are kept in ``checker.coll`` (small inputs); without, only what a streamed load needs.
    ``remember``: iter_valid is handed the validated records instead of reading and
    validating the input again. ``hidden``: the real ids of the database's confidential
    records (kg.seal.hidden_ids)."""
    coll = Collection()
    problems: list[Problem] = list(inp.problems)
    for f in inp.ignored:
        coll.notices.append(f"{display_path(f)}: ignored (not a .yaml, .yml or .jsonl file)")
    coll.files = len(inp.files)
    case_raws, marked = inp.prescan()
    checker = Checker(_case_ids(case_raws, problems), problems, coll, keep, remember)
    checker.watch = marked | set(hidden)
    for item in inp:
        if isinstance(item, Problem):
            problems.append(item)
        else:
            checker.add(item)
    checker.finish(existing)
    if keep:
        for eid in checker.multi:
            ent = coll.entities[eid]
            model, conflicts = merge([ent.defs[c] for c in ent.cases])
            coll.notices.extend(conflict_notices(eid, ent.kind, model.confidential, conflicts))
    return checker


def conflict_notices(eid: str, kind: str, confidential: bool, conflicts: list[Any]) -> list[str]:
    """Notices for the conflicting single values of one entity (confidential: no values)."""
    out = []
    for c in conflicts:
        if confidential:
            who, values = (
                f"a confidential {kind}",
                "; ".join(f"case '{case}'" for case, _ in c.values),
            )
        else:
            who = eid
            values = "; ".join(f"case '{case}': {_short(v)}" for case, v in c.values)
        out.append(
            f"conflict: {who}: {c.field}: {values} (shown: case '{c.shown}', the first "
            "case by id that gives a value; `kg query run conflicts` lists them all)"
        )
    return out


def collect(paths: list[str | Path], *, existing: ExistingLookup | None = None) -> Collection:
    """Read and validate everything under ``paths``; raise InputError with all problems."""
    return check(RecordInput.from_paths(paths), existing=existing).coll


def iter_valid(inp: RecordInput, checker: Checker) -> Iterator[Entity | RelationRecord]:
    """The input's entities and relations again, validated, in input order, for a streamed
    load (after :func:`check` passed). Entities defined by several cases and relations stated
    more than once come last, with every case's definition (the later of two identical
    relations in one case wins), as :func:`collect` has them."""
    held: dict[str, Entity] = {}
    held_rel: dict[RelKey, RelationRecord] = {}
    dup_rel = checker.duplicate_relations
    for raw, model in _validated(inp, checker):
        case_id = checker.case_of(raw)[0]
        if raw.kind == "relation":
            key = relation_key(model)
            d = Definition(case_id, "relation", raw.data, _model=model)
            if key in dup_rel:
                rec = held_rel.get(key)
                if rec is None:
                    held_rel[key] = RelationRecord(key, {case_id: d}, raw)
                else:
                    rec.defs[case_id] = d
            else:
                yield RelationRecord(key, {case_id: d}, raw)
        elif model.id in checker.multi:
            ent = held.get(model.id)
            if ent is None:
                held[model.id] = Entity(
                    raw.kind, model.id, {case_id: _definition(raw, case_id, model)}, raw
                )
            else:
                ent.defs[case_id] = _definition(raw, case_id, model)
        else:
            yield Entity(raw.kind, model.id, {case_id: _definition(raw, case_id, model)}, raw)
    yield from held.values()
    yield from held_rel.values()


def _validated(inp: RecordInput, checker: Checker) -> Iterator[tuple[RawRecord, Any]]:
    """Each valid record with its model: the ones check remembered (handed over once), or
    the input read and validated again."""
    kept, checker.validated = checker.validated, None
    if kept is not None:
        kept.reverse()
        while kept:  # memory goes as the load goes
            yield kept.pop()
        return
    for raw in inp:
        if isinstance(raw, Problem) or raw.kind == "case":
            continue
        yield raw, R.KINDS[raw.kind].model_validate(raw.data)


def _order(p: Problem) -> tuple[str, int]:
    return (p.file, p.line)
