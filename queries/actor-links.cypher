// name: actor-links
// title: "How actors connect: shared events, affiliations and associations"
// category: connections
// description: >
//   Pairs of actors (people and organizations) linked directly (ASSOCIATED_WITH,
//   AFFILIATED_WITH, PART_OF) or through an event both took part in, with how.
// returns: rows
// params:
//   - {name: id, type: string, default: null, description: Only links of this actor}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
CALL () {
  WITH $id AS id WHERE id IS NOT NULL
  // Anchored on the actor when $id is given (the first two parts), else over every actor.
  MATCH (x:Entity {id: id})-[r:ASSOCIATED_WITH|AFFILIATED_WITH|PART_OF]-(y:Entity)
  WHERE (x:Person OR x:Organization) AND (y:Person OR y:Organization)
  WITH startNode(r) AS a, endNode(r) AS b, r WHERE $case IS NULL OR $case IN r.cases
  RETURN a.id AS actor, b.id AS other, type(r) + coalesce(' (' + r.role + ')', '') AS link
  UNION
  WITH $id AS id WHERE id IS NOT NULL
  MATCH (x:Entity {id: id})-[rx:INVOLVED_IN]->(e:Event)<-[ry:INVOLVED_IN]-(y:Entity)
  WHERE x <> y AND ($case IS NULL OR ($case IN rx.cases AND $case IN ry.cases))
  WITH CASE WHEN x.id < y.id THEN [x, rx, y, ry] ELSE [y, ry, x, rx] END AS t, e
  RETURN t[0].id AS actor, t[2].id AS other,
         'INVOLVED_IN ' + e.id + ' (' + t[1].role + ' / ' + t[3].role + ')' AS link
  UNION
  WITH $id AS id WHERE id IS NULL
  MATCH (a:Entity)-[r:ASSOCIATED_WITH|AFFILIATED_WITH|PART_OF]->(b:Entity)
  WHERE (a:Person OR a:Organization) AND (b:Person OR b:Organization)
    AND ($case IS NULL OR $case IN r.cases)
  RETURN a.id AS actor, b.id AS other, type(r) + coalesce(' (' + r.role + ')', '') AS link
  UNION
  WITH $id AS id WHERE id IS NULL
  MATCH (a:Entity)-[ra:INVOLVED_IN]->(e:Event)<-[rb:INVOLVED_IN]-(b:Entity)
  WHERE a.id < b.id AND ($case IS NULL OR ($case IN ra.cases AND $case IN rb.cases))
  RETURN a.id AS actor, b.id AS other,
         'INVOLVED_IN ' + e.id + ' (' + ra.role + ' / ' + rb.role + ')' AS link
}
RETURN actor, other, link
ORDER BY actor, other, link
