"""Load validated records into Neo4j: read what is there, write only what changed.

1. validate the whole input (kg.validation.check), keeping only ids, kinds and unresolved
   references - a bad input writes nothing;
2. refuse ids the database holds as another kind; apply constraints and indexes;
3. read the input again in chunks of records; for each chunk, read the existing nodes and the
   edges its records own (into a database that was empty: only for ids the input defines
   more than once), and diff them against the rows from kg.mapping: created / updated /
   unchanged nodes, created / updated / deleted relationships;
4. write the differences in batches (``UNWIND $rows``), each in a managed transaction that
   the driver retries on transient errors, on two threads (nodes; relationships, once their
   chunk's nodes are written), so reading and planning the next chunk overlaps with the
   server writing this one.
Memory stays flat as the input grows (nothing holds the whole input); loading the same input
twice writes nothing the second time.
"""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from . import records as R
from .errors import InputError, Problem, RemovalRefused
from .contributions import INTERNAL_PREFIX, Definition, entity_rows, entry_case, relation_row
from .mapping import (KEY_PROPS, OWNED_INCOMING, OWNED_OUTGOING, RELATION_KEY, EdgeRow, GraphRows,
                      NodeRow, edge_key, map_records)
from .seal import Sealing, for_load, open_entry, record_fingerprint
from .store import Store, native
from .validation import (Checker, Collection, Entity, RecordInput, RelationRecord, RelKey, check,
                         conflict_notices, iter_valid)

ANALYSIS_PREFIX = "analysis_"   # properties written by `kg analyze --write-back`: kept on reload
DEFAULT_BATCH = 5_000
CHUNK_RECORDS = 10_000          # records read, planned and written together
BULK_PART_ROWS = 500_000        # rows per CSV part of a bulk load


@dataclass
class Changes:
    """What one chunk of records changes: the rows to write, by operation."""
    create_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    delete_nodes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchanged_nodes: Counter = field(default_factory=Counter)
    create_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    delete_edges: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    drop_edges: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchanged_edges: Counter = field(default_factory=Counter)
    conflicts: list[str] = field(default_factory=list)      # notices
    log: list[dict[str, Any]] = field(default_factory=list)  # change list (--changes)

    @property
    def batches(self) -> list[tuple[str, str, list]]:
        out: list[tuple[str, str, list]] = []
        for lb, rows in sorted(self.create_nodes.items()):
            out.append(("create_nodes", lb, rows))
        for lb, rows in sorted(self.update_nodes.items()):
            out.append(("update_nodes", lb, rows))
        for t, eids in sorted(self.drop_edges.items()):
            out.append(("drop_edges", t, eids))
        for t, eids in sorted(self.delete_edges.items()):
            out.append(("delete_edges", t, eids))
        for t, rows in sorted(self.create_edges.items()):
            out.append(("create_edges", t, rows))
        for t, rows in sorted(self.update_edges.items()):
            out.append(("update_edges", t, rows))
        for lb, ids in sorted(self.delete_nodes.items()):
            out.append(("delete_nodes", lb, ids))
        return out


_OPS = ("created", "updated", "deleted", "unchanged")


@dataclass
class Plan:
    """What a load did (or, with --dry-run, would do): counts by label and type."""
    coll: Collection
    nodes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    relationships: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    removed: list[dict[str, Any]] = field(default_factory=list)  # records a case no longer has
    log: Optional[list[dict[str, Any]]] = None                   # the change list, if asked
    phases: dict[str, float] = field(default_factory=dict)      # --bulk: seconds per phase

    def add(self, ch: Changes) -> None:
        for name, op in (("create_nodes", "created"), ("update_nodes", "updated"),
                         ("delete_nodes", "deleted")):
            for lb, rows in getattr(ch, name).items():
                self.nodes[lb][op] += len(rows)
        for lb, n in ch.unchanged_nodes.items():
            self.nodes[lb]["unchanged"] += n
        for name, op in (("create_edges", "created"), ("update_edges", "updated"),
                         ("delete_edges", "deleted"), ("drop_edges", "deleted")):
            for t, rows in getattr(ch, name).items():
                self.relationships[t][op] += len(rows)
        for t, n in ch.unchanged_edges.items():
            self.relationships[t]["unchanged"] += n
        self.coll.notices.extend(ch.conflicts)
        if self.log is not None:
            self.log.extend(ch.log)

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.coll.files,
            "records": self.coll.records,
            "cases": sorted(self.coll.cases),
            "nodes": {lb: {op: c.get(op, 0) for op in _OPS}
                      for lb, c in sorted(self.nodes.items())},
            "relationships": {t: {op: c.get(op, 0) for op in _OPS}
                              for t, c in sorted(self.relationships.items())},
            "removed": self.removed,
            **({"phases": {k: round(v, 3) for k, v in self.phases.items()}}
               if self.phases else {}),
        }

    def writes(self) -> int:
        return sum(c[op] for group in (self.nodes, self.relationships) for c in group.values()
                   for op in ("created", "updated", "deleted"))


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for k, v in a.items():
        w = b[k]
        if isinstance(v, float) or isinstance(w, float):
            if float(v) != float(w):
                return False
        elif isinstance(v, list) or isinstance(w, list):
            if list(v) != list(w):
                return False
        elif v != w or isinstance(v, bool) != isinstance(w, bool):
            return False
    return True


def _kind_of(labels: Iterable[str]) -> str:
    return next((R.KIND_OF_LABEL[lb] for lb in labels if lb in R.KIND_OF_LABEL), "entity")


_HIDDEN = "[confidential]"


def _changed_fields(old: dict[str, Any], new: dict[str, Any], hide: bool) -> dict[str, list]:
    out = {}
    for k in sorted(set(old) | set(new)):
        if k.startswith(INTERNAL_PREFIX) and k != "kg_records":
            continue
        a, b = old.get(k), new.get(k)
        if a != b:
            if k == "kg_records":   # say which cases' records changed, not the records
                before = set(a or [])
                a = [entry_case(x) for x in a or []]
                b = [entry_case(x) + ("" if x in before or entry_case(x) not in a else " (changed)")
                     for x in b or []]
                k = "case records"
            out[k] = [_HIDDEN if hide else _jsonable(a), _HIDDEN if hide else _jsonable(b)]
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def plan_chunk(store: Store, ents: dict[str, Entity], rels: dict[RelKey, dict[str, Definition]],
               replaced: Iterable[str], *, new: Optional[Callable[[str], bool]] = None,
               log: bool = False, sealing: Optional[Sealing] = None) -> Changes:
    """Diff one chunk against the database: the nodes of its entities, the edges they own,
    and the relation-made edges of its relation keys.

    Each entity's (and relation's) rows are the union of its definitions: the chunk's own (the
    cases in ``replaced``, which this load replaces) and every other case's, read from the
    database (kg.contributions). An entity or relation left with no definition is removed.
    ``new`` tells ids that cannot be in the database (on a first load into an empty database:
    the ids the input defines once); nothing is read for them.

    With ``sealing`` (kg.seal), the rows are sealed once computed, before they are diffed:
    confidential records are then stored under their placeholder ids, and their entries in
    ``kg_records`` are opened with the key to compute the union."""
    plan = Changes()
    replaced = set(replaced)
    unread = new or (lambda _id: False)
    sid = sealing.sid if sealing is not None else (lambda i: i)
    real = sealing.real_id if sealing is not None else (lambda i: i)
    existing = store.nodes_by_id([sid(i) for i in ents if not unread(i)])
    new_by_key: dict[tuple, EdgeRow] = {}
    owners: list[str] = []
    hidden: set[str] = set()
    for eid, ent in ents.items():
        stored = sid(eid)
        old = existing.get(stored)
        kind = ent.kind
        defs = list(ent.defs.values())
        if old is not None:
            old_kind = _kind_of(old[0])
            if old_kind != kind:
                continue  # made "if missing" (validation refused the rest): left as it is
            owners.append(stored)
            defs += [open_entry(kind, e, sealing) for e in old[1].get("kg_records") or []
                     if entry_case(e) not in replaced]
        label = R.LABELS[kind]
        if not defs:
            if old is not None:
                plan.delete_nodes[label].append(stored)
                if old[1].get("confidential"):
                    hidden.update((eid, stored))
                if log:
                    plan.log.append({"op": "deleted", "node": _shown(eid, kind, old[1]),
                                     "label": label})
            continue
        rows = entity_rows(kind, eid, defs)
        if rows.confidential:
            hidden.update((eid, stored))
        if rows.conflicts:
            plan.conflicts.extend(conflict_notices(eid, kind, rows.confidential, rows.conflicts))
        props, edges = rows.props, rows.edges
        if sealing is not None:  # the one sealing step (kg.seal): nothing hidden in clear
            sealed = sealing.rows(GraphRows([NodeRow(eid, label, props, tuple(props["cases"]))],
                                            edges))
            props, edges = sealed.nodes[0].props, sealed.edges
        for e in edges:
            new_by_key[e.key] = e
        if old is None:
            plan.create_nodes[label].append({"id": stored, "props": props})
            if log:
                plan.log.append({"op": "created", "node": _shown(eid, kind, props), "label": label})
            continue
        old_props = {k: native(v) for k, v in old[1].items()}
        for k, v in old_props.items():
            if k.startswith(ANALYSIS_PREFIX):
                props[k] = v
        if _same(props, old_props):
            plan.unchanged_nodes[label] += 1
        else:
            plan.update_nodes[label].append({"id": stored, "props": props})
            if log:
                plan.log.append({"op": "updated", "node": _shown(eid, kind, props), "label": label,
                                 "fields": _changed_fields(old_props, props, rows.confidential)})

    old_rows = store.owned_edges(owners, OWNED_OUTGOING, OWNED_INCOMING) if owners else []
    # Relation-made edges: every case's record of each relation key of the chunk.
    pairs = [{"type": k[0], "start": sid(k[1]), "end": sid(k[2])} for k in rels
             if not (unread(k[1]) or unread(k[2]))]
    rel_defs: dict[tuple, list[Definition]] = {}
    if pairs:
        for r in store.relation_edges(pairs):
            key = (r["type"], real(r["start"]), real(r["end"]), native(r["props"].get("role")))
            if key in rels:
                old_rows.append(r)
                rel_defs.setdefault(key, []).extend(
                    open_entry("relation", e, sealing) for e in r["props"].get("kg_records") or []
                    if entry_case(e) not in replaced)
    for key, defs in rels.items():
        every = {d.case: d for d in rel_defs.get(key, [])}
        every.update(defs)
        if every:
            edge = relation_row(every.values())
            if sealing is not None:
                edge = sealing.edge(edge)
            new_by_key[edge.key] = edge

    seen_eids: set[str] = set()
    old_by_key: dict[tuple, dict] = {}
    for r in old_rows:
        if r["eid"] in seen_eids:
            continue
        seen_eids.add(r["eid"])
        props = {k: native(v) for k, v in dict(r["props"]).items()}
        key = edge_key(r["type"], r["start"], r["end"], props)
        if key in old_by_key:  # a duplicate left by an interrupted run: remove it
            plan.drop_edges[r["type"]].append(r["eid"])
            continue
        old_by_key[key] = {"eid": r["eid"], "props": props, "type": r["type"],
                           "start": r["start"], "end": r["end"]}
    for key, old in old_by_key.items():
        if key not in new_by_key:  # no case's record makes it now
            plan.delete_edges[old["type"]].append({"eid": old["eid"],
                                                   "seen": list(old["props"].get("cases") or [])})
            if log:
                plan.log.append({"op": "deleted", **_edge_shown(old, hidden)})
    for key, edge in new_by_key.items():
        old = old_by_key.get(key)
        if old is None:
            plan.create_edges[edge.type].append({"start": edge.start, "end": edge.end,
                                                 "props": edge.props})
            if log:
                plan.log.append({"op": "created", **_edge_shown(
                    {"type": edge.type, "start": edge.start, "end": edge.end}, hidden)})
        elif _same(edge.props, old["props"]):
            plan.unchanged_edges[edge.type] += 1
        else:
            plan.update_edges[edge.type].append({"eid": old["eid"], "props": edge.props})
            if log:
                hide = edge.start in hidden or edge.end in hidden
                plan.log.append({"op": "updated", **_edge_shown(old, hidden),
                                 "fields": _changed_fields(old["props"], edge.props, hide)})
    return plan


def _shown(eid: str, kind: str, props: dict[str, Any]) -> str:
    return f"(a confidential {kind})" if props.get("confidential") else eid


def _edge_shown(e: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    def end(i: str) -> str:
        return "(confidential)" if i in hidden else i
    return {"relationship": e["type"], "start": end(e["start"]), "end": end(e["end"])}


def edge_key_props(rel_type: str) -> tuple[str, ...]:
    """The properties that tell edges of this type apart (see kg.mapping)."""
    return tuple(dict.fromkeys(KEY_PROPS.get(rel_type, ()) + RELATION_KEY))


def write_changes(store: Store, changes: Iterable[tuple[str, str, list]], replaced: list[str],
                  *, batch_size: int = DEFAULT_BATCH) -> None:
    for op, name, rows in changes:
        for i in range(0, len(rows), batch_size):
            chunk = rows[i:i + batch_size]
            if op == "create_nodes":
                store.merge_nodes(name, chunk, replaced)
            elif op == "update_nodes":
                store.set_node_props(chunk, replaced)
            elif op == "delete_nodes":
                store.delete_nodes(chunk, replaced)
            elif op == "drop_edges":
                store.delete_edges(chunk)
            elif op == "delete_edges":
                store.retract_edges(chunk, replaced)
            elif op == "create_edges":
                store.create_edges(name, chunk, key=edge_key_props(name))
            elif op == "update_edges":
                store.set_edge_props(chunk, replaced)


_NODE_OPS = ("create_nodes", "update_nodes")


class _Writers:
    """Two writer threads: one for nodes, one for relationships. Chunk k's relationships are
    written once the nodes of chunks 1..k are, so the server writes the next chunk's nodes
    while it writes this chunk's relationships (new nodes and the nodes relationships lock
    are different nodes: the two do not wait on each other). The first error stops both and
    is raised in the caller at its next call."""

    def __init__(self, store: Store, batch_size: int, progress: Optional[Callable[[int], None]],
                 replaced: list[str]):
        self.store, self.batch_size, self.progress = store, batch_size, progress
        self.replaced = replaced
        self.node_jobs: queue.Queue = queue.Queue(maxsize=2)
        self.edge_jobs: queue.Queue = queue.Queue(maxsize=2)
        self.error: Optional[BaseException] = None
        self.nodes_done = 0  # chunks whose nodes are written
        self.chunks = 0
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._nodes, name="kg-nodes", daemon=True),
                        threading.Thread(target=self._edges, name="kg-edges", daemon=True)]
        for t in self.threads:
            t.start()

    def _fail(self, e: BaseException) -> None:
        with self.cond:
            if self.error is None:
                self.error = e
            self.cond.notify_all()

    def _nodes(self) -> None:
        while (job := self.node_jobs.get()) is not None:
            k, batches = job
            if self.error is None:
                try:
                    write_changes(self.store, batches, self.replaced, batch_size=self.batch_size)
                except BaseException as e:  # noqa: BLE001 - handed to the caller
                    self._fail(e)
            with self.cond:
                self.nodes_done = k
                self.cond.notify_all()

    def _edges(self) -> None:
        while (job := self.edge_jobs.get()) is not None:
            k, batches, records = job
            with self.cond:
                self.cond.wait_for(lambda: self.nodes_done >= k or self.error is not None)
            if self.error is not None:
                continue  # drain: the caller raises the error
            try:
                write_changes(self.store, batches, self.replaced, batch_size=self.batch_size)
                if self.progress and records:
                    self.progress(records)
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                self._fail(e)

    def put(self, batches: list[tuple[str, str, list]], records: int) -> None:
        if self.error is not None:
            raise self.error
        self.chunks += 1
        self.node_jobs.put((self.chunks, [b for b in batches if b[0] in _NODE_OPS]))
        self.edge_jobs.put((self.chunks, [b for b in batches if b[0] not in _NODE_OPS], records))

    def close(self, *, raise_error: bool = True) -> None:
        self.node_jobs.put(None)
        self.edge_jobs.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None and raise_error:
            raise self.error


def record_input(paths: list[str | Path], *, mapping: Optional[Path] = None,
                 input_format: str = "records") -> tuple[RecordInput, bool, list[str]]:
    """The input of a load: record files, sheets through a mapping, or FtM entities.
    Returns it with whether the mapping lets references use the database, and notices."""
    if mapping is not None:
        from .tabular import load_mapping, mapped_raws

        m = load_mapping(Path(mapping))
        return RecordInput(raws=mapped_raws(m, [Path(p) for p in paths])), m.allow_existing, []
    if input_format == "ftm":
        from .ftm import ftm_raws

        raws, skipped = ftm_raws([Path(p) for p in paths])
        return RecordInput(raws=raws), False, skipped
    return RecordInput.from_paths(paths), False, []


def validate_input(store: Store, paths: list[str | Path], *, allow_existing: bool = False,
                   mapping: Optional[Path] = None, input_format: str = "records"
                   ) -> tuple[RecordInput, Checker, bool]:
    """Validate input of any kind (pass one of a load); raise InputError with every problem,
    including ids the database already holds as another kind of entity. Returns the input,
    the checker and whether the database held no entity."""
    inp, mapping_allows, notices = record_input(paths, mapping=mapping, input_format=input_format)
    lookup = store.kinds_of if (allow_existing or mapping_allows) else None
    checker = check(inp, existing=lookup, keep=False)
    checker.coll.notices.extend(notices)
    if inp.raws is not None:
        checker.coll.files = len(paths)
    empty = not store.read("MATCH (n:Entity) RETURN n.id LIMIT 1").records
    if not empty:  # an empty database holds nothing to clash with
        _refuse_other_kinds(store, checker)
    return inp, checker, empty


def _refuse_other_kinds(store: Store, checker: Checker) -> None:
    found = store.kinds_of(checker.defs)
    problems = []
    for eid, kind in found.items():
        d = checker.defs[eid]
        if kind == d.kind or kind == "entity":
            continue
        if not d.if_missing:
            problems.append(Problem(d.file, d.id_line, eid, "id",
                                    f"id is already a {kind} in the database, not a {d.kind}; "
                                    "one id is one entity"))
        elif not (kind in R.ACTOR and d.kind in R.ACTOR):
            # made "if missing" by a sheet: an existing actor of the other kind may stand in
            # for it, but nothing else may (an event "reported by" an organization)
            problems.append(Problem(d.file, d.id_line, eid, "id",
                                    f"the mapping makes a {d.kind} {eid!r} if missing, but the "
                                    f"database holds {eid!r} as {'an' if kind[0] in 'aeiou' else 'a'} {kind}, and "
                                    f"references to the {d.kind} would reach the {kind}; give the "
                                    f"mapping's {d.kind} ids a prefix of their own (e.g. "
                                    f"\"{d.kind}-{{...}}\")"))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.file, p.line)))


def _chunks(items: Iterator[Entity | RelationRecord], size: int
            ) -> Iterator[tuple[dict[str, Entity], dict[RelKey, dict[str, Definition]], int]]:
    ents: dict[str, Entity] = {}
    rels: dict[RelKey, dict[str, Definition]] = {}
    n = 0
    for item in items:
        n += 1
        if isinstance(item, Entity):
            ents[item.id] = item
        else:
            rels.setdefault(item.key, {}).update(item.defs)
        if n >= size:
            yield ents, rels, n
            ents, rels, n = {}, {}, 0
    if ents or rels:
        yield ents, rels, n


@dataclass
class _Stale:
    """What the loaded cases defined before and no longer define (nothing in the input does)."""
    entities: dict[str, Entity] = field(default_factory=dict)      # id -> (no definitions)
    relations: dict[RelKey, dict[str, Definition]] = field(default_factory=dict)


def _find_stale(store: Store, checker: Checker, replaced: set[str], plan: Plan,
                sealing: Optional[Sealing] = None) -> _Stale:
    """Entities and relations the loaded cases held in the database that their input no longer
    has. Refuses (RemovalRefused) when removing one would take an entity that another case
    still refers to."""
    stale = _Stale()
    real = sealing.real_id if sealing is not None else (lambda i: i)
    doomed = []  # stored ids
    for r in store.entities_in_cases(sorted(replaced)):
        rid = real(r["id"])
        if rid in checker.defs:
            continue
        kind = _kind_of(r["labels"])
        if kind == "entity":
            continue
        stale.entities[rid] = Entity(kind, rid, {}, None)
        for case in sorted(set(r["cases"]) & replaced):
            plan.removed.append({"case": case, "record": r["id"]})  # a placeholder if sealed
        if set(r["cases"]) <= replaced:
            doomed.append(r["id"])
    for r in store.relations_in_cases(sorted(replaced)):
        key = (r["type"], real(r["start"]), real(r["end"]), r["role"])
        if key not in checker.rel_keys:
            stale.relations[key] = {}
            plan.removed.append({"case": ",".join(sorted(replaced)),
                                 "record": f"relation {r['type']} {r['start']} -> {r['end']}"})
    problems = []
    for ref in store.references_from_other_cases(doomed, sorted(replaced)) if doomed else []:
        problems.append(f"{ref['id']}: {ref['type']} {ref['start']} -> {ref['end']} "
                        f"(stated by case {', '.join(repr(c) for c in ref['cases'])})")
    for eid in sorted({real(d) for d in doomed} & set(checker.coll.external_refs)):
        problems.append(f"{eid}: referred to by the input being loaded (--allow-existing)")
    if problems:
        raise RemovalRefused(
            f"case {', '.join(repr(c) for c in sorted(replaced))} no longer defines "
            f"{len(doomed)} record(s), and other records still refer to some of them:\n  "
            + "\n  ".join(problems) + "\nNothing was written.",
            hint="Keep those records in the case, or define them in the case that refers to "
                 "them (or remove the references) first.")
    return stale


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A load makes millions of short-lived objects and few reference cycles; Python's
    default collector thresholds (700 allocations) made it spend about a third of pass two
    scanning them. Collect rarely while loading; restore the thresholds after."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_fewer_collections()
def load(store: Store, paths: list[str | Path], *, allow_existing: bool = False,
         dry_run: bool = False, batch_size: int = DEFAULT_BATCH,
         progress_factory: Optional[Callable[[int], Any]] = None,
         mapping: Optional[Path] = None, input_format: str = "records",
         chunk_records: int = CHUNK_RECORDS, changes: bool = False,
         confidential_dates: Optional[str] = None) -> Plan:
    """Validate, plan and (unless dry_run) write. Returns the plan with its summary.

    The cases of the input replace what they contributed before (their records no longer in
    the input are removed); every other case's contribution stays as it is.
    ``confidential_dates`` (day, month, year, none; default KG_CONFIDENTIAL_DATES or day):
    the precision at which confidential records keep their dates (kg.seal)."""
    inp, checker, empty = validate_input(store, paths, allow_existing=allow_existing,
                                         mapping=mapping, input_format=input_format)
    return _apply(store, inp, checker, set(checker.coll.cases), empty, dry_run=dry_run,
                  batch_size=batch_size, progress_factory=progress_factory,
                  chunk_records=chunk_records, changes=changes,
                  confidential_dates=confidential_dates)


@_fewer_collections()
def unload(store: Store, case: str, *, dry_run: bool = False, batch_size: int = DEFAULT_BATCH,
           changes: bool = False) -> Plan:
    """Remove exactly what one case contributed: the graph becomes the one that never loading
    it gives. Refused (nothing written) if another case refers to an entity only it defines."""
    from .errors import UsageError
    from .suggest import did_you_mean

    known = store.case_ids()
    if case not in known:
        raise UsageError(f"no case {case!r} is loaded" + did_you_mean(case, known),
                         hint="`kg query run cases` lists the loaded cases.")
    checker = check(RecordInput(), keep=False)
    checker.coll.cases[case] = {"id": case}
    return _apply(store, RecordInput(), checker, {case}, False, dry_run=dry_run,
                  batch_size=batch_size, progress_factory=None, chunk_records=CHUNK_RECORDS,
                  changes=changes, unloading=True)


def _apply(store: Store, inp: RecordInput, checker: Checker, replaced: set[str], empty: bool, *,
           dry_run: bool, batch_size: int, progress_factory: Optional[Callable[[int], Any]],
           chunk_records: int, changes: bool, unloading: bool = False,
           confidential_dates: Optional[str] = None) -> Plan:
    coll = checker.coll
    plan = Plan(coll, log=[] if changes else None)
    stale = _Stale()
    if not empty:
        if store.has_legacy_entities():
            from .errors import ConfigError

            raise ConfigError(
                "this database was loaded by an earlier kg that did not keep each case's "
                "records, so kg cannot tell which case contributed what; nothing was written.",
                hint="Back it up (`kg db dump`), then `kg db reset --yes` and load every case "
                     "again (see docs/record-format.md, 'Many cases, one graph').")
    # Everything that can refuse the input comes before the first write.
    sealing = for_load(store, checker, dry_run=True, dates=confidential_dates)
    if not empty:
        stale = _find_stale(store, checker, replaced, plan, sealing)
    if sealing is not None and sealing.renamed:
        # A record whose confidentiality changes: its neighbours' records name it, so they
        # are planned again (sealed, or opened, as they must be now).
        stored = [sealing.sid(i) for i in sealing.renamed]
        for r in store.neighbors(stored):
            rid, kind = sealing.real_id(r["id"]), _kind_of(r["labels"])
            if rid not in checker.defs and rid not in stale.entities and kind != "entity":
                stale.entities[rid] = Entity(kind, rid, {}, None)
        for r in store.relations_touching(stored):
            key = (r["type"], sealing.real_id(r["start"]), sealing.real_id(r["end"]), r["role"])
            if key not in checker.rel_keys:
                stale.relations.setdefault(key, {})
    if not dry_run:
        store.apply_schema()
        if sealing is not None:  # now records the key's fingerprint and renames (kg.seal)
            sealing = for_load(store, checker, dry_run=False, dates=confidential_dates)
    total = coll.records
    if progress_factory is not None and total and not dry_run:
        with progress_factory(total) as bar:
            _stream(store, inp, checker, plan, dry_run, batch_size, chunk_records, bar.update,
                    empty, replaced, stale, sealing)
    else:
        _stream(store, inp, checker, plan, dry_run, batch_size, chunk_records, None, empty,
                replaced, stale, sealing)
    if not dry_run:
        if unloading:
            for case in replaced:
                store.delete_case(case)
        else:
            store.write_cases(_case_rows(checker))
        if plan.writes():
            # The full-text index is eventually consistent: make searches see this load.
            store.auto_commit("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()")
    return plan


def _case_rows(checker: Checker) -> list[dict[str, Any]]:
    """The :Case nodes of the input's cases: title, description, how many records."""
    return [{"id": cid, "props": {"title": fields.get("title"),
                                  "description": fields.get("description"),
                                  "records": checker.case_records.get(cid, 0)}}
            for cid, fields in sorted(checker.coll.cases.items())]


def _stream(store: Store, inp: RecordInput, checker: Checker, plan: Plan, dry_run: bool,
            batch_size: int, chunk_records: int, progress: Optional[Callable[[int], None]],
            empty: bool, replaced: set[str], stale: _Stale,
            sealing: Optional[Sealing] = None) -> None:
    """Pass two: chunk by chunk, plan against the database and hand the writes to a thread;
    last, what the loaded cases no longer hold.

    A relationship is created only after both of its nodes: one whose end is defined later in
    the input waits (in memory) until that node has been written. Into a database that was
    empty, ids the input defines once are new: nothing is read for them.
    """
    defs, multi = checker.defs, checker.multi
    real = sealing.real_id if sealing is not None else (lambda i: i)
    new = (lambda i: i in defs and i not in multi) if empty else None
    log = plan.log is not None
    writer = None if dry_run else _Writers(store, batch_size, progress, sorted(replaced))
    waiting: dict[str, list[dict]] = defaultdict(list)
    done_seq = -1  # entities up to this position in the input have been handed to the writer

    def ready(nid: str) -> bool:  # (a stored id)
        nid = real(nid)
        d = defs.get(nid)
        return d is None or (nid not in multi and d.seq <= done_seq)

    def leftovers() -> Iterator[tuple[dict[str, Entity], dict[RelKey, dict[str, Definition]], int]]:
        ids = list(stale.entities)
        keys = list(stale.relations)
        for i in range(0, max(len(ids), len(keys)), chunk_records):
            yield ({k: stale.entities[k] for k in ids[i:i + chunk_records]},
                   {k: stale.relations[k] for k in keys[i:i + chunk_records]}, 0)

    try:
        for ents, rels, n in _chunks(iter_valid(inp, checker), chunk_records):
            changes = plan_chunk(store, ents, rels, replaced, new=new, log=log, sealing=sealing)
            plan.add(changes)
            if writer is None:
                continue
            for ent in ents.values():
                if ent.id not in multi:
                    done_seq = max(done_seq, defs[ent.id].seq)
            for t, rows in changes.create_edges.items():
                now = []
                for r in rows:
                    (now if ready(r["start"]) and ready(r["end"]) else waiting[t]).append(r)
                rows[:] = now
            writer.put(changes.batches, n)
        if writer is not None:
            writer.put([("create_edges", t, rows) for t, rows in sorted(waiting.items())], 0)
        for ents, rels, n in leftovers():
            changes = plan_chunk(store, ents, rels, replaced, log=log, sealing=sealing)
            plan.add(changes)
            if writer is not None:
                writer.put(changes.batches, 0)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.close(raise_error=False)
        raise


@_fewer_collections()
def bulk_load(settings: Any, paths: list[str | Path], *, mapping: Optional[Path] = None,
              input_format: str = "records") -> Plan:
    """First load into an EMPTY local database through neo4j-admin import (offline).

    Validates like a normal load, writes the import CSVs (kg.export.CsvExporter) under
    $KG_HOME/neo4j/import/bulk, stops the server, imports, starts it, restores empty lists and
    applies the schema. The resulting graph is the one a normal load gives.
    """
    import shutil

    from .errors import UsageError
    from .export import CsvExporter, import_args, script_statements
    from .runtime import LocalNeo4j
    from .store import connect

    if not settings.managed:
        raise UsageError("--bulk works with kg's own local server, not with KG_NEO4J_URI.")
    local = LocalNeo4j(settings.home, int(settings.uri.rsplit(":", 1)[-1]))
    clock = [time.perf_counter()]
    phases: dict[str, float] = {}

    def phase(name: str) -> None:  # the seconds since the last phase ended
        now = time.perf_counter()
        phases[name] = now - clock[0]
        clock[0] = now

    with connect(settings) as drv:
        store = Store(drv, settings.database, managed=True, where=settings.describe())
        drv.verify_connectivity()
        if store.read("MATCH (n) RETURN count(n) AS n").records[0]["n"]:
            raise UsageError("--bulk loads into an empty database only; this one has data.",
                             hint="Use a normal `kg load`, or `kg db reset --yes` first.")
        inp, checker, _ = validate_input(store, paths, mapping=mapping, input_format=input_format)
        sealing = for_load(store, checker, dry_run=True)
    phase("validation")
    plan = Plan(checker.coll, phases=phases)
    folder = local.import_dir / "bulk"
    shutil.rmtree(folder, ignore_errors=True)
    exporter = CsvExporter(folder, part_rows=BULK_PART_ROWS)
    # The input is valid: the server stops (its shutdown checkpoint takes seconds) while the
    # CSVs are written. If writing them fails, it is started again.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-stop") as pool:
        stopping = pool.submit(local.stop)
        try:
            for ents, rels, _ in _chunks(iter_valid(inp, checker), CHUNK_RECORDS):
                rows = map_records(ents.values(),
                                   [RelationRecord(k, d, None) for k, d in rels.items()])
                if sealing is not None:  # the one sealing step (kg.seal)
                    rows = sealing.rows(rows)
                for n in rows.nodes:
                    exporter.write_node(n.id, {"labels": ["Entity", n.label], "props": n.props})
                    plan.nodes[n.label]["created"] += 1
                for e in rows.edges:
                    exporter.write_edge({"type": e.type, "start": e.start, "end": e.end,
                                         "props": e.props})
                    plan.relationships[e.type]["created"] += 1
            exporter.finalize()
        except BaseException:
            stopping.result()
            local.start()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        phase("csv")  # the server's shutdown ran alongside
        stopping.result()
        phase("server stop (after the CSVs)")
    res = local.admin(*import_args(folder))
    phase("neo4j-admin import")
    local.start()
    phase("server start")
    if res.returncode != 0:
        raise UsageError("neo4j-admin import failed: " + (res.stderr or res.stdout).strip()[-1500:])
    fresh = load_settings_for(local, settings)
    with connect(fresh) as drv:
        store = Store(drv, settings.database, managed=True)
        for statement in script_statements((folder / "post-import.cypher").read_text(encoding="utf-8")):
            store.write(statement)
        store.apply_schema()
        if sealing is not None:
            record_fingerprint(store, sealing.keys)
        store.await_indexes()
        store.write_cases(_case_rows(checker))
    phase("schema, indexes, cases")
    shutil.rmtree(folder, ignore_errors=True)
    return plan


def load_settings_for(local: Any, settings: Any) -> Any:
    from dataclasses import replace

    return replace(settings, uri=local.uri, password=local.read_password())
