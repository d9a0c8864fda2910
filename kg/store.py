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
from .errors import KgError, QueryRefused
from .paths import schema_statements
from .readonly import refused_operators

LABEL_RE = re.compile(r"^[A-Z][A-Za-z]*$")
T = TypeVar("T")
TYPE_RE = re.compile(r"^[A-Z][A-Z_]*$")


def _label(label: str) -> str:
    if label not in R.KIND_OF_LABEL and label != "Entity":
        raise KgError(f"internal: label {label!r} is not in the schema")
    return label


def _rel_type(rel_type: str) -> str:
    if rel_type not in R.ALL_REL_TYPES:
        raise KgError(f"internal: relationship type {rel_type!r} is not in the schema")
    return rel_type


class Store(DigestMixin):
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
        self._lock_key_known = False  # see _lock_key

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
        server says a failure is transient)."""
        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_write(work)
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
                "UNWIND $ids AS id MATCH (n:Entity {id: id}) "
                "RETURN n.id AS id, labels(n) AS labels",
                {"ids": ids[i : i + batch]},
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
                "UNWIND $ids AS id MATCH (n:Entity {id: id}) "
                "RETURN n.id AS id, labels(n) AS labels, properties(n) AS props",
                {"ids": list(ids[i : i + batch])},
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
        UNWIND $ids AS oid
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
                {"ids": list(ids[i : i + batch]), "out": list(outgoing), "inc": list(incoming)},
            )
            rows.extend(dict(r) for r in res.records)
        return rows

    def relation_edges(self, pairs: Sequence[dict[str, Any]], batch: int = 5_000) -> list[dict]:
        """Relation-made edges (they carry `sources`) between the given (type, start, end)."""
        rows: list[dict] = []
        query = """
        UNWIND $pairs AS p
        MATCH (a:Entity {id: p.start})-[r]->(b:Entity {id: p.end})
        WHERE type(r) = p.type AND r.sources IS NOT NULL AND r.statement IS NULL
        RETURN elementId(r) AS eid, type(r) AS type, a.id AS start, b.id AS end,
               properties(r) AS props
        """
        for i in range(0, len(pairs), batch):
            rows.extend(
                dict(r) for r in self.read(query, {"pairs": list(pairs[i : i + batch])}).records
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
            UNWIND $ids AS id MATCH (n:Entity {id: id})
            MATCH (n)-[r]-(m:Entity) WHERE type(r) <> 'SAME_AS'  // judgements: re-applied after
            WITH n, r, m, [c IN coalesce(r.cases, []) WHERE NOT c IN $cases] AS others
            WHERE size(others) > 0
            RETURN n.id AS id, type(r) AS type, startNode(r).id AS start, endNode(r).id AS end,
                   others AS cases
            ORDER BY id, type, start, end LIMIT 20""",
            {"ids": list(ids), "cases": list(cases)},
        )
        return [dict(r) for r in res.records]

    def neighbors(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The entities one relationship away from these: id, labels."""
        res = self.read(
            "UNWIND $ids AS id MATCH (:Entity {id: id})--(m:Entity) "
            "RETURN DISTINCT m.id AS id, labels(m) AS labels",
            {"ids": list(ids)},
        )
        return [dict(r) for r in res.records]

    def relations_touching(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Relation-made relationships with one end among these entities."""
        res = self.read(
            "UNWIND $ids AS id MATCH (n:Entity {id: id})-[r]-(:Entity) "
            "WHERE r.sources IS NOT NULL AND r.statement IS NULL "
            "RETURN DISTINCT type(r) AS type, startNode(r).id AS start, "
            "endNode(r).id AS end, r.role AS role",
            {"ids": list(ids)},
        )
        return [dict(r) for r in res.records]

    def has_legacy_entities(self) -> bool:
        """Entities loaded by a kg that kept no per-case records (0.1)."""
        return bool(
            self.read("MATCH (n:Entity) WHERE n.kg_records IS NULL RETURN n.id LIMIT 1").records
        )

    def write_cases(self, rows: list[dict[str, Any]]) -> None:
        self.write(
            "UNWIND $rows AS row MERGE (c:Case {id: row.id}) "
            "SET c += row.props, c.loaded_at = datetime()",
            {"rows": rows},
        )

    def delete_case(self, case: str) -> None:
        self.write("MATCH (c:Case {id: $id}) DELETE c", {"id": case})

    def case_ids(self) -> list[str]:
        """The loaded cases (every load writes its :Case nodes)."""
        return sorted(r["id"] for r in self.read("MATCH (c:Case) RETURN c.id AS id").records)

    # --- writing (batched UNWIND, one managed transaction per batch) ------------------------
    # Each case's record of an entity is an entry of `kg_records` ("case-id {json}", sorted);
    # `cases` is derived from them. A load writes the entries it computed (its own cases',
    # and the others' as it read them, sealed or opened as they must be now) and keeps,
    # inside the write, the entry of any other case that the node holds at that moment and
    # the load did not know of: two loads running at once never drop each other's records.
    # A record made "if missing" ("case ?{...}") names its case only while no case defines
    # the entity fully.
    _CASES = (
        "CASE WHEN any(r IN {recs} WHERE NOT split(r, ' ')[1] STARTS WITH '?') "
        "THEN [r IN {recs} WHERE NOT split(r, ' ')[1] STARTS WITH '?' | split(r, ' ')[0]] "
        "ELSE [r IN {recs} | split(r, ' ')[0]] END"
    )
    _SORTED = (
        "reduce(acc = [], v IN {items} | [x IN acc WHERE x < v] + [v] + [x IN acc WHERE x > v])"
    )
    # One SET per node (properties, sorted records and the cases they name together): three
    # made the planner read back what it had just written (an Eager) and write each twice.
    _NODE_SET = (
        "WITH n, row, [r IN row.props.kg_records | split(r, ' ')[0]] AS mine "
        "WITH n, row, [r IN coalesce(n.kg_records, []) WHERE NOT split(r, ' ')[0] IN $replaced "
        "AND NOT split(r, ' ')[0] IN mine] + row.props.kg_records AS recs "
        "WITH n, row, row.props AS props, " + _SORTED.format(items="recs") + " AS recs "
        "SET n = props {.*, kg_records: recs, cases: " + _CASES.format(recs="recs") + "} "
    )

    def merge_nodes(
        self, label: str, rows: list[dict[str, Any]], replaced: Sequence[str]
    ) -> dict[str, str]:
        """Write the nodes; return each one's element id (by kg id), which the same load's
        relationships use to find their ends without an index seek (create_edges)."""
        res = self.write(
            f"UNWIND $rows AS row MERGE (n:Entity {{id: row.id}}) {self._NODE_SET}"
            f"SET n:{_label(label)} RETURN n.id AS id, elementId(n) AS e",
            {"rows": rows, "replaced": list(replaced)},
        )
        return {r["id"]: r["e"] for r in res.records}

    def set_node_props(self, rows: list[dict[str, Any]], replaced: Sequence[str]) -> None:
        self.write(
            f"UNWIND $rows AS row MATCH (n:Entity {{id: row.id}}) {self._NODE_SET}",
            {"rows": rows, "replaced": list(replaced)},
        )

    def delete_nodes(self, ids: list[str], replaced: Sequence[str]) -> None:
        """Remove these cases' records from the nodes; delete a node left with none."""
        self.write(
            """
            UNWIND $ids AS id MATCH (n:Entity {id: id})
            WITH n, [r IN coalesce(n.kg_records, []) WHERE NOT split(r, ' ')[0] IN $replaced] AS rest
            FOREACH (_ IN CASE WHEN size(rest) = 0 THEN [1] ELSE [] END | DETACH DELETE n)
            FOREACH (_ IN CASE WHEN size(rest) > 0 THEN [1] ELSE [] END |
                     SET n.kg_records = rest, n.cases = """
            + self._CASES.format(recs="rest")
            + ")",
            {"ids": ids, "replaced": list(replaced)},
        )

    def create_edges(
        self,
        rel_type: str,
        rows: list[dict[str, Any]],
        key: Sequence[str] = (),
        *,
        by_element_id: bool = False,
    ) -> None:
        """Create edges unless an equal one (same ends, same key properties, same origin)
        exists; an existing one gains the new edge's cases. The start node is locked first
        (``REMOVE a.kg_lock`` takes Neo4j's exclusive lock on it until commit, and writes
        nothing: the property is never set), so two loads running at once create one edge,
        not two; a deadlock between them is transient and the managed transaction retries.
        ``by_element_id``: each row also has the element ids of its ends (``s``, ``e``, from
        merge_nodes), found directly instead of through the id index; a node that is not the
        one named by ``start``/``end`` any more is not matched.

        Two steps in one transaction: the first creates the edges that have no equal (all of
        them, nearly always); only when some row found one does the second run, over every
        row: it adds the rows' cases to the equal edges, the ones just created included
        (adding a case an edge has changes nothing)."""
        _rel_type(rel_type)
        ends = (
            "MATCH (a) WHERE elementId(a) = row.s AND a.id = row.start "
            "MATCH (b) WHERE elementId(b) = row.e AND b.id = row.end "
            if by_element_id
            else "MATCH (a:Entity {id: row.start}) MATCH (b:Entity {id: row.end}) "
        )
        same = " AND ".join(
            [
                f"(old.{k} = row.props.{k} OR (old.{k} IS NULL AND row.props.{k} IS NULL))"
                for k in key
                if re.match(r"^[a-z_]+$", k)
            ]
            + ["((old.sources IS NULL) = (row.props.sources IS NULL))"]
        )
        union = self._SORTED.format(items="coalesce(o.cases, []) + row.props.cases")
        records = self._SORTED.format(items="coalesce(o.kg_records, []) + row.props.kg_records")
        locked = f"UNWIND $rows AS row {ends}REMOVE a.kg_lock "
        create = (
            f"{locked}WITH a, b, row WHERE NOT EXISTS {{ MATCH (a)-[old:{rel_type}]->(b) "
            f"WHERE {same} }} CREATE (a)-[r:{rel_type}]->(b) SET r = row.props"
        )
        join = (
            f"{locked}WITH a, b, row "
            f"MATCH (a)-[o:{rel_type}]->(b) WHERE {same.replace('old.', 'o.')} "
            f"SET o.cases = {union}, o.kg_records = CASE WHEN "
            f"row.props.kg_records IS NULL THEN o.kg_records ELSE {records} END"
        )

        def work(tx: neo4j.ManagedTransaction) -> None:
            made = tx.run(create, rows=rows).consume().counters.relationships_created
            if made < len(rows):
                tx.run(join, rows=rows).consume()

        self._lock_key()
        self.write_steps(work)

    def _lock_key(self) -> None:
        """``REMOVE n.kg_lock`` locks only once the database knows the property's name: make
        it known (a node made and deleted in one transaction; names stay)."""
        if not self._lock_key_known:
            self.write("CREATE (t) SET t.kg_lock = true DELETE t")
            self._lock_key_known = True

    def set_edge_props(self, rows: list[dict[str, Any]], replaced: Sequence[str]) -> None:
        cases = self._SORTED.format(items="kc + [c IN row.props.cases WHERE c IN $replaced]")
        records = self._SORTED.format(items="kr + coalesce(row.props.kg_records, [])")
        self.write(
            "UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.eid "
            "WITH r, row, [c IN coalesce(r.cases, []) WHERE NOT c IN $replaced] AS kc, "
            "[x IN coalesce(r.kg_records, []) WHERE NOT split(x, ' ')[0] IN $replaced "
            "AND NOT split(x, ' ')[0] IN [y IN coalesce(row.props.kg_records, []) | "
            "split(y, ' ')[0]]] AS kr "
            f"SET r = row.props SET r.cases = {cases}, r.kg_records = CASE WHEN "
            f"row.props.kg_records IS NULL THEN null ELSE {records} END",
            {"rows": rows, "replaced": list(replaced)},
        )

    def retract_edges(self, rows: list[dict[str, Any]], replaced: Sequence[str]) -> None:
        """Delete edges that no case states any more ({eid, seen}: the cases the load saw on
        it); an edge that another load gave a case meanwhile keeps that case."""
        self.write(
            """
            UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.eid
            WITH r, [c IN coalesce(r.cases, []) WHERE NOT c IN $replaced
                     AND NOT c IN row.seen] AS rest
            FOREACH (_ IN CASE WHEN size(rest) = 0 THEN [1] ELSE [] END | DELETE r)
            FOREACH (_ IN CASE WHEN size(rest) > 0 THEN [1] ELSE [] END |
                     SET r.cases = rest, r.kg_records = CASE WHEN r.kg_records IS NULL THEN null
                     ELSE [x IN r.kg_records WHERE split(x, ' ')[0] IN rest] END)""",
            {"rows": rows, "replaced": list(replaced)},
        )

    def delete_edges(self, eids: list[str]) -> None:
        self.write(
            "UNWIND $eids AS eid MATCH ()-[r]->() WHERE elementId(r) = eid DELETE r", {"eids": eids}
        )

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
