"""The baseline `bench/run.py --only export-e2e` measures kg against: what a user would write
without kg - read the graph with the official driver, build a networkx graph, write it with
pyvis's documented `Network.from_nx` + `write_html` (inline resources, so the page is
self-contained as kg's is).

    python bench/pyvis_baseline.py OUT.html   (BENCH_NEO4J_URI, BENCH_NEO4J_PASSWORD,
                                               BENCH_NEO4J_CERT: the server's certificate)

kg's server takes Bolt over TLS only; the script trusts its certificate as kg does.
"""

import os
import sys

import networkx as nx
from neo4j import GraphDatabase, TrustCustomCAs
from pyvis.network import Network


def main() -> None:
    out = sys.argv[1]
    cert = os.environ.get("BENCH_NEO4J_CERT")
    tls = {"encrypted": True, "trusted_certificates": TrustCustomCAs(cert)} if cert else {}
    driver = GraphDatabase.driver(
        os.environ["BENCH_NEO4J_URI"], auth=("neo4j", os.environ["BENCH_NEO4J_PASSWORD"]), **tls
    )
    G = nx.MultiDiGraph()
    with driver:
        nodes, _, _ = driver.execute_query(
            "MATCH (n:Entity) RETURN n.id AS id, labels(n) AS labels, properties(n) AS props"
        )
        for r in nodes:
            p = r["props"]
            label = str(p.get("name") or p.get("title") or p.get("text") or r["id"])
            G.add_node(
                r["id"],
                label=label[:40],
                title=label,
                group=[x for x in r["labels"] if x != "Entity"][0],
            )
        rels, _, _ = driver.execute_query(
            "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.id AS a, type(r) AS t, b.id AS b"
        )
        for r in rels:
            G.add_edge(r["a"], r["b"], title=r["t"])
    net = Network(directed=True, cdn_resources="in_line")
    net.from_nx(G)
    net.write_html(out, notebook=False)


if __name__ == "__main__":
    main()
