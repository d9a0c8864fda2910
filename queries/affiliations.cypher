// name: affiliations
// title: Affiliations of a person, or members of an organization
// category: actors
// description: >
//   Given a person: the organizations they belong to. Given an organization: its members.
//   With role and period.
//   An entity merged by `kg resolve apply` answers for all its ids.
// returns: rows
// params:
//   - {name: id, type: string, required: true, description: A person's or an organization's id}
MATCH (:Entity {id: $id})-[:SAME_AS*0..2]-(x:Entity)
WITH DISTINCT x
CALL (x) {
  MATCH (x:Person)-[r:AFFILIATED_WITH]->(o:Organization)
  RETURN x AS p, r, o
  UNION
  MATCH (p:Person)-[r:AFFILIATED_WITH]->(x:Organization)
  RETURN p, r, x AS o
}
RETURN p.id AS person_id, p.name AS person, o.id AS organization_id, o.name AS organization,
       r.role AS role, toString(r.start) AS start, toString(r.end) AS end
ORDER BY organization_id, person_id
