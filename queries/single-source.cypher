// name: single-source
// title: "Single-source claims: what rests on one independent origin only"
// category: evidence
// description: >
//   Events and statements whose sources all come from one independent origin: copies of one
//   original, or outlets whose publishers share a root owner through parent chains (as
//   `corroboration` counts them; known_through does not join). `counted` says which sources
//   were joined and why. These are the weak spots to corroborate. With as_of, only sources
//   known by that day count.
// returns: rows
// params:
//   - {name: as_of, type: date, span: end, default: null, description: "Only sources certainly published by this day (2018, 2018-10 or 2018-10-21)"}
MATCH (c:Event|Statement)
// Sorted before the work (a small sort of ids), so that the rows stream out in order.
WITH c, CASE WHEN c:Event THEN 'event' ELSE 'statement' END AS kind ORDER BY kind, c.id
// One claim's sources at a time, so that memory stays small on a large case.
CALL (c) {
  MATCH (c)-[:REPORTED_BY]->(src:Source)
    WHERE $as_of IS NULL OR src.known_by <= $as_of
  // Origin keys of a source: the original it copies, and the root owner of every publisher
  // in that copy family (PART_OF made by `parent` fields only: relation-made ones carry sources).
  CALL (src) {
    // Most sources are no copy and have no copy: their own publisher's root is all there is.
    WITH src WHERE src IS NOT NULL AND NOT EXISTS { (src)-[:COPY_OF]-(:Source) }
    OPTIONAL MATCH (src)-[:PUBLISHED_BY]->(:Organization)
                   (()-[p:PART_OF WHERE p.sources IS NULL]->(:Organization))*(root:Organization)
      WHERE NOT EXISTS { (root)-[q:PART_OF]->(:Organization) WHERE q.sources IS NULL }
    WITH src, head(collect(root.id)) AS own
    WITH src, own, ['copy:' + src.id] + CASE WHEN own IS NULL THEN [] ELSE ['owner:' + own] END AS keys
    RETURN {id: src.id, orig: src.id, root: own, keys: keys, own: keys} AS item
    UNION
    // A copy, or copied: the original (copy_of followed to its end; in a cycle, the least id),
    // and the root owner of the publisher of every copy of it.
    WITH src WHERE EXISTS { (src)-[:COPY_OF]-(:Source) }
    MATCH (src)-[:COPY_OF*0..]->(o:Source)
    WITH src, o ORDER BY EXISTS { (o)-[:COPY_OF]->(:Source) }, o.id
    WITH src, collect(o)[0] AS orig
    MATCH (orig)<-[:COPY_OF*0..]-(m:Source)
    OPTIONAL MATCH (m)-[:PUBLISHED_BY]->(:Organization)
                   (()-[p:PART_OF WHERE p.sources IS NULL]->(:Organization))*(root:Organization)
      WHERE NOT EXISTS { (root)-[q:PART_OF]->(:Organization) WHERE q.sources IS NULL }
    WITH src, orig, collect(DISTINCT 'owner:' + root.id) AS owners,
         head(collect(CASE WHEN m = src THEN root.id END)) AS own
    RETURN {id: src.id, orig: orig.id, root: own, keys: ['copy:' + orig.id] + owners,
            own: ['copy:' + orig.id] + CASE WHEN own IS NULL THEN [] ELSE ['owner:' + own] END} AS item
  }
  WITH src, item ORDER BY src.id
  WITH collect(item) AS items
  // Sources whose keys meet are one origin (joined transitively).
  WITH size(items) AS sources, reduce(gs = [], s IN items |
         [g IN gs WHERE none(k IN g.keys WHERE k IN s.keys)] +
         [reduce(m = {keys: s.keys, members: [s]},
                 g IN [g IN gs WHERE any(k IN g.keys WHERE k IN s.keys)] |
                 {keys: g.keys + m.keys, members: g.members + m.members})]) AS groups
  WITH sources, [g IN groups | {
         origin: head([m IN g.members WHERE m.id = m.orig | coalesce(m.root, m.id)]
                      + [m IN g.members | coalesce(m.root, m.orig)]),
         members: [m IN g.members | m.id],
         why: [k IN reduce(a = [], m IN g.members | a + [k IN m.own WHERE NOT k IN a])
               WHERE size([m IN g.members WHERE k IN m.own]) > 1 |
               CASE WHEN k STARTS WITH 'owner:' THEN 'common owner ' + substring(k, 6)
                    ELSE 'copies of ' + substring(k, 5) END]}] AS groups
  WITH sources, [g IN groups | g {.*, why: CASE WHEN size(g.members) > 1 AND size(g.why) = 0
                                       THEN ['through the copies and owners of other sources']
                                       ELSE g.why END}] AS groups
  RETURN sources, groups
}
WITH c, kind, groups WHERE size(groups) = 1
RETURN kind, c.id AS id,
       coalesce(c.title, c.text) AS claim, groups[0].origin AS origin,
       groups[0].members AS sources,
       COLLECT { UNWIND groups AS g
                 WITH g ORDER BY g.origin
                 RETURN g.origin + ': ' + reduce(acc = '', m IN g.members |
                          acc + CASE acc WHEN '' THEN '' ELSE ', ' END + m)
                        + CASE WHEN size(g.why) > 0
                               THEN ' (' + reduce(acc = '', w IN g.why |
                                      acc + CASE acc WHEN '' THEN '' ELSE '; ' END + w) + ')'
                               ELSE '' END } AS counted
ORDER BY kind, id
