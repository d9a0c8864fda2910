"""The code's layout rules (docs/architecture.md), checked on the source: no test here needs
Neo4j."""

import ast
import re

from conftest import ROOT

KG = ROOT / "kg"

# Cypher lives in the store layer: kg/store.py (connection, errors, the load's repository)
# with kg/store_write.py (its writes), kg/resolve_store.py (resolution's repository) and kg/cypher.py (every other statement).
# The exporters write Cypher as their *output* (kg/export/cypher.py; kg/export/csv.py's
# post-import statements). Saved queries are files (queries/), the schema too (schema/).
CYPHER_HOMES = {
    "store.py",
    "store_write.py",
    "resolve_store.py",
    "cypher.py",
    "export/cypher.py",
    "export/csv.py",
}
CYPHER = re.compile(
    r"\b(?:OPTIONAL\s+)?MATCH\s*\(|\bMERGE\s*\(|\bCREATE\s*\(|\bUNWIND\s+\$"
    r"|\bCALL\s+(?:db\.|dbms\.|apoc\.|\{)|\bDETACH\s+DELETE\b"
    r"|^\s*RETURN\s|\bSET\s+\w+\.\w+\s*=|\bSHOW\s+(?:INDEXES|CONSTRAINTS)\b"
)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _strings(path):
    """Every string literal of a module but its docstrings (f-strings: their text parts)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def test_no_cypher_outside_the_store_layer():
    found = []
    for path in sorted(KG.rglob("*.py")):
        rel = path.relative_to(KG).as_posix()
        if rel in CYPHER_HOMES:
            continue
        for line, text in _strings(path):
            if CYPHER.search(text):
                found.append(f"kg/{rel}:{line}: {text[:70]!r}")
    assert not found, "Cypher outside the store layer (move it to kg/cypher.py):\n" + "\n".join(
        found
    )


def test_the_cypher_check_sees_cypher():
    assert CYPHER.search("MATCH (n:Entity {id: $id}) RETURN n.id")
    assert CYPHER.search("UNWIND $rows AS row")
    assert CYPHER.search("RETURN 1")
    assert not CYPHER.search("Run one Cypher QUERY, read-only unless --write is given")
    assert not CYPHER.search("return the matching rows")


def test_modules_stay_small_and_the_cli_thin():
    """One home per concern: no module over 500 lines, kg/cli.py (the group, shared options,
    errors to messages) under 450; the commands live in kg/commands/."""
    sizes = {
        p.relative_to(KG).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
        for p in KG.rglob("*.py")
    }
    assert sizes["cli.py"] < 450
    assert {name: n for name, n in sizes.items() if n > 500} == {}


def test_batched_statements_unwind_one_map_parameter():
    """Neo4j plans a statement again for each order of magnitude of a list parameter's
    length: kg's batched statements take their rows or ids inside one map, `$batch`
    (kg/store_write.py). tests/test_write_paths.py checks what a load sends."""
    unwound = re.compile(r"\bUNWIND\s+\$(?!batch\.)")
    found = [
        f"kg/{path.relative_to(KG).as_posix()}:{line}: {text[:70]!r}"
        for path in sorted(KG.rglob("*.py"))
        for line, text in _strings(path)
        if unwound.search(text)
    ]
    assert not found, "UNWIND of a list parameter (use $batch.rows):\n" + "\n".join(found)
