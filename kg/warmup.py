"""Warm a freshly started Neo4j for kg's own queries, leaving the graph as it was.

A server just started is cold: each query shape kg sends is planned for the first time, and
the JVM loads Neo4j's classes and runs the write paths (the stores, the indexes, Lucene's
full-text index at commit) interpreted until its JIT compiles them. kg's own server compiles
with the client compiler alone (KG_NEO4J_JIT=quick, kg.config.JIT_FLAGS), so that work is
done within seconds; the warm-up does it before `kg db start` returns instead of during the
first load. Community edition has no scratch database, and a rolled-back transaction never
reaches the commit path, so the warm-up loads a small synthetic case (kg.synth, without
confidential records: no key is made, nothing is sealed) through kg's own loader, runs the
export's reads over it, and unloads it (the reads and deletes of a reload). By the order law
(loading, then unloading one case never changes what any other case contributed) the graph is
the one before; the warm-up case's ids ("...-kg-warmup-case-...") and case id name nothing a
user wrote. A warm-up cut short (the machine stopped) leaves that case loaded: the next start
unloads it first.

On by default; KG_WARMUP=0 (or no/false/off) skips it, for a start followed by no load or by a
few small queries. It moves time rather than saving it: `kg db start` takes several seconds
longer and the first load after it runs at the speed of the next (docs/benchmarks.md, "Cold
and warm", measures both). WARMUP_RECORDS records, or KG_WARMUP_RECORDS.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

WARMUP_RECORDS = 2_000
CASE = "kg-warmup-case"


def enabled() -> bool:
    return os.environ.get("KG_WARMUP", "1").strip().lower() not in ("0", "no", "false", "off")


def _records() -> int:
    try:
        return max(100, int(os.environ.get("KG_WARMUP_RECORDS") or WARMUP_RECORDS))
    except ValueError:
        return WARMUP_RECORDS


def _write_case(folder: Path, records: int) -> Path:
    """The synthetic case, without confidential records, in a private temporary folder, with
    the records of _every_type() added."""
    import json

    from .synth import generate

    recs = list(generate(records, seed=97, case=CASE))
    recs += _every_type(recs)
    with open(folder / "warmup.jsonl", "w", encoding="utf-8") as f:
        for rec in recs:
            rec.pop("confidential", None)
            f.write(
                json.dumps({k: v for k, v in rec.items() if v is not None}, ensure_ascii=False)
                + "\n"
            )
    return folder


def _every_type(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records that make every relationship type in the schema at least once, so that the
    first load after a start plans none of its write statements (each type has its own:
    types cannot be parameters, kg.store_write): a `relation` record for each type a relation
    may state, and a source with `authors`, `copy_of` and `known_through` for the types only
    those fields make. (kg.synth makes statements' SAID, DENIED, ABOUT and REPORTED_BY.)"""
    from . import records as R

    by_kind: dict[str, list[str]] = {}
    for rec in recs:
        if "id" in rec and rec.get("record") in R.LABELS:
            by_kind.setdefault(rec["record"], []).append(rec["id"])
    out: list[dict[str, Any]] = []
    for rel_type, pairs in R.RELATION_TYPES.items():
        froms, tos = pairs[0]
        start, end = by_kind[froms[0]][0], by_kind[tos[0]][-1]
        out.append({"record": "relation", "type": rel_type, "from": start, "to": end})
    sources = by_kind["source"]
    out.append(
        {
            "record": "source",
            "id": f"sou-{CASE}-every-type",
            "title": "Every type",
            "authors": [by_kind["person"][0]],
            "copy_of": sources[0],
            "known_through": sources[1],
        }
    )
    return out


def warm_up(store: Any, records: int | None = None) -> float:
    """Load, read and unload the warm-up case; return the seconds it took. Never
    raises: a warm-up that fails leaves a cold server, nothing else."""
    if not enabled():
        return 0.0
    t = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="kg-warmup-") as tmp:
            _run(store, _write_case(Path(tmp), records or _records()))
    except Exception:
        pass
    return time.perf_counter() - t


def _run(store: Any, case: Path) -> None:
    from .loader import load, unload

    store.apply_schema()  # what the first load would do; planned without it, MERGE scans
    if CASE in store.case_ids():
        unload(store, CASE)  # an earlier warm-up cut short
    try:
        load(store, [case])
        _export_reads(store)
    finally:
        unload(store, CASE)
    _sealing_statements(store)


def _sealing_statements(store: Any) -> None:
    """What a first load of confidential records adds (the warm-up case has none: it would
    make a sealing key): the key's fingerprint written (rolled back), kinds looked up."""
    from . import cypher as C

    store.rolled_back(C.SET_SEAL_FINGERPRINT, {"fp": "kg-warmup"})
    store.kinds_of(["kg-warmup-none"])


def _export_reads(store: Any) -> None:
    """The reads `kg export` makes for a case (kg.selection), citations included."""
    from .selection import Selection, select

    select(store, Selection(case=CASE), with_citations=True)


def warm_up_server(local: Any) -> float:
    """Run kg's own query shapes once on a started local server, leaving its graph as it was.
    Seconds taken; 0 if turned off (KG_WARMUP=0) or it could not run."""
    if not enabled():
        return 0.0
    from .store import Store

    try:
        with local.driver(notifications_min_severity="OFF") as drv:
            return warm_up(Store(drv, "neo4j", where=local.uri, managed=True))
    except Exception:
        return 0.0
