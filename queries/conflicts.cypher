// name: conflicts
// title: Values that cases give differently
// category: cases
// description: >
//   Single values (name, description, dates, kind, speaker, ...) that two or more cases give
//   differently for one entity: one row per entity, field and case, with that case's value
//   (so a value with commas in it stays one cell), in case order; `shown` is true for the
//   value the graph shows (that of the first case, by id, that gives one). Every case's
//   value is kept. A confidential entity is listed under its placeholder id with its values
//   sealed (real ones with the key and --include-confidential). Optionally only one entity,
//   or only entities of one case.
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
WITH n, i, n.kg_conflict_field[i] AS field
// The shown value is the first case's of each field (the lists are in case order).
WITH n, i, field, [j IN range(0, i) WHERE n.kg_conflict_field[j] = field][0] = i AS shown
RETURN n.id AS id, [l IN labels(n) WHERE l <> 'Entity'][0] AS kind, field,
       n.kg_conflict_case[i] AS case, n.kg_conflict_value[i] AS value, shown
ORDER BY id, field, i
