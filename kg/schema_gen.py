"""The JSON Schema of the record format, made from the record models (``make schema`` writes
it to schema/; ``python -m kg.schema_gen`` prints it)."""

import json
from typing import Any

from .records import KINDS, SLUG_PATTERN, STATEMENT_LINKS, Case, CaseFile


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a YAML record file, with the JSONL line forms under $defs."""
    schema = CaseFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kg.invalid/schema/records.schema.json"
    schema["title"] = "kg record file (record format version 1.1)"
    defs = schema.setdefault("$defs", {})
    citation = {
        "anyOf": [{"type": "string", "pattern": SLUG_PATTERN}, {"$ref": "#/$defs/SourceCitation"}]
    }
    for definition in defs.values():
        prop = definition.get("properties", {}).get("reported_by")
        if prop is not None:
            prop["items"] = citation
    link = {
        "anyOf": [{"type": "string", "pattern": SLUG_PATTERN}, {"$ref": "#/$defs/StatementLink"}]
    }
    stmt = defs["Statement"]["properties"]
    for name in STATEMENT_LINKS:
        stmt[name]["items"] = link
    slug = {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 128}
    stmt["via"] = {
        "anyOf": [slug, {"type": "array", "items": slug}],
        "description": "The outlet or body it was said to: one organization id, "
        "or (v1.1) a list of them",
    }
    lines = []
    models: dict[str, type] = {**KINDS, "case": Case}
    for kind, model in models.items():
        name = model.__name__
        line_name = f"JsonlLine{name}"
        props = dict(defs[name]["properties"]) if name in defs else {}
        props["record"] = {"const": kind}
        defs[line_name] = {
            "type": "object",
            "description": f"A JSONL line holding one {kind} record.",
            "properties": props,
            "required": ["record", *defs.get(name, {}).get("required", [])],
            "additionalProperties": False,
        }
        lines.append({"$ref": f"#/$defs/{line_name}"})
    defs["JsonlLine"] = {"oneOf": lines, "description": "One line of a .jsonl record file."}
    return schema


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True))
