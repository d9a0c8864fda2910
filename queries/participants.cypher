// name: participants
// title: Who took part in an event, and in what role
// category: actors
// description: >
//   The actors of an event with their roles (perpetrator, victim, organizer, target,
//   witness, responder, participant).
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: The event's id}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (e:Entity:Event {id: $id})
MATCH (a:Entity)-[r:INVOLVED_IN]->(e) WHERE $case IS NULL OR $case IN r.cases
RETURN r.role AS role, a.id AS id, coalesce(a.name, a.title) AS actor,
       [l IN labels(a) WHERE l <> 'Entity'][0] AS kind
ORDER BY role, id
