// name: claims-about
// title: Claims and counter-claims about one entity, grouped by stance
// category: claims and denials
// description: >
//   Everything said about an entity, grouped by stance (asserts, corroborates, denies,
//   disputes, calls-for, mentions): how many statements, and who said what. With as_of, only what sources certainly published by that day carry.
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The entity's id}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry (2018, 2018-10 or 2018-10-21)"}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(t:Entity)
WITH DISTINCT t
MATCH (t)<-[a:ABOUT]-(s:Statement)<-[:SAID]-(sp:Entity)
  WHERE ($case IS NULL OR $case IN a.cases)
  AND ($as_of IS NULL OR NOT EXISTS { (s)-[:REPORTED_BY]->() }
       OR EXISTS { (s)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
WITH a.stance AS stance, sp, s ORDER BY s.date, sp.id, s.id
RETURN stance, count(s) AS statements,
       collect(coalesce(sp.name, sp.title)) AS speakers,
       collect(s.id) AS statement_ids
ORDER BY CASE stance WHEN 'asserts' THEN 1 WHEN 'corroborates' THEN 2 WHEN 'denies' THEN 3
  WHEN 'disputes' THEN 4 WHEN 'calls-for' THEN 5 ELSE 6 END
