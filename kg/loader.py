"""Load validated records into Neo4j: read what is there, write only what changed.

1. validate the whole input (kg.validation.check), keeping only ids, kinds and unresolved
   references - a bad input writes nothing;
2. refuse ids the database holds as another kind; apply constraints and indexes;
3. read the input again in chunks of records (a small input: the records step 1 validated,
   kept in memory, kg.inputs.KEEP_BYTES); for each chunk, read the existing nodes and the
   edges its records own (into a database that was empty: only for ids the input defines
   more than once), and diff them against the rows from kg.mapping: created / updated /
   unchanged nodes, created / updated / deleted relationships;
4. write the differences in batches (``UNWIND $batch.rows``), each in a managed transaction that
   the driver retries on transient errors, on two threads (nodes; relationships, once their
   chunk's nodes are written), so reading and planning the next chunk overlaps with the
   server writing this one.
Memory stays flat as the input grows (past KEEP_BYTES nothing holds the whole input);
loading the same input twice writes nothing the second time.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import cypher as C
from . import records as R
from .contributions import Definition
from .errors import InputError, Problem
from .inputs import RecordInput
from .plan import Changes, Plan, _kind_of, _role, edge_key_props, plan_chunk  # noqa: F401
from .seal import Sealing, for_load, hidden_ids
from .stale import Stale, find_stale
from .store import Store
from .validation import Checker, Entity, RelationRecord, RelKey, _a, check, iter_valid
from .writers import DEFAULT_BATCH, _Writers, write_changes  # noqa: F401

CHUNK_RECORDS = 10_000  # records read, planned and written together
FIRST_CHUNK = 1_000  # the first chunk's size (the next ones double up to CHUNK_RECORDS)
PIPELINE = 4  # a smaller input is read in at least this many chunks (10,000 records: 2,500)
BULK_PART_ROWS = 500_000  # rows per CSV part of a bulk load
SWITCH_INTERVAL = 0.001  # seconds between the interpreter's thread switches while loading


def record_input(
    paths: list[str | Path], *, mapping: Path | None = None, input_format: str = "records"
) -> tuple[RecordInput, bool, list[str]]:
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


def validate_input(
    store: Store,
    paths: list[str | Path],
    *,
    allow_existing: bool = False,
    mapping: Path | None = None,
    input_format: str = "records",
) -> tuple[RecordInput, Checker, bool]:
    """Validate input of any kind (pass one of a load); raise InputError with every problem,
    including ids the database already holds as another kind of entity. Returns the input,
    the checker and whether the database held no entity."""
    inp, mapping_allows, notices = record_input(paths, mapping=mapping, input_format=input_format)
    lookup = store.kinds_of if (allow_existing or mapping_allows) else None
    hidden = hidden_ids(store)  # ids confidential in the database (kg.seal)
    checker = check(inp, existing=lookup, keep=False, remember=inp.small(), hidden=hidden)
    checker.coll.notices.extend(notices)
    if inp.raws is not None:
        checker.coll.files = len(paths)
    empty = not store.read(C.ANY_ENTITY).records
    if not empty:  # an empty database holds nothing to clash with
        _refuse_other_kinds(store, checker, hidden)
    return inp, checker, empty


def _refuse_other_kinds(store: Store, checker: Checker, hidden: dict[str, str]) -> None:
    """``hidden``: real id -> kind of the database's confidential records (stored under
    placeholders: an id lookup does not find them)."""
    found = store.kinds_of(checker.defs)
    found.update((i, k) for i, k in hidden.items() if i in checker.defs)
    problems = []
    for eid, kind in found.items():
        d = checker.defs[eid]
        if kind == d.kind or kind == "entity":
            continue
        if not d.if_missing:
            problems.append(
                Problem(
                    d.file,
                    d.id_line,
                    eid,
                    "id",
                    f"id is already {_a(kind)} in the database, not {_a(d.kind)}; "
                    "one id is one entity",
                )
            )
        elif not (kind in R.ACTOR and d.kind in R.ACTOR):
            # made "if missing" by a sheet: an existing actor of the other kind may stand in
            # for it, but nothing else may (an event "reported by" an organization)
            problems.append(
                Problem(
                    d.file,
                    d.id_line,
                    eid,
                    "id",
                    f"the mapping makes {_a(d.kind)} {eid!r} if missing, but the "
                    f"database holds {eid!r} as {'an' if kind[0] in 'aeiou' else 'a'} {kind}, and "
                    f"references to the {d.kind} would reach the {kind}; give the "
                    f"mapping's {d.kind} ids a prefix of their own (e.g. "
                    f'"{d.kind}-{{...}}")',
                )
            )
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.file, p.line)))


def _chunk_size(records: int, chunk_records: int) -> int:
    """At least PIPELINE chunks (the server writes one while the next is planned), of at
    least FIRST_CHUNK and at most ``chunk_records`` records."""
    return min(chunk_records, max(FIRST_CHUNK, -(-records // PIPELINE)))


def _chunks(
    items: Iterator[Entity | RelationRecord], size: int
) -> Iterator[tuple[dict[str, Entity], dict[RelKey, dict[str, Definition]], int]]:
    """Chunks of ``size`` records, the first ones smaller (FIRST_CHUNK, doubling): the server
    starts writing while the rest is planned, instead of waiting for a whole first chunk."""
    ents: dict[str, Entity] = {}
    rels: dict[RelKey, dict[str, Definition]] = {}
    n = 0
    now = min(size, FIRST_CHUNK)
    for item in items:
        n += 1
        if isinstance(item, Entity):
            ents[item.id] = item
        else:
            rels.setdefault(item.key, {}).update(item.defs)
        if n >= now:
            yield ents, rels, n
            ents, rels, n = {}, {}, 0
            now = min(size, now * 2)
    if ents or rels:
        yield ents, rels, n


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


@contextlib.contextmanager
def _quick_turns() -> Iterator[None]:
    """Writer threads need the interpreter briefly after each wait on the server; beside the
    planning thread they got it every 5 ms (a load's node writes beside a busy thread: 1.4 s
    alone, 6.5 s at 5 ms, 3.0 s at 1 ms). Every 1 ms while loading; restored after."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@_fewer_collections()
@_quick_turns()
def load(
    store: Store,
    paths: list[str | Path],
    *,
    allow_existing: bool = False,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress_factory: Callable[[int], Any] | None = None,
    mapping: Path | None = None,
    input_format: str = "records",
    chunk_records: int = CHUNK_RECORDS,
    changes: bool = False,
    confidential_dates: str | None = None,
) -> Plan:
    """Validate, plan and (unless dry_run) write. Returns the plan with its summary.

    The cases of the input replace what they contributed before (their records no longer in
    the input are removed); every other case's contribution stays as it is.
    ``confidential_dates`` (day, month, year, none; default KG_CONFIDENTIAL_DATES or day):
    the precision at which confidential records keep their dates (kg.seal)."""
    inp, checker, empty = validate_input(
        store, paths, allow_existing=allow_existing, mapping=mapping, input_format=input_format
    )
    return _apply(
        store,
        inp,
        checker,
        set(checker.coll.cases),
        empty,
        dry_run=dry_run,
        batch_size=batch_size,
        progress_factory=progress_factory,
        chunk_records=chunk_records,
        changes=changes,
        confidential_dates=confidential_dates,
    )


@_fewer_collections()
@_quick_turns()
def unload(
    store: Store,
    case: str,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    changes: bool = False,
) -> Plan:
    """Remove exactly what one case contributed: the graph becomes the one that never loading
    it gives. Refused (nothing written) if another case refers to an entity only it defines."""
    from .errors import UsageError
    from .suggest import did_you_mean

    known = store.case_ids()
    if case not in known:
        raise UsageError(
            f"no case {case!r} is loaded" + did_you_mean(case, known),
            hint="`kg query run cases` lists the loaded cases.",
        )
    checker = check(RecordInput(), keep=False)
    checker.coll.cases[case] = {"id": case}
    return _apply(
        store,
        RecordInput(),
        checker,
        {case},
        False,
        dry_run=dry_run,
        batch_size=batch_size,
        progress_factory=None,
        chunk_records=CHUNK_RECORDS,
        changes=changes,
        unloading=True,
    )


def _apply(
    store: Store,
    inp: RecordInput,
    checker: Checker,
    replaced: set[str],
    empty: bool,
    *,
    dry_run: bool,
    batch_size: int,
    progress_factory: Callable[[int], Any] | None,
    chunk_records: int,
    changes: bool,
    unloading: bool = False,
    confidential_dates: str | None = None,
) -> Plan:
    coll = checker.coll
    plan = Plan(coll, log=[] if changes else None)
    stale = Stale()
    if not empty:
        if store.has_legacy_entities():
            from .errors import ConfigError

            raise ConfigError(
                "this database was loaded by an earlier kg that did not keep each case's "
                "records, so kg cannot tell which case contributed what; nothing was written.",
                hint="Back it up (`kg db dump`), then `kg db reset --yes` and load every case "
                "again (see docs/record-format.md, 'Many cases, one graph').",
            )
    # Everything that can refuse the input comes before the first write.
    sealing = for_load(store, checker, dry_run=True, dates=confidential_dates)
    if not empty:
        stale = find_stale(store, checker, replaced, plan, sealing)
    if sealing is not None and sealing.renamed:
        # A record whose confidentiality changes: its neighbours' records name it, so they
        # are planned again (sealed, or opened, as they must be now).
        stored = [sealing.sid(i) for i in sealing.renamed]
        for r in store.neighbors(stored):
            rid, kind = sealing.real_id(r["id"]), _kind_of(r["labels"])
            if rid not in checker.defs and rid not in stale.entities and kind != "entity":
                stale.entities[rid] = Entity(kind, rid, {}, None)
        for r in store.relations_touching(stored):
            key = (
                r["type"],
                sealing.real_id(r["start"]),
                sealing.real_id(r["end"]),
                _role(r["role"], sealing),
            )
            if key not in checker.rel_keys:
                stale.relations.setdefault(key, {})
    if not dry_run:
        store.apply_schema()
        if sealing is not None:  # now records the key's fingerprint and renames (kg.seal)
            sealing = for_load(store, checker, dry_run=False, dates=confidential_dates)
    total = coll.records
    shown = progress_factory is not None and total and not dry_run
    progress = progress_factory(total) if shown and progress_factory is not None else None
    with progress if progress is not None else contextlib.nullcontext() as bar:
        _stream(
            store,
            inp,
            checker,
            plan,
            dry_run,
            batch_size,
            chunk_records,
            bar.update if bar is not None else None,
            empty,
            replaced,
            stale,
            sealing,
        )
    if not dry_run:
        if unloading:
            for case in replaced:
                store.delete_case(case)
        else:
            rows = checker.case_rows()
            store.write_cases(sealing.cases(rows) if sealing is not None else rows)
        if plan.writes():
            # The full-text index is eventually consistent: make searches see this load.
            store.auto_commit(C.FULLTEXT_REFRESH)
    return plan


def _stream(
    store: Store,
    inp: RecordInput,
    checker: Checker,
    plan: Plan,
    dry_run: bool,
    batch_size: int,
    chunk_records: int,
    progress: Callable[[int], None] | None,
    empty: bool,
    replaced: set[str],
    stale: Stale,
    sealing: Sealing | None = None,
) -> None:
    """Pass two: chunk by chunk, plan against the database and hand the writes to a thread;
    last, what the loaded cases no longer hold.

    A relationship is created only after both of its nodes: one whose end is defined later in
    the input waits (in memory) until that node's chunk has been handed to the writer, and
    goes with that chunk's relationships. Into a database that was
    empty, ids the input defines once are new: nothing is read for them.
    """
    defs, multi = checker.defs, checker.multi
    real = sealing.real_id if sealing is not None else (lambda i: i)
    new = (lambda i: i in defs and i not in multi) if empty else None
    log = plan.log is not None
    writer = None if dry_run else _Writers(store, batch_size, progress, sorted(replaced))
    # new relationships held back: (the input position their later end waits for, order, type,
    # row), the first to be ready on top
    waiting: list[tuple[float, int, str, dict]] = []
    order = itertools.count()
    done_seq = -1  # entities up to this position in the input have been handed to the writer

    def needs(nid: str) -> float:  # (a stored id) the position after which it is written
        nid = real(nid)
        d = defs.get(nid)
        if d is None:
            return -1  # not in the input: in the database already
        return math.inf if nid in multi else d.seq  # several cases' records come last

    def leftovers() -> Iterator[tuple[dict[str, Entity], dict[RelKey, dict[str, Definition]], int]]:
        ids = list(stale.entities)
        keys = list(stale.relations)
        for i in range(0, max(len(ids), len(keys)), chunk_records):
            yield (
                {k: stale.entities[k] for k in ids[i : i + chunk_records]},
                {k: stale.relations[k] for k in keys[i : i + chunk_records]},
                0,
            )

    try:
        size = _chunk_size(checker.coll.records, chunk_records)
        for ents, rels, n in _chunks(iter_valid(inp, checker), size):
            changes = plan_chunk(store, ents, rels, replaced, new=new, log=log, sealing=sealing)
            plan.add(changes)
            if writer is None:
                continue
            before = done_seq
            for ent in ents.values():
                if ent.id not in multi:
                    done_seq = max(done_seq, defs[ent.id].seq)
            # New relationships between earlier chunks' nodes need not wait for this chunk's
            # (unless it removes or changes relationships: kept in order)
            alone = not any(
                rows
                for ops in (changes.drop_edges, changes.delete_edges, changes.update_edges)
                for rows in ops.values()
            )
            early: dict[str, list[dict]] = defaultdict(list)
            for t, rows in changes.create_edges.items():
                now: list[dict] = []
                for r in rows:
                    at = max(needs(r["start"]), needs(r["end"]))
                    if at <= before and alone:
                        early[t].append(r)
                    elif at <= done_seq:
                        now.append(r)
                    else:
                        heapq.heappush(waiting, (at, next(order), t, r))
                rows[:] = now
            # the ones held back whose ends this chunk hands over go with its relationships
            while waiting and waiting[0][0] <= done_seq:
                _at, _o, t, r = heapq.heappop(waiting)
                changes.create_edges[t].append(r)
            writer.put(
                changes.batches, n, early=[("create_edges", t, r) for t, r in sorted(early.items())]
            )
        if writer is not None:
            last: dict[str, list[dict]] = defaultdict(list)
            for _at, _o, t, r in sorted(waiting):
                last[t].append(r)
            writer.put([("create_edges", t, rows) for t, rows in sorted(last.items())], 0)
        for ents, rels, _n in leftovers():
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
