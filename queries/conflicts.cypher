// name: conflicts
// title: Values that cases give differently
// category: cases
// description: >
//   Single values (name, description, dates, kind, speaker, ...) that two or more cases give
//   differently for one entity: one row per entity and field, with each case and its value in
//   case order. The graph shows the value of the first case (by id) that gives one; every
//   case's value is kept. Optionally only one entity, or only entities of one case.
// returns: rows
// params:
//   - {name: id, type: string, default: null, description: Only this entity}
//   - {name: case, type: string, default: null, description: Only entities this case defines}
CALL () {
  WITH $id AS id WHERE id IS NOT NULL
  MATCH (n:Entity {id: id}) WHERE n.kg_conflict_field IS NOT NULL
  RETURN n
  UNION
  WITH $id AS id WHERE id IS NULL
  MATCH (n:Entity) WHERE n.kg_conflict_field IS NOT NULL
  RETURN n
}
WITH n WHERE $case IS NULL OR $case IN n.cases
UNWIND range(0, size(n.kg_conflict_field) - 1) AS i
WITH n, i, n.kg_conflict_field[i] AS field ORDER BY n.id, i
WITH n, field, collect(n.kg_conflict_case[i]) AS cases, collect(n.kg_conflict_value[i]) AS values
RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS kind, field, cases, values,
       cases[0] AS shown_from
ORDER BY id, field
