"""What a load changes: the rows one chunk of records creates, updates and deletes, found by
comparing the records with what the database holds (``plan_chunk``), and the counts a load
reports (``Plan``). kg.loader writes them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import records as R
from .contributions import INTERNAL_PREFIX, Definition, entity_rows, entry_case, relation_row
from .mapping import (
    KEY_PROPS,
    OWNED_INCOMING,
    OWNED_OUTGOING,
    RELATION_KEY,
    EdgeRow,
    GraphRows,
    NodeRow,
    edge_key,
)
from .seal import Sealing, is_token, open_entry
from .store import Store, native
from .validation import Collection, Entity, RelKey, conflict_notices

ANALYSIS_PREFIX = "analysis_"  # properties written by `kg analyze --write-back`: kept on reload


@dataclass
class Changes:
    """What one chunk of records changes: the rows to write, by operation."""

    create_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    delete_nodes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchanged_nodes: Counter = field(default_factory=Counter)
    create_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    delete_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    drop_edges: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchanged_edges: Counter = field(default_factory=Counter)
    conflicts: list[str] = field(default_factory=list)  # notices
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
        for t, gone in sorted(self.delete_edges.items()):
            out.append(("delete_edges", t, gone))
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
    log: list[dict[str, Any]] | None = None  # the change list, if asked
    phases: dict[str, float] = field(default_factory=dict)  # --bulk: seconds per phase

    def add(self, ch: Changes) -> None:
        for name, op in (
            ("create_nodes", "created"),
            ("update_nodes", "updated"),
            ("delete_nodes", "deleted"),
        ):
            for lb, rows in getattr(ch, name).items():
                self.nodes[lb][op] += len(rows)
        for lb, n in ch.unchanged_nodes.items():
            self.nodes[lb]["unchanged"] += n
        for name, op in (
            ("create_edges", "created"),
            ("update_edges", "updated"),
            ("delete_edges", "deleted"),
            ("drop_edges", "deleted"),
        ):
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
            "nodes": {
                lb: {op: c.get(op, 0) for op in _OPS} for lb, c in sorted(self.nodes.items())
            },
            "relationships": {
                t: {op: c.get(op, 0) for op in _OPS} for t, c in sorted(self.relationships.items())
            },
            "removed": self.removed,
            **({"phases": {k: round(v, 3) for k, v in self.phases.items()}} if self.phases else {}),
        }

    def writes(self) -> int:
        return sum(
            c[op]
            for group in (self.nodes, self.relationships)
            for c in group.values()
            for op in ("created", "updated", "deleted")
        )


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
            if k == "kg_records":  # say which cases' records changed, not the records
                before = set(a or [])
                a = [entry_case(x) for x in a or []]
                b = [
                    entry_case(x) + ("" if x in before or entry_case(x) not in a else " (changed)")
                    for x in b or []
                ]
                k = "case records"
            out[k] = [_HIDDEN if hide else _jsonable(a), _HIDDEN if hide else _jsonable(b)]
    return out


def _jsonable(v: Any) -> Any:
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _role(role: Any, sealing: Sealing | None) -> Any:
    """A relation's role as its record gives it (a relation touching a confidential record
    keeps its role sealed in the database: kg.seal.EDGE_KEPT)."""
    if sealing is not None and is_token(role):
        return sealing.keys.unseal(role)
    return role


def plan_chunk(
    store: Store,
    ents: dict[str, Entity],
    rels: dict[RelKey, dict[str, Definition]],
    replaced: Iterable[str],
    *,
    new: Callable[[str], bool] | None = None,
    log: bool = False,
    sealing: Sealing | None = None,
) -> Changes:
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
            defs += [
                open_entry(kind, e, sealing)
                for e in old[1].get("kg_records") or []
                if entry_case(e) not in replaced
            ]
        label = R.LABELS[kind]
        if not defs:
            if old is not None:
                plan.delete_nodes[label].append(stored)
                if old[1].get("confidential"):
                    hidden.update((eid, stored))
                if log:
                    plan.log.append(
                        {"op": "deleted", "node": _shown(eid, kind, old[1]), "label": label}
                    )
            continue
        rows = entity_rows(kind, eid, defs)
        if rows.confidential:
            hidden.update((eid, stored))
        if rows.conflicts:
            shown = rows.conflicts if sealing is None else sealing.conflicts(rows.conflicts)
            plan.conflicts.extend(conflict_notices(eid, kind, rows.confidential, shown))
        props, edges = rows.props, rows.edges
        if sealing is not None:  # the one sealing step (kg.seal): nothing hidden in clear
            sealed = sealing.rows(
                GraphRows([NodeRow(eid, label, props, tuple(props["cases"]))], edges)
            )
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
                plan.log.append(
                    {
                        "op": "updated",
                        "node": _shown(eid, kind, props),
                        "label": label,
                        "fields": _changed_fields(old_props, props, rows.confidential),
                    }
                )

    old_rows = store.owned_edges(owners, OWNED_OUTGOING, OWNED_INCOMING) if owners else []
    # Relation-made edges: every case's record of each relation key of the chunk.
    pairs = [
        {"type": k[0], "start": sid(k[1]), "end": sid(k[2])}
        for k in rels
        if not (unread(k[1]) or unread(k[2]))
    ]
    rel_defs: dict[tuple, list[Definition]] = {}
    if pairs:
        for r in store.relation_edges(pairs):
            key = (
                r["type"],
                real(r["start"]),
                real(r["end"]),
                _role(native(r["props"].get("role")), sealing),
            )
            if key in rels:
                old_rows.append(r)
                rel_defs.setdefault(key, []).extend(
                    open_entry("relation", e, sealing)
                    for e in r["props"].get("kg_records") or []
                    if entry_case(e) not in replaced
                )
    for rkey, rdefs in rels.items():
        every = {d.case: d for d in rel_defs.get(rkey, [])}
        every.update(rdefs)
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
        old_by_key[key] = {
            "eid": r["eid"],
            "props": props,
            "type": r["type"],
            "start": r["start"],
            "end": r["end"],
        }
    for key, old_edge in old_by_key.items():
        if key not in new_by_key:  # no case's record makes it now
            plan.delete_edges[old_edge["type"]].append(
                {"eid": old_edge["eid"], "seen": list(old_edge["props"].get("cases") or [])}
            )
            if log:
                plan.log.append({"op": "deleted", **_edge_shown(old_edge, hidden)})
    for key, edge in new_by_key.items():
        was = old_by_key.get(key)
        if was is None:
            plan.create_edges[edge.type].append(
                {"start": edge.start, "end": edge.end, "props": edge.props}
            )
            if log:
                plan.log.append(
                    {
                        "op": "created",
                        **_edge_shown(
                            {"type": edge.type, "start": edge.start, "end": edge.end}, hidden
                        ),
                    }
                )
        elif _same(edge.props, was["props"]):
            plan.unchanged_edges[edge.type] += 1
        else:
            plan.update_edges[edge.type].append({"eid": was["eid"], "props": edge.props})
            if log:
                hide = edge.start in hidden or edge.end in hidden
                plan.log.append(
                    {
                        "op": "updated",
                        **_edge_shown(was, hidden),
                        "fields": _changed_fields(was["props"], edge.props, hide),
                    }
                )
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
