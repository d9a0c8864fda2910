// name: known-when
// title: "Known when: what was asserted, disputed and denied about an entity, source by source"
// category: evidence
// description: >
//   The sequence of what became known about an entity: one row per source that reports it or
//   carries a statement about it, in the order of the day each source was certainly out
//   (`known_by`: the last day of its published span, kg.dates' rule; undated sources last,
//   known_by empty). For each: whether it reports the entity itself, and the statements it
//   carries that assert or corroborate, dispute, deny or call for something about it, as
//   "speaker: statement". With as_of, only sources known by that day.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The entity's id}
//   - {name: as_of, type: date, span: end, default: null, description: "Only sources certainly published by this day (2018, 2018-10 or 2018-10-21)"}
MATCH (t:Entity {id: $id})
CALL (t) {
  MATCH (t)-[:REPORTED_BY]->(src:Source)
  RETURN src, 'reports' AS stance, null AS said
  UNION
  MATCH (t)<-[a:ABOUT]-(s:Statement)-[:REPORTED_BY]->(src:Source)
  WHERE a.stance <> 'mentions'
  MATCH (sp:Entity)-[:SAID]->(s)
  RETURN src, a.stance AS stance, coalesce(sp.name, sp.title) + ': ' + s.id AS said
}
WITH src, stance, said WHERE $as_of IS NULL OR src.known_by <= $as_of
WITH src, stance, said ORDER BY said
WITH src, collect(DISTINCT stance) AS stances,
     collect(DISTINCT CASE WHEN stance IN ['asserts', 'corroborates'] THEN said END) AS asserted,
     collect(DISTINCT CASE WHEN stance = 'disputes' THEN said END) AS disputed,
     collect(DISTINCT CASE WHEN stance = 'denies' THEN said END) AS denied,
     collect(DISTINCT CASE WHEN stance = 'calls-for' THEN said END) AS called_for
OPTIONAL MATCH (src)-[:PUBLISHED_BY]->(pub:Organization)
RETURN toString(src.known_by) AS known_by,
       CASE src.published_bound WHEN 'on-or-before' THEN 'on or before '
         WHEN 'on-or-after' THEN 'on or after ' ELSE '' END +
       CASE src.published_precision WHEN 'year' THEN toString(src.published.year)
         WHEN 'month' THEN substring(toString(src.published), 0, 7)
         ELSE toString(src.published) END AS published,
       src.id AS source, pub.name AS publisher, 'reports' IN stances AS reports,
       asserted, disputed, denied, called_for
ORDER BY src.known_by IS NULL, src.known_by, src.published, source
