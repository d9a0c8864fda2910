// name: affiliations
// title: Affiliations of a person, or members of an organization and its sub-organizations
// category: actors
// description: >
//   Given a person: the organizations they belong to, and the organizations those are part
//   of. Given an organization: its members, and the members of its sub-organizations (a
//   government's ministers through its ministries). With role and period; `through` is the
//   organization the person is affiliated with directly, `depth` the steps of PART_OF
//   between it and the organization shown (0: directly; at most 10).
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: A person's or an organization's id}
//   - {name: case, type: string, default: null, description: "Only what this case states (its records' relationships); see `kg query run cases`"}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(x:Entity)
WITH DISTINCT x
CALL (x) {
  MATCH (x:Person)-[r:AFFILIATED_WITH]->(d:Organization)
  MATCH path = (d)-[:PART_OF*0..10]->(o:Organization)
  RETURN x AS p, r, d, o, length(path) AS depth
  UNION
  MATCH path = (d:Organization)-[:PART_OF*0..10]->(x:Organization)
  MATCH (p:Person)-[r:AFFILIATED_WITH]->(d)
  RETURN p, r, d, x AS o, length(path) AS depth
}
WITH p, r, d, o, depth WHERE $case IS NULL OR $case IN r.cases
WITH p, r, d, o, min(depth) AS depth
RETURN p.id AS person_id, p.name AS person, o.id AS organization_id, o.name AS organization,
       r.role AS role, toString(r.start) AS start, toString(r.end) AS end, depth,
       d.id AS through
ORDER BY depth, organization_id, person_id, through
