// name: responses
// title: "Responses: what answered what"
// category: claims and denials
// description: >
//   Statements and events that respond to other statements or events (RESPONDED_TO), with
//   the sources of each response.
// returns: rows
MATCH (a:Entity)-[r:RESPONDED_TO]->(b:Entity)
RETURN a.id AS response_id, coalesce(a.title, a.text) AS response,
       b.id AS answered_id, coalesce(b.title, b.text) AS answered, r.sources AS sources
ORDER BY response_id, answered_id
