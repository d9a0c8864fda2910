"""The `kg` commands, one module per command group, each registering on kg.cli's group."""

from . import db, graph, key, query, records, resolve  # noqa: F401
