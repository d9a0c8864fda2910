// name: statements-about
// title: Statements about an entity
// category: claims and denials
// description: >
//   One row per statement about the entity: speaker, stance, date, text. Give `stance` to
//   keep one stance only (asserts, denies, corroborates, disputes, calls-for, mentions). With as_of, only what sources certainly published by that day carry.
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The entity's id}
//   - {name: stance, type: string, default: null, values: stance, description: Only this stance}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry (2018, 2018-10 or 2018-10-21)"}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(t:Entity)
WITH DISTINCT t
MATCH (t)<-[a:ABOUT]-(s:Statement)<-[:SAID]-(sp:Entity)
WHERE ($stance IS NULL OR a.stance = $stance) AND ($case IS NULL OR $case IN a.cases)
  AND ($as_of IS NULL OR NOT EXISTS { (s)-[:REPORTED_BY]->() }
       OR EXISTS { (s)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
RETURN coalesce(sp.name, sp.title) AS speaker, a.stance AS stance, s.id AS statement,
       CASE s.date_bound WHEN 'on-or-before' THEN 'on or before ' WHEN 'on-or-after' THEN 'on or after ' ELSE '' END +
       CASE s.date_precision WHEN 'year' THEN toString(s.date.year)
         WHEN 'month' THEN substring(toString(s.date), 0, 7) ELSE toString(s.date) END AS date,
       s.text AS text
ORDER BY s.date, speaker, statement
