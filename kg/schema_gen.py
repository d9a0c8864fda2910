"""Print the JSON Schema of the record format (``make schema`` writes it to schema/)."""

import json

from .records import json_schema

if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True))
