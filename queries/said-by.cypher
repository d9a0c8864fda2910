// name: said-by
// title: Everything an actor said
// category: actors
// description: >
//   Every statement of a person or organization, in date order, with where it was said, its
//   text, whether it is verbatim, and what it is about with which stance. A merged entity
//   (`kg resolve apply`) answers for all its ids: `speaker` says which id said it.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The speaker's id}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(sp:Entity)-[:SAID]->(s:Statement)
WITH DISTINCT sp, s
OPTIONAL MATCH (s)-[:VIA]->(via:Organization)
OPTIONAL MATCH (s)-[a:ABOUT]->(t:Entity)
WITH sp, s, via, t, a ORDER BY t.id
WITH sp, s, via, collect(t.id + ' (' + a.stance + ')') AS about
RETURN s.id AS statement,
       CASE s.date_precision WHEN 'year' THEN toString(s.date.year)
         WHEN 'month' THEN substring(toString(s.date), 0, 7) ELSE toString(s.date) END AS date,
       via.name AS via, s.verbatim AS verbatim, s.text AS text, about, sp.id AS speaker
ORDER BY s.date, statement
