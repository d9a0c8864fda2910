// name: said-by
// title: Everything an actor said
// category: actors
// description: >
//   Every statement of a person or organization, in date order, with where it was said, its
//   text, whether it is verbatim, and what it is about with which stance. With as_of, only what sources certainly published by that day carry.
//   A merged entity (`kg resolve apply`) answers for all its ids: `speaker` says which id said it.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The speaker's id}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry (2018, 2018-10 or 2018-10-21)"}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(sp:Entity)-[said:SAID]->(s:Statement)
  WHERE ($case IS NULL OR $case IN said.cases)
  AND ($as_of IS NULL OR NOT EXISTS { (s)-[:REPORTED_BY]->() }
       OR EXISTS { (s)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
WITH DISTINCT sp, s
OPTIONAL MATCH (s)-[a:ABOUT]->(t:Entity)
WITH sp, s, t, a ORDER BY t.id
WITH sp, s, collect(t.id + ' (' + a.stance + ')') AS about,
     // every outlet it was said through (v1.1: several), in the order of their names
     COLLECT { MATCH (s)-[:VIA]->(o:Organization) RETURN o.name ORDER BY o.name } AS vias
RETURN s.id AS statement,
       CASE s.date_bound WHEN 'on-or-before' THEN 'on or before ' WHEN 'on-or-after' THEN 'on or after ' ELSE '' END +
       CASE s.date_precision WHEN 'year' THEN toString(s.date.year)
         WHEN 'month' THEN substring(toString(s.date), 0, 7) ELSE toString(s.date) END AS date,
       CASE WHEN size(vias) > 0 THEN reduce(acc = '', v IN vias |
         acc + CASE acc WHEN '' THEN '' ELSE ', ' END + v) END AS via, s.verbatim AS verbatim, s.text AS text, about,
       sp.id AS speaker
ORDER BY s.date, statement
