// name: contested
// title: "Contested entities: asserted by some, denied or disputed by others"
// category: claims and denials
// description: >
//   Entities that at least one speaker asserts or corroborates and at least one other denies
//   or disputes, with both camps.
// returns: rows
MATCH (t:Entity)<-[a:ABOUT]-(:Statement)<-[:SAID]-(sp:Entity)
WITH t, a.stance AS stance, sp ORDER BY sp.id
WITH t,
     collect(DISTINCT CASE WHEN stance IN ['asserts', 'corroborates'] THEN coalesce(sp.name, sp.title) END) AS supporters,
     collect(DISTINCT CASE WHEN stance IN ['denies', 'disputes'] THEN coalesce(sp.name, sp.title) END) AS opponents
WHERE size(supporters) > 0 AND size(opponents) > 0
RETURN t.id AS id, coalesce(t.title, t.name, t.text) AS entity, supporters, opponents
ORDER BY id
