// name: statements-about
// title: Statements about an entity
// category: claims and denials
// description: >
//   One row per statement about the entity: speaker, stance, date, text. Give `stance` to
//   keep one stance only (asserts, denies, corroborates, disputes, calls-for, mentions).
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The entity's id}
//   - {name: stance, type: string, default: null, description: Only this stance}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(t:Entity)
WITH DISTINCT t
MATCH (t)<-[a:ABOUT]-(s:Statement)<-[:SAID]-(sp:Entity)
WHERE $stance IS NULL OR a.stance = $stance
RETURN coalesce(sp.name, sp.title) AS speaker, a.stance AS stance, s.id AS statement,
       CASE s.date_precision WHEN 'year' THEN toString(s.date.year)
         WHEN 'month' THEN substring(toString(s.date), 0, 7) ELSE toString(s.date) END AS date,
       s.text AS text
ORDER BY s.date, speaker, statement
