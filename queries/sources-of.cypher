// name: sources-of
// title: The sources behind an entity, with quotes and reliability
// category: evidence
// description: >
//   Every source cited for an entity: title, kind, publisher, publication date, the
//   source's reliability (A-F), the item's credibility (1-6), and the supporting quote. With as_of, only sources certainly published by that day.
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The entity's id}
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry (2018, 2018-10 or 2018-10-21)"}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(e:Entity)
WITH DISTINCT e
MATCH (e)-[r:REPORTED_BY]->(src:Source)
  WHERE ($as_of IS NULL OR src.known_by <= $as_of) AND ($case IS NULL OR $case IN r.cases)
OPTIONAL MATCH (src)-[:PUBLISHED_BY]->(pub:Organization)
RETURN src.id AS source, src.title AS title, src.kind AS kind, pub.name AS publisher,
       CASE src.published_precision WHEN 'year' THEN toString(src.published.year)
         WHEN 'month' THEN substring(toString(src.published), 0, 7)
         ELSE toString(src.published) END AS published,
       src.reliability AS reliability, r.credibility AS credibility, r.quote AS quote,
       r.page AS page, src.url AS url
ORDER BY source, quote
