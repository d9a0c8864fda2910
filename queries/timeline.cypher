// name: timeline
// title: Timeline of events and statements, by place and date range
// category: places and time
// description: >
//   Events and statements together in date order, optionally only in a place (events in it
//   and places inside it, and the statements about those events) and only those whose dates
//   may fall in a range. Dates honour their precision and bounds (kg.dates' interval rule): an
//   event dated 2017 overlaps April 2017 and is marked `overlaps`, one certainly inside the
//   range `within` (`fit` is empty when no range is given); a statement made "on or before 5 October" overlaps any range that starts
//   before then. Undated entries show only when no range is given. With as_of, only what
//   sources certainly published by that day carry (unsourced records stay, `sourced` false).
// returns: rows
// params:
//   - {name: place, type: string, default: null, description: Only events in this place (and statements about them)}
//   - {name: since, type: date, default: null, description: "Range start (2017, 2017-04 or 2017-04-01)"}
//   - {name: until, type: date, span: end, default: null, description: "Range end, inclusive (a month means its last day)"}
//   - {name: kinds, type: list, default: [event, statement], values: [event, statement], description: What to show}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry"}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
CALL () {
  // Events in the place (and places inside it) when given, else all; statements about them.
  WITH $place AS place WHERE place IS NOT NULL
  MATCH (pl:Entity:Location {id: place})<-[:LOCATED_IN*0..]-(:Location)<-[:LOCATED_IN]-(e:Event)
  RETURN DISTINCT e AS x
  UNION
  WITH $place AS place WHERE place IS NOT NULL
  MATCH (pl:Entity:Location {id: place})<-[:LOCATED_IN*0..]-(:Location)<-[:LOCATED_IN]-(:Event)
        <-[:ABOUT]-(s:Statement)
  RETURN DISTINCT s AS x
  UNION
  WITH $place AS place WHERE place IS NULL
  MATCH (x:Event)
  RETURN x
  UNION
  WITH $place AS place WHERE place IS NULL
  MATCH (x:Statement)
  RETURN x
}
WITH x WHERE (CASE WHEN x:Event THEN 'event' ELSE 'statement' END) IN $kinds
  AND ($case IS NULL OR $case IN x.cases)
  AND ($as_of IS NULL OR NOT EXISTS { (x)-[:REPORTED_BY]->() }
       OR EXISTS { (x)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
// The days the date may stand for: a bound opens one side.
WITH x, CASE WHEN x.date_bound = 'on-or-before' THEN null ELSE x.start END AS lo,
        CASE WHEN x.date_bound = 'on-or-after' THEN null ELSE x.end END AS hi
WHERE ($since IS NULL AND $until IS NULL)
   OR ((lo IS NOT NULL OR hi IS NOT NULL)
       AND ($since IS NULL OR hi IS NULL OR hi >= $since)
       AND ($until IS NULL OR lo IS NULL OR lo <= $until))
OPTIONAL MATCH (x)-[:LOCATED_IN]->(l:Location)
OPTIONAL MATCH (sp:Entity)-[:SAID]->(x)
RETURN CASE x.date_bound WHEN 'on-or-before' THEN 'on or before ' WHEN 'on-or-after' THEN 'on or after '
         ELSE '' END +
       CASE x.date_precision WHEN 'year' THEN toString(x.start.year)
         WHEN 'month' THEN substring(toString(x.start), 0, 7) ELSE toString(x.start) END AS date,
       x.id AS id, CASE WHEN x:Event THEN 'event' ELSE 'statement' END AS type,
       CASE WHEN x:Event THEN x.title ELSE coalesce(sp.name, sp.title) + ': ' + x.text END AS what,
       x.kind AS kind, x.status AS status, l.name AS location,
       CASE WHEN $since IS NULL AND $until IS NULL THEN null
            WHEN ($since IS NOT NULL AND (lo IS NULL OR lo < $since))
              OR ($until IS NOT NULL AND (hi IS NULL OR hi > $until))
            THEN 'overlaps' ELSE 'within' END AS fit,
       EXISTS { (x)-[:REPORTED_BY]->() } AS sourced
ORDER BY x.start, x.end, id
