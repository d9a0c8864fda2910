"""Network analysis with networkx on a selection.

The graph analysed is the undirected, simple projection of the selection: every
relationship, whatever its type or direction, links its two entities once. Results are
networkx's own functions on that graph: ``degree_centrality``, ``pagerank``,
``betweenness_centrality`` (exact up to ``EXACT_BETWEENNESS_LIMIT`` nodes, else sampled
with a fixed seed), Louvain communities with a fixed seed, and all shortest paths.
"""

from __future__ import annotations

from typing import Any, Optional

import networkx as nx

from .errors import UsageError
from .selection import Subgraph

EXACT_BETWEENNESS_LIMIT = 5_000
BETWEENNESS_SAMPLES = 500
SEED = 42
MEASURES = ("degree", "pagerank", "betweenness")


def to_graph(sub: Subgraph) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(sorted(sub.nodes))
    G.add_edges_from((e["start"], e["end"]) for e in sub.sorted_edges() if e["start"] != e["end"])
    return G


def betweenness(G: nx.Graph) -> dict[Any, float]:
    if G.number_of_nodes() <= EXACT_BETWEENNESS_LIMIT:
        return nx.betweenness_centrality(G)
    return nx.betweenness_centrality(G, k=BETWEENNESS_SAMPLES, seed=SEED)


def measure(G: nx.Graph, name: str) -> dict[Any, float]:
    if name == "degree":
        return nx.degree_centrality(G)
    if name == "pagerank":
        return nx.pagerank(G) if G.number_of_edges() else {n: 1 / max(len(G), 1) for n in G}
    if name == "betweenness":
        return betweenness(G)
    raise UsageError(f"unknown measure {name!r}; expected one of {', '.join(MEASURES)}")


def _label(sub: Subgraph, nid: str) -> str:
    p = sub.nodes[nid]["props"]
    return str(p.get("name") or p.get("title") or p.get("text") or nid)


def centrality(sub: Subgraph, top: Optional[int] = None) -> list[dict[str, Any]]:
    G = to_graph(sub)
    values = {m: measure(G, m) for m in MEASURES}
    rows = [{"id": n, "kind": sub.nodes[n]["kind"], "name": _label(sub, n), "degree": G.degree(n),
             "degree_centrality": values["degree"][n], "pagerank": values["pagerank"][n],
             "betweenness": values["betweenness"][n]} for n in G]
    rows.sort(key=lambda r: (-r["pagerank"], -r["betweenness"], r["id"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows[:top] if top else rows


def communities(sub: Subgraph) -> list[list[str]]:
    G = to_graph(sub)
    if G.number_of_edges() == 0:
        return [[n] for n in sorted(G)]
    parts = nx.community.louvain_communities(G, seed=SEED)
    return sorted((sorted(c) for c in parts), key=lambda c: (-len(c), c[0]))


def community_rows(sub: Subgraph) -> list[dict[str, Any]]:
    return [{"community": i, "size": len(c), "members": [_label(sub, n) for n in c], "ids": c}
            for i, c in enumerate(communities(sub), 1)]


def brokers(sub: Subgraph, top: Optional[int] = None) -> list[dict[str, Any]]:
    """Entities whose neighbours lie in two or more communities, by betweenness."""
    G = to_graph(sub)
    comm = {n: i for i, c in enumerate(communities(sub), 1) for n in c}
    btw = betweenness(G)
    rows = []
    for n in G:
        bridged = sorted({comm[m] for m in G.neighbors(n)} | {comm[n]})
        if len(bridged) >= 2:
            rows.append({"id": n, "kind": sub.nodes[n]["kind"], "name": _label(sub, n),
                         "community": comm[n], "bridges": bridged, "betweenness": btw[n]})
    rows.sort(key=lambda r: (-r["betweenness"], r["id"]))
    return rows[:top] if top else rows


def paths(sub: Subgraph, a: str, b: str) -> list[dict[str, Any]]:
    G = to_graph(sub)
    for x in (a, b):
        if x not in G:
            raise UsageError(f"{x!r} is not in the selection")
    try:
        found = sorted(nx.all_shortest_paths(G, a, b))
    except nx.NetworkXNoPath:
        return []
    return [{"path": i, "hops": len(p) - 1, "ids": p, "names": [_label(sub, n) for n in p]}
            for i, p in enumerate(found, 1)]
