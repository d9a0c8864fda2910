// name: involvement
// title: Everything an actor is involved in
// category: actors
// description: >
//   The events an actor took part in, with role, date and place, in date order.
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: A person's or an organization's id}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(x:Entity)
WITH DISTINCT x
MATCH (x)-[r:INVOLVED_IN]->(e:Event) WHERE $case IS NULL OR $case IN r.cases
OPTIONAL MATCH (e)-[:LOCATED_IN]->(l:Location)
RETURN e.id AS event_id, e.title AS event, r.role AS role,
       CASE e.date_precision WHEN 'year' THEN toString(e.start.year)
         WHEN 'month' THEN substring(toString(e.start), 0, 7) ELSE toString(e.start) END AS date,
       l.name AS location, e.status AS status
ORDER BY e.start, event_id, role
