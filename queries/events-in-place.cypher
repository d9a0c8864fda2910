// name: events-in-place
// title: Events in a place, including places inside it
// category: places and time
// description: >
//   Events located in a place or anywhere inside it (following LOCATED_IN through nested
//   places: events in Chechnya are events in Russia).
// returns: rows
// params:
//   - {name: place, type: string, required: true, description: The location's id}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (place:Entity:Location {id: $place})
MATCH (e:Event)-[li:LOCATED_IN]->(l:Location)-[:LOCATED_IN*0..]->(place)
WHERE $case IS NULL OR $case IN li.cases
RETURN DISTINCT e.id AS id, e.title AS event, l.name AS location,
       CASE e.date_precision WHEN 'year' THEN toString(e.start.year)
         WHEN 'month' THEN substring(toString(e.start), 0, 7) ELSE toString(e.start) END AS date,
       e.status AS status
ORDER BY date, id
