// name: search
// title: Full-text search over names, aliases, titles and statement text
// category: search
// description: >
//   Finds entities whose name, aliases, title, description or statement text match the
//   words given (any script; the text is searched as words, not as a query language).
//   A merged entity (`kg resolve apply`) is one result under its canonical id, found by
//   the names and aliases of every id it has; `ids` lists them all.
// returns: rows
// params:
//   - {name: q, type: search, required: true, description: Words to look for}
//   - {name: limit, type: int, default: 20, min: 1, description: At most this many results}
CALL db.index.fulltext.queryNodes('entity_text', $q) YIELD node, score
OPTIONAL MATCH (node)-[:SAME_AS]->(canonical:Entity)
WITH coalesce(canonical, node) AS e, max(score) AS score
RETURN [l IN labels(e) WHERE l <> 'Entity'][0] AS kind, e.id AS id,
       coalesce(e.name, e.title, e.text) AS text, round(score, 3) AS score,
       [e.id] + COLLECT { MATCH (e)<-[:SAME_AS]-(m:Entity) RETURN m.id ORDER BY m.id } AS ids
ORDER BY score DESC, id
LIMIT $limit
