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
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from . import records as R
from .errors import InputError, Problem
from .mapping import (KEY_PROPS, OWNED_INCOMING, OWNED_OUTGOING, RELATION_KEY, EdgeRow, GraphRows,
                      edge_key, map_records)
from .seal import Sealing, for_load, record_fingerprint
from .store import Store, native
from .validation import Checker, Collection, Entity, RecordInput, RelationRecord, check, iter_valid

ANALYSIS_PREFIX = "analysis_"   # properties written by `kg analyze --write-back`: kept on reload
DEFAULT_BATCH = 5_000
CHUNK_RECORDS = 10_000          # records read, planned and written together
BULK_PART_ROWS = 500_000        # rows per CSV part of a bulk load


@dataclass
class Changes:
    """What one chunk of records changes: the rows to write, by operation."""
    create_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    unchanged_nodes: Counter = field(default_factory=Counter)
    create_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    delete_edges: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchanged_edges: Counter = field(default_factory=Counter)

    @property
    def batches(self) -> list[tuple[str, str, list]]:
        out: list[tuple[str, str, list]] = []
        for lb, rows in sorted(self.create_nodes.items()):
            out.append(("create_nodes", lb, rows))
        for lb, rows in sorted(self.update_nodes.items()):
            out.append(("update_nodes", lb, rows))
        for t, eids in sorted(self.delete_edges.items()):
            out.append(("delete_edges", t, eids))
        for t, rows in sorted(self.create_edges.items()):
            out.append(("create_edges", t, rows))
        for t, rows in sorted(self.update_edges.items()):
            out.append(("update_edges", t, rows))
        return out


_OPS = ("created", "updated", "deleted", "unchanged")


@dataclass
class Plan:
    """What a load did (or, with --dry-run, would do): counts by label and type."""
    coll: Collection
    nodes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    relationships: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, ch: Changes) -> None:
        for lb, rows in ch.create_nodes.items():
            self.nodes[lb]["created"] += len(rows)
        for lb, rows in ch.update_nodes.items():
            self.nodes[lb]["updated"] += len(rows)
        for lb, n in ch.unchanged_nodes.items():
            self.nodes[lb]["unchanged"] += n
        for name, op in (("create_edges", "created"), ("update_edges", "updated"),
                         ("delete_edges", "deleted")):
            for t, rows in getattr(ch, name).items():
                self.relationships[t][op] += len(rows)
        for t, n in ch.unchanged_edges.items():
            self.relationships[t]["unchanged"] += n

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.coll.files,
            "records": self.coll.records,
            "cases": sorted(self.coll.cases),
            "nodes": {lb: {op: c.get(op, 0) for op in ("created", "updated", "unchanged")}
                      for lb, c in sorted(self.nodes.items())},
            "relationships": {t: {op: c.get(op, 0) for op in _OPS}
                              for t, c in sorted(self.relationships.items())},
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


def plan_chunk(store: Store, entities: dict[str, Entity], rows: GraphRows,
               loaded_cases: Iterable[str], *, new: Optional[Callable[[str], bool]] = None
               ) -> Changes:
    """Diff one chunk's rows against the database (the nodes of its entities, the edges they
    own, and relation-made edges between the same pairs).

    ``new`` tells ids that cannot be in the database (on a first load into an empty database:
    the ids the input defines once); nothing is read for them."""
    plan = Changes()
    unread = new or (lambda _id: False)
    existing = store.nodes_by_id([n.id for n in rows.nodes if not unread(n.id)])
    # Records made "if missing" (a speaker named in a sheet) leave existing entities alone.
    keep_as_is = {eid for eid, e in entities.items() if e.raw.if_missing and eid in existing}
    if keep_as_is:
        rows = GraphRows(nodes=[n for n in rows.nodes if n.id not in keep_as_is],
                         edges=[e for e in rows.edges if e.owner not in keep_as_is])
    ids = [n.id for n in rows.nodes]

    loaded_cases = set(loaded_cases)
    for node in rows.nodes:
        old = existing.get(node.id)
        props = dict(node.props)
        if old is None:
            props["cases"] = list(node.cases)
            plan.create_nodes[node.label].append({"id": node.id, "props": props})
            continue
        old_props = {k: native(v) for k, v in old[1].items()}
        old_cases = list(old_props.get("cases") or [])
        props["cases"] = old_cases + [c for c in node.cases if c not in old_cases]
        for k, v in old_props.items():
            if k.startswith(ANALYSIS_PREFIX):
                props[k] = v
        # Confidentiality is sticky while another, unloaded case still holds the entity.
        if old_props.get("confidential") and set(old_cases) - loaded_cases:
            props["confidential"] = True
        if _same(props, old_props):
            plan.unchanged_nodes[node.label] += 1
        else:
            plan.update_nodes[node.label].append({"id": node.id, "props": props})

    # Edges owned by the loaded entities, and relation-made edges between the same pairs.
    new_by_key: dict[tuple, EdgeRow] = {e.key: e for e in rows.edges}
    # Only nodes already in the database can own edges there.
    old_rows = store.owned_edges([i for i in ids if i in existing], OWNED_OUTGOING, OWNED_INCOMING)
    pairs = [{"type": e.type, "start": e.start, "end": e.end} for e in rows.edges
             if e.owner is None and not (unread(e.start) or unread(e.end))]
    if pairs:
        old_rows += store.relation_edges(pairs)
    seen_eids: set[str] = set()
    old_by_key: dict[tuple, dict] = {}
    for r in old_rows:
        if r["eid"] in seen_eids:
            continue
        seen_eids.add(r["eid"])
        props = {k: native(v) for k, v in dict(r["props"]).items()}
        key = edge_key(r["type"], r["start"], r["end"], props)
        if key in old_by_key:  # a duplicate left by an interrupted run: remove it
            plan.delete_edges[r["type"]].append(r["eid"])
            continue
        old_by_key[key] = {"eid": r["eid"], "props": props, "type": r["type"]}
    for key, old in old_by_key.items():
        if key not in new_by_key:
            plan.delete_edges[old["type"]].append(old["eid"])
    for key, edge in new_by_key.items():
        old = old_by_key.get(key)
        if old is None:
            plan.create_edges[edge.type].append({"start": edge.start, "end": edge.end,
                                                 "props": edge.props})
        elif _same(edge.props, old["props"]):
            plan.unchanged_edges[edge.type] += 1
        else:
            plan.update_edges[edge.type].append({"eid": old["eid"], "props": edge.props})
    return plan


def edge_key_props(rel_type: str) -> tuple[str, ...]:
    """The properties that tell edges of this type apart (see kg.mapping)."""
    return tuple(dict.fromkeys(KEY_PROPS.get(rel_type, ()) + RELATION_KEY))


def write_changes(store: Store, changes: Iterable[tuple[str, str, list]], *,
                  batch_size: int = DEFAULT_BATCH) -> None:
    for op, name, rows in changes:
        for i in range(0, len(rows), batch_size):
            chunk = rows[i:i + batch_size]
            if op == "create_nodes":
                store.merge_nodes(name, chunk)
            elif op == "update_nodes":
                store.set_node_props(chunk)
            elif op == "delete_edges":
                store.delete_edges(chunk)
            elif op == "create_edges":
                store.create_edges(name, chunk, key=edge_key_props(name))
            elif op == "update_edges":
                store.set_edge_props(chunk)


_NODE_OPS = ("create_nodes", "update_nodes")


class _Writers:
    """Two writer threads: one for nodes, one for relationships. Chunk k's relationships are
    written once the nodes of chunks 1..k are, so the server writes the next chunk's nodes
    while it writes this chunk's relationships (new nodes and the nodes relationships lock
    are different nodes: the two do not wait on each other). The first error stops both and
    is raised in the caller at its next call."""

    def __init__(self, store: Store, batch_size: int, progress: Optional[Callable[[int], None]]):
        self.store, self.batch_size, self.progress = store, batch_size, progress
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
                    write_changes(self.store, batches, batch_size=self.batch_size)
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
                write_changes(self.store, batches, batch_size=self.batch_size)
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
        if kind != d.kind and kind != "entity" and not d.if_missing:
            problems.append(Problem(d.file, d.id_line, eid, "id",
                                    f"id is already a {kind} in the database, not a {d.kind}; "
                                    "one id is one entity"))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.file, p.line)))


def _chunks(items: Iterator[Entity | RelationRecord], size: int
            ) -> Iterator[tuple[dict[str, Entity], list[R.Relation], int]]:
    ents: dict[str, Entity] = {}
    rels: list[R.Relation] = []
    for item in items:
        if isinstance(item, Entity):
            ents[item.id] = item
        else:
            rels.append(item.model)
        if len(ents) + len(rels) >= size:
            yield ents, rels, len(ents) + len(rels)
            ents, rels = {}, []
    if ents or rels:
        yield ents, rels, len(ents) + len(rels)


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
         chunk_records: int = CHUNK_RECORDS, confidential_dates: Optional[str] = None) -> Plan:
    """Validate, plan and (unless dry_run) write. Returns the plan with its summary.

    ``confidential_dates`` (day, month, year, none; default KG_CONFIDENTIAL_DATES or day):
    the precision at which confidential records keep their dates (kg.seal)."""
    inp, checker, empty = validate_input(store, paths, allow_existing=allow_existing,
                                         mapping=mapping, input_format=input_format)
    coll = checker.coll
    plan = Plan(coll)
    if not dry_run:
        store.apply_schema()
    sealing = for_load(store, checker, dry_run=dry_run, dates=confidential_dates)
    total = coll.records
    if progress_factory is not None and total and not dry_run:
        with progress_factory(total) as bar:
            _stream(store, inp, checker, plan, dry_run, batch_size, chunk_records, bar.update,
                    empty, sealing)
    else:
        _stream(store, inp, checker, plan, dry_run, batch_size, chunk_records, None, empty,
                sealing)
    if plan.writes() and not dry_run:
        # The full-text index is eventually consistent: make searches see this load.
        store.auto_commit("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()")
    return plan


def _stream(store: Store, inp: RecordInput, checker: Checker, plan: Plan, dry_run: bool,
            batch_size: int, chunk_records: int, progress: Optional[Callable[[int], None]],
            empty: bool, sealing: Optional[Sealing] = None) -> None:
    """Pass two: chunk by chunk, plan against the database and hand the writes to a thread.

    A relationship is created only after both of its nodes: one whose end is defined later in
    the input waits (in memory) until that node has been written. Into a database that was
    empty, ids the input defines once are new: nothing is read for them. With ``sealing``
    (kg.seal), rows are sealed before they are planned: ids in rows are then stored ids.
    """
    defs, multi = checker.defs, checker.multi
    real = sealing.real_id if sealing is not None else (lambda i: i)
    new = (lambda i: real(i) in defs and real(i) not in multi) if empty else None
    cases = list(checker.coll.cases)
    writer = None if dry_run else _Writers(store, batch_size, progress)
    waiting: dict[str, list[dict]] = defaultdict(list)
    done_seq = -1  # entities up to this position in the input have been handed to the writer

    def ready(nid: str) -> bool:
        nid = real(nid)
        d = defs.get(nid)
        return d is None or (nid not in multi and d.seq <= done_seq)

    try:
        for ents, rels, n in _chunks(iter_valid(inp, checker), chunk_records):
            rows = map_records(ents.values(), rels)
            if sealing is not None:  # the one sealing step (kg.seal): nothing hidden in clear
                rows = sealing.rows(rows)
            changes = plan_chunk(store, _stored_ids(ents, sealing), rows, cases, new=new)
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
            writer.close()
    except BaseException:
        if writer is not None:
            writer.close(raise_error=False)
        raise


def _stored_ids(ents: dict[str, Entity], sealing: Optional[Sealing]) -> dict[str, Entity]:
    if sealing is None:
        return ents
    return {sealing.sid(k): v for k, v in ents.items()}


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
    with connect(settings) as drv:
        store = Store(drv, settings.database, managed=True, where=settings.describe())
        drv.verify_connectivity()
        if store.read("MATCH (n) RETURN count(n) AS n").records[0]["n"]:
            raise UsageError("--bulk loads into an empty database only; this one has data.",
                             hint="Use a normal `kg load`, or `kg db reset --yes` first.")
        inp, checker, _ = validate_input(store, paths, mapping=mapping, input_format=input_format)
        sealing = for_load(store, checker, dry_run=True)
    plan = Plan(checker.coll)
    folder = local.import_dir / "bulk"
    shutil.rmtree(folder, ignore_errors=True)
    exporter = CsvExporter(folder, part_rows=BULK_PART_ROWS)
    # The input is valid: the server stops (its shutdown checkpoint takes seconds) while the
    # CSVs are written. If writing them fails, it is started again.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-stop") as pool:
        stopping = pool.submit(local.stop)
        try:
            for ents, rels, _ in _chunks(iter_valid(inp, checker), CHUNK_RECORDS):
                rows = map_records(ents.values(), rels)
                if sealing is not None:  # the one sealing step (kg.seal)
                    rows = sealing.rows(rows)
                for n in rows.nodes:
                    exporter.write_node(n.id, {"labels": ["Entity", n.label],
                                               "props": {**n.props, "cases": list(n.cases)}})
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
        stopping.result()
    res = local.admin(*import_args(folder))
    local.start()
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
    shutil.rmtree(folder, ignore_errors=True)
    return plan


def load_settings_for(local: Any, settings: Any) -> Any:
    from dataclasses import replace

    return replace(settings, uri=local.uri, password=local.read_password())
