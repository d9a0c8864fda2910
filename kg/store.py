"""The only module that talks to Neo4j.

The caller owns the driver (:func:`connect` makes one from settings); a :class:`Store`
runs parameterized Cypher through ``execute_query`` with reads routed as reads and writes as
writes, and re-raises driver errors as :mod:`kg.errors` with context.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import neo4j
from neo4j import RoutingControl

from . import records as R
from .connection import connect, open_store, translate  # noqa: F401 (callers import them from here)
from .digest import DigestMixin
from .errors import QueryRefused
from .paths import schema_statements
from .readonly import refused_operators
from .store_write import WritesMixin, _label  # noqa: F401 (kg.resolve_store imports _label)

T = TypeVar("T")


RETRY_DELAY = 0.05  # seconds before a managed write transaction's first retry (write_steps)


class Store(DigestMixin, WritesMixin):
    def __init__(
        self,
        driver: neo4j.Driver,
        database: str | None = None,
        *,
        where: str = "",
        managed: bool = False,
    ):
        self.driver = driver
        self.database = database
        self.where = where
        self.managed = managed
        # Seconds a query run through execute() may take before the server stops it (set by
        # `kg query run` and `kg cypher` from --timeout / KG_QUERY_TIMEOUT); None: no limit.
        self.timeout: float | None = None

    # --- running Cypher -----------------------------------------------------------------------
    def execute(
        self, cypher: str, parameters: dict[str, Any] | None = None, *, write: bool = False
    ) -> neo4j.EagerResult:
        try:
            query = cypher if self.timeout is None else neo4j.Query(cypher, timeout=self.timeout)
            return self.driver.execute_query(
                query,
                parameters_=parameters or {},
                database_=self.database,
                routing_=RoutingControl.WRITE if write else RoutingControl.READ,
            )
        except Exception as e:
            raise self._translate(e) from e

    def run_user(
        self,
        cypher: str,
        parameters: dict[str, Any] | None = None,
        *,
        write: bool = False,
        allow_outbound: bool = False,
    ) -> neo4j.EagerResult:
        """Run Cypher a user wrote (`kg cypher`, saved queries, selections) after checking its
        plan: see :func:`refused_operators`. Nothing runs when the plan is refused."""
        self.check_plan(cypher, parameters, write=write, allow_outbound=allow_outbound)
        return self.execute(cypher, parameters, write=write)

    def check_plan(
        self,
        cypher: str,
        parameters: dict[str, Any] | None = None,
        *,
        write: bool = False,
        allow_outbound: bool = False,
    ) -> None:
        """EXPLAIN the query (the server plans it, runs nothing) and refuse what read mode
        must not do: raise QueryRefused naming the operator."""
        text = cypher.strip()
        if re.match(r"(?is)^(explain|profile)\b", text):
            raise QueryRefused("kg runs EXPLAIN itself; give the query without EXPLAIN or PROFILE.")
        plan = self.execute("EXPLAIN " + text, parameters, write=write).summary.plan
        refused = refused_operators(plan, write=write, allow_outbound=allow_outbound)
        if refused:
            op, why, fix = refused[0]
            raise QueryRefused(
                f"refused: the query's plan has {op} ({why}); nothing was run.", hint=fix
            )

    def read(self, cypher: str, parameters: dict[str, Any] | None = None) -> neo4j.EagerResult:
        return self.execute(cypher, parameters, write=False)

    def write(self, cypher: str, parameters: dict[str, Any] | None = None) -> neo4j.EagerResult:
        return self.execute(cypher, parameters, write=True)

    def write_steps(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """Several statements in one managed write transaction (retried whole when the
        server says a failure is transient). The first retry comes after RETRY_DELAY, not
        the driver's 1 s: the transient failure kg's own writes meet is a deadlock between
        its two relationship writers, over at once (docs/reliability.md); later retries
        wait twice as long each time, for up to 30 s in all, as the driver's do."""
        try:
            with self.driver.session(
                database=self.database, initial_retry_delay=RETRY_DELAY
            ) as session:
                return session.execute_write(work)
        except Exception as e:
            raise self._translate(e) from e

    def rolled_back(self, cypher: str, parameters: dict[str, Any] | None = None) -> None:
        """Run a write statement in a transaction that is then rolled back: the server plans
        it and nothing changes (the warm-up, kg.warmup)."""
        try:
            with self.driver.session(database=self.database) as session:
                tx = session.begin_transaction()
                try:
                    tx.run(cypher, parameters or {}).consume()
                finally:
                    tx.rollback()
        except Exception as e:
            raise self._translate(e) from e

    def auto_commit(self, cypher: str, parameters: dict[str, Any] | None = None) -> None:
        """For statements that manage their own transactions (CALL ... IN TRANSACTIONS)."""
        try:
            with self.driver.session(database=self.database) as session:
                session.run(cypher, parameters or {}).consume()
        except Exception as e:
            raise self._translate(e) from e

    def _translate(self, e: Exception) -> Exception:
        return translate(e, self.where, managed=self.managed, timeout=self.timeout)

    # --- schema ----------------------------------------------------------------------------
    def apply_schema(self) -> int:
        n = 0
        for statement in schema_statements():
            self.write(statement)
            n += 1
        return n

    def await_indexes(self, timeout: int = 300) -> None:
        self.auto_commit(f"CALL db.awaitIndexes({int(timeout)})")

    def server_version(self) -> str:
        rec = self.read(
            "CALL dbms.components() YIELD versions, edition RETURN versions[0] AS v, edition"
        ).records[0]
        return f"{rec['v']} {rec['edition']}"

    # --- reading entities ------------------------------------------------------------------
    def kinds_of(self, ids: Iterable[str], batch: int = 10_000) -> dict[str, str]:
        """{id: kind} for the ids that exist as entities."""
        found: dict[str, str] = {}
        ids = list(ids)
        for i in range(0, len(ids), batch):
            res = self.read(
                "UNWIND $batch.ids AS id MATCH (n:Entity {id: id}) "
                "RETURN n.id AS id, labels(n) AS labels",
                {"batch": {"ids": ids[i : i + batch]}},
            )
            for rec in res.records:
                kind = next(
                    (R.KIND_OF_LABEL[lb] for lb in rec["labels"] if lb in R.KIND_OF_LABEL), "entity"
                )
                found[rec["id"]] = kind
        return found

    def nodes_by_id(
        self, ids: Sequence[str], batch: int = 10_000
    ) -> dict[str, tuple[list[str], dict]]:
        out: dict[str, tuple[list[str], dict]] = {}
        for i in range(0, len(ids), batch):
            res = self.read(
                "UNWIND $batch.ids AS id MATCH (n:Entity {id: id}) "
                "RETURN n.id AS id, labels(n) AS labels, properties(n) AS props",
                {"batch": {"ids": list(ids[i : i + batch])}},
            )
            for rec in res.records:
                out[rec["id"]] = (list(rec["labels"]), dict(rec["props"]))
        return out

    def owned_edges(
        self,
        ids: Sequence[str],
        outgoing: Sequence[str],
        incoming: Sequence[str],
        batch: int = 5_000,
    ) -> list[dict[str, Any]]:
        """Field-made edges owned by these entities (see kg.mapping for ownership)."""
        rows: list[dict[str, Any]] = []
        query = """
        UNWIND $batch.ids AS oid
        MATCH (o:Entity {id: oid})
        CALL (o) {
          MATCH (o)-[r]->(x:Entity) WHERE type(r) IN $out
            AND (r.sources IS NULL OR r.statement = o.id)
          RETURN r, o AS a, x AS b
          UNION
          MATCH (x:Entity)-[r]->(o) WHERE type(r) IN $inc AND r.sources IS NULL
          RETURN r, x AS a, o AS b
          UNION
          MATCH (x:Entity)-[r:DENIED {statement: o.id}]->(y:Entity)
          RETURN r, x AS a, y AS b
        }
        RETURN o.id AS owner, elementId(r) AS eid, type(r) AS type, a.id AS start,
               b.id AS end, properties(r) AS props
        """
        for i in range(0, len(ids), batch):
            res = self.read(
                query,
                {
                    "batch": {"ids": list(ids[i : i + batch])},
                    "out": list(outgoing),
                    "inc": list(incoming),
                },
            )
            rows.extend(dict(r) for r in res.records)
        return rows

    def relation_edges(self, pairs: Sequence[dict[str, Any]], batch: int = 5_000) -> list[dict]:
        """Relation-made edges (they carry `sources`) between the given (type, start, end)."""
        rows: list[dict] = []
        query = """
        UNWIND $batch.pairs AS p
        MATCH (a:Entity {id: p.start})-[r]->(b:Entity {id: p.end})
        WHERE type(r) = p.type AND r.sources IS NOT NULL AND r.statement IS NULL
        RETURN elementId(r) AS eid, type(r) AS type, a.id AS start, b.id AS end,
               properties(r) AS props
        """
        for i in range(0, len(pairs), batch):
            rows.extend(
                dict(r)
                for r in self.read(query, {"batch": {"pairs": list(pairs[i : i + batch])}}).records
            )
        return rows

    # --- per-case contributions (see kg.contributions) ---------------------------------------
    def entities_in_cases(self, cases: Sequence[str]) -> list[dict[str, Any]]:
        """Entities that any of these cases holds a record of: id, labels, those cases."""
        res = self.read(
            "MATCH (n:Entity) WHERE any(r IN n.kg_records WHERE split(r, ' ')[0] IN $cases) "
            "RETURN n.id AS id, labels(n) AS labels, "
            "[r IN n.kg_records | split(r, ' ')[0]] AS cases",
            {"cases": list(cases)},
        )
        return [dict(r) for r in res.records]

    def relations_in_cases(self, cases: Sequence[str]) -> list[dict[str, Any]]:
        """Relation-made relationships that any of these cases states."""
        res = self.read(
            "MATCH (a:Entity)-[r]->(b:Entity) WHERE r.sources IS NOT NULL "
            "AND r.statement IS NULL AND any(c IN r.cases WHERE c IN $cases) "
            "RETURN type(r) AS type, a.id AS start, b.id AS end, r.role AS role",
            {"cases": list(cases)},
        )
        return [dict(r) for r in res.records]

    def references_from_other_cases(
        self, ids: Sequence[str], cases: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Relationships touching these entities that a case outside ``cases`` states."""
        res = self.read(
            """
            UNWIND $batch.ids AS id MATCH (n:Entity {id: id})
            MATCH (n)-[r]-(m:Entity) WHERE type(r) <> 'SAME_AS'  // judgements: re-applied after
            WITH n, r, m, [c IN coalesce(r.cases, []) WHERE NOT c IN $cases] AS others
            WHERE size(others) > 0
            RETURN n.id AS id, type(r) AS type, startNode(r).id AS start, endNode(r).id AS end,
                   others AS cases
            ORDER BY id, type, start, end LIMIT 20""",
            {"batch": {"ids": list(ids)}, "cases": list(cases)},
        )
        return [dict(r) for r in res.records]

    def neighbors(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The entities one relationship away from these: id, labels."""
        res = self.read(
            "UNWIND $batch.ids AS id MATCH (:Entity {id: id})--(m:Entity) "
            "RETURN DISTINCT m.id AS id, labels(m) AS labels",
            {"batch": {"ids": list(ids)}},
        )
        return [dict(r) for r in res.records]

    def relations_touching(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Relation-made relationships with one end among these entities."""
        res = self.read(
            "UNWIND $batch.ids AS id MATCH (n:Entity {id: id})-[r]-(:Entity) "
            "WHERE r.sources IS NOT NULL AND r.statement IS NULL "
            "RETURN DISTINCT type(r) AS type, startNode(r).id AS start, "
            "endNode(r).id AS end, r.role AS role",
            {"batch": {"ids": list(ids)}},
        )
        return [dict(r) for r in res.records]

    def has_legacy_entities(self) -> bool:
        """Entities loaded by a kg that kept no per-case records (0.1)."""
        return bool(
            self.read("MATCH (n:Entity) WHERE n.kg_records IS NULL RETURN n.id LIMIT 1").records
        )

    def write_cases(self, rows: list[dict[str, Any]]) -> None:
        self.write(
            "UNWIND $batch.rows AS row MERGE (c:Case {id: row.id}) "
            "SET c += row.props, c.loaded_at = datetime()",
            {"batch": {"rows": rows}},
        )

    def delete_case(self, case: str) -> None:
        self.write("MATCH (c:Case {id: $id}) DELETE c", {"id": case})

    def case_ids(self) -> list[str]:
        """The loaded cases (every load writes its :Case nodes)."""
        return sorted(r["id"] for r in self.read("MATCH (c:Case) RETURN c.id AS id").records)

    # --- whole-graph helpers ------------------------------------------------------------------
    def counts(self) -> dict[str, dict[str, int]]:
        labels = {
            r["label"]: r["n"]
            for r in self.read(
                "MATCH (n:Entity) UNWIND labels(n) AS label WITH label WHERE label <> 'Entity' "
                "RETURN label, count(*) AS n ORDER BY label"
            ).records
        }
        types = {
            r["type"]: r["n"]
            for r in self.read(
                "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type"
            ).records
        }
        return {"nodes": labels, "relationships": types}

    def reset(self) -> None:
        self.auto_commit("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")


def native(value: Any) -> Any:
    """Database values as plain Python (neo4j dates become datetime.date), recursively."""
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, (list, tuple)):
        return [native(v) for v in value]
    return value
