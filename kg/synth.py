"""Synthetic cases of any size, valid to the record contract, with a realistic shape.

A few prolific outlets and officials and many one-off actors (Zipf-like weights), nested
places (countries > regions > cities), events with participants, statements that assert,
corroborate, dispute and deny, citations with quotes, and relations. Deterministic for a
seed. Written as JSONL, streamed, so a million records need little memory.

    python -m kg.synth --records 100000 --out /tmp/case-100k [--seed 1] [--case synth]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

SHARES = {
    "source": 0.08,
    "person": 0.22,
    "organization": 0.10,
    "location": 0.05,
    "event": 0.20,
    "statement": 0.28,
    "relation": 0.07,
}
STANCES = (
    ("asserts", 45),
    ("corroborates", 15),
    ("denies", 15),
    ("disputes", 10),
    ("calls-for", 5),
    ("mentions", 10),
)
EVENT_KINDS = ("abduction", "detention", "killing", "torture", "release", "protest", "petition")
ROLES = ("perpetrator", "victim", "organizer", "target", "witness", "responder", "participant")
WORDS = (
    "report",
    "alleged",
    "detention",
    "officials",
    "denied",
    "witnesses",
    "region",
    "forces",
    "statement",
    "investigation",
    "families",
    "released",
    "camp",
    "court",
    "torture",
    "Чечня",
    "заявление",
    "«цитата»",
    "don't",
    'say "no"',
    "back\\slash",
    "{braces}",
)


class _Zipf:
    """Pick index i of n with weight 1/(i+1)^s: a few very frequent, a long tail."""

    def __init__(self, n: int, s: float, rng: random.Random):
        self.cum = list(itertools.accumulate(1 / (i + 1) ** s for i in range(max(n, 1))))
        self.rng = rng

    def pick(self) -> int:
        return bisect.bisect_left(self.cum, self.rng.random() * self.cum[-1])


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(2005, 2024), rng.randint(1, 12), rng.randint(1, 28)
    r = rng.random()
    return f"{y}" if r < 0.2 else f"{y}-{m:02d}" if r < 0.5 else f"{y}-{m:02d}-{d:02d}"


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def counts(records: int) -> dict[str, int]:
    out = {k: max(1, int(records * v)) for k, v in SHARES.items()}
    out["location"] = max(out["location"], 3)
    out["source"] = max(out["source"], 2)
    out["organization"] = max(out["organization"], 2)
    return out


def generate(records: int, seed: int = 1, case: str = "synth") -> Iterator[dict]:
    """Yield JSONL records (with their `record` field), references always resolvable."""
    rng = random.Random(seed)
    n = counts(records)
    yield {"record": "case", "id": case, "title": f"Synthetic case, {records} records"}
    ids = {k: [f"{k[:3]}-{case}-{i}" for i in range(n[k])] for k in SHARES if k != "relation"}
    orgs, people, locs, srcs = ids["organization"], ids["person"], ids["location"], ids["source"]
    evs, sts = ids["event"], ids["statement"]
    z_org, z_person = _Zipf(len(orgs), 1.1, rng), _Zipf(len(people), 1.1, rng)
    z_src, z_loc = _Zipf(len(srcs), 0.9, rng), _Zipf(len(locs), 1.0, rng)
    z_event = _Zipf(len(evs), 0.8, rng)
    n_countries = max(1, len(locs) // 20)
    n_regions = max(1, len(locs) // 5)
    for i, lid in enumerate(locs):
        kind = "country" if i < n_countries else "region" if i < n_countries + n_regions else "city"
        rec: dict[str, Any] = {"record": "location", "id": lid, "name": f"Place {i}", "kind": kind}
        if kind == "region":
            rec["located_in"] = locs[rng.randrange(n_countries)]
        elif kind == "city":
            rec["located_in"] = locs[
                n_countries + rng.randrange(min(n_regions, len(locs) - n_countries))
            ]
        yield rec
    n_media = max(1, len(orgs) // 5)
    for i, oid in enumerate(orgs):
        rec = {
            "record": "organization",
            "id": oid,
            "name": f"Organization {i}",
            "kind": "media"
            if i < n_media
            else rng.choice(("government", "ngo", "security-forces", "group")),
            "located_in": locs[z_loc.pick()],
        }
        if i >= n_media and rng.random() < 0.1:
            rec["parent"] = (
                orgs[rng.randrange(n_media, max(n_media + 1, i))] if i > n_media else orgs[0]
            )
            if rec["parent"] == oid:
                del rec["parent"]
        yield rec
    for i, pid in enumerate(people):
        rec = {
            "record": "person",
            "id": pid,
            "name": f"Person {i}",
            "aliases": [f"P. {i}"],
            "affiliations": [{"organization": orgs[z_org.pick()], "role": "member"}],
        }
        if rng.random() < 0.05:
            rec["confidential"] = True
        yield rec
    for i, sid in enumerate(srcs):
        yield {
            "record": "source",
            "id": sid,
            "title": f"Report {i}: {_text(rng, 4)}",
            "kind": "article",
            "publisher": orgs[rng.randrange(n_media)],
            "published": _date(rng),
            "reliability": rng.choice("ABCDEF"),
        }
    for i, eid in enumerate(evs):
        rec = {
            "record": "event",
            "id": eid,
            "title": f"Event {i}: {_text(rng, 3)}",
            "kind": rng.choice(EVENT_KINDS),
            "date": _date(rng),
            "located_in": locs[z_loc.pick()],
            "status": rng.choice(("alleged", "corroborated", "confirmed", "disputed")),
            "participants": [
                {"actor": orgs[z_org.pick()], "role": "perpetrator"},
                {"actor": people[rng.randrange(len(people))], "role": rng.choice(ROLES)},
            ],
            "reported_by": [
                {"source": srcs[z_src.pick()], "quote": _text(rng, 6)}
                for _ in range(rng.randint(1, 3))
            ],
        }
        yield rec
    stance_pool = [s for s, w in STANCES for _ in range(w)]
    for sid in sts:
        speaker = orgs[z_org.pick()] if rng.random() < 0.4 else people[z_person.pick()]
        about = [{"target": evs[z_event.pick()], "stance": rng.choice(stance_pool)}]
        if rng.random() < 0.3:
            about.append({"target": people[rng.randrange(len(people))], "stance": "mentions"})
        yield {
            "record": "statement",
            "id": sid,
            "speaker": speaker,
            "text": _text(rng, 12),
            "date": _date(rng),
            "verbatim": rng.random() < 0.5,
            "about": about,
            "via": orgs[rng.randrange(n_media)] if rng.random() < 0.3 else None,
            "reported_by": [srcs[z_src.pick()]],
        }
    seen: set[tuple[str, str, str]] = set()
    for _ in range(n["relation"]):
        r = rng.random()
        if r < 0.4:
            rel = ("ASSOCIATED_WITH", people[z_person.pick()], people[rng.randrange(len(people))])
        elif r < 0.7:
            rel = ("FOLLOWED", evs[rng.randrange(len(evs))], evs[z_event.pick()])
        else:
            rel = ("RESPONDED_TO", sts[rng.randrange(len(sts))], sts[rng.randrange(len(sts))])
        if rel[1] == rel[2] or rel in seen:
            continue
        seen.add(rel)
        yield {
            "record": "relation",
            "type": rel[0],
            "from": rel[1],
            "to": rel[2],
            "reported_by": [srcs[z_src.pick()]],
        }


def write_case(
    out: Path, records: int, seed: int = 1, case: str = "synth", per_file: int = 50_000
) -> int:
    """Write the case as JSONL files of at most per_file lines; return the record count."""
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    f: IO[str] | None = None
    for rec in generate(records, seed, case):
        if written % per_file == 0:
            if f:
                f.close()
            f = open(out / f"part-{written // per_file:05d}.jsonl", "w", encoding="utf-8")
        rec = {k: v for k, v in rec.items() if v is not None}
        assert f is not None
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        written += 1
    if f:
        f.close()
    return written - 1  # the case declaration is not a record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--case", default="synth")
    args = ap.parse_args()
    n = write_case(args.out, args.records, args.seed, args.case)
    print(f"wrote {n} records to {args.out}")


if __name__ == "__main__":
    main()
