"""The Cypher statements kg runs outside the load's repository (kg.store) and resolution's
(kg.resolve_store): one home for every statement, owned by the store layer. Each is
parameterized; labels and types in them come from the schema (schema/constraints.cypher).

Other modules run these through a ``Store`` (``store.read(C.CASE_IDS, {...})``) and never
write Cypher themselves; tests/test_layout.py checks that no other module holds any.
Saved queries are files (queries/*.cypher); the Cypher and CSV exporters *write* Cypher as
their output (kg.export).
"""

from __future__ import annotations

# --- reading entities (kg.selection, kg.seal, kg.redact, kg.loader) ---------------------------

ANY_ENTITY = "MATCH (n:Entity) RETURN n.id LIMIT 1"
COUNT_NODES = "MATCH (n) RETURN count(n) AS n"
ENTITY_EXISTS = "MATCH (n:Entity {id: $id}) RETURN n.id"
# A batch's ids travel inside one map parameter, `$batch`, as do every batched write's rows
# (kg.store_write): Neo4j plans a statement again for each order of magnitude of a list
# parameter's length, and never for a map's.
# Selections are read in bulk: each query returns one record holding a batch's rows as one
# list (`collect(...) AS rows`), so the driver reads a few large messages, not one per row.
CASE_IDS = "MATCH (n:Entity) WHERE $case IN n.cases RETURN collect(n.id) AS rows"
ALL_IDS = "MATCH (n:Entity) RETURN collect(n.id) AS rows"
HELD_CASES = "MATCH (n:Entity) UNWIND n.cases AS c RETURN DISTINCT c"
NEIGHBOURS = (
    "UNWIND $batch.ids AS id MATCH (:Entity {id: id})--(m:Entity) RETURN DISTINCT m.id AS id"
)
NODES = (
    "UNWIND $batch.ids AS id MATCH (n:Entity {id: id}) "
    "RETURN collect([n.id, labels(n), properties(n)]) AS rows"
)
EDGES_FROM = (
    "UNWIND $batch.ids AS id MATCH (a:Entity {id: id})-[r]->(b:Entity) "
    "RETURN collect([a.id, type(r), b.id, properties(r)]) AS rows"
)
KNOWN_SOURCES = "MATCH (s:Source) WHERE s.known_by <= $d RETURN s.id AS id"
KNOWN_BY = (
    "UNWIND $batch.ids AS id MATCH (n:Entity {id: id}) "
    "RETURN n.id AS id, n:Source AS source, "
    "COUNT { (n)-[:REPORTED_BY]->(:Source) } AS cited, "
    "EXISTS { (n)-[:REPORTED_BY]->(s:Source) WHERE s.known_by <= $d } AS known"
)
CITATIONS = (
    "UNWIND $batch.ids AS id MATCH (n:Entity {id: id})-[r:REPORTED_BY]->(s:Source) "
    "OPTIONAL MATCH (s)-[:PUBLISHED_BY]->(p:Organization) "
    "WITH id, s, p, r ORDER BY id, s.id, r.quote "
    "RETURN collect([id, s.id, s.title, p.name, s.reliability, r.quote, r.page, "
    "r.credibility]) AS rows"
)
# kg search: the full-text index (public text and placeholders only)
SEARCH = (
    "CALL db.index.fulltext.queryNodes('entity_text', $q) YIELD node, score "
    "RETURN node.id AS id, [l IN labels(node) WHERE l <> 'Entity'][0] AS kind, "
    "coalesce(node.name, node.title, node.text) AS name, score "
    "ORDER BY score DESC, id LIMIT $limit"
)
FULLTEXT_REFRESH = "CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()"
# Redaction of databases loaded before sealing, and of public entities merged with
# confidential ones (kg.redact)
TO_REDACT = (
    "MATCH (n:Entity) WHERE n.kg_sealed IS NULL AND (n.confidential = true "
    "OR EXISTS { (n)-[:SAME_AS*1..2]-(:Entity {confidential: true}) }) "
    "RETURN n.id AS id, labels(n) AS labels, properties(n) AS props"
)

# --- analysis write-back (kg analyze --write-back) -------------------------------------------

WRITE_CENTRALITY = (
    "UNWIND $batch.rows AS row MATCH (n:Entity {id: row.id}) "
    "SET n.analysis_degree = row.degree_centrality, "
    "n.analysis_pagerank = row.pagerank, "
    "n.analysis_betweenness = row.betweenness"
)
WRITE_COMMUNITIES = (
    "UNWIND $batch.rows AS row UNWIND row.ids AS id MATCH (n:Entity {id: id}) "
    "SET n.analysis_community = row.community"
)

# --- sealing (kg.seal) -----------------------------------------------------------------------

SEAL_FINGERPRINT = "MATCH (m:KgMeta {id: 'kg'}) RETURN m.seal_fingerprint AS fp"
SET_SEAL_FINGERPRINT = "MERGE (m:KgMeta {id: 'kg'}) SET m.seal_fingerprint = $fp"
SEALED_NODES = (
    "MATCH (n:Entity) WHERE n.kg_sealed IS NOT NULL "
    "AND ($all OR n.confidential = true) "
    "RETURN n.id AS id, labels(n) AS labels, "
    "n.cases AS cases, n.confidential AS conf, n.kg_sealed AS sealed, "
    "n.kg_records AS records"
)
RENAME = (  # another id for a node (its confidentiality changed), with the ids edges hold
    "MATCH (n:Entity {id: $old}) SET n.id = $new",
    "MATCH ()-[r:DENIED {statement: $old}]->() SET r.statement = $new",
    "MATCH ()-[r:SAID {via: $old}]->() SET r.via = $new",
    "MATCH ()-[r]->() WHERE $old IN r.sources "
    "SET r.sources = [s IN r.sources | CASE s WHEN $old THEN $new ELSE s END]",
)

# --- the entity graph as canonical lines (kg.digest: tests and benchmarks compare graphs) -----

CANONICAL_NODES = "MATCH (n:Entity) RETURN labels(n) AS l, properties(n) AS p"
CANONICAL_EDGES = (
    "MATCH (a:Entity)-[r]->(b:Entity) RETURN type(r) AS t, a.id AS a, b.id AS b, properties(r) AS p"
)
CANONICAL_CASES = "MATCH (c:Case) RETURN c {.*, loaded_at: null} AS p"

# --- the server (kg.runtime) -----------------------------------------------------------------

PING = "RETURN 1"
