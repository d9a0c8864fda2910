// name: who-reported-what
// title: "Who reported what: publisher, source, claim"
// category: evidence
// description: >
//   Every publisher with its sources and what each source is cited for. Give `publisher` to
//   see one outlet's reporting; sources that name no publisher are listed as "(not named)". With as_of, only sources certainly published by that day.
// returns: rows
// params:
//   - {name: publisher, type: string, default: null, description: Only this publisher's id}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry (2018, 2018-10 or 2018-10-21)"}
CALL () {
  // One branch runs: anchored on the publisher when given, else every citation.
  WITH $publisher AS publisher WHERE publisher IS NOT NULL
  MATCH (pub:Entity:Organization {id: publisher})<-[:PUBLISHED_BY]-(src:Source)
  MATCH (c:Entity)-[:REPORTED_BY]->(src)
  RETURN c, src, pub
  UNION
  WITH $publisher AS publisher WHERE publisher IS NULL
  MATCH (c:Entity)-[:REPORTED_BY]->(src:Source)
  OPTIONAL MATCH (src)-[:PUBLISHED_BY]->(pub:Organization)
  RETURN c, src, pub
}
WITH c, src, pub WHERE $as_of IS NULL OR src.known_by <= $as_of
RETURN coalesce(pub.name, '(not named)') AS publisher, src.id AS source,
       [l IN labels(c) WHERE l <> 'Entity'][0] AS kind, c.id AS id,
       coalesce(c.title, c.name, c.text) AS claim
ORDER BY publisher, source, kind, id
