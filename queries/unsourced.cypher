// name: unsourced
// title: Entities with no source at all
// category: evidence
// description: >
//   People, organizations, places, events and statements that cite no source: claims with
//   nothing attached, to source or to drop.
// returns: rows
MATCH (n:Entity)
WHERE NOT n:Source AND NOT (n)-[:REPORTED_BY]->(:Source)
RETURN [l IN labels(n) WHERE l <> 'Entity'][0] AS kind, n.id AS id,
       coalesce(n.name, n.title, n.text) AS entity
ORDER BY kind, id
