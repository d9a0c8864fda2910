// name: network
// title: The network around an entity, up to N hops
// category: connections
// description: >
//   Paths from an entity out to `hops` steps (1 to 3) along any relationship, as a graph
//   for export. At most `limit` paths. A merged entity (`kg resolve apply`) is the centre
//   with all its ids: paths start from each, and its SAME_AS links are among them.
// returns: graph
// params:
//   - {name: id, type: string, required: true, description: The entity at the centre}
//   - {name: hops, type: int, default: 2, min: 1, max: 3, description: How many steps out}
//   - {name: limit, type: int, default: 1000, min: 1, description: At most this many paths}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(s:Entity)
WITH DISTINCT s
CALL (s) {
  MATCH p = (s)-[]-(:Entity)
  RETURN p
  UNION
  MATCH p = (s)-[]-(:Entity)-[]-(:Entity)
  WHERE $hops >= 2
  RETURN p
  UNION
  MATCH p = (s)-[]-(:Entity)-[]-(:Entity)-[]-(:Entity)
  WHERE $hops >= 3
  RETURN p
}
WITH p WHERE $case IS NULL OR all(r IN relationships(p) WHERE $case IN r.cases)
RETURN p
LIMIT $limit
