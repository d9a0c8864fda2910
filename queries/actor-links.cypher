// name: actor-links
// title: "How actors connect: shared events, affiliations and associations"
// category: connections
// description: >
//   Pairs of actors (people and organizations) linked directly (ASSOCIATED_WITH,
//   AFFILIATED_WITH, PART_OF) or through an event both took part in, with how.
// returns: rows
// params:
//   - {name: id, type: string, default: null, description: Only links of this actor}
MATCH (a:Entity)-[r:ASSOCIATED_WITH|AFFILIATED_WITH|PART_OF]->(b:Entity)
WHERE (a:Person OR a:Organization) AND (b:Person OR b:Organization)
  AND ($id IS NULL OR a.id = $id OR b.id = $id)
RETURN a.id AS actor, b.id AS other, type(r) + coalesce(' (' + r.role + ')', '') AS link
UNION
MATCH (a:Entity)-[ra:INVOLVED_IN]->(e:Event)<-[rb:INVOLVED_IN]-(b:Entity)
WHERE a.id < b.id AND ($id IS NULL OR a.id = $id OR b.id = $id)
RETURN a.id AS actor, b.id AS other,
       'INVOLVED_IN ' + e.id + ' (' + ra.role + ' / ' + rb.role + ')' AS link
