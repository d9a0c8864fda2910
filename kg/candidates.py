"""Entity resolution candidates: pairs of entities that may be one (``kg resolve candidates``).

For each kind (people, organizations, places), every
name and alias becomes ASCII tokens (kg.names); entities are filed in blocks by the sound of
each significant word, the whole name and the initials; only pairs sharing a block are
scored, and blocks larger than ``max_block`` (words as common as 'police' or 'person') are
skipped, so the work grows with the number of likely pairs, not with its square. A pair's
score is 0.8 x its best name match (names and aliases, words weighted by rarity) plus what
its context says: shared affiliations or parent organizations, shared places, nationality,
birth dates (``extra_*birth*``/``dob``), and whether one case already holds both. Pairs
already merged or judged ``not_same`` are never proposed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import names as N
from . import resolve_store as S
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
    variants: list[tuple[str, tuple[str, ...], bool]]  # (as written, tokens, abjad script)
    cases: tuple[str, ...]
    confidential: bool
    nationality: str
    births: list[str]
    orgs: list[tuple[str, tuple[str, ...]]]  # (id, name tokens)
    places: list[tuple[str, tuple[str, ...]]]

    @classmethod
    def from_row(cls, kind: str, row: dict[str, Any]) -> Profile:
        seen: set[tuple[tuple[str, ...], bool]] = set()
        variants = []
        for text in [row.get("name") or row["id"], *(row.get("aliases") or [])]:
            toks, abjad = N.placeholder(str(text)) or N.tokens(str(text)), N.is_abjad(str(text))
            if toks and (toks, abjad) not in seen:
                seen.add((toks, abjad))
                variants.append((str(text), toks, abjad))
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
    a: Profile,
    b: Profile,
    weights: N.Weights,
    resolved: Resolved,
    skeleton_weights: N.Weights | None = None,
) -> tuple[float, float, list[str]]:
    """(score, name score, reasons) of one pair."""
    best: N.NameMatch | None = None
    best_texts = ("", "")
    for ta, xa, ja in a.variants:
        for tb, xb, jb in b.variants:
            m = N.compare_forms(xa, ja, xb, jb, weights, skeleton_weights)
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
    resolved = Resolved.from_store(store)
    rows = {kind: S.profiles(store, kind) for kind in kinds}
    return rank(rows, resolved, min_score=min_score, case=case, max_block=max_block, stats=stats)


def rank(
    rows_by_kind: dict[str, list[dict[str, Any]]],
    resolved: Resolved,
    *,
    min_score: float = 0.5,
    case: str | None = None,
    max_block: int = MAX_BLOCK,
    stats: CandidateStats | None = None,
) -> list[dict[str, Any]]:
    """`candidates` of the profile rows (kg.resolve_store.profiles) of each kind."""
    stats = stats if stats is not None else CandidateStats()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, kind_rows in rows_by_kind.items():
        profiles = [Profile.from_row(kind, r) for r in kind_rows]
        stats.entities += len(profiles)
        weights = N.Weights(set(toks) for p in profiles for _, toks, _ in p.variants)
        skeleton_weights = N.Weights(
            set(N.skeletons(toks)) for p in profiles for _, toks, _ in p.variants
        )
        blocks: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(profiles):
            keys: set[str] = set()
            for _, toks, abjad in p.variants:
                keys |= N.block_keys(toks, abjad)
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
            score, name_score, reasons = score_pair(a, b, weights, resolved, skeleton_weights)
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
