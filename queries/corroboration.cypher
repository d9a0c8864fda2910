// name: corroboration
// title: "Corroboration per event: independent sources and the stances taken"
// category: evidence
// description: >
//   For each event, how many independent origins report it (publishers, not articles), how
//   many sources, which origins, and how many speakers support or contest it.
// returns: rows
MATCH (e:Event)
OPTIONAL MATCH (e)-[:REPORTED_BY]->(src:Source)
OPTIONAL MATCH (src)-[:PUBLISHED_BY]->(pub:Organization)
WITH e, src, pub ORDER BY coalesce(pub.id, src.id)
WITH e, collect(DISTINCT coalesce(pub.id, src.id)) AS origins, count(DISTINCT src) AS sources
OPTIONAL MATCH (e)<-[a:ABOUT]-(:Statement)<-[:SAID]-(sp:Entity)
WITH e, origins, sources,
     collect(DISTINCT CASE WHEN a.stance IN ['asserts', 'corroborates'] THEN sp.id END) AS supporting,
     collect(DISTINCT CASE WHEN a.stance IN ['denies', 'disputes'] THEN sp.id END) AS contesting
RETURN e.id AS id, e.title AS event, e.status AS status, size(origins) AS independent_sources,
       sources, origins, size(supporting) AS supporting_speakers,
       size(contesting) AS contesting_speakers
ORDER BY independent_sources DESC, id
