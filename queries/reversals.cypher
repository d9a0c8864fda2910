// name: reversals
// title: "Reversals: who changed their story, in order, with sources"
// category: claims and denials
// description: >
//   Speakers whose story changed: one of their statements revises, retracts or contradicts
//   (or repeats) an earlier one of theirs, or they took opposite stances on one entity (denied
//   or disputed it, then asserted or corroborated it, or the reverse). One row per statement
//   of that story in date order, with what it changes (`change`: the links it makes, with the
//   sources that show them), its stances and its sources. With as_of, only what sources
//   certainly published by that day carry.
// returns: rows
// params:
//   - {name: id, type: string, default: null, description: Only this speaker}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry"}
CALL () {
  // Opposite stances of one speaker on one entity (one pass over the stances, grouped).
  MATCH (sp:Entity)-[:SAID]->(s:Statement)-[a:ABOUT]->(:Entity)
  WHERE ($id IS NULL OR sp.id = $id)
    AND a.stance IN ['asserts', 'corroborates', 'denies', 'disputes']
    AND ($as_of IS NULL OR NOT EXISTS { (s)-[:REPORTED_BY]->() }
         OR EXISTS { (s)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
  WITH sp, endNode(a) AS t, collect(s) AS said,
       collect(DISTINCT a.stance IN ['asserts', 'corroborates']) AS sides
  WHERE size(sides) = 2
  UNWIND said AS s
  RETURN sp, s
  UNION
  // Links between two statements of one speaker.
  MATCH (sp:Entity)-[:SAID]->(s:Statement)-[:REVISES|RETRACTS|CONTRADICTS|REPEATS]-(o:Statement)
        <-[:SAID]-(sp)
  WHERE ($id IS NULL OR sp.id = $id)
    AND ($as_of IS NULL OR NOT EXISTS { (s)-[:REPORTED_BY]->() }
         OR EXISTS { (s)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
    AND ($as_of IS NULL OR NOT EXISTS { (o)-[:REPORTED_BY]->() }
         OR EXISTS { (o)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
  RETURN sp, s
}
WITH DISTINCT sp, s
ORDER BY sp.id, s.start, s.end, s.id
WITH sp, collect(s) AS story
UNWIND range(0, size(story) - 1) AS i
WITH sp, story[i] AS s, i + 1 AS step
RETURN coalesce(sp.name, sp.title) AS speaker, step,
       CASE s.date_bound WHEN 'on-or-before' THEN 'on or before ' WHEN 'on-or-after' THEN 'on or after '
         ELSE '' END +
       CASE s.date_precision WHEN 'year' THEN toString(s.start.year)
         WHEN 'month' THEN substring(toString(s.start), 0, 7) ELSE toString(s.start) END AS date,
       s.id AS statement, s.text AS text,
       COLLECT { MATCH (s)-[r:REVISES|RETRACTS|CONTRADICTS|REPEATS|CONFIRMS]->(o:Statement)
                 WITH r, o ORDER BY type(r), o.id
                 RETURN toLower(type(r)) + ' ' + o.id
                        + CASE WHEN size(r.sources) > 0
                               THEN ' [' + reduce(acc = '', x IN r.sources |
                                      acc + CASE acc WHEN '' THEN '' ELSE ', ' END + x) + ']'
                               ELSE '' END } AS change,
       COLLECT { MATCH (s)-[a:ABOUT]->(t:Entity) WHERE a.stance <> 'mentions'
                 WITH a, t ORDER BY t.id RETURN a.stance + ' ' + t.id } AS stances,
       COLLECT { MATCH (s)-[:REPORTED_BY]->(src:Source)
                   WHERE $as_of IS NULL OR src.known_by <= $as_of
                 WITH DISTINCT src ORDER BY src.id RETURN src.id } AS sources
ORDER BY speaker, step
