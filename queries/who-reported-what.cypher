// name: who-reported-what
// title: "Who reported what: publisher, source, claim"
// category: evidence
// description: >
//   Every publisher with its sources and what each source is cited for. Give `publisher` to
//   see one outlet's reporting; sources that name no publisher are listed as "(not named)".
// returns: rows
// params:
//   - {name: publisher, type: string, default: null, description: Only this publisher's id}
MATCH (c:Entity)-[:REPORTED_BY]->(src:Source)
OPTIONAL MATCH (src)-[:PUBLISHED_BY]->(pub:Organization)
WITH c, src, pub
WHERE $publisher IS NULL OR pub.id = $publisher
RETURN coalesce(pub.name, '(not named)') AS publisher, src.id AS source,
       [l IN labels(c) WHERE l <> 'Entity'][0] AS kind, c.id AS id,
       coalesce(c.title, c.name, c.text) AS claim
ORDER BY publisher, source, kind, id
