// name: cases
// title: The loaded cases, with their records and what they share
// category: cases
// description: >
//   Every case loaded into the graph: its id, title, how many records its files hold, how
//   many entities it defines, how many of those other cases define too, when it was last
//   loaded, and its description. `kg unload CASE` removes exactly what one case contributed.
// returns: rows
MATCH (c:Case)
OPTIONAL MATCH (n:Entity) WHERE c.id IN n.cases
WITH c, count(n) AS entities, sum(CASE WHEN size(n.cases) > 1 THEN 1 ELSE 0 END) AS shared
RETURN c.id AS case, c.title AS title, c.records AS records, entities,
       shared AS shared_with_other_cases, toString(c.loaded_at) AS loaded_at,
       c.description AS description
ORDER BY case
