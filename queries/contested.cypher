// name: contested
// title: "Contested entities: asserted by some, denied or disputed by others"
// category: claims and denials
// description: >
//   Entities that at least one speaker asserts or corroborates and at least one other denies
//   or disputes, with both camps and the independent origins of the sources behind each
//   camp's statements (counted as `corroboration` counts them; `*_counted` says how). With
//   as_of, only statements and sources known by that day count.
// returns: rows
// params:
//   - {name: as_of, type: date, span: end, default: null, description: "Only what sources certainly published by this day carry (2018, 2018-10 or 2018-10-21)"}
MATCH (t:Entity)<-[d:ABOUT]-(:Statement) WHERE d.stance IN ['denies', 'disputes']
WITH DISTINCT t
  WHERE EXISTS { (t)<-[s:ABOUT]-(:Statement) WHERE s.stance IN ['asserts', 'corroborates'] }
// Entities with a denial or dispute and an assertion or corroboration, one at a time (so
// that memory stays small on a large case); as_of is applied inside.
CALL (t) {
  MATCH (t)<-[a:ABOUT]-(st:Statement)<-[:SAID]-(sp:Entity)
    WHERE a.stance IN ['asserts', 'corroborates', 'denies', 'disputes']
      AND ($as_of IS NULL OR NOT EXISTS { (st)-[:REPORTED_BY]->() }
           OR EXISTS { (st)-[:REPORTED_BY]->(k:Source) WHERE k.known_by <= $as_of })
  WITH t, st, sp, CASE WHEN a.stance IN ['asserts', 'corroborates'] THEN 'support' ELSE 'oppose' END AS camp
  ORDER BY sp.id
  WITH t, camp, collect(DISTINCT coalesce(sp.name, sp.title)) AS speakers, collect(DISTINCT st) AS sts
  UNWIND sts AS st
  OPTIONAL MATCH (st)-[:REPORTED_BY]->(src:Source)
    WHERE $as_of IS NULL OR src.known_by <= $as_of
  WITH DISTINCT t, camp, speakers, src
  // Origin keys of a source: the original it copies, and the root owner of every publisher
  // in that copy family (PART_OF made by `parent` fields only: relation-made ones carry sources).
  OPTIONAL CALL (src) {
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
  WITH t, camp, speakers, src, item ORDER BY src.id
  WITH t, camp, speakers, collect(item) AS items
  // Sources whose keys meet are one origin (joined transitively).
  WITH t, camp, speakers, size(items) AS sources, reduce(gs = [], s IN items |
         [g IN gs WHERE none(k IN g.keys WHERE k IN s.keys)] +
         [reduce(m = {keys: s.keys, members: [s]},
                 g IN [g IN gs WHERE any(k IN g.keys WHERE k IN s.keys)] |
                 {keys: g.keys + m.keys, members: g.members + m.members})]) AS groups
  WITH t, camp, speakers, sources, [g IN groups | {
         origin: head([m IN g.members WHERE m.id = m.orig | coalesce(m.root, m.id)]
                      + [m IN g.members | coalesce(m.root, m.orig)]),
         members: [m IN g.members | m.id],
         why: [k IN reduce(a = [], m IN g.members | a + [k IN m.own WHERE NOT k IN a])
               WHERE size([m IN g.members WHERE k IN m.own]) > 1 |
               CASE WHEN k STARTS WITH 'owner:' THEN 'common owner ' + substring(k, 6)
                    ELSE 'copies of ' + substring(k, 5) END]}] AS groups
  WITH t, camp, speakers, sources, [g IN groups | g {.*, why: CASE WHEN size(g.members) > 1 AND size(g.why) = 0
                                       THEN ['through the copies and owners of other sources']
                                       ELSE g.why END}] AS groups
  RETURN collect({camp: camp, speakers: speakers, origins: size(groups),
                   counted: COLLECT { UNWIND groups AS g
                            WITH g ORDER BY g.origin
                            RETURN g.origin + ': ' + reduce(acc = '', m IN g.members |
                                     acc + CASE acc WHEN '' THEN '' ELSE ', ' END + m)
                                   + CASE WHEN size(g.why) > 0
                                          THEN ' (' + reduce(acc = '', w IN g.why |
                                                 acc + CASE acc WHEN '' THEN '' ELSE '; ' END + w) + ')'
                                          ELSE '' END }}) AS camps
}
WITH t, head([x IN camps WHERE x.camp = 'support']) AS pro,
     head([x IN camps WHERE x.camp = 'oppose']) AS con
WHERE pro IS NOT NULL AND con IS NOT NULL
RETURN t.id AS id, coalesce(t.title, t.name, t.text) AS entity, pro.speakers AS supporters,
       con.speakers AS opponents, pro.origins AS supporting_origins,
       con.origins AS opposing_origins, pro.counted AS supporting_counted,
       con.counted AS opposing_counted
ORDER BY id
