"""Entity resolution: candidate pairs that may be one entity, and applying judgements.

Candidates (``kg resolve candidates``): for each kind (people, organizations, places), every
name and alias becomes ASCII tokens (kg.names); entities are filed in blocks by the sound of
each significant word, the whole name and the initials; only pairs sharing a block are
scored, and blocks larger than ``max_block`` (words as common as 'police' or 'person') are
skipped, so the work grows with the number of likely pairs, not with its square. A pair's
score is 0.8 x its best name match (names and aliases, words weighted by rarity) plus what
its context says: shared affiliations or parent organizations, shared places, nationality,
birth dates (``extra_*birth*``/``dob``), and whether one case already holds both. Pairs
already merged or judged ``not_same`` are never proposed.

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

from . import names as N
from . import resolve_store as S
from .errors import InputError, Problem, UsageError
from .judgements import Judgement, JudgementFile
from .judgements import read as read_judgements
from .merged_view import merge_subgraph  # noqa: F401 (kg.selection imports it from here)
from .store import Store

NAME_WEIGHT = 0.8
MAX_BLOCK = 200
CANDIDATE_KEYS = [
    "score",
    "kind",
    "id_a",
    "name_a",
    "cases_a",
    "id_b",
    "name_b",
    "cases_b",
    "reasons",
]


# --- profiles -------------------------------------------------------------------------------


@dataclass
class Profile:
    id: str
    kind: str
    name: str
    variants: list[tuple[str, tuple[str, ...]]]  # (as written, tokens)
    cases: tuple[str, ...]
    confidential: bool
    nationality: str
    births: list[str]
    orgs: list[tuple[str, tuple[str, ...]]]  # (id, name tokens)
    places: list[tuple[str, tuple[str, ...]]]

    @classmethod
    def from_row(cls, kind: str, row: dict[str, Any]) -> Profile:
        seen: set[tuple[str, ...]] = set()
        variants = []
        for text in [row.get("name") or row["id"], *(row.get("aliases") or [])]:
            toks = N.tokens(str(text))
            if toks and toks not in seen:
                seen.add(toks)
                variants.append((str(text), toks))
        births = [
            str(v)
            for k, v in (row.get("extra") or [])
            if any(w in k.lower() for w in ("birth", "dob", "born"))
        ]
        return cls(
            row["id"],
            kind,
            row.get("name") or row["id"],
            variants,
            tuple(row.get("cases") or ()),
            bool(row.get("confidential")),
            N.normalized(row.get("nationality") or ""),
            births,
            [(o[0], N.tokens(o[1])) for o in row.get("orgs") or []],
            [(p[0], N.tokens(p[1])) for p in row.get("places") or []],
        )


# --- merges already made and pairs judged apart ----------------------------------------------


@dataclass
class Resolved:
    canonical: dict[str, str] = field(default_factory=dict)  # member id -> canonical id
    apart: set[frozenset[str]] = field(default_factory=set)  # canonical pairs not_same

    def canon(self, eid: str) -> str:
        return self.canonical.get(eid, eid)

    @classmethod
    def from_store(cls, store: Store) -> Resolved:
        out = cls()
        for e in S.same_as_edges(store):
            out.canonical[e["start"]] = e["end"]
        for j in S.judgements(store):
            if j["decision"] == "not_same":
                out.apart.add(frozenset((j["a"], j["b"])))
        out.apart = {frozenset(out.canon(x) for x in p) for p in out.apart}
        return out

    def proposable(self, a: str, b: str) -> bool:
        ca, cb = self.canon(a), self.canon(b)
        return ca != cb and frozenset((ca, cb)) not in self.apart


# --- scoring --------------------------------------------------------------------------------


def _same_thing(
    x: tuple[str, tuple[str, ...]], y: tuple[str, tuple[str, ...]], resolved: Resolved
) -> bool:
    """Two linked entities are one: same id, merged, or alike names ('Grozny' / 'Грозный')."""
    if x[0] == y[0] or resolved.canon(x[0]) == resolved.canon(y[0]):
        return True
    return bool(x[1]) and (x[1] == y[1] or N.compare(x[1], y[1]).score >= 0.85)


def _dates_agree(a: str, b: str) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def score_pair(
    a: Profile, b: Profile, weights: N.Weights, resolved: Resolved
) -> tuple[float, float, list[str]]:
    """(score, name score, reasons) of one pair."""
    best: N.NameMatch | None = None
    best_texts = ("", "")
    for ta, xa in a.variants:
        for tb, xb in b.variants:
            m = N.compare(xa, xb, weights)
            if best is None or m.score > best.score:
                best, best_texts = m, (ta, tb)
    if best is None:
        return 0.0, 0.0, []
    reasons = []
    ta, tb = best_texts
    alias = ta != a.name or tb != b.name
    what = "name or alias" if alias else "name"
    if best.how == "same":
        reasons.append(
            f"same {what} after transliteration: {ta!r} = {tb!r}"
            if ta != tb
            else f"same {what}: {ta!r}"
        )
    else:
        reasons.append(f"{what} alike ({best.how}, {best.score:.2f}): {ta!r} ~ {tb!r}")
    score = NAME_WEIGHT * best.score
    shared = [x for x in a.orgs if any(_same_thing(x, y, resolved) for y in b.orgs)]
    if shared:
        score += min(0.16, 0.08 * len(shared))
        reasons.append("shared affiliation: " + ", ".join(s[0] for s in shared[:3]))
    places = [x for x in a.places if any(_same_thing(x, y, resolved) for y in b.places)]
    if places:
        score += min(0.1, 0.05 * len(places))
        reasons.append("shared place: " + ", ".join(p[0] for p in places[:3]))
    if a.nationality and b.nationality:
        if a.nationality == b.nationality:
            score += 0.03
            reasons.append(f"same nationality ({a.nationality})")
        else:
            score -= 0.1
            reasons.append(f"different nationality ({a.nationality} / {b.nationality})")
    if a.births and b.births:
        if any(_dates_agree(x, y) for x in a.births for y in b.births):
            score += 0.05
            reasons.append("birth dates compatible")
        else:
            score -= 0.3
            reasons.append(f"birth dates differ ({a.births[0]} / {b.births[0]})")
    common = sorted(set(a.cases) & set(b.cases))
    if common:
        score -= 0.05
        reasons.append(f"both in case {', '.join(common)}")
    else:
        reasons.append("across cases")
    return round(max(0.0, min(1.0, score)), 3), best.score, reasons


# --- candidates -----------------------------------------------------------------------------


@dataclass
class CandidateStats:
    entities: int = 0
    blocks: int = 0
    skipped_blocks: int = 0
    pairs_scored: int = 0
    candidates: int = 0


def candidates(
    store: Store,
    kinds: Sequence[str] = S.RESOLVABLE,
    *,
    min_score: float = 0.5,
    case: str | None = None,
    max_block: int = MAX_BLOCK,
    stats: CandidateStats | None = None,
) -> list[dict[str, Any]]:
    """Pairs that may be one entity, best first, as rows with CANDIDATE_KEYS."""
    stats = stats if stats is not None else CandidateStats()
    resolved = Resolved.from_store(store)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in kinds:
        profiles = [Profile.from_row(kind, r) for r in S.profiles(store, kind)]
        stats.entities += len(profiles)
        weights = N.Weights(t for p in profiles for _, toks in p.variants for t in set(toks))
        blocks: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(profiles):
            keys: set[str] = set()
            for _, toks in p.variants:
                keys |= N.block_keys(toks)
            for k in keys:
                blocks[k].append(i)
        pairs: set[tuple[int, int]] = set()
        for members in blocks.values():
            if len(members) < 2:
                continue
            if len(members) > max_block:
                stats.skipped_blocks += 1
                continue
            stats.blocks += 1
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    pairs.add((members[x], members[y]))
        for i, j in pairs:
            a, b = profiles[i], profiles[j]
            if a.id > b.id:
                a, b = b, a
            if case and case not in a.cases and case not in b.cases:
                continue
            if not resolved.proposable(a.id, b.id):
                continue
            stats.pairs_scored += 1
            score, name_score, reasons = score_pair(a, b, weights, resolved)
            if name_score < 0.5 or score < min_score:
                continue
            ca, cb = sorted((resolved.canon(a.id), resolved.canon(b.id)))
            key = (ca, cb)
            old = rows.get(key)  # merged entities: one proposal per pair of groups
            if old is not None and old["score"] >= score:
                continue
            rows[key] = {
                "score": score,
                "kind": kind,
                "id_a": a.id,
                "name_a": a.name,
                "cases_a": list(a.cases),
                "id_b": b.id,
                "name_b": b.name,
                "cases_b": list(b.cases),
                "reasons": "; ".join(reasons),
                "confidential": a.confidential or b.confidential,
            }
    out = sorted(rows.values(), key=lambda r: (-r["score"], r["id_a"], r["id_b"]))
    stats.candidates = len(out)
    return out


# --- applying judgements --------------------------------------------------------------------


@dataclass
class ApplyReport:
    cases: list[str] = field(default_factory=list)
    judgements: int = 0
    stored_written: int = 0
    stored_deleted: int = 0
    applied: int = 0  # same_as judgements in force (both ids loaded)
    waiting: list[str] = field(default_factory=list)  # judgement keys naming unloaded ids
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
            w, d = S.replace_judgements(store, f.case, [j.as_row() for j in f.judgements])
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

    same = [replace(j, a=sid(j.a), b=sid(j.b)) for j in judgements if j.decision == "same_as"]
    kinds = store.kinds_of({x for j in same for x in j.pair})
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
            report.waiting.append(j.key)
            continue
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
    rows = S.judgements(store)
    kinds = store.kinds_of({x for r in rows for x in (r["a"], r["b"])})
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
        if r["a"] not in kinds or r["b"] not in kinds:
            c["waiting"] += 1
    return list(out.values())


def is_pair_judged(judged: Iterable[Judgement], a: str, b: str) -> bool:
    pair = tuple(sorted((a, b)))
    return any(j.pair == pair for j in judged)
