// name: search
// title: Full-text search over names, aliases, titles and statement text
// category: search
// description: >
//   Finds entities whose name, aliases, title, description or statement text match the
//   words given (any script; the text is searched as words, not as a query language).
// returns: rows
// params:
//   - {name: q, type: search, required: true, description: Words to look for}
//   - {name: limit, type: int, default: 20, description: At most this many results}
CALL db.index.fulltext.queryNodes('entity_text', $q) YIELD node, score
RETURN [l IN labels(node) WHERE l <> 'Entity'][0] AS kind, node.id AS id,
       coalesce(node.name, node.title, node.text) AS text, round(score, 3) AS score
ORDER BY score DESC, id
LIMIT $limit
