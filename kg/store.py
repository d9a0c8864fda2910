"""The only module that talks to Neo4j.

The caller owns the driver (:func:`connect` makes one from settings); a :class:`Store`
runs parameterized Cypher through ``execute_query`` with reads routed as reads and writes as
writes, and re-raises driver errors as :mod:`kg.errors` with context.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional, Sequence

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j import exceptions as nx

from . import __version__
from . import records as R
from .config import Settings
from .errors import (ConnectionFailed, DatabaseError, KgError, QueryFailed, QueryTimedOut,
                     WriteRefused)
from .paths import schema_statements

LABEL_RE = re.compile(r"^[A-Z][A-Za-z]*$")
TYPE_RE = re.compile(r"^[A-Z][A-Z_]*$")


def connect(settings: Settings) -> neo4j.Driver:
    """A driver for the configured server; the caller closes it."""
    if settings.managed and not settings.password:
        raise ConnectionFailed(
            f"kg's local Neo4j has not been set up in {settings.home} yet.",
            hint="Start it with `kg db start` (or set KG_NEO4J_URI to use another server).")
    auth = (settings.user, settings.password or "")
    try:
        return GraphDatabase.driver(settings.uri, auth=auth, user_agent=f"kg/{__version__}",
                                    connection_timeout=15, max_transaction_retry_time=30,
                                    notifications_min_severity="OFF")
    except (ValueError, nx.ConfigurationError) as e:
        raise ConnectionFailed(f"cannot use KG_NEO4J_URI {settings.describe()}: {e}") from e


@contextmanager
def open_store(settings: Settings) -> Iterator["Store"]:
    driver = connect(settings)
    try:
        store = Store(driver, settings.database, where=settings.describe(),
                      managed=settings.managed)
        try:
            # Fails at once when nothing listens, instead of after the retry budget of a
            # managed transaction.
            driver.verify_connectivity()
        except Exception as e:  # noqa: BLE001
            raise store._translate(e) from e
        yield store
    finally:
        driver.close()


def _label(label: str) -> str:
    if label not in R.KIND_OF_LABEL and label != "Entity":
        raise KgError(f"internal: label {label!r} is not in the schema")
    return label


def _rel_type(rel_type: str) -> str:
    if rel_type not in R.ALL_REL_TYPES:
        raise KgError(f"internal: relationship type {rel_type!r} is not in the schema")
    return rel_type


class Store:
    def __init__(self, driver: neo4j.Driver, database: Optional[str] = None, *,
                 where: str = "", managed: bool = False):
        self.driver = driver
        self.database = database
        self.where = where
        self.managed = managed
        # Seconds a query run through execute() may take before the server stops it (set by
        # `kg query run` and `kg cypher` from --timeout / KG_QUERY_TIMEOUT); None: no limit.
        self.timeout: Optional[float] = None

    # --- running Cypher -----------------------------------------------------------------------
    def execute(self, cypher: str, parameters: Optional[dict[str, Any]] = None, *,
                write: bool = False) -> neo4j.EagerResult:
        try:
            query = cypher if self.timeout is None else neo4j.Query(cypher, timeout=self.timeout)
            return self.driver.execute_query(
                query, parameters_=parameters or {}, database_=self.database,
                routing_=RoutingControl.WRITE if write else RoutingControl.READ)
        except Exception as e:  # noqa: BLE001 - translated below, original chained
            raise self._translate(e) from e

    def read(self, cypher: str, parameters: Optional[dict[str, Any]] = None) -> neo4j.EagerResult:
        return self.execute(cypher, parameters, write=False)

    def write(self, cypher: str, parameters: Optional[dict[str, Any]] = None) -> neo4j.EagerResult:
        return self.execute(cypher, parameters, write=True)

    def auto_commit(self, cypher: str, parameters: Optional[dict[str, Any]] = None) -> None:
        """For statements that manage their own transactions (CALL ... IN TRANSACTIONS)."""
        try:
            with self.driver.session(database=self.database) as session:
                session.run(cypher, parameters or {}).consume()
        except Exception as e:  # noqa: BLE001
            raise self._translate(e) from e

    def _translate(self, e: Exception) -> Exception:
        if isinstance(e, KgError):
            return e
        where = self.where or "the database"
        if isinstance(e, nx.AuthError):
            hint = ("The local server's password is in $KG_HOME/neo4j/password."
                    if self.managed else "Check KG_NEO4J_USER and KG_NEO4J_PASSWORD.")
            return ConnectionFailed(f"Neo4j at {where} rejected the credentials.", hint=hint)
        if isinstance(e, (nx.ServiceUnavailable, nx.SessionExpired, ConnectionError, OSError)):
            hint = ("Start it with `kg db start`." if self.managed else
                    "Check KG_NEO4J_URI and that the server is up.")
            return ConnectionFailed(f"no Neo4j answers at {where}.", hint=hint)
        if isinstance(e, nx.Neo4jError):
            code = e.code or ""
            msg = (e.message or str(e)).strip()
            if code.endswith("AccessMode") or "ForbiddenOnReadOnlyDatabase" in code or \
                    "Writing in read access mode" in msg:
                return WriteRefused("this query writes to the database, and kg runs queries "
                                    "read-only unless told otherwise; nothing was changed.",
                                    hint="Re-run with --write if the write is intended.")
            if isinstance(e, nx.CypherSyntaxError) or "SyntaxError" in code:
                first = msg.splitlines()[0] if msg else code
                return QueryFailed(f"Cypher syntax error: {first}")
            if "TransactionTimedOut" in code:
                return QueryTimedOut(
                    f"the query ran longer than {self.timeout or 0:g} s and the server stopped "
                    "it; nothing was changed.",
                    hint="Narrow it (a more specific entity, fewer hops), or allow longer with "
                         "--timeout SECONDS (or KG_QUERY_TIMEOUT).")
            if "ParameterMissing" in code:
                return QueryFailed(f"the query needs a parameter that was not given: {msg}")
            return QueryFailed(f"Neo4j refused the query ({code}): {msg.splitlines()[0] if msg else ''}")
        if isinstance(e, nx.DriverError):
            return DatabaseError(f"the Neo4j driver failed talking to {where}: {e}")
        return e

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
        rec = self.read("CALL dbms.components() YIELD versions, edition "
                        "RETURN versions[0] AS v, edition").records[0]
        return f"{rec['v']} {rec['edition']}"

    # --- reading entities ------------------------------------------------------------------
    def kinds_of(self, ids: Iterable[str], batch: int = 10_000) -> dict[str, str]:
        """{id: kind} for the ids that exist as entities."""
        found: dict[str, str] = {}
        ids = list(ids)
        for i in range(0, len(ids), batch):
            res = self.read("UNWIND $ids AS id MATCH (n:Entity {id: id}) "
                            "RETURN n.id AS id, labels(n) AS labels", {"ids": ids[i:i + batch]})
            for rec in res.records:
                kind = next((R.KIND_OF_LABEL[lb] for lb in rec["labels"] if lb in R.KIND_OF_LABEL),
                            "entity")
                found[rec["id"]] = kind
        return found

    def nodes_by_id(self, ids: Sequence[str], batch: int = 10_000) -> dict[str, tuple[list[str], dict]]:
        out: dict[str, tuple[list[str], dict]] = {}
        for i in range(0, len(ids), batch):
            res = self.read("UNWIND $ids AS id MATCH (n:Entity {id: id}) "
                            "RETURN n.id AS id, labels(n) AS labels, properties(n) AS props",
                            {"ids": list(ids[i:i + batch])})
            for rec in res.records:
                out[rec["id"]] = (list(rec["labels"]), dict(rec["props"]))
        return out

    def owned_edges(self, ids: Sequence[str], outgoing: Sequence[str], incoming: Sequence[str],
                    batch: int = 5_000) -> list[dict[str, Any]]:
        """Field-made edges owned by these entities (see kg.mapping for ownership)."""
        rows: list[dict[str, Any]] = []
        query = """
        UNWIND $ids AS oid
        MATCH (o:Entity {id: oid})
        CALL (o) {
          MATCH (o)-[r]->(x:Entity) WHERE type(r) IN $out AND r.sources IS NULL
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
            res = self.read(query, {"ids": list(ids[i:i + batch]), "out": list(outgoing),
                                    "inc": list(incoming)})
            rows.extend(dict(r) for r in res.records)
        return rows

    def relation_edges(self, pairs: Sequence[dict[str, Any]], batch: int = 5_000) -> list[dict]:
        """Relation-made edges (they carry `sources`) between the given (type, start, end)."""
        rows: list[dict] = []
        query = """
        UNWIND $pairs AS p
        MATCH (a:Entity {id: p.start})-[r]->(b:Entity {id: p.end})
        WHERE type(r) = p.type AND r.sources IS NOT NULL
        RETURN elementId(r) AS eid, type(r) AS type, a.id AS start, b.id AS end,
               properties(r) AS props
        """
        for i in range(0, len(pairs), batch):
            rows.extend(dict(r) for r in self.read(query, {"pairs": list(pairs[i:i + batch])}).records)
        return rows

    # --- writing (batched UNWIND, one managed transaction per batch) ------------------------
    # `cases` is unioned inside the write, with what the node holds at that moment, so two
    # loads running at once never drop each other's case.
    _KEEP_CASES = ("WITH n, row, coalesce(n.cases, []) AS old SET n = row.props "
                   "SET n.cases = old + [c IN row.props.cases WHERE NOT c IN old] ")

    def merge_nodes(self, label: str, rows: list[dict[str, Any]]) -> None:
        self.write(f"UNWIND $rows AS row MERGE (n:Entity {{id: row.id}}) {self._KEEP_CASES}"
                   f"SET n:{_label(label)}", {"rows": rows})

    def set_node_props(self, rows: list[dict[str, Any]]) -> None:
        self.write(f"UNWIND $rows AS row MATCH (n:Entity {{id: row.id}}) {self._KEEP_CASES}",
                   {"rows": rows})

    def create_edges(self, rel_type: str, rows: list[dict[str, Any]],
                     key: Sequence[str] = ()) -> None:
        """Create edges unless an equal one (same ends, same key properties, same origin)
        exists. The start node is locked first (a property write holds Neo4j's exclusive
        lock until commit), so two loads running at once create one edge, not two; a
        deadlock between them is transient and the managed transaction retries."""
        _rel_type(rel_type)
        same = " AND ".join(
            [f"(old.{k} = row.props.{k} OR (old.{k} IS NULL AND row.props.{k} IS NULL))"
             for k in key if re.match(r"^[a-z_]+$", k)]
            + ["((old.sources IS NULL) = (row.props.sources IS NULL))"])
        self.write(f"UNWIND $rows AS row "
                   f"MATCH (a:Entity {{id: row.start}}) MATCH (b:Entity {{id: row.end}}) "
                   f"SET a.kg_lock = true REMOVE a.kg_lock "
                   f"WITH a, b, row "
                   f"OPTIONAL MATCH (a)-[old:{rel_type}]->(b) WHERE {same} "
                   f"WITH a, b, row, count(old) AS existing WHERE existing = 0 "
                   f"CREATE (a)-[r:{rel_type}]->(b) SET r = row.props", {"rows": rows})

    def set_edge_props(self, rows: list[dict[str, Any]]) -> None:
        self.write("UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.eid "
                   "SET r = row.props", {"rows": rows})

    def delete_edges(self, eids: list[str]) -> None:
        self.write("UNWIND $eids AS eid MATCH ()-[r]->() WHERE elementId(r) = eid DELETE r",
                   {"eids": eids})

    # --- whole-graph helpers ------------------------------------------------------------------
    def counts(self) -> dict[str, dict[str, int]]:
        labels = {r["label"]: r["n"] for r in self.read(
            "MATCH (n:Entity) UNWIND labels(n) AS label WITH label WHERE label <> 'Entity' "
            "RETURN label, count(*) AS n ORDER BY label").records}
        types = {r["type"]: r["n"] for r in self.read(
            "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type").records}
        return {"nodes": labels, "relationships": types}

    def reset(self) -> None:
        self.auto_commit("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")

    def digest(self) -> str:
        """A digest of the whole graph: labels, properties, relationships with their ends."""
        h = hashlib.sha256()
        for line in self.canonical_lines():
            h.update(line.encode("utf-8"))
            h.update(b"\n")
        return h.hexdigest()

    def canonical_lines(self) -> list[str]:
        """The whole graph as sorted canonical JSON lines (nodes, then relationships)."""
        # (:KgMeta holds the sealing key's fingerprint: the database's, not the graph's)
        nodes = sorted(_canon({"l": sorted(r["l"]), "p": r["p"]}) for r in self.read(
            "MATCH (n) WHERE NOT n:KgMeta RETURN labels(n) AS l, properties(n) AS p").records)
        rels = sorted(_canon({"t": r["t"], "a": r["a"], "b": r["b"], "p": r["p"]}) for r in self.read(
            "MATCH (a)-[r]->(b) RETURN type(r) AS t, a.id AS a, b.id AS b, properties(r) AS p"
        ).records)
        return nodes + ["--"] + rels


def native(value: Any) -> Any:
    """Database values as plain Python (neo4j dates become datetime.date), recursively."""
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, (list, tuple)):
        return [native(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value


def _canon(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False)
