"""The formats kg writes, declared once (cheap to import: the CLI builds its options from
them before any command runs)."""

from __future__ import annotations

# kg export FORMAT and kg query run --export FORMAT: one list, one path (kg.export.export).
EXPORT_FORMATS = ("html", "graphml", "gexf", "json", "csv", "cypher", "ftm")
# Tables of rows (kg cypher, kg query run, kg find, ...): kg.render.
OUTPUT_FORMATS = ("table", "json", "jsonl", "csv")
