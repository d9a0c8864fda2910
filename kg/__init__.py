"""kg: curated records about human-rights abuses, the claims and the denials, as a Neo4j graph."""

__version__ = "0.1.0"
