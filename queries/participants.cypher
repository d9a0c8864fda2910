// name: participants
// title: Who took part in an event, and in what role
// category: actors
// description: >
//   The actors of an event with their roles (perpetrator, victim, organizer, target,
//   witness, responder, participant).
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The event's id}
MATCH (e:Entity:Event {id: $id})
MATCH (a:Entity)-[r:INVOLVED_IN]->(e)
RETURN r.role AS role, a.id AS id, coalesce(a.name, a.title) AS actor,
       [l IN labels(a) WHERE l <> 'Entity'][0] AS kind
ORDER BY role, id
