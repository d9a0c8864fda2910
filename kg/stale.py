"""What a reload or an unload removes: the entities and relations that the loaded cases held
in the database and their input no longer has (refused when another case still refers to
one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .contributions import Definition
from .errors import RemovalRefused
from .plan import Plan, _kind_of, _role
from .seal import Sealing
from .store import Store
from .validation import Checker, Entity, RelKey


@dataclass
class Stale:
    """What the loaded cases defined before and no longer define (nothing in the input does)."""

    entities: dict[str, Entity] = field(default_factory=dict)  # id -> (no definitions)
    relations: dict[RelKey, dict[str, Definition]] = field(default_factory=dict)


def find_stale(
    store: Store, checker: Checker, replaced: set[str], plan: Plan, sealing: Sealing | None = None
) -> Stale:
    """Entities and relations the loaded cases held in the database that their input no longer
    has. Refuses (RemovalRefused) when removing one would take an entity that another case
    still refers to."""
    stale = Stale()
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
        key = (r["type"], real(r["start"]), real(r["end"]), _role(r["role"], sealing))
        if key not in checker.rel_keys:
            stale.relations[key] = {}
            plan.removed.append(
                {
                    "case": ",".join(sorted(replaced)),
                    "record": f"relation {r['type']} {r['start']} -> {r['end']}",
                }
            )
    problems = []
    for ref in store.references_from_other_cases(doomed, sorted(replaced)) if doomed else []:
        problems.append(
            f"{ref['id']}: {ref['type']} {ref['start']} -> {ref['end']} "
            f"(stated by case {', '.join(repr(c) for c in ref['cases'])})"
        )
    for eid in sorted({real(d) for d in doomed} & set(checker.coll.external_refs)):
        problems.append(f"{eid}: referred to by the input being loaded (--allow-existing)")
    if problems:
        raise RemovalRefused(
            f"case {', '.join(repr(c) for c in sorted(replaced))} no longer defines "
            f"{len(doomed)} record(s), and other records still refer to some of them:\n  "
            + "\n  ".join(problems)
            + "\nNothing was written.",
            hint="Keep those records in the case, or define them in the case that refers to "
            "them (or remove the references) first.",
        )
    return stale
