"""Parts of kg's local Neo4j (kg.runtime.LocalNeo4j): processes and ports, TLS, the Docker
backend, diagnosing a failed start, backups. One module each; LocalNeo4j combines them."""
