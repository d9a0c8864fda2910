"""Files that ship with kg: the schema, the bundled queries, the loaders.

In a source checkout they are the top-level ``schema/``, ``queries/`` and ``loaders/``
folders; in an installed package the same files live inside ``kg/_schema`` etc.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    packaged = _HERE / f"_{name}"
    if packaged.is_dir():
        return packaged
    return _HERE.parent / name


def strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))


def schema_statements() -> list[str]:
    text = strip_comments(
        (resource_dir("schema") / "constraints.cypher").read_text(encoding="utf-8")
    )
    return [s.strip() for s in text.split(";") if s.strip()]
