"""Entity resolution: applying judgements (and, from kg.candidates, the candidate pairs).

Candidates (``kg resolve candidates``) are found and scored in kg.candidates (re-exported
here).

Applying (``kg resolve apply``): a judgements file (kg.judgements) is stored as
``:Judgement`` nodes of its case, replacing what that case held before; then SAME_AS edges are
recomputed from every stored ``same_as`` whose two ids are loaded (kg.resolve_store says how
they look). Neither entity's node is changed, so removing the judgement and applying again
gives back exactly the graph of before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import resolve_store as S
from .candidates import (  # noqa: F401 (kg.resolve is where callers find them)
    CANDIDATE_KEYS,
    MAX_BLOCK,
    NAME_WEIGHT,
    CandidateStats,
    Profile,
    Resolved,
    _dates_agree,
    _same_thing,
    candidates,
    rank,
    score_pair,
)
from .errors import InputError, Problem, UsageError
from .judgements import Judgement, JudgementFile
from .judgements import read as read_judgements
from .merged_view import merge_subgraph  # noqa: F401 (kg.selection imports it from here)
from .store import Store

# --- applying judgements --------------------------------------------------------------------


@dataclass
class ApplyReport:
    cases: list[str] = field(default_factory=list)
    judgements: int = 0
    stored_written: int = 0
    stored_deleted: int = 0
    applied: int = 0  # same_as judgements in force (both ids loaded)
    # keys of the judgements, same_as and not_same, naming an id not loaded (kg resolve
    # status counts the same, per case)
    waiting: list[str] = field(default_factory=list)
    groups: int = 0
    edges_created: int = 0
    edges_updated: int = 0
    edges_deleted: int = 0
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_conflicts(files: list[JudgementFile], stored: list[Judgement]) -> None:
    """A pair judged same_as in one place and not_same in another is an error."""
    by_pair: dict[tuple[str, str], Judgement] = {}
    for j in stored:
        by_pair[j.pair] = j
    problems = []
    for f in files:
        for j in f.judgements:
            other = by_pair.get(j.pair)
            if other is not None and other.decision != j.decision and other.case != j.case:
                where = f"{other.file}:{other.line}" if other.file else f"case {other.case}"
                problems.append(
                    Problem(
                        j.file,
                        j.line,
                        f"{j.decision}[{j.a}, {j.b}]",
                        j.decision,
                        f"contradicts {other.decision} of the same pair in case "
                        f"{other.case} ({where})",
                    )
                )
            by_pair[j.pair] = j
    if problems:
        raise InputError(problems)


def apply(store: Store, paths: Sequence[Path] = (), *, dry_run: bool = False) -> ApplyReport:
    """Store the judgements files given (each replaces its case's stored judgements), then
    bring SAME_AS edges in line with every stored same_as whose ids are loaded."""
    report = ApplyReport()
    files = [read_judgements(Path(p)) for p in paths]
    cases = [f.case for f in files]
    dupes = {c for c in cases if cases.count(c) > 1}
    if dupes:
        raise UsageError(
            f"two judgements files declare case {sorted(dupes)[0]!r}; one file per judgements case"
        )
    stored = [Judgement.from_row(r) for r in S.judgements(store)]
    for f in files:
        before = sorted(
            {j.file for j in stored if j.case == f.case and j.file}
            - {j.file for j in f.judgements}
            - {str(f.path)}
        )
        if before and f.judgements:
            report.notices.append(
                f"judgements case {f.case!r} came from {before[0]} before; "
                f"{f.judgements[0].file} replaces it (give each judgements "
                "file its own case id to keep both)"
            )
    _check_conflicts(files, [j for j in stored if j.case not in cases])
    if not dry_run:
        for f in files:
            from .seal import sealed_judgements

            rows = sealed_judgements(store, [j.as_row() for j in f.judgements])
            w, d = S.replace_judgements(store, f.case, rows)
            report.stored_written += w
            report.stored_deleted += d
    in_force = [j for j in stored if j.case not in cases] + [j for f in files for j in f.judgements]
    report.cases = sorted({j.case for j in in_force} | set(cases))
    report.judgements = len(in_force)
    _recompute(store, in_force, report, dry_run)
    return report


def _recompute(
    store: Store, judgements: list[Judgement], report: ApplyReport, dry_run: bool
) -> None:
    from dataclasses import replace

    from .seal import stored_id

    # A judgement names records by their real ids; a confidential one is stored under its
    # placeholder (kg.seal): look it up with the key.
    ids: dict[str, str] = {}

    def sid(x: str) -> str:
        if x not in ids:
            ids[x] = stored_id(store, x)
        return ids[x]

    given = judgements
    judgements = [replace(j, a=sid(j.a), b=sid(j.b)) for j in judgements]
    kinds = store.kinds_of({x for j in judgements for x in j.pair})
    report.waiting = [
        g.key for g, j in zip(given, judgements) if j.a not in kinds or j.b not in kinds
    ]
    same = [j for j in judgements if j.decision == "same_as"]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    support: dict[str, set[str]] = defaultdict(set)  # id -> judgement cases touching it
    nodes: set[str] = set()
    for j in same:
        if j.a not in kinds or j.b not in kinds:
            continue  # waiting
        if kinds[j.a] != kinds[j.b]:
            report.notices.append(
                f"{j.file or j.case}:{j.line}: same_as[{j.a}, {j.b}]: "
                f"{j.a} is a {kinds[j.a]} and {j.b} a {kinds[j.b]}; "
                "not merged"
            )
            continue
        report.applied += 1
        nodes.update(j.pair)
        ra, rb = find(j.a), find(j.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
        support[j.a].add(j.case)
        support[j.b].add(j.case)
    groups: dict[str, list[str]] = defaultdict(list)
    for x in nodes:
        groups[find(x)].append(x)
    desired: dict[tuple[str, str], dict[str, Any]] = {}
    for members in groups.values():
        members = sorted(set(members))
        if len(members) < 2:
            continue
        report.groups += 1
        canonical = members[0]
        cases = sorted(set().union(*(support[m] for m in members)))
        for m in members[1:]:
            desired[(m, canonical)] = {"resolved_id": canonical, "cases": cases}
    for j in judgements:
        if j.decision == "not_same" and j.a in nodes and j.b in nodes and find(j.a) == find(j.b):
            report.notices.append(
                f"{j.file or j.case}:{j.line}: not_same[{j.a}, {j.b}]: "
                "other same_as judgements merge them anyway"
            )
    create, update, delete = [], [], []
    seen: set[tuple[str, str]] = set()
    for e in S.same_as_edges(store):
        key = (e["start"], e["end"])
        want = desired.get(key)
        if want is None or key in seen:
            delete.append(e["eid"])
            continue
        seen.add(key)
        if e["resolved_id"] != want["resolved_id"] or list(e["cases"] or []) != want["cases"]:
            update.append({"eid": e["eid"], "props": want})
    for key, props in sorted(desired.items()):
        if key not in seen:
            create.append({"start": key[0], "end": key[1], "props": props})
    report.edges_created, report.edges_updated, report.edges_deleted = (
        len(create),
        len(update),
        len(delete),
    )
    if not dry_run:
        S.write_same_as(store, create, update, delete)


def reapply(store: Store) -> ApplyReport | None:
    """After a load: honour the stored judgements (None when there are none)."""
    if not S.judgement_cases(store):
        return None
    return apply(store)


def forget(store: Store, case: str) -> ApplyReport:
    """Remove a judgements case from the graph and undo its merges."""
    if case not in S.judgement_cases(store):
        raise UsageError(
            f"no judgements case {case!r} is stored", hint="`kg resolve status` lists them."
        )
    S.replace_judgements(store, case, [])
    return apply(store)


def status(store: Store) -> list[dict[str, Any]]:
    """Per judgements case: its same_as and not_same judgements, and how many of them
    (of either decision) wait for an id not loaded, counted as `apply` counts them."""
    rows = S.judgements(store)
    report = ApplyReport()
    _recompute(store, [Judgement.from_row(r) for r in rows], report, dry_run=True)
    waiting = set(report.waiting)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = out.setdefault(
            r["case"],
            {
                "case": r["case"],
                "same_as": 0,
                "not_same": 0,
                "waiting": 0,
                "file": r.get("file") or "",
            },
        )
        c[r["decision"]] += 1
        if r["key"] in waiting:
            c["waiting"] += 1
    return list(out.values())


def is_pair_judged(judged: Iterable[Judgement], a: str, b: str) -> bool:
    pair = tuple(sorted((a, b)))
    return any(j.pair == pair for j in judged)
