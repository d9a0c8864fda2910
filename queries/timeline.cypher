// name: timeline
// title: Timeline of events, by place and date range
// category: places and time
// description: >
//   Events in date order, optionally only in a place (and places inside it) and only those
//   whose dates overlap a range. Dates honour their precision: an event dated 2017 overlaps
//   April 2017 and is marked `overlaps`, one inside the range `within`. Undated events show
//   only when no range is given.
// returns: rows
// params:
//   - {name: place, type: string, default: null, description: Only events in this place}
//   - {name: since, type: date, default: null, description: "Range start (2017, 2017-04 or 2017-04-01)"}
//   - {name: until, type: date, span: end, default: null, description: "Range end, inclusive (a month means its last day)"}
CALL () {
  // One branch runs: events in the place (and places inside it) when given, else all events.
  WITH $place AS place WHERE place IS NOT NULL
  MATCH (pl:Entity:Location {id: place})<-[:LOCATED_IN*0..]-(:Location)<-[:LOCATED_IN]-(e:Event)
  RETURN DISTINCT e
  UNION
  WITH $place AS place WHERE place IS NULL
  MATCH (e:Event)
  RETURN e
}
WITH e
WHERE ($since IS NULL OR e.end >= $since) AND ($until IS NULL OR e.start <= $until)
OPTIONAL MATCH (e)-[:LOCATED_IN]->(l:Location)
RETURN CASE e.date_precision WHEN 'year' THEN toString(e.start.year)
         WHEN 'month' THEN substring(toString(e.start), 0, 7) ELSE toString(e.start) END AS date,
       e.id AS id, e.title AS event, e.kind AS kind, e.status AS status, l.name AS location,
       CASE WHEN ($since IS NOT NULL AND e.start < $since) OR ($until IS NOT NULL AND e.end > $until)
            THEN 'overlaps' ELSE 'within' END AS fit
ORDER BY e.start, e.end, id
