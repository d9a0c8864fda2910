"""The bulk path: a first load into an empty local database through neo4j-admin import
(offline), validated like a normal load (kg.loader) and giving the same graph."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import cypher as C
from .loader import (
    BULK_PART_ROWS,
    CHUNK_RECORDS,
    _chunks,
    _fewer_collections,
    validate_input,
)
from .mapping import map_records
from .plan import Plan
from .seal import for_load, record_fingerprint
from .store import Store
from .validation import RelationRecord, iter_valid


@_fewer_collections()
def bulk_load(
    settings: Any,
    paths: list[str | Path],
    *,
    mapping: Path | None = None,
    input_format: str = "records",
) -> Plan:
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
    clock = [time.perf_counter()]
    phases: dict[str, float] = {}

    def phase(name: str) -> None:  # the seconds since the last phase ended
        now = time.perf_counter()
        phases[name] = now - clock[0]
        clock[0] = now

    with connect(settings) as drv:
        store = Store(drv, settings.database, managed=True, where=settings.describe())
        drv.verify_connectivity()
        if store.read(C.COUNT_NODES).records[0]["n"]:
            raise UsageError(
                "--bulk loads into an empty database only; this one has data.",
                hint="Use a normal `kg load`, or `kg db reset --yes` first.",
            )
        inp, checker, _ = validate_input(store, paths, mapping=mapping, input_format=input_format)
        sealing = for_load(store, checker, dry_run=True)
    phase("validation")
    plan = Plan(checker.coll, phases=phases)
    folder = local.import_dir / "bulk"
    shutil.rmtree(folder, ignore_errors=True)
    exporter = CsvExporter(folder, part_rows=BULK_PART_ROWS)
    # The input is valid: the server stops (its shutdown checkpoint takes seconds) while the
    # CSVs are written. If writing them fails, it is started again.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-stop") as pool:
        stopping = pool.submit(local.stop)
        try:
            for ents, rels, _ in _chunks(iter_valid(inp, checker), CHUNK_RECORDS):
                rows = map_records(
                    ents.values(), [RelationRecord(k, d, None) for k, d in rels.items()]
                )
                if sealing is not None:  # the one sealing step (kg.seal)
                    rows = sealing.rows(rows)
                for n in rows.nodes:
                    exporter.write_node(n.id, {"labels": ["Entity", n.label], "props": n.props})
                    plan.nodes[n.label]["created"] += 1
                for e in rows.edges:
                    exporter.write_edge(
                        {"type": e.type, "start": e.start, "end": e.end, "props": e.props}
                    )
                    plan.relationships[e.type]["created"] += 1
            exporter.finalize()
        except BaseException:
            stopping.result()
            local.start()
            shutil.rmtree(folder, ignore_errors=True)
            raise
        phase("csv")  # the server's shutdown ran alongside
        stopping.result()
        phase("server stop (after the CSVs)")
    res = local.admin(*import_args(folder))
    phase("neo4j-admin import")
    local.start()
    phase("server start")
    if res.returncode != 0:
        raise UsageError("neo4j-admin import failed: " + (res.stderr or res.stdout).strip()[-1500:])
    fresh = load_settings_for(local, settings)
    with connect(fresh) as drv:
        store = Store(drv, settings.database, managed=True)
        for statement in script_statements(
            (folder / "post-import.cypher").read_text(encoding="utf-8")
        ):
            store.write(statement)
        store.apply_schema()
        if sealing is not None:
            record_fingerprint(store, sealing.keys)
        store.await_indexes()
        cases = checker.case_rows()
        store.write_cases(sealing.cases(cases) if sealing is not None else cases)
    phase("schema, indexes, cases")
    shutil.rmtree(folder, ignore_errors=True)
    return plan


def load_settings_for(local: Any, settings: Any) -> Any:
    from dataclasses import replace

    return replace(settings, uri=local.uri, password=local.read_password())
