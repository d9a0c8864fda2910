"""What a read-only query may do, judged from its EXPLAIN plan before it runs (the store
layer's guard; kg.store.Store.check_plan applies it)."""

from __future__ import annotations

# Procedures a read-mode query may call: they read the graph or its schema, nothing else.
ALLOWED_PROCEDURES = frozenset(
    {
        "db.index.fulltext.queryNodes",
        "db.index.fulltext.queryRelationships",
        "db.labels",
        "db.relationshipTypes",
        "db.propertyKeys",
        "db.schema.visualization",
        "db.schema.nodeTypeProperties",
        "db.schema.relTypeProperties",
        "dbms.components",
    }
)
# SHOW commands that describe the schema and the code available, not other clients or settings.
ALLOWED_SHOW = frozenset({"ShowIndexes", "ShowConstraints", "ShowFunctions", "ShowProcedures"})


def refused_operators(
    plan: dict | None, *, write: bool = False, allow_outbound: bool = False
) -> list[tuple[str, str, str]]:
    """(operator, why, what to do) for every operator of an EXPLAIN plan that the mode
    forbids. Read mode: LOAD CSV, procedures outside ALLOWED_PROCEDURES, administration and
    SHOW/TERMINATE commands other than ALLOWED_SHOW. Write mode (--write): LOAD CSV only,
    unless outbound URLs are allowed explicitly. No plan at all is refused in read mode."""
    if not plan:
        return (
            []
            if write
            else [
                (
                    "no plan",
                    "kg could not check what the query does",
                    "Re-run with --write if you trust the query.",
                )
            ]
        )
    out: list[tuple[str, str, str]] = []
    stack = [plan]
    while stack:
        node = stack.pop()
        stack.extend(node.get("children") or [])
        full = str(node.get("operatorType") or "")
        op, _, where = full.partition("@")
        details = str((node.get("args") or {}).get("Details") or "")
        if op == "LoadCSV":
            if not allow_outbound:
                out.append(
                    (
                        "LoadCSV",
                        "LOAD CSV makes the server fetch a URL, which can send "
                        "data out of the machine",
                        "kg never needs LOAD CSV. If you must, pass both --write and "
                        "--allow-outbound-urls (see docs/reliability.md first).",
                    )
                )
            continue
        if write:
            continue
        if op == "ProcedureCall":
            name = details.split("(", 1)[0].strip()
            if name not in ALLOWED_PROCEDURES:
                out.append(
                    (
                        f"ProcedureCall {name}",
                        "procedures outside kg's read allow-list are refused in read mode",
                        "Re-run with --write if the call is intended.",
                    )
                )
        elif op == "AdministrationCommand" or where == "system":
            out.append(
                (
                    op,
                    "administration commands are refused in read mode",
                    "Re-run with --write if the command is intended.",
                )
            )
        elif op.startswith(("Show", "Terminate")) and op not in ALLOWED_SHOW:
            out.append(
                (
                    op,
                    "commands that read or act on other clients, sessions or "
                    "settings are refused in read mode",
                    "Re-run with --write if the command is intended.",
                )
            )
    return out
