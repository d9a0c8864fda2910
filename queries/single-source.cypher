// name: single-source
// title: "Single-source claims: what rests on one source only"
// category: evidence
// description: >
//   Events and statements whose sources all come from one independent origin. An origin is
//   a source's publisher, or the source itself when it names none: two articles of one
//   newspaper are one origin. These are the weak spots to corroborate.
// returns: rows
MATCH (c:Entity)-[:REPORTED_BY]->(src:Source)
WHERE c:Event OR c:Statement
OPTIONAL MATCH (src)-[:PUBLISHED_BY]->(pub:Organization)
WITH c, src, pub ORDER BY src.id
WITH c, collect(DISTINCT coalesce(pub.id, src.id)) AS origins, collect(DISTINCT src.id) AS sources
WHERE size(origins) = 1
RETURN CASE WHEN c:Event THEN 'event' ELSE 'statement' END AS kind, c.id AS id,
       coalesce(c.title, c.text) AS claim, origins[0] AS origin, sources
ORDER BY kind, id
