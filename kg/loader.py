"""Load validated records into Neo4j: read what is there, write only what changed.

1. validate everything (kg.validation) - a bad input writes nothing;
2. apply constraints and indexes;
3. read the existing nodes and the edges the loaded records own, and diff them against the
   rows from kg.mapping: created / updated / unchanged nodes, created / updated / deleted
   relationships;
4. write the differences in batches (``UNWIND $rows``), each in a managed transaction that
   the driver retries on transient errors.
Loading the same input twice therefore writes nothing the second time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from . import records as R
from .errors import InputError, Problem
from .mapping import (KEY_PROPS, OWNED_INCOMING, OWNED_OUTGOING, RELATION_KEY, EdgeRow, GraphRows,
                      edge_key, map_collection)
from .store import Store, native
from .validation import Collection, collect

ANALYSIS_PREFIX = "analysis_"   # properties written by `kg analyze --write-back`: kept on reload
DEFAULT_BATCH = 5_000


@dataclass
class Plan:
    coll: Collection
    create_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_nodes: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    unchanged_nodes: Counter = field(default_factory=Counter)
    create_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    update_edges: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    delete_edges: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchanged_edges: Counter = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        labels = sorted(set(self.create_nodes) | set(self.update_nodes) | set(self.unchanged_nodes))
        types = sorted(set(self.create_edges) | set(self.update_edges) | set(self.delete_edges)
                       | set(self.unchanged_edges))
        return {
            "files": self.coll.files,
            "records": self.coll.records,
            "cases": sorted(self.coll.cases),
            "nodes": {lb: {"created": len(self.create_nodes.get(lb, [])),
                           "updated": len(self.update_nodes.get(lb, [])),
                           "unchanged": self.unchanged_nodes.get(lb, 0)} for lb in labels},
            "relationships": {t: {"created": len(self.create_edges.get(t, [])),
                                  "updated": len(self.update_edges.get(t, [])),
                                  "deleted": len(self.delete_edges.get(t, [])),
                                  "unchanged": self.unchanged_edges.get(t, 0)} for t in types},
        }

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

    def total_rows(self) -> int:
        return sum(len(rows) for _, _, rows in self.batches)



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


def plan_load(store: Store, coll: Collection, rows: Optional[GraphRows] = None) -> Plan:
    rows = rows or map_collection(coll)
    plan = Plan(coll)
    existing = store.nodes_by_id([n.id for n in rows.nodes])
    # Records made "if missing" (a speaker named in a sheet) leave existing entities alone.
    keep_as_is = {eid for eid, e in coll.entities.items() if e.raw.if_missing and eid in existing}
    if keep_as_is:
        rows = GraphRows(nodes=[n for n in rows.nodes if n.id not in keep_as_is],
                         edges=[e for e in rows.edges if e.owner not in keep_as_is])
    ids = [n.id for n in rows.nodes]

    problems: list[Problem] = []
    for node in rows.nodes:
        old = existing.get(node.id)
        if old is None:
            continue
        labels = [lb for lb in old[0] if lb in R.KIND_OF_LABEL]
        if labels and node.label not in labels:
            raw = coll.entities[node.id].raw
            problems.append(Problem(raw.file, raw.line_of(("id",)), node.id, "id",
                                    f"id is already a {R.KIND_OF_LABEL[labels[0]]} in the "
                                    f"database, not a {R.KIND_OF_LABEL[node.label]}; one id "
                                    "is one entity"))
    if problems:
        raise InputError(problems)

    loaded_cases = set(coll.cases)
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
    old_rows = store.owned_edges(ids, OWNED_OUTGOING, OWNED_INCOMING)
    pairs = [{"type": e.type, "start": e.start, "end": e.end} for e in rows.edges
             if e.owner is None]
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


def apply_plan(store: Store, plan: Plan, *, batch_size: int = DEFAULT_BATCH,
               progress: Optional[Callable[[int], None]] = None) -> None:
    for op, name, rows in plan.batches:
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
            if progress:
                progress(len(chunk))


def collect_input(store: Store, paths: list[str | Path], *, allow_existing: bool = False,
                  mapping: Optional[Path] = None, input_format: str = "records") -> Collection:
    """Validate input of any kind: record files, sheets through a mapping, or FtM entities."""
    from .validation import validate_raws

    if mapping is not None:
        from .tabular import load_mapping, mapped_raws

        m = load_mapping(Path(mapping))
        raws = mapped_raws(m, [Path(p) for p in paths])
        allow_existing = allow_existing or m.allow_existing
        coll = validate_raws(raws, existing=store.kinds_of if allow_existing else None)
        coll.files = len(paths)
        return coll
    if input_format == "ftm":
        from .ftm import ftm_raws

        raws, skipped = ftm_raws([Path(p) for p in paths])
        coll = validate_raws(raws, existing=store.kinds_of if allow_existing else None)
        coll.notices.extend(skipped)
        coll.files = len(paths)
        return coll
    return collect(paths, existing=store.kinds_of if allow_existing else None)


def load(store: Store, paths: list[str | Path], *, allow_existing: bool = False,
         dry_run: bool = False, batch_size: int = DEFAULT_BATCH,
         progress_factory: Optional[Callable[[int], Any]] = None,
         mapping: Optional[Path] = None, input_format: str = "records") -> Plan:
    """Validate, plan and (unless dry_run) write. Returns the plan with its summary."""
    coll = collect_input(store, paths, allow_existing=allow_existing, mapping=mapping,
                         input_format=input_format)
    if not dry_run:
        store.apply_schema()
    plan = plan_load(store, coll)
    if dry_run:
        return plan
    total = plan.total_rows()
    if progress_factory is not None and total:
        with progress_factory(total) as bar:
            apply_plan(store, plan, batch_size=batch_size, progress=bar.update)
    else:
        apply_plan(store, plan, batch_size=batch_size)
    if total:
        # The full-text index is eventually consistent: make searches see this load.
        store.auto_commit("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()")
    return plan


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
        coll = collect_input(store, paths, mapping=mapping, input_format=input_format)
    rows = map_collection(coll)
    plan = Plan(coll)
    folder = local.import_dir / "bulk"
    shutil.rmtree(folder, ignore_errors=True)
    exporter = CsvExporter(folder)
    for n in rows.nodes:
        exporter.write_node(n.id, {"labels": ["Entity", n.label],
                                   "props": {**n.props, "cases": list(n.cases)}})
        plan.create_nodes[n.label].append({"id": n.id})
    for e in rows.edges:
        exporter.write_edge({"type": e.type, "start": e.start, "end": e.end, "props": e.props})
        plan.create_edges[e.type].append({})
    exporter.finalize()
    local.stop()
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
        store.await_indexes()
    shutil.rmtree(folder, ignore_errors=True)
    return plan


def load_settings_for(local: Any, settings: Any) -> Any:
    from dataclasses import replace

    return replace(settings, uri=local.uri, password=local.read_password())
