// name: denials
// title: Every denial, with who denied what, when, and the evidence
// category: claims and denials
// description: >
//   Each denial (a statement with stance `denies`) with the denier, what was denied, the
//   statement's date (at its precision), its text, whether it is a verbatim quote, and the
//   sources that carry it. Give `about` to see only the denials of one entity. With as_of, only what sources certainly published by that day carry.
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: about, type: string, default: null, description: Only denials of this entity id}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry (2018, 2018-10 or 2018-10-21)"}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
CALL () {
  // One branch runs: anchored on the entity when $about is given, else over every denial.
  WITH $about AS about WHERE about IS NOT NULL
  MATCH (:Entity {id: about})-[:SAME_AS*0..2]-(what:Entity)
  WITH DISTINCT what
  MATCH (who:Entity)-[d:DENIED]->(what)
  RETURN who, d, what
  UNION
  WITH $about AS about WHERE about IS NULL
  MATCH (who:Entity)-[d:DENIED]->(what:Entity)
  RETURN who, d, what
}
MATCH (s:Entity:Statement {id: d.statement})
  WHERE ($case IS NULL OR $case IN d.cases)
  AND ($as_of IS NULL OR NOT EXISTS { (s)-[:REPORTED_BY]->() }
       OR EXISTS { (s)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
OPTIONAL MATCH (s)-[:REPORTED_BY]->(src:Source)
  WHERE $as_of IS NULL OR src.known_by <= $as_of
WITH who, what, s, src ORDER BY src.id
WITH who, what, s, collect(src.id) AS sources
RETURN who.id AS denier_id, coalesce(who.name, who.title) AS denier,
       what.id AS denied_id, coalesce(what.title, what.name, what.text) AS denied,
       s.id AS statement,
       CASE s.date_bound WHEN 'on-or-before' THEN 'on or before ' WHEN 'on-or-after' THEN 'on or after ' ELSE '' END +
       CASE s.date_precision WHEN 'year' THEN toString(s.date.year)
         WHEN 'month' THEN substring(toString(s.date), 0, 7) ELSE toString(s.date) END AS date,
       s.text AS text, s.verbatim AS verbatim, sources
ORDER BY s.date, denier_id, denied_id
