// name: shortest-paths
// title: The shortest paths between two entities
// category: connections
// description: >
//   Every shortest path (up to 10 steps, in either direction) between two entities: how
//   two actors connect. By default paths do not pass through sources (two actors cited by
//   one article are not thereby connected); give via_sources=true to allow that.
// returns: graph
// params:
//   - {name: from, type: string, required: true, description: One entity's id}
//   - {name: to, type: string, required: true, description: The other entity's id}
//   - {name: via_sources, type: bool, default: false, description: Allow paths through sources}
MATCH p = ALL SHORTEST (a:Entity {id: $from})
  -[r WHERE $via_sources OR NOT type(r) IN ['REPORTED_BY', 'PUBLISHED_BY', 'AUTHORED_BY']]-{1,10}
  (b:Entity {id: $to})
RETURN p, length(p) AS hops, [n IN nodes(p) | n.id] AS ids
ORDER BY ids
