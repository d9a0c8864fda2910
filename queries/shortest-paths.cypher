// name: shortest-paths
// title: The shortest paths between two entities
// category: connections
// description: >
//   Every shortest path (up to 10 steps, in either direction) between two entities: how two
//   actors connect, found by a bidirectional breadth-first search that applies the filters
//   below while it searches, so a search across a large case stays fast. At most 1,000
//   paths (when more tie, which ones is the server's choice). By default paths do
//   not pass through sources (two actors cited by one article are not thereby connected)
//   nor through a statement that merely mentions an entity (stance `mentions`); give
//   via_sources=true or via_mentions=true to allow those.
// returns: graph
// params:
//   - {name: from, type: string, required: true, description: One entity's id}
//   - {name: to, type: string, required: true, description: The other entity's id}
//   - {name: via_sources, type: bool, default: false, description: Allow paths through sources}
//   - {name: via_mentions, type: bool, default: false, description: Allow paths through statements that only mention an entity}
MATCH (a:Entity {id: $from}), (b:Entity {id: $to})
MATCH p = allShortestPaths((a)-[*..10]-(b))
WHERE all(r IN relationships(p)
          WHERE ($via_sources OR NOT type(r) IN ['REPORTED_BY', 'PUBLISHED_BY', 'AUTHORED_BY'])
            AND ($via_mentions OR r.stance IS NULL OR r.stance <> 'mentions'))
WITH p LIMIT 1000
RETURN p, length(p) AS hops, [n IN nodes(p) | n.id] AS ids
ORDER BY ids
