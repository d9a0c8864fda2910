"""Writing the graph: nodes and relationships in batched UNWIND statements, each batch one
managed transaction (a part of kg.store.Store, which runs the Cypher: ``self`` is one).

Each case's record of an entity is an entry of `kg_records` ("case-id {json}", sorted);
`cases` is derived from them. A load writes the entries it computed (its own cases', and the
others' as it read them, sealed or opened as they must be now) and keeps, inside the write,
the entry of any other case that the node holds at that moment and the load did not know of:
two loads running at once never drop each other's records.

A batch travels as one map parameter, ``$batch`` (its ``rows``, ``ids`` or ``eids``, and the
``replaced`` cases): Neo4j keys its plan cache on the order of magnitude of each list
parameter's length (1, up to 10, 100, 1,000, 10,000, more), so list parameters made each
statement be planned again for every batch size a load happened to send, on a server just
started 50-90 ms a plan; a map parameter has no length in that key. (The plans are the ones
the lists gave, but for one Eager more in the node statement's: it holds the batch's rows
before merging them. Alternating loads of old and new code measured no difference.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import neo4j

from . import records as R
from .errors import KgError

LABEL_RE = re.compile(r"^[A-Z][A-Za-z]*$")
TYPE_RE = re.compile(r"^[A-Z][A-Z_]*$")


def _label(label: str) -> str:
    if label not in R.KIND_OF_LABEL and label != "Entity":
        raise KgError(f"internal: label {label!r} is not in the schema")
    return label


def _rel_type(rel_type: str) -> str:
    if rel_type not in R.ALL_REL_TYPES:
        raise KgError(f"internal: relationship type {rel_type!r} is not in the schema")
    return rel_type


class WritesMixin:
    _lock_key_known = False  # see _lock_key
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
        "WITH n, row, [r IN coalesce(n.kg_records, []) WHERE NOT split(r, ' ')[0] IN $batch.replaced "
        "AND NOT split(r, ' ')[0] IN mine] + row.props.kg_records AS recs "
        "WITH n, row, row.props AS props, " + _SORTED.format(items="recs") + " AS recs "
        "SET n = props {.*, kg_records: recs, cases: " + _CASES.format(recs="recs") + "} "
    )

    # A node written from one case's record (nearly all of them) is set whole when MERGE makes
    # it: its one record is its sorted list, and that record's case its `cases`. Only a node
    # that MERGE found (another load made it meanwhile) takes the full _NODE_SET, in the same
    # transaction. False: every node takes the full statement (tests compare the two).
    fast_nodes = True

    def merge_nodes(
        self: Any, label: str, rows: list[dict[str, Any]], replaced: Sequence[str]
    ) -> dict[str, str]:
        """Write the nodes; return each one's element id (by kg id), which the same load's
        relationships use to find their ends without an index seek (create_edges)."""
        lab = _label(label)
        # One record of three lists, not a record per node: the client decodes a batch's
        # answer in one go (a 10,000-record load: 0.08 s less of the writer thread's CPU).
        full = (
            f"UNWIND $batch.rows AS row MERGE (n:Entity {{id: row.id}}) {self._NODE_SET}"
            f"SET n:{lab} RETURN collect(n.id) AS ids, collect(elementId(n)) AS es"
        )
        made = (
            "CYPHER replan=skip UNWIND $batch.rows AS row MERGE (n:Entity {id: row.id}) "
            "ON CREATE SET n = row.props, n.cases = [split(row.props.kg_records[0], ' ')[0]] "
            f"ON MATCH SET n.kg_found = true SET n:{lab} "
            "RETURN collect(n.id) AS ids, collect(elementId(n)) AS es, "
            "collect(CASE WHEN n.kg_found IS NOT NULL THEN n.id END) AS found"
        )
        one: list[dict[str, Any]] = []
        more: list[dict[str, Any]] = []
        for r in rows:
            single = self.fast_nodes and len(r["props"].get("kg_records") or ()) == 1
            (one if single else more).append(r)
        replaced = list(replaced)

        def work(tx: neo4j.ManagedTransaction) -> dict[str, str]:
            out: dict[str, str] = {}
            found: set[str] = set()
            if one:
                got = tx.run(made, batch={"rows": one}).single(strict=True)
                out.update(zip(got["ids"], got["es"]))
                found.update(got["found"])
            # Found ones are written whole by the full statement (SET n = drops kg_found).
            todo = more + [r for r in one if r["id"] in found]
            if todo:
                got = tx.run(full, batch={"rows": todo, "replaced": replaced}).single(strict=True)
                out.update(zip(got["ids"], got["es"]))
            return out

        return self.write_steps(work)

    def set_node_props(self: Any, rows: list[dict[str, Any]], replaced: Sequence[str]) -> None:
        self.write(
            f"UNWIND $batch.rows AS row MATCH (n:Entity {{id: row.id}}) {self._NODE_SET}",
            {"batch": {"rows": rows, "replaced": list(replaced)}},
        )

    def delete_nodes(self: Any, ids: list[str], replaced: Sequence[str]) -> None:
        """Remove these cases' records from the nodes; delete a node left with none."""
        self.write(
            """
            UNWIND $batch.ids AS id MATCH (n:Entity {id: id})
            WITH n, [r IN coalesce(n.kg_records, []) WHERE NOT split(r, ' ')[0] IN $batch.replaced] AS rest
            FOREACH (_ IN CASE WHEN size(rest) = 0 THEN [1] ELSE [] END | DETACH DELETE n)
            FOREACH (_ IN CASE WHEN size(rest) > 0 THEN [1] ELSE [] END |
                     SET n.kg_records = rest, n.cases = """
            + self._CASES.format(recs="rest")
            + ")",
            {"batch": {"ids": ids, "replaced": list(replaced)}},
        )

    def create_edges(
        self: Any,
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
        union = self._SORTED.format(items="coalesce(old.cases, []) + row.props.cases")
        records = self._SORTED.format(items="coalesce(old.kg_records, []) + row.props.kg_records")
        # replan=skip: the plan (seeks by element id or the id constraint, Expand(Into)) does
        # not depend on the graph's size, and replanning it as a first load grows the graph
        # cost a 10,000-record YAML case about 1 s of server CPU (docs/benchmarks.md).
        locked = f"CYPHER replan=skip UNWIND $batch.rows AS row {ends}REMOVE a.kg_lock "
        create = (
            f"{locked}WITH a, b, row WHERE NOT EXISTS {{ MATCH (a)-[old:{rel_type}]->(b) "
            f"WHERE {same} }} CREATE (a)-[r:{rel_type}]->(b) SET r = row.props"
        )
        join = (
            f"{locked}WITH a, b, row "
            f"MATCH (a)-[old:{rel_type}]->(b) WHERE {same} "
            f"SET old.cases = {union}, old.kg_records = CASE WHEN "
            f"row.props.kg_records IS NULL THEN old.kg_records ELSE {records} END"
        )

        batch = {"rows": rows}

        def work(tx: neo4j.ManagedTransaction) -> None:
            made = tx.run(create, batch=batch).consume().counters.relationships_created
            if made < len(rows):
                tx.run(join, batch=batch).consume()

        self._lock_key()
        self.write_steps(work)

    def _lock_key(self: Any) -> None:
        """``REMOVE n.kg_lock`` locks only once the database knows the property's name: make
        it known (a node made and deleted in one transaction; names stay)."""
        if not self._lock_key_known:
            self.write("CREATE (t) SET t.kg_lock = true DELETE t")
            self._lock_key_known = True

    def set_edge_props(self: Any, rows: list[dict[str, Any]], replaced: Sequence[str]) -> None:
        cases = self._SORTED.format(items="kc + [c IN row.props.cases WHERE c IN $batch.replaced]")
        records = self._SORTED.format(items="kr + coalesce(row.props.kg_records, [])")
        self.write(
            "UNWIND $batch.rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.eid "
            "WITH r, row, [c IN coalesce(r.cases, []) WHERE NOT c IN $batch.replaced] AS kc, "
            "[x IN coalesce(r.kg_records, []) WHERE NOT split(x, ' ')[0] IN $batch.replaced "
            "AND NOT split(x, ' ')[0] IN [y IN coalesce(row.props.kg_records, []) | "
            "split(y, ' ')[0]]] AS kr "
            f"SET r = row.props SET r.cases = {cases}, r.kg_records = CASE WHEN "
            f"row.props.kg_records IS NULL THEN null ELSE {records} END",
            {"batch": {"rows": rows, "replaced": list(replaced)}},
        )

    def retract_edges(self: Any, rows: list[dict[str, Any]], replaced: Sequence[str]) -> None:
        """Delete edges that no case states any more ({eid, seen}: the cases the load saw on
        it); an edge that another load gave a case meanwhile keeps that case."""
        self.write(
            """
            UNWIND $batch.rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.eid
            WITH r, [c IN coalesce(r.cases, []) WHERE NOT c IN $batch.replaced
                     AND NOT c IN row.seen] AS rest
            FOREACH (_ IN CASE WHEN size(rest) = 0 THEN [1] ELSE [] END | DELETE r)
            FOREACH (_ IN CASE WHEN size(rest) > 0 THEN [1] ELSE [] END |
                     SET r.cases = rest, r.kg_records = CASE WHEN r.kg_records IS NULL THEN null
                     ELSE [x IN r.kg_records WHERE split(x, ' ')[0] IN rest] END)""",
            {"batch": {"rows": rows, "replaced": list(replaced)}},
        )

    def delete_edges(self: Any, eids: list[str]) -> None:
        self.write(
            "UNWIND $batch.eids AS eid MATCH ()-[r]->() WHERE elementId(r) = eid DELETE r",
            {"batch": {"eids": eids}},
        )
